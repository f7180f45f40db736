import { checkpointLogOf, processSeal, signCheckpoint, type Checkpoint } from '../db/seal';
import type { ActivityDeps } from './deps';

/** The audit chain's signed checkpoints (db/seal.ts). */
export const sealActivities = (deps: ActivityDeps) => ({
  /** Signs the chain's head into the checkpoint log, unless it has not moved since the last checkpoint. Safe to repeat. */
  async signAuditCheckpoint(): Promise<Pick<Checkpoint, 'seq' | 'hash' | 'records'> | null> {
    const c = await signCheckpoint(deps.db, processSeal(), checkpointLogOf(deps.db), new Date());
    return c && { seq: c.seq, hash: c.hash, records: c.records };
  },
});
