/**
 * Delivery of queued workflow signals (db/signal-outbox.ts): right after the request's commit, and by the reconciler
 * for those Temporal could not take then. A signal to a workflow that has ended is delivered (nothing to tell); a
 * failure leaves the signal queued, so an answered request is never lost to an outage.
 */
import { errorField, logger } from '../ops/log';
import type { Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Db } from '../db/knex';
import { markSignalsDelivered, noteSignalFailure, pendingSignals, type PendingSignal, type QueuedSignalName } from '../db/signal-outbox';
import { signalIfRunning } from './client';
import { caseChangedSignal, publicationChangedSignal, publishNowSignal, submissionReceivedSignal } from './messages';

const DEFINITIONS: Record<QueuedSignalName, SignalDefinition<any[]>> = {
  publishNow: publishNowSignal,
  publicationChanged: publicationChangedSignal,
  submissionReceived: submissionReceivedSignal,
  caseChanged: caseChangedSignal,
};

export interface Delivery {
  delivered: number;
  failed: number;
}

/** How long one signal may take before Temporal counts as unreachable (the client would retry far longer). */
const SIGNAL_DEADLINE_MS = 3_000;

/** Delivers in order; the first failure stops the run (Temporal is likely down: the rest wait for the next). */
async function deliver(db: Db, temporal: Client, pending: PendingSignal[]): Promise<Delivery> {
  const done: string[] = [];
  let failed = 0;
  for (const s of pending) {
    try {
      await temporal.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
        signalIfRunning(temporal, s.workflow_id, DEFINITIONS[s.signal], ...s.args),
      );
      done.push(s.id);
    } catch (e) {
      failed = pending.length - done.length;
      await noteSignalFailure(db, s.id, (e as Error).message ?? String(e)).catch(() => undefined);
      break;
    }
  }
  await markSignalsDelivered(db, done);
  return { delivered: done.length, failed };
}

/**
 * Delivers the signals a request just committed. Never throws: what Temporal does not take now stays queued for
 * the reconciler (the request's answer stands; it is durable in PostgreSQL).
 */
export async function deliverQueuedSignals(db: Db, temporal: Client, ids: string[]): Promise<Delivery> {
  if (!ids.length) return { delivered: 0, failed: 0 };
  try {
    const r = await deliver(db, temporal, await pendingSignals(db, { ids }));
    if (r.failed)
      logger('api').warn(`${r.failed} workflow signal(s) queued: Temporal did not take them now; the reconciler will deliver them`);
    return r;
  } catch (e) {
    logger('api').warn({ err: errorField(e) }, 'workflow signals queued for the reconciler');
    return { delivered: 0, failed: ids.length };
  }
}

/** The reconciler's part: every signal queued at least `olderThanSeconds` ago and not delivered yet. */
export async function deliverPendingSignals(db: Db, temporal: Client, olderThanSeconds = 30): Promise<Delivery> {
  return deliver(db, temporal, await pendingSignals(db, { olderThanSeconds }));
}
