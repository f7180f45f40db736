import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db/knex';
import type { submissionWorkflow } from '../workflows/submission';
import type { objectionWorkflow } from '../workflows/objection';
import type { calendarYearLoadedWorkflow } from '../workflows/calendar';
import { calendarLoadedWorkflowId } from '../domain/calendar-gaps';

/**
 * Starts a submission's workflow. The id is the business key, so a second start (a replayed request, the
 * reconciler) is a no-op; the start time is written once.
 */
export async function ensureSubmissionWorkflow(db: Db, temporal: Client, taskQueue: string, submissionId: string, workflowId: string): Promise<void> {
  try {
    await temporal.workflow.start<typeof submissionWorkflow>('submissionWorkflow', {
      taskQueue,
      workflowId,
      args: [{ submissionId }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
  await db('submissions').where('id', submissionId).whereNull('workflow_started_at').update({ workflow_started_at: db.fn.now() });
}

/**
 * Starts the workflows of stored submissions whose start did not happen (Temporal was unreachable when the
 * batch was accepted). Run at API start and every minute.
 */
export async function startPendingSubmissionWorkflows(db: Db, temporal: Client, taskQueue: string, olderThanSeconds = 30): Promise<number> {
  const pending = await db('submissions')
    .whereNull('workflow_started_at')
    .where('received_at', '<', new Date(Date.now() - olderThanSeconds * 1000))
    .orderBy('received_at')
    .limit(500)
    .select('id', 'workflow_id');
  for (const s of pending) await ensureSubmissionWorkflow(db, temporal, taskQueue, s.id, s.workflow_id);
  return pending.length;
}

/** Starts an accepted objection's verification workflow; a second start is a no-op. */
export async function ensureObjectionWorkflow(temporal: Client, taskQueue: string, workflowId: string, objectionId: string): Promise<void> {
  try {
    await temporal.workflow.start<typeof objectionWorkflow>('objectionWorkflow', { taskQueue, workflowId, args: [{ objectionId }], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}

/** Accepted objections whose verification never began (Temporal was unreachable at acceptance): start them. */
export async function startPendingObjectionWorkflows(db: Db, temporal: Client, taskQueue: string, olderThanSeconds = 30): Promise<number> {
  const pending = await db('objections')
    .where('state', 'accepted')
    .whereNull('verification_requested_at')
    .whereNotNull('workflow_id')
    .where('accepted_at', '<', new Date(Date.now() - olderThanSeconds * 1000))
    .orderBy('accepted_at')
    .limit(500)
    .select('id', 'workflow_id');
  for (const o of pending) await ensureObjectionWorkflow(temporal, taskQueue, o.workflow_id, o.id);
  return pending.length;
}

/** Runs the reconcilers (submissions, objections) now and every `intervalMs`; returns a function that stops it. */
export function startSubmissionReconciler(db: Db, temporal: Client, taskQueue: string, intervalMs = 60_000): () => void {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const n = await startPendingSubmissionWorkflows(db, temporal, taskQueue);
      const m = await startPendingObjectionWorkflows(db, temporal, taskQueue);
      // eslint-disable-next-line no-console
      if (n + m) console.log(`[api] started ${n} pending submission and ${m} pending objection workflow(s)`);
    } catch (e) {
      // eslint-disable-next-line no-console
      console.error('[api] pending workflows not started yet:', (e as Error).message);
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
  const workflowId = calendarLoadedWorkflowId(year, stamp.replace(/[^0-9]/g, ''));
  try {
    await temporal.workflow.start<typeof calendarYearLoadedWorkflow>('calendarYearLoadedWorkflow', { taskQueue, workflowId, args: [{ year }], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return workflowId;
    // eslint-disable-next-line no-console
    console.error(`[api] the settling of calendar year ${year} could not be started now (the daily calendar check will): ${(e as Error).message}`);
    return null;
  }
  return workflowId;
}
