/**
 * Starts that may have to wait: a batch or an objection is committed first, its workflow started after. When
 * Temporal cannot be reached then, the row stays without a start and the reconciler here starts it later (at API
 * start and every minute), and delivers the signals requests queued (processes/outbox.ts). Idempotent throughout:
 * the workflow id is the business key.
 */
import { objectionTags, obligationTags, requestTags, submissionTags } from '../db/process-tags';
import { errorField, logger } from '../ops/log';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex';
import {
  markObligationsStarted,
  markRequestStarted,
  markSubmissionStarted,
  objectionsAwaitingStart,
  requestsAwaitingStart,
  submissionsAwaitingStart,
} from '../db/workflow-starts';
import { unstartedObligations } from '../db/obligations';
import { deliverPendingSignals } from './outbox';
import {
  startCalendarYearLoadedProcess,
  startJudicialRequestProcess,
  startObjectionProcess,
  startObligationProcess,
  startRatingRequestProcess,
  startSubmissionProcess,
  type Processes,
} from './client';

/** Starts a submission's workflow (a no-op when it runs already); the start time is written once. */
export async function ensureSubmissionWorkflow(
  db: Db,
  temporal: Client,
  taskQueue: string,
  submissionId: string,
  workflowId: string,
): Promise<void> {
  await startSubmissionProcess({ temporal, taskQueue }, workflowId, submissionId, await submissionTags(db, submissionId));
  await markSubmissionStarted(db, submissionId);
}

/** Starts the workflows of stored submissions whose start did not happen. */
export async function startPendingSubmissionWorkflows(db: Db, temporal: Client, taskQueue: string, olderThanSeconds = 30): Promise<number> {
  const pending = await submissionsAwaitingStart(db, olderThanSeconds);
  for (const s of pending) await ensureSubmissionWorkflow(db, temporal, taskQueue, s.id, s.workflow_id);
  return pending.length;
}

/** Starts an accepted objection's verification workflow; a second start is a no-op. */
export async function ensureObjectionWorkflow(
  db: Db,
  temporal: Client,
  taskQueue: string,
  workflowId: string,
  objectionId: string,
): Promise<void> {
  await startObjectionProcess({ temporal, taskQueue }, workflowId, objectionId, await objectionTags(db, objectionId));
}

/** Accepted objections whose verification never began: start them. */
export async function startPendingObjectionWorkflows(db: Db, temporal: Client, taskQueue: string, olderThanSeconds = 30): Promise<number> {
  const pending = await objectionsAwaitingStart(db, olderThanSeconds);
  for (const o of pending) await ensureObjectionWorkflow(db, temporal, taskQueue, o.workflow_id, o.id);
  return pending.length;
}

/** Starts a rating (E14(3)) or judicial (E14(4), P13) request's workflow (a no-op when it runs); the start is written once. */
export async function ensureRequestWorkflow(
  db: Db,
  temporal: Client,
  taskQueue: string,
  kind: 'rating' | 'judicial',
  id: string,
  workflowId: string,
): Promise<void> {
  const tags = await requestTags(db, kind, id);
  if (kind === 'rating') await startRatingRequestProcess({ temporal, taskQueue }, workflowId, id, tags);
  else await startJudicialRequestProcess({ temporal, taskQueue }, workflowId, id, tags);
  await markRequestStarted(db, kind, id);
}

/** Rating and judicial requests filed while Temporal was away: start their workflows. */
export async function startPendingRequestWorkflows(db: Db, temporal: Client, taskQueue: string, olderThanSeconds = 30): Promise<number> {
  let n = 0;
  for (const kind of ['rating', 'judicial'] as const) {
    const pending = await requestsAwaitingStart(db, kind, olderThanSeconds);
    for (const r of pending) await ensureRequestWorkflow(db, temporal, taskQueue, kind, r.id, r.workflow_id);
    n += pending.length;
  }
  return n;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/**
 * Starts the workflow of every obligation that has none yet (just opened, or left by a crash between opening and
 * starting), 32 starts at a time; `onProgress` hears the count after each batch of 500.
 */
export async function startPendingObligations(db: Db, p: Processes, onProgress?: (started: number) => void): Promise<number> {
  let started = 0;
  for (;;) {
    const batch = await unstartedObligations(db, 500);
    if (!batch.length) return started;
    const tags = await obligationTags(
      db,
      batch.map((o) => o.id),
    );
    await mapLimit(batch, 32, (o) => startObligationProcess(p, o.workflowId, o.id, tags.get(o.id)).then(() => undefined));
    await markObligationsStarted(
      db,
      batch.map((o) => o.id),
    );
    started += batch.length;
    onProgress?.(started);
  }
}

/** The same, for a caller that holds the database and the processes apart (the API, the benchmark). */
export const startPendingObligationWorkflows = (deps: { db: Db } & Processes): Promise<number> => startPendingObligations(deps.db, deps);

/**
 * Runs the reconcilers (submissions, objections, rating and judicial requests, queued signals) now and every `intervalMs`; returns a function that
 * stops it.
 */
export function startSubmissionReconciler(db: Db, temporal: Client, taskQueue: string, intervalMs = 60_000): () => void {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const n = await startPendingSubmissionWorkflows(db, temporal, taskQueue);
      const m = await startPendingObjectionWorkflows(db, temporal, taskQueue);
      const q = await startPendingRequestWorkflows(db, temporal, taskQueue);
      if (n + m + q)
        logger('api').info(
          { submissions: n, objections: m, requests: q },
          `started ${n} pending submission, ${m} pending objection and ${q} pending rating or judicial request workflow(s)`,
        );
      const s = await deliverPendingSignals(db, temporal);
      if (s.delivered) logger('api').info(`delivered ${s.delivered} queued workflow signal(s)`);
      if (s.failed) logger('api').warn(`${s.failed} queued workflow signal(s) wait for Temporal`);
    } catch (e) {
      logger('api').warn({ err: errorField(e) }, 'pending workflows not started yet');
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * After a calendar year is loaded: starts the workflow that settles what waited on it and wakes its workflows (one
 * per load, by the load's stamp). Answers its id, or null when Temporal could not be reached (the daily
 * `calendar-watch` settles it then, and each waiting workflow looks again within hours).
 */
export async function startCalendarYearLoaded(temporal: Client, taskQueue: string, year: number, stamp: string): Promise<string | null> {
  try {
    return await startCalendarYearLoadedProcess({ temporal, taskQueue }, year, stamp);
  } catch (e) {
    logger('api').warn(
      { err: errorField(e) },
      `the settling of calendar year ${year} could not be started now (the daily calendar check will)`,
    );
    return null;
  }
}
