import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { calendarWaiter } from './calendar';
import {
  decideObjectionUpdate,
  objectionStateQuery,
  verifyObjectionUpdate,
  type ObjectionInput,
  type ObjectionProcessState,
} from '../processes/messages';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // A missing calendar year keeps the deadline computation retrying (hourly at most) until an admin loads it.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

const msUntil = (iso: string) => Math.max(0, Date.parse(iso) - Date.now());

const VERDICT_VALUES: readonly string[] = ['confirmed_wrong', 'confirmed_right'];
const OUTCOME_VALUES: readonly string[] = ['corrected', 'upheld'];

/**
 * One workflow per accepted objection (E18, P21–P24). The deadline is the 10th working day after acceptance
 * (computed by an activity from the calendar). The provider is asked to verify and answers through the `verify`
 * Update; staff signal the outcome through the `decide` Update, refused at once when it does not follow from
 * the verification (corrected needs the provider's correction, upheld its confirmation). No answer by the
 * deadline: the objection is overdue (a personal record withdrawn from queries) and the provider's delay opens a
 * compliance case; the objection still waits for the answer and the outcome.
 */
export async function objectionWorkflow(input: ObjectionInput): Promise<ObjectionProcessState> {
  const state: ObjectionProcessState = { objectionId: input.objectionId, stage: 'opening', overdue: false };
  const busy = () => state.stage === 'answering' || state.stage === 'concluding';
  const concluded = () => state.stage === 'corrected' || state.stage === 'upheld';
  setHandler(objectionStateQuery, () => state);

  setHandler(
    verifyObjectionUpdate,
    async (a) => {
      // An answer sent while the verification is being opened waits for it (its deadline decides "in time").
      await condition(() => state.stage !== 'opening');
      if (state.answer || state.stage === 'answering')
        throw ApplicationFailure.nonRetryable('信息提供单位已答复，不能重复答复 / the provider has answered already', 'AlreadyAnswered');
      const before = state.stage;
      state.stage = 'answering';
      try {
        const answer = await acts.objectionRecordAnswer({ objectionId: input.objectionId, ...a, at: new Date().toISOString() });
        state.answer = answer;
        state.stage = 'answered';
        return answer;
      } catch (e) {
        state.stage = before;
        throw e;
      }
    },
    {
      validator: (a) => {
        if (state.answer || state.stage === 'answering')
          throw new Error('信息提供单位已答复，不能重复答复 / the provider has answered already');
        if (concluded() || state.stage === 'concluding') throw new Error('异议已处理完毕 / the objection is concluded');
        if (!VERDICT_VALUES.includes(a.verdict))
          throw new Error(
            'verdict 应为 confirmed_wrong（确有错误）或 confirmed_right（核实无误）/ verdict must be confirmed_wrong or confirmed_right',
          );
        if (typeof a.reason !== 'string' || a.reason.trim().length < 2)
          throw new Error('请说明核实理由 / give the reasons of the verification');
        if (a.verdict === 'confirmed_wrong' && (!a.corrections || a.corrections.length === 0))
          throw new Error('确有错误的，须提供更正内容或删除（P23）/ confirmed_wrong needs the corrections or deletions');
        if (a.verdict === 'confirmed_right' && a.corrections && a.corrections.length)
          throw new Error('核实无误的，不应附更正内容 / confirmed_right carries no corrections');
        if (!a.providerPrincipalId) throw new Error('providerPrincipalId is required');
      },
    },
  );

  setHandler(
    decideObjectionUpdate,
    async (d) => {
      const before = state.stage;
      state.stage = 'concluding';
      try {
        const result = await acts.objectionConclude({ objectionId: input.objectionId, ...d, at: new Date().toISOString() });
        state.result = result;
        state.stage = result.outcome;
        return result;
      } catch (e) {
        state.stage = before;
        throw e;
      }
    },
    {
      validator: (d) => {
        if (concluded() || state.stage === 'concluding')
          throw new Error(`异议已有处理结论（${state.result?.outcome ?? state.stage}），不能再作结论 / the outcome is given already`);
        if (!OUTCOME_VALUES.includes(d.outcome))
          throw new Error('outcome 应为 corrected（更正）或 upheld（维持）/ outcome must be corrected or upheld');
        if (typeof d.reason !== 'string' || d.reason.trim().length < 2) throw new Error('请说明处理理由 / give the reason');
        if (!state.answer)
          throw new Error('信息提供单位尚未核实，不能作出结论（E18、P22：会同信息提供单位核实）/ the provider has not verified yet');
        if (d.outcome === 'corrected' && state.answer.verdict !== 'confirmed_wrong') {
          throw new Error(
            '信息提供单位核实无误，没有可执行的更正；应予维持（E18）/ the provider confirmed the record: there is no correction to apply',
          );
        }
        if (d.outcome === 'upheld' && state.answer.verdict !== 'confirmed_right') {
          throw new Error(
            '信息提供单位确认信息有误并提供了更正，应予更正（E18、P23）/ the provider confirmed an error: the record must be corrected',
          );
        }
        if (!d.staffPrincipalId) throw new Error('staffPrincipalId is required');
      },
    },
  );

  const calendar = calendarWaiter();
  let mark = calendar.mark();
  state.deadline = await acts.objectionOpen(input.objectionId);
  if (state.stage === 'opening') state.stage = 'verifying';
  // A provisional deadline (a year on the way has no calendar) is the earliest the true one can be: staff are told
  // when it comes, and the workflow waits for the year; the provider is never late before the true deadline.
  let told = '';
  while (state.deadline.provisional && !concluded()) {
    const loaded = await condition(() => calendar.mark() !== mark || concluded(), msUntil(state.deadline.dueAt));
    if (!loaded && !concluded()) {
      if (told !== state.deadline.deadline) {
        await acts.objectionProvisionalDeadline(input.objectionId);
        told = state.deadline.deadline;
      }
      await calendar.wait(mark, concluded);
    }
    mark = calendar.mark();
    state.deadline = await acts.objectionOpen(input.objectionId);
  }
  const deadline = state.deadline;

  // Until the deadline the provider's answer ends the wait (an outcome needs the answer first).
  if (!(await condition(() => !!state.answer, msUntil(deadline.dueAt)))) {
    // An answer being recorded at that very instant finishes first.
    await condition(() => !busy());
    if (!state.answer) {
      const passed = await acts.objectionDeadlinePassed({ objectionId: input.objectionId, at: new Date().toISOString() });
      state.overdue = passed.overdue;
      if (passed.overdue && state.stage === 'verifying') state.stage = 'overdue';
    }
  } else if (!(await condition(concluded, msUntil(deadline.dueAt)))) {
    // Verified in time, no outcome yet at the deadline: staff are reminded.
    await condition(() => !busy());
    if (!concluded()) await acts.objectionDeadlinePassed({ objectionId: input.objectionId, at: new Date().toISOString() });
  }
  await condition(concluded);
  await condition(allHandlersFinished);
  return state;
}
