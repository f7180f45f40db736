import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SweepResult } from '../activities/publication';

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
