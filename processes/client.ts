/**
 * The one front door to the platform's processes: every start, signal, Update and query the API, the reconciler
 * and the activities send to a workflow goes through here. Ids come from `domain/workflow-ids.ts`, messages from
 * `processes/messages.ts`. A start is idempotent (the id is the business key; `REJECT_DUPLICATE`), a signal to a
 * workflow that has ended is not an error (the database is the source of truth), and a refused Update is mapped to
 * an HTTP answer in `processes/errors.ts`.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { QueryDefinition, SignalDefinition, UpdateDefinition, Workflow } from '@temporalio/common';
import type {
  calendarYearLoadedWorkflow,
  complianceCaseWorkflow,
  judicialRequestWorkflow,
  objectionWorkflow,
  obligationWorkflow,
  ratingRequestWorkflow,
  submissionWorkflow,
} from '../workflows';
import { calendarLoadedWorkflowId } from '../domain/workflow-ids';
import { caseChangedSignal, calendarLoadedSignal, submissionReceivedSignal } from './messages';
import { currentRequest } from '../ops/context';
import type { ProcessTags } from '../db/process-tags';
import { searchAttributesOf } from './search-attributes';

/** Where processes run: the Temporal client and the task queue of the platform's worker. */
export interface Processes {
  temporal: Client;
  taskQueue: string;
}

/** Starts a workflow unless one with this id exists; answers whether this call started it. */
async function startOnce<W extends Workflow>(
  p: Processes,
  type: string,
  workflowId: string,
  args: Parameters<W>,
  tags?: ProcessTags,
): Promise<boolean> {
  try {
    // The request that started it, when one did (ops/context.ts): the same id is in its log line and audit entry.
    const request = currentRequest();
    const options = {
      taskQueue: p.taskQueue,
      workflowId,
      args,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(request ? { memo: { request_id: request.requestId } } : {}),
      // What it is about, to find it in the Web UI (processes/search-attributes.ts), where the namespace has them.
      ...(searchAttributesOf(tags) ? { typedSearchAttributes: searchAttributesOf(tags) } : {}),
    } as unknown as WorkflowStartOptions<W>;
    await p.temporal.workflow.start<W>(type, options);
    return true;
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw e;
  }
}

export const startSubmissionProcess = (p: Processes, workflowId: string, submissionId: string, tags?: ProcessTags) =>
  startOnce<typeof submissionWorkflow>(p, 'submissionWorkflow', workflowId, [{ submissionId }], tags);

export const startObligationProcess = (p: Processes, workflowId: string, obligationId: number, tags?: ProcessTags) =>
  startOnce<typeof obligationWorkflow>(p, 'obligationWorkflow', workflowId, [{ obligationId }], tags);

export const startComplianceCaseProcess = (p: Processes, workflowId: string, caseId: string, tags?: ProcessTags) =>
  startOnce<typeof complianceCaseWorkflow>(p, 'complianceCaseWorkflow', workflowId, [{ caseId }], tags);

export const startObjectionProcess = (p: Processes, workflowId: string, objectionId: string, tags?: ProcessTags) =>
  startOnce<typeof objectionWorkflow>(p, 'objectionWorkflow', workflowId, [{ objectionId }], tags);

export const startRatingRequestProcess = (p: Processes, workflowId: string, requestId: string, tags?: ProcessTags) =>
  startOnce<typeof ratingRequestWorkflow>(p, 'ratingRequestWorkflow', workflowId, [{ requestId }], tags);

export const startJudicialRequestProcess = (p: Processes, workflowId: string, requestId: string, tags?: ProcessTags) =>
  startOnce<typeof judicialRequestWorkflow>(p, 'judicialRequestWorkflow', workflowId, [{ requestId }], tags);

/** The settling of a loaded calendar year: one run per load (the load's stamp). Answers its id. */
export async function startCalendarYearLoadedProcess(p: Processes, year: number, stamp: string): Promise<string> {
  const workflowId = calendarLoadedWorkflowId(year, stamp.replace(/[^0-9]/g, ''));
  await startOnce<typeof calendarYearLoadedWorkflow>(p, 'calendarYearLoadedWorkflow', workflowId, [{ year }]);
  return workflowId;
}

/** Sends a signal; a workflow that has ended (or never ran) is no error: answers false then. */
export async function signalIfRunning<A extends unknown[]>(
  temporal: Client,
  workflowId: string,
  signal: SignalDefinition<A>,
  ...args: A
): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(workflowId).signal(signal, ...args);
    return true;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

/** A batch for the obligation's provider and period was accepted (`submissionId`, or why it looks again). */
export const tellObligationOfSubmission = (temporal: Client, workflowId: string, submissionId: string) =>
  signalIfRunning(temporal, workflowId, submissionReceivedSignal, submissionId);

/** The case changed in the database: its workflow reads it again. */
export const tellCaseChanged = (temporal: Client, workflowId: string) => signalIfRunning(temporal, workflowId, caseChangedSignal);

/** A calendar year was loaded: a workflow waiting on it looks again. */
export const tellCalendarLoaded = (temporal: Client, workflowId: string, year: number) =>
  signalIfRunning(temporal, workflowId, calendarLoadedSignal, year);

/** Runs an Update and answers its result; a refusal throws (map it with `processes/errors.ts`). */
export function runUpdate<R, A extends [any, ...any[]]>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<R, A>,
  args: A,
  updateId?: string,
): Promise<R> {
  return temporal.workflow.getHandle(workflowId).executeUpdate<R, A>(update, updateId ? { args, updateId } : { args });
}

/** Asks a workflow for its state. */
export function queryProcess<R>(temporal: Client, workflowId: string, query: QueryDefinition<R, []>): Promise<R> {
  return temporal.workflow.getHandle(workflowId).query(query);
}
