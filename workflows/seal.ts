import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { signAuditCheckpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * A signed checkpoint of the audit chain (E23, P26; db/seal.ts), started by the Temporal Schedule `audit-checkpoint`
 * (worker/schedules.ts) every CHECKPOINT_EVERY_MINUTES.
 */
export async function auditCheckpointWorkflow(): Promise<{ seq: number; hash: string; records: number } | null> {
  return signAuditCheckpoint();
}
