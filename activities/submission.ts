import { ApplicationFailure } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { settleSubmissionDeadline } from '../db/deadlines';
import { UnknownCalendarYearError } from '../domain/calendar';
import { settleWithCalendar } from './calendar';
import type { ActivityDeps } from './deps';

export interface ReceiptResult {
  submissionId: string;
  receivedAt: string;
  receiptDate: string;
  publicationDeadline: string;
  /**
   * A year on the way has no calendar: the deadline is the earliest the true one can be (the batch is published
   * by it, which never breaks E12) and is settled when the year is loaded. Absent in older histories: false.
   */
  provisional?: boolean;
}

/** A submission's receipt. */
export const submissionActivities = (deps: ActivityDeps) => ({
  /**
   * Records the receipt of a submission and its publication deadline: the 5th working day after the day of
   * receipt (E12, last paragraph); provisional while a year on the way has no calendar. Written once; a repeated
   * call answers what was stored.
   */
  async recordReceipt(submissionId: string): Promise<ReceiptResult> {
    const d = await settleWithCalendar(deps.db, `报送批次 ${submissionId} / batch ${submissionId}`, (calendar) =>
      settleSubmissionDeadline(deps.db, calendar, submissionId, deps.publicationWorkingDays),
    );
    if (!d) throw ApplicationFailure.nonRetryable(`submission ${submissionId} not found`, 'SubmissionNotFound');
    return {
      submissionId,
      receivedAt: d.receivedAt,
      receiptDate: d.receiptDate,
      publicationDeadline: d.deadline,
      provisional: d.provisional,
    };
  },
});

/**
 * A calendar year missing where nothing provisional can stand in: retried, as a benign failure (logged at DEBUG,
 * no stack trace), until the year is loaded. The deadlines themselves never take this path (db/deadlines).
 */
export function calendarFailure(e: unknown): unknown {
  if (e instanceof UnknownCalendarYearError) {
    return ApplicationFailure.create({
      message: e.message,
      type: 'CalendarYearUnknown',
      details: [{ year: e.year }],
      category: ApplicationFailureCategory.BENIGN,
    });
  }
  return e;
}
