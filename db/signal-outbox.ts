/**
 * The outbox of workflow signals (migration 0020): a request that promises a workflow will hear of a change writes
 * the signal here in the transaction of the change and its audit entry; `processes/outbox.ts` delivers it after
 * the commit and, while Temporal cannot be reached, at every run of the reconciler.
 */
import type { Knex } from 'knex';
import type { Db } from './knex';

/** The signals a request may queue (the names of their definitions in processes/messages.ts). */
export type QueuedSignalName = 'publishNow' | 'publicationChanged' | 'submissionReceived' | 'caseChanged';

export interface QueuedSignal {
  workflowId: string;
  signal: QueuedSignalName;
  args?: unknown[];
}

export interface PendingSignal {
  id: string;
  workflow_id: string;
  signal: QueuedSignalName;
  args: unknown[];
  attempts: number;
}

/** Queues signals in the caller's transaction; answers their ids (to deliver after the commit). */
export async function queueSignals(trx: Knex, signals: QueuedSignal[]): Promise<string[]> {
  if (!signals.length) return [];
  const rows = await trx('workflow_signals')
    .insert(signals.map((s) => ({ workflow_id: s.workflowId, signal: s.signal, args: JSON.stringify(s.args ?? []) })))
    .returning('id');
  return rows.map((r: { id: string | number }) => String(r.id));
}

/**
 * Undelivered signals: those of `ids` (just committed), or else every one queued at least `olderThanSeconds` ago
 * (the reconciler: a request's own delivery gets a head start), oldest first.
 */
export async function pendingSignals(
  db: Db,
  opts: { ids?: string[]; olderThanSeconds?: number; limit?: number },
): Promise<PendingSignal[]> {
  const q = db('workflow_signals')
    .whereNull('delivered_at')
    .orderBy('id')
    .limit(opts.limit ?? 500);
  if (opts.ids) q.whereIn('id', opts.ids);
  else q.where('created_at', '<=', db.raw(`now() - make_interval(secs => ?)`, [opts.olderThanSeconds ?? 30]));
  const rows = await q.select('id', 'workflow_id', 'signal', 'args', 'attempts');
  return rows.map((r: PendingSignal & { id: string | number }) => ({ ...r, id: String(r.id) }));
}

export async function markSignalsDelivered(db: Db, ids: string[]): Promise<void> {
  if (ids.length) await db('workflow_signals').whereIn('id', ids).whereNull('delivered_at').update({ delivered_at: db.fn.now() });
}

export async function noteSignalFailure(db: Db, id: string, error: string): Promise<void> {
  await db('workflow_signals')
    .where({ id })
    .update({ attempts: db.raw('attempts + 1'), last_error: error.slice(0, 500) });
}
