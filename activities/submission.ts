import { ApplicationFailure } from '@temporalio/activity';
import { loadCalendar } from '../db/calendar';
import { UnknownCalendarYearError, shanghaiDate } from '../domain/calendar';
import type { ActivityDeps } from './deps';

export interface ReceiptResult {
  submissionId: string;
  receivedAt: string;
  receiptDate: string;
  publicationDeadline: string;
}

/** The working-day calendar and a submission's receipt. */
export const submissionActivities = (deps: ActivityDeps) => ({
  /** The n-th working day after a date (mainland China, Asia/Shanghai), from the calendar in the database. */
  async workingDayAfter(date: string, n: number): Promise<string> {
    const calendar = await loadCalendar(deps.db);
    try {
      return calendar.addWorkingDays(date, n);
    } catch (e) {
      throw calendarFailure(e);
    }
  },

  /**
   * Records the receipt of a submission and its publication deadline: the 5th working day after the day of
   * receipt (E12, last paragraph). Written once; a repeated call answers what was stored.
   */
  async recordReceipt(submissionId: string): Promise<ReceiptResult> {
    const sub = await deps.db('submissions').where('id', submissionId).first('id', 'received_at', 'publication_deadline', 'receipt_recorded_at');
    if (!sub) throw ApplicationFailure.nonRetryable(`submission ${submissionId} not found`, 'SubmissionNotFound');
    const receivedAt = new Date(sub.received_at);
    const receiptDate = shanghaiDate(receivedAt);
    if (sub.publication_deadline && sub.receipt_recorded_at) {
      return { submissionId, receivedAt: receivedAt.toISOString(), receiptDate, publicationDeadline: sub.publication_deadline };
    }
    const calendar = await loadCalendar(deps.db);
    let deadline: string;
    try {
      deadline = calendar.addWorkingDays(receiptDate, deps.publicationWorkingDays);
    } catch (e) {
      throw calendarFailure(e);
    }
    await deps.db.transaction(async (trx) => {
      const updated = await trx('submissions')
        .where('id', submissionId)
        .whereNull('receipt_recorded_at')
        .update({ receipt_recorded_at: trx.fn.now(), publication_deadline: deadline })
        .returning('id');
      if (updated.length) {
        await trx('audit_log').insert({
          actor: 'system:workflow',
          action: 'submission.receipt_recorded',
          entity: 'submission',
          entity_id: submissionId,
          detail: { receiptDate, publicationDeadline: deadline, article: 'E12' },
        });
      }
    });
    const stored = await deps.db('submissions').where('id', submissionId).first('publication_deadline');
    return { submissionId, receivedAt: receivedAt.toISOString(), receiptDate, publicationDeadline: stored.publication_deadline };
  },
});

/**
 * A missing calendar year is retryable: the process waits (Temporal retries with back-off) until an admin
 * loads the State Council's schedule for that year, then carries on.
 */
export function calendarFailure(e: unknown): unknown {
  if (e instanceof UnknownCalendarYearError) {
    return ApplicationFailure.retryable(e.message, 'CalendarYearUnknown', { year: e.year });
  }
  return e;
}
