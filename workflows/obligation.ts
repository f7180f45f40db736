import { ActivityFailure, ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { calendarWaiter } from './calendar';
import type { OpenResult, OpenerInput } from '../activities/obligations';
import {
  caseChangedSignal,
  caseStateQuery,
  type CaseSnapshot,
  escalateCaseUpdate,
  obligationStateQuery,
  orderRectificationUpdate,
  submissionReceivedSignal,
  type CaseInput,
  type CaseStatus,
  type ObligationInput,
  type ObligationStatus,
} from '../processes/messages';

/**
 * Reporting obligations (E7, P9) and the rectification order → escalation chain (E20, P24).
 *
 * - `obligationOpenerWorkflow`: started daily by a Temporal Schedule; opens the obligations of the periods that
 *   have begun (set-based SQL) and starts one `obligationWorkflow` per obligation.
 * - `obligationWorkflow`: one per provider and period: reminders before the due date, fulfilled on time or late,
 *   or overdue with a compliance case.
 * - `complianceCaseWorkflow`: one per case of a provider's failure (a reporting obligation overdue, an objection
 *   verification not answered): an admin's rectification order (Update), its deadline, escalation due, a
 *   supervisor's escalation (Update).
 *
 * The workflows decide only *when*: the database is the source of truth and every check and write is an activity.
 */

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // A calendar year not loaded yet keeps the due date's activity retrying (hourly at most) until an admin loads it.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

const opener = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

const decisions = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: ['CaseStateConflict'] },
});

// ─── Opener ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Started daily by the `obligation-opener` Schedule (or by hand with `asOf` to catch up). */
export async function obligationOpenerWorkflow(input: OpenerInput = {}): Promise<OpenResult> {
  return opener.openObligations(input);
}

// ─── One obligation ──────────────────────────────────────────────────────────────────────────────────────────

export async function obligationWorkflow(input: ObligationInput): Promise<ObligationStatus> {
  const status: ObligationStatus = { obligationId: input.obligationId, stage: 'planning', remindersSent: [] };
  let announced = false;
  setHandler(submissionReceivedSignal, () => {
    announced = true;
  });
  setHandler(obligationStateQuery, () => status);

  const fulfilled = (onTime: boolean | null) => {
    status.stage = 'fulfilled';
    status.onTime = onTime;
    return status;
  };
  const waived = () => {
    status.stage = 'waived';
    return status;
  };

  /**
   * Waits until `at` (null: for ever) or until a submission is announced and the database confirms it (or says
   * the obligation was waived: the provider's deactivation wakes the workflow the same way).
   */
  async function fulfilledBefore(at: string | null): Promise<{ fulfilled: boolean; onTime: boolean | null; waived?: boolean }> {
    for (;;) {
      if (at !== null && Date.parse(at) <= Date.now()) return { fulfilled: false, onTime: null };
      const woke = at === null ? (await condition(() => announced), true) : await condition(() => announced, Date.parse(at) - Date.now());
      if (!woke) return { fulfilled: false, onTime: null };
      announced = false;
      const f = await acts.checkObligationFulfilment(input.obligationId);
      if (f.fulfilled || f.waived) return f;
    }
  }

  const calendar = calendarWaiter();
  let mark = calendar.mark();
  let plan = await acts.planObligation(input.obligationId);
  // The due date binds the provider: while a year it counts through has no calendar there is none, no reminder and
  // no overdue. The workflow sleeps until the year is loaded (or a batch comes, or the provider is deactivated).
  while (plan.state === 'open' && plan.awaitingCalendarYear) {
    status.stage = 'awaiting_calendar';
    status.period = plan.period;
    status.awaitingCalendarYear = plan.awaitingCalendarYear;
    await calendar.wait(mark, () => announced);
    if (announced) {
      announced = false;
      const f = await acts.checkObligationFulfilment(input.obligationId);
      if (f.fulfilled) return fulfilled(f.onTime);
      if (f.waived) return waived();
    }
    mark = calendar.mark();
    plan = await acts.planObligation(input.obligationId);
  }
  status.awaitingCalendarYear = null;
  status.period = plan.period;
  status.dueDate = plan.dueDate;
  status.caseWorkflowId = plan.caseWorkflowId;
  if (plan.state === 'fulfilled') return fulfilled(plan.onTime);
  if (plan.state === 'waived') return waived();

  if (plan.state === 'open') {
    status.stage = 'waiting';
    // Whatever came before the workflow ran (a batch accepted before the obligation was opened).
    const early = await acts.checkObligationFulfilment(input.obligationId);
    if (early.fulfilled) return fulfilled(early.onTime);
    if (early.waived) return waived();
    for (const r of plan.reminders) {
      if (Date.parse(r.at) <= Date.now()) continue; // its day had passed when the obligation was opened
      const f = await fulfilledBefore(r.at);
      if (f.fulfilled) return fulfilled(f.onTime);
      if (f.waived) return waived();
      const sent = await acts.sendObligationReminder(input.obligationId, r.workingDaysBefore, r.date);
      if (sent.fulfilled) return fulfilled(sent.onTime);
      if (sent.waived) return waived();
      status.remindersSent.push(r.date);
    }
    const f = await fulfilledBefore(plan.dueEndsAt);
    if (f.fulfilled) return fulfilled(f.onTime);
    if (f.waived) return waived();
    const overdue = await acts.declareObligationOverdue(input.obligationId);
    if (overdue.state === 'fulfilled') return fulfilled(overdue.onTime);
    if (overdue.state === 'waived') return waived();
    status.caseWorkflowId = overdue.caseWorkflowId;
  }

  // Overdue: the compliance case runs its own workflow; this one waits for the submission, however late.
  status.stage = 'overdue';
  const late = await fulfilledBefore(null);
  return fulfilled(late.onTime);
}

// ─── Compliance case: order → escalation ────────────────────────────────────────────────────────────────────

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Rethrows an activity's business failure as the Update's own failure, so the caller reads its message. */
function asUpdateFailure(e: unknown): unknown {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: e.cause.message,
      type: e.cause.type ?? 'ActivityFailed',
      nonRetryable: true,
      details: e.cause.details as unknown[],
    });
  }
  return e;
}

export async function complianceCaseWorkflow(input: CaseInput): Promise<CaseStatus> {
  const status: CaseStatus = { caseId: input.caseId, kind: '', state: 'overdue', orderDeadline: null, deadlineEndsAt: null };
  let changed = false;
  const apply = (s: CaseSnapshot) => Object.assign(status, s);
  setHandler(caseStateQuery, () => status);
  setHandler(caseChangedSignal, () => {
    changed = true;
  });

  setHandler(
    orderRectificationUpdate,
    async (req) => {
      try {
        const r = await decisions.recordRectificationOrder(input.caseId, req);
        Object.assign(status, { state: r.state, orderDeadline: r.orderDeadline, deadlineEndsAt: r.deadlineEndsAt });
        changed = true;
        return r;
      } catch (e) {
        throw asUpdateFailure(e);
      }
    },
    {
      validator: (req) => {
        if (status.state !== 'overdue') {
          throw ApplicationFailure.nonRetryable(
            `案件状态为 ${status.state}，只能对逾期未改正的案件责令限期改正 / the case is ${status.state}, not overdue`,
            'CaseNotOverdue',
          );
        }
        if (!DATE_RE.test(req.deadline) || Number.isNaN(Date.parse(`${req.deadline}T00:00:00+08:00`))) {
          throw ApplicationFailure.nonRetryable('改正期限应为 YYYY-MM-DD 日期 / the deadline must be a date YYYY-MM-DD', 'BadDeadline');
        }
        // The deadline's day must begin after now (Asia/Shanghai): at least the next day.
        if (Date.parse(`${req.deadline}T00:00:00+08:00`) <= Date.now()) {
          throw ApplicationFailure.nonRetryable(
            `改正期限 ${req.deadline} 已过或为今日，应晚于今日 / the deadline must be after today`,
            'DeadlineNotInFuture',
          );
        }
        if (!req.actor || !req.principalId || !req.requestId)
          throw ApplicationFailure.nonRetryable('缺少操作人 / the actor is missing', 'BadRequest');
      },
    },
  );

  setHandler(
    escalateCaseUpdate,
    async (req) => {
      try {
        const r = await decisions.recordCaseEscalation(input.caseId, req);
        status.state = r.state;
        changed = true;
        return r;
      } catch (e) {
        throw asUpdateFailure(e);
      }
    },
    {
      validator: (req) => {
        if (status.state !== 'escalation_due') {
          throw ApplicationFailure.nonRetryable(
            `案件状态为 ${status.state}，只有逾期未改正的案件可提请监察 / the case is ${status.state}, not due for escalation`,
            'CaseNotEscalationDue',
          );
        }
        if (!req.responsibleUnit?.trim() || !req.note?.trim() || !req.referredTo?.trim()) {
          throw ApplicationFailure.nonRetryable(
            '应写明责任单位、移送部门和说明 / the responsible unit, the department and a note are required',
            'BadRequest',
          );
        }
        if (!req.actor || !req.principalId || !req.requestId)
          throw ApplicationFailure.nonRetryable('缺少操作人 / the actor is missing', 'BadRequest');
      },
    },
  );

  apply(await acts.loadComplianceCase(input.caseId));
  for (;;) {
    if (status.state === 'resolved' || status.state === 'escalated') break;
    if (status.state === 'ordered' && status.deadlineEndsAt) {
      const left = Date.parse(status.deadlineEndsAt) - Date.now();
      const woke = left > 0 ? await condition(() => changed, left) : false;
      if (!woke) {
        status.state = (await acts.rectificationDeadlinePassed(input.caseId)).state;
        continue;
      }
    } else {
      await condition(() => changed);
    }
    changed = false;
    apply(await acts.loadComplianceCase(input.caseId));
  }
  await condition(allHandlersFinished);
  return status;
}
