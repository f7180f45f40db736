import { sweepRows, sweepRuns } from '../ops/metrics';
import { purgeRetentionBatch, recordRetentionRun } from '../db/retention';
import { shanghaiDate } from '../domain/calendar';
import { querySettings } from '../domain/config';
import type { ActivityDeps } from './deps';

export interface RetentionBatch {
  recordKeys: number;
  rows: number;
  persons: number;
}

/** The retention sweep (P19): personal records purged 5 years after their act concluded. */
export const retentionActivities = (deps: ActivityDeps) => ({
  /** Today in Asia/Shanghai, for the retention sweep. */
  async retentionToday(): Promise<string> {
    return shanghaiDate(new Date());
  },

  /** One batch of the retention sweep (P19): set-based, safe to repeat (what is gone stays gone). */
  async retentionPurgeBatch(input: { asOf: string; batchSize?: number }): Promise<RetentionBatch> {
    const batch = await purgeRetentionBatch(deps.db, input.asOf, input.batchSize ?? querySettings().retentionBatchSize);
    sweepRows.inc({ sweep: 'retention', kind: 'rows_erased' }, batch.rows);
    return batch;
  },

  /** Records a finished sweep once, with its audit entry. */
  async retentionRecordRun(run: {
    runId: string;
    asOf: string;
    recordKeys: number;
    rows: number;
    persons: number;
    batches: number;
  }): Promise<boolean> {
    const recorded = await recordRetentionRun(deps.db, run);
    if (recorded) sweepRuns.inc({ sweep: 'retention' });
    return recorded;
  },
});
