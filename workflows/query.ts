import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JudicialSchedule } from '../activities/judicial-requests';
import type { RatingDeadline } from '../activities/rating-requests';
import { calendarWaiter } from './calendar';
import {
  answerJudicialRequestUpdate,
  decideRatingRequestUpdate,
  judicialRequestStateQuery,
  ratingRequestStateQuery,
  type JudicialRequestInput,
  type JudicialRequestState,
  type RatingRequestInput,
  type RatingRequestState,
} from '../processes/messages';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // A missing calendar year keeps the deadline computation retrying (hourly at most) until an admin loads it.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

const msUntil = (iso: string) => Math.max(0, Date.parse(iso) - Date.now());

// ─── Rating-agency request (E14.3) ───────────────────────────────────────────────────────────────────────────

/**
 * One workflow per rating-agency request: staff approve or reject it by the deadline (working days after the
 * request, a setting); an undecided request lapses then.
 */
export async function ratingRequestWorkflow(input: RatingRequestInput): Promise<RatingRequestState> {
  const state: RatingRequestState = { requestId: input.requestId, stage: 'opening' };
  setHandler(ratingRequestStateQuery, () => state);
  setHandler(
    decideRatingRequestUpdate,
    async (d) => {
      const before = state.stage;
      state.stage = 'deciding';
      try {
        const result = await acts.ratingRequestDecide({ requestId: input.requestId, ...d, decidedAt: new Date().toISOString() });
        state.result = result;
        state.stage = result.status === 'requested' ? 'awaiting_decision' : result.status;
        return result;
      } catch (e) {
        state.stage = before;
        throw e;
      }
    },
    {
      validator: (d) => {
        if (state.stage !== 'awaiting_decision' && state.stage !== 'opening')
          throw new Error(`申请已${stageZh(state.stage)}，不能再审批 / the request is ${state.stage}`);
        if (state.deadline && !state.deadline.provisional && Date.now() >= Date.parse(state.deadline.dueAt))
          throw new Error(`审批期限 ${state.deadline.decisionDeadline} 已过 / the decision deadline has passed`);
        if (typeof d.approve !== 'boolean') throw new Error('approve 应为 true 或 false / approve must be a boolean');
        if (typeof d.reason !== 'string' || d.reason.trim().length < 2) throw new Error('请说明理由 / give the reason');
        if (!d.staffPrincipalId) throw new Error('staffPrincipalId is required');
      },
    },
  );
  const calendar = calendarWaiter();
  let mark = calendar.mark();
  state.deadline = await acts.ratingRequestOpen(input.requestId);
  if (state.stage === 'opening') state.stage = 'awaiting_decision';
  const decided = () => state.stage !== 'awaiting_decision';
  for (;;) {
    const d: RatingDeadline = state.deadline;
    const woke = await condition(() => decided() || (!!d.provisional && calendar.mark() !== mark), msUntil(d.dueAt));
    if (decided()) {
      await condition(() => state.stage !== 'deciding');
      break;
    }
    if (!d.provisional) {
      state.result = await acts.ratingRequestLapse(input.requestId);
      state.stage = state.result.status === 'requested' ? 'lapsed' : state.result.status;
      break;
    }
    // A provisional deadline (a year on the way has no calendar): the request does not lapse on it.
    if (!woke) await calendar.wait(mark, decided);
    if (decided()) continue;
    mark = calendar.mark();
    state.deadline = await acts.ratingRequestOpen(input.requestId);
  }
  await condition(allHandlersFinished);
  return state;
}

function stageZh(stage: RatingRequestState['stage']): string {
  return { opening: '受理', awaiting_decision: '待审批', deciding: '在审批中', approved: '批准', rejected: '驳回', lapsed: '失效' }[stage];
}

// ─── Judicial request (E14.4, P13) ───────────────────────────────────────────────────────────────────────────

/**
 * One workflow per judicial query request: the answer is due by the end of the 3rd working day after receipt
 * (E14.4, P13). Staff are alerted the working day before; a request unanswered at the deadline is recorded as
 * missed (and administrators told) and still waits for its answer. Staff answer through the Update.
 */
export async function judicialRequestWorkflow(input: JudicialRequestInput): Promise<JudicialRequestState> {
  const state: JudicialRequestState = { requestId: input.requestId, stage: 'opening', overdue: false };
  const open = () => state.stage !== 'answered' && state.stage !== 'rejected';
  const settled = () => !open() || state.stage === 'answering';
  setHandler(judicialRequestStateQuery, () => state);
  setHandler(
    answerJudicialRequestUpdate,
    async (a) => {
      const before = state.stage;
      state.stage = 'answering';
      try {
        const result = await acts.judicialRequestAnswer({ requestId: input.requestId, ...a, answeredAt: new Date().toISOString() });
        state.result = result;
        state.stage = result.status;
        return result;
      } catch (e) {
        state.stage = before;
        throw e;
      }
    },
    {
      validator: (a) => {
        if (!open() || state.stage === 'answering') throw new Error(`申请已答复 / the request has been answered already`);
        if (a.decision !== 'answer' && a.decision !== 'reject')
          throw new Error('decision 应为 answer 或 reject / decision must be answer or reject');
        if (a.decision === 'reject' && (!a.reason || a.reason.trim().length < 2))
          throw new Error('不予受理须说明理由 / a rejection needs its reason');
        if (!a.staffPrincipalId) throw new Error('staffPrincipalId is required');
      },
    },
  );
  const calendar = calendarWaiter();
  let mark = calendar.mark();
  let schedule = await acts.judicialRequestOpen(input.requestId);
  let told = '';
  state.schedule = schedule;
  if (state.stage === 'opening') state.stage = 'pending';

  let alerted = false;
  for (;;) {
    const s: JudicialSchedule = schedule;
    // A year loaded while the deadline is provisional: read the settled schedule at once.
    const loaded = () => !!s.provisional && calendar.mark() !== mark;
    if (!alerted) {
      if (!(await condition(() => settled() || loaded(), msUntil(s.alertAt)))) {
        await acts.judicialRequestAlert(input.requestId);
        if (state.stage === 'pending') state.stage = 'alerted';
        alerted = true;
      } else if (settled()) break;
    }
    if (alerted) {
      if (await condition(() => settled() || loaded(), msUntil(s.dueAt))) {
        if (settled()) break;
      } else if (!s.provisional) {
        await acts.judicialRequestOverdue(input.requestId);
        state.overdue = true;
        if (open() && state.stage !== 'answering') state.stage = 'overdue';
        break;
      } else {
        // A provisional deadline binds the platform: staff and administrators are told when it comes; the
        // request is recorded as missed only against the true deadline, known when the year is loaded.
        if (told !== s.answerDue) {
          await acts.judicialRequestProvisionalDue(input.requestId);
          told = s.answerDue;
        }
        await calendar.wait(mark, settled);
        if (settled()) break;
      }
    }
    mark = calendar.mark();
    schedule = await acts.judicialRequestOpen(input.requestId);
    state.schedule = schedule;
  }
  // Answered late or on time, the request stays open until staff answer it.
  await condition(() => !open());
  await condition(allHandlersFinished);
  return state;
}

// ─── Retention sweep (P19) ───────────────────────────────────────────────────────────────────────────────────

export interface RetentionSweepInput {
  /** The day the sweep counts from (YYYY-MM-DD, Shanghai); default today. */
  asOf?: string;
  batchSize?: number;
  /** Carried over a continue-as-new. */
  carried?: { asOf: string; recordKeys: number; rows: number; persons: number; batches: number; runId: string };
}

export interface RetentionSweepResult {
  runId: string;
  asOf: string;
  recordKeys: number;
  rows: number;
  persons: number;
  batches: number;
}

/** Batches per run before the workflow continues as new (keeps its history short). */
const BATCHES_PER_RUN = 500;

/**
 * The daily retention sweep (started by a Schedule): removes personal records whose 5 years after conclusion
 * are over (P19), batch by batch in set-based SQL, until none is left; then records the run once with its counts.
 * A late or repeated run removes what is due then and nothing more.
 */
export async function retentionSweepWorkflow(input: RetentionSweepInput = {}): Promise<RetentionSweepResult> {
  const asOf = input.carried?.asOf ?? input.asOf ?? (await acts.retentionToday());
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw ApplicationFailure.nonRetryable(`asOf must be YYYY-MM-DD, got ${asOf}`, 'BadInput');
  const info = workflowInfo();
  const total = input.carried ?? { asOf, recordKeys: 0, rows: 0, persons: 0, batches: 0, runId: `${info.workflowId}:${info.runId}` };
  for (let i = 0; i < BATCHES_PER_RUN; i++) {
    const b = await acts.retentionPurgeBatch({ asOf, batchSize: input.batchSize });
    if (b.rows === 0) {
      await acts.retentionRecordRun({
        runId: total.runId,
        asOf,
        recordKeys: total.recordKeys,
        rows: total.rows,
        persons: total.persons,
        batches: total.batches,
      });
      return { runId: total.runId, asOf, recordKeys: total.recordKeys, rows: total.rows, persons: total.persons, batches: total.batches };
    }
    total.recordKeys += b.recordKeys;
    total.rows += b.rows;
    total.persons += b.persons;
    total.batches++;
  }
  return continueAsNew<typeof retentionSweepWorkflow>({ batchSize: input.batchSize, carried: total });
}
