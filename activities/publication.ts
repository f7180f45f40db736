import { sweepRows, sweepRuns } from '../ops/metrics';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { loadCalendar } from '../db/calendar';
import { alertHeld, batchReceipt, batchState, publishPending, registerBatch, type BatchPublicationState } from '../db/publication';
import {
  beginSweep,
  finishSweep,
  recomputeOverridden,
  refreshCorrected,
  unpublishExpired,
  unpublishTerminated,
  type SweepCounts,
} from '../db/publication-sweep';
import { refreshNameSearchStatistics, type NameSearchRefresh } from '../db/public-pages';
import { isIsoDate, shanghaiDate, shanghaiStartOfDay } from '../domain/calendar';
import { publicationSettings } from '../domain/config';
import type { ActivityDeps } from './deps';

export type { NameSearchRefresh };

/** When a batch's records are published (E12), as instants the workflow sleeps until (ISO strings). */
export interface PublicationPlan {
  submissionId: string;
  /** Public records of the batch (enterprise: basic, honor, warning). */
  records: number;
  receiptDate: string;
  /** Records not held are published at this instant (the end of the staff's review window). */
  publishAt: string;
  /** Staff are alerted at this instant if records are still held (the start of the 4th working day). */
  alertAt: string;
  /** The start of the 5th working day after receipt: the latest day of publication (E12). */
  deadlineAt: string;
  deadline: string;
  /** A year on the way has no calendar: these are the earliest days they can be (E12 kept); absent in older histories. */
  provisional?: boolean;
}

export interface SweepInput {
  /** The date swept (YYYY-MM-DD, Asia/Shanghai); by default the Shanghai date of `asOf`. */
  runDate?: string;
  /** The workflow's clock when it started the sweep (ISO). */
  asOf: string;
}

export interface SweepResult extends SweepCounts {
  runDate: string;
}

/** Heartbeats when running as an activity; a no-op when called directly (benchmarks). */
function beat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    /* not inside an activity */
  }
}

export const publicationActivities = (deps: ActivityDeps) => {
  const settings = publicationSettings();
  return {
    /**
     * Registers the batch's public records (idempotent) and answers when they are published: at the end of the
     * review window (`PUBLICATION_REVIEW_WORKING_DAYS` full working days after the day of receipt, never later
     * than the deadline), the 4th working day's alert, and the deadline (5th working day, E12).
     */
    async planPublication(submissionId: string): Promise<PublicationPlan> {
      const sub = await batchReceipt(deps.db, submissionId);
      if (!sub) throw ApplicationFailure.nonRetryable(`submission ${submissionId} not found`, 'SubmissionNotFound');
      const receivedAt = new Date(sub.received_at);
      const receiptDate = shanghaiDate(receivedAt);
      const calendar = await loadCalendar(deps.db);
      const n = deps.publicationWorkingDays;
      // While a year on the way has no calendar each day is the earliest it can be: acting by it keeps E12.
      const day = (k: number) => calendar.addWorkingDaysOrEarliest(receiptDate, k);
      const counted = day(n);
      const deadline: string = sub.publication_deadline ?? counted.date;
      const alert = day(Math.max(n - 1, 0));
      const review = Math.min(settings.reviewWorkingDays, Math.max(n - 1, 0));
      const publish = review === 0 ? null : day(review + 1);
      const records = await registerBatch(deps.db, submissionId, deadline);
      return {
        submissionId,
        records,
        receiptDate,
        publishAt: publish === null ? receivedAt.toISOString() : shanghaiStartOfDay(publish.date).toISOString(),
        alertAt: shanghaiStartOfDay(alert.date).toISOString(),
        deadlineAt: shanghaiStartOfDay(deadline).toISOString(),
        deadline,
        provisional: sub.calendar_pending_year !== null || counted.provisional || alert.provisional || !!publish?.provisional,
      };
    },

    /** Publishes every pending (not held) record of the batch as of the workflow's clock; answers the batch's states. */
    async publishBatch(input: { submissionId: string; asOf: string }): Promise<BatchPublicationState> {
      await publishPending(deps.db, { submissionId: input.submissionId }, input.asOf, settings.sweepBatch, beat);
      return batchState(deps.db, input.submissionId);
    },

    /** Alerts staff to records of the batch still held (once per stage); answers how many are held. */
    async alertHeldRecords(input: { submissionId: string; stage: 'deadline_near' | 'deadline_passed' }): Promise<number> {
      return alertHeld(deps.db, input.submissionId, input.stage);
    },

    /**
     * The daily sweep (E12, E15), set-based in chunks, idempotent for a late or repeated run: publishes whatever is
     * pending past its deadline (a batch whose workflow did not), refreshes published records corrected or
     * retracted since, applies changed law-specific periods, unpublishes the basic information of terminated
     * enterprises and every record whose period ended before the run date (kept as archive).
     */
    async sweepPublications(input: SweepInput): Promise<SweepResult> {
      if (input.runDate !== undefined && !isIsoDate(input.runDate))
        throw ApplicationFailure.nonRetryable(`bad run date ${input.runDate}`, 'BadInput');
      const runDate = input.runDate ?? shanghaiDate(new Date(input.asOf));
      const chunk = settings.sweepBatch;
      const { sinceRecordId } = await beginSweep(deps.db, runDate);
      const published = await publishPending(deps.db, { dueBy: runDate }, input.asOf, chunk, beat);
      const { refreshed, retracted } = await refreshCorrected(deps.db, sinceRecordId, runDate);
      beat();
      const recomputed = await recomputeOverridden(deps.db, beat);
      const terminated = await unpublishTerminated(deps.db, runDate, chunk, beat);
      const expired = await unpublishExpired(deps.db, runDate, chunk, beat);
      const counts: SweepCounts = { publishedOverdue: published.published, refreshed, retracted, recomputed, terminated, expired };
      await finishSweep(deps.db, runDate, counts);
      sweepRuns.inc({ sweep: 'publication' });
      for (const [kind, n] of Object.entries(counts)) sweepRows.inc({ sweep: 'publication', kind }, n);
      return { runDate, ...counts };
    },

    /** Rebuilds the fragment counts of the public name search (derived data; one idempotent statement). */
    async refreshNameSearch(): Promise<NameSearchRefresh> {
      return refreshNameSearchStatistics(deps.db);
    },
  };
};
