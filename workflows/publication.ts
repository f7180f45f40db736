import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NameSearchRefresh, SweepResult } from '../activities/publication';

const { sweepPublications } = proxyActivities<Activities>({
  // Set-based chunks of PUBLICATION_SWEEP_BATCH rows, heartbeating between them.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface PublicationSweepInput {
  /** The date to sweep (YYYY-MM-DD, Asia/Shanghai); by default the date the run starts. */
  runDate?: string;
}

/**
 * The daily publication sweep, started by the Temporal Schedule `publication-expiry` (worker/schedules.ts): one
 * workflow per day, never one per record. It unpublishes every record whose period ended (E15), the basic
 * information of terminated enterprises (E15.1), and publishes anything left pending past its deadline (E12).
 * A late or repeated run gives the same result.
 */
export async function publicationSweepWorkflow(input: PublicationSweepInput = {}): Promise<SweepResult> {
  return sweepPublications({ runDate: input.runDate, asOf: new Date(Date.now()).toISOString() });
}

const { refreshNameSearch } = proxyActivities<Activities>({
  // One statement over the register (seconds for a city's enterprises).
  startToCloseTimeout: '1 hour',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * The daily rebuild of the public name search's fragment counts, started by the Temporal Schedule
 * `name-search-statistics` (worker/schedules.ts). Stale counts only slow a search, so once a day is enough.
 */
export async function nameSearchStatisticsWorkflow(): Promise<NameSearchRefresh> {
  return refreshNameSearch();
}
