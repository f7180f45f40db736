import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CoverageResult, SettleYearResult } from '../activities/calendar';
import { calendarLoadedSignal } from '../processes/messages';

/**
 * A year no working-day calendar covers. A workflow whose deadline waits on it sleeps until the year is loaded
 * (`calendarLoaded`, sent by `calendarYearLoadedWorkflow`), looking again once a day in case a load was not
 * announced; it never retries an activity in a loop.
 */

/** Looked at again this often without a signal (a year loaded while Temporal could not be reached; the daily calendar check wakes them too). */
const RECHECK = '1 day';

export interface CalendarWaiter {
  /** Taken before asking for a deadline: a load announced meanwhile is not missed. */
  mark(): number;
  /** Until a year is loaded after `mark`, or `also` holds, or the re-check time has passed. */
  wait(mark: number, also?: () => boolean): Promise<void>;
}

/** Registers the signal handler; call once at the start of a workflow. */
export function calendarWaiter(): CalendarWaiter {
  let loads = 0;
  setHandler(calendarLoadedSignal, () => {
    loads++;
  });
  return {
    mark: () => loads,
    wait: async (mark, also = () => false) => {
      await condition(() => loads !== mark || also(), RECHECK);
    },
  };
}

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Started when an administrator loads a year: settles what waited on it and wakes its workflows. */
export async function calendarYearLoadedWorkflow(input: { year: number }): Promise<SettleYearResult> {
  return acts.settleCalendarYear({ year: input.year });
}

/** Started daily by the `calendar-watch` Schedule: this year missing, next year not loaded from 1 November. */
export async function calendarWatchWorkflow(): Promise<CoverageResult> {
  return acts.checkCalendarCoverage({ asOf: new Date().toISOString() });
}
