/**
 * Side effects of the reporting obligations (E7, P9) and of the compliance cases (E20, P24): opening obligations,
 * due dates and reminders from the working-day calendar, overdue, rectification orders, escalation. Every
 * activity is idempotent; the database is the source of truth and the workflows only decide when.
 */
import { complianceCaseTags } from '../db/process-tags';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { loadCalendar } from '../db/calendar';
import { recordAudit } from '../db/audit';
import { obligationReminder } from '../domain/notices/obligations';
import { caseOpenedToAdmins, caseOpenedToProvider } from '../domain/notices/compliance-cases';
import { notify } from '../db/notifications';
import {
  SYSTEM_ACTOR,
  declareOverdue,
  fulfilObligation,
  obligationById,
  obligationsWithUnnoticedSubmissions,
  openMissingObligations,
} from '../db/obligations';
import { applyEffectiveCadences } from '../db/provider-cadences';
import {
  CaseStateError,
  caseById,
  insertComplianceCase,
  recordOrder,
  resolveComplianceCase,
  type NewComplianceCase,
} from '../db/compliance-cases';
import { orderDeadlinePassed, recordEscalation } from '../db/compliance-escalation';
import { isIsoDate, shanghaiDate } from '../domain/calendar';
import { obligationSettings } from '../domain/config';
import { endOfShanghaiDay, reminderPlan, type CaseState, type ObligationState, type ReminderPlan } from '../domain/obligations';
import { parsePeriod } from '../domain/periods';
import { startComplianceCaseProcess, tellCaseChanged, tellObligationOfSubmission } from '../processes/client';
import { startPendingObligations } from '../processes/starts';
import type { CaseSnapshot, EscalationRequest, OrderRequest } from '../processes/messages';
import { markComplianceCaseStarted, obligationOfSubmission } from '../db/workflow-starts';
import type { ActivityDeps } from './deps';
import { calendarFailure } from './submission';
import { settleWithCalendar } from './calendar';
import { settleObligationDueDate } from '../db/deadlines';

/** Reminders go out at this hour, Asia/Shanghai. */
export const REMINDER_HOUR = 9;

export interface OpenerInput {
  /** The day to open for (YYYY-MM-DD, not after today); default today in Asia/Shanghai. */
  asOf?: string;
  /** Only these providers (by code); default every active provider. */
  providerCodes?: string[];
}

export interface OpenResult {
  today: string;
  opened: number;
  started: number;
  cadencesApplied: number;
  resignalled: number;
}

export interface ObligationPlan {
  obligationId: number;
  providerCode: string;
  period: string;
  state: ObligationState;
  /** Empty for an obligation waived before its due date was set. */
  dueDate: string;
  /** The instant the due date ends (Asia/Shanghai): the obligation is overdue after it. */
  dueEndsAt: string;
  reminders: ReminderPlan[];
  onTime: boolean | null;
  caseWorkflowId: string | null;
  /**
   * The due date waits for the calendar of this year (no due date, no reminders, never overdue until it is
   * loaded). Absent in older histories: read as none.
   */
  awaitingCalendarYear?: number | null;
}

type TemporalDeps = Pick<ActivityDeps, 'db' | 'temporal' | 'taskQueue'>;

const heartbeat = (details?: unknown) => {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity (called from the API)
  }
};

async function mapLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/** Starts the workflow of every obligation that has none yet; heartbeats its progress. */
export const startPendingObligationWorkflows = (deps: TemporalDeps): Promise<number> =>
  startPendingObligations(deps.db, deps, (started) => heartbeat({ started }));

/** Starts a compliance case's workflow (idempotent by its id). */
export async function ensureComplianceCaseWorkflow(deps: TemporalDeps, caseId: string, workflowId: string): Promise<void> {
  await startComplianceCaseProcess(deps, workflowId, caseId, await complianceCaseTags(deps.db, caseId));
  await markComplianceCaseStarted(deps.db, caseId);
}

/**
 * Opens a compliance case for a provider's failure and starts its order → escalation workflow. For the other
 * processes: e.g. a provider that does not verify an objection within 10 working days (E18, E20, P22, P24):
 *
 *   await openComplianceCase(deps, { providerId, kind: 'objection_verification', referenceId: objectionId,
 *                                    missedDeadline: '2026-12-10', summary: '…未在 10 个工作日内答复异议核实' });
 *
 * Idempotent: one case per kind and reference. When the provider does answer, call `resolveComplianceCaseAndTell`.
 */
export async function openComplianceCase(
  deps: TemporalDeps,
  input: NewComplianceCase,
): Promise<{ id: string; workflowId: string; created: boolean }> {
  const c = await deps.db.transaction(async (trx) => {
    const opened = await insertComplianceCase(trx, input);
    if (opened.created) {
      const provider = await trx('providers').where('id', input.providerId).first('code', 'name_zh');
      await notify(trx, {
        to: { providerId: input.providerId },
        ...caseOpenedToProvider(input),
        entity: 'compliance_case',
        entityId: opened.id,
        data: { kind: input.kind, referenceId: input.referenceId },
        dedupeKey: `compliance-opened-${opened.id}`,
      });
      await notify(trx, {
        to: { role: 'admin' },
        ...caseOpenedToAdmins({ ...input, providerName: provider.name_zh }),
        entity: 'compliance_case',
        entityId: opened.id,
        data: { provider: provider.code, kind: input.kind, referenceId: input.referenceId },
        dedupeKey: `compliance-opened-admin-${opened.id}`,
      });
    }
    return opened;
  });
  await ensureComplianceCaseWorkflow(deps, c.id, c.workflowId);
  return c;
}

/** Tells a case's workflow to read its case again (it was resolved or changed in the database). */
export async function tellCaseWorkflow(temporal: Client, workflowId: string): Promise<void> {
  await tellCaseChanged(temporal, workflowId);
}

/** The provider did what it failed to do: resolves the case (if still overdue or ordered in time) and tells its workflow. */
export async function resolveComplianceCaseAndTell(
  deps: TemporalDeps,
  input: { caseId: string; actor: string; principalId?: string | null; resolution: string; detail?: Record<string, unknown> },
): Promise<boolean> {
  const workflowId = await resolveComplianceCase(deps.db, input);
  if (workflowId) await tellCaseWorkflow(deps.temporal, workflowId);
  return workflowId !== null;
}

function stateFailure(e: unknown): unknown {
  if (e instanceof CaseStateError) return ApplicationFailure.nonRetryable(e.message, 'CaseStateConflict', { state: e.state });
  return e;
}

export const obligationActivities = (deps: ActivityDeps) => ({
  /**
   * The daily opener (Temporal Schedule): applies the cadences that took effect, opens every missing obligation
   * of every active provider for the periods that have begun, starts their workflows, and tells again the
   * obligations whose submission was stored while Temporal could not be reached.
   */
  async openObligations(input: OpenerInput = {}): Promise<OpenResult> {
    const realToday = shanghaiDate(new Date());
    const today = input.asOf ?? realToday;
    if (!isIsoDate(today) || today > realToday) {
      throw ApplicationFailure.nonRetryable(`asOf ${today} 无效或在未来 / asOf must be a date not after today`, 'BadOpenerInput');
    }
    let providerIds: number[] | undefined;
    if (input.providerCodes) {
      const rows = await deps.db('providers').whereIn('code', input.providerCodes).select('id');
      providerIds = rows.map((r) => r.id);
    }
    const applied = await applyEffectiveCadences(deps.db, today);
    const calendar = await loadCalendar(deps.db);
    const opened = await openMissingObligations(deps.db, {
      today,
      dueWorkingDays: obligationSettings().obligationDueWorkingDays,
      calendar,
      providerIds,
    });
    heartbeat({ opened: opened.length });
    const started = await startPendingObligationWorkflows(deps);
    const unnoticed = await obligationsWithUnnoticedSubmissions(deps.db);
    await mapLimit(unnoticed, 16, async (o) => {
      await tellObligationOfSubmission(deps.temporal, o.workflowId, 'reconciled');
    });
    return { today, opened: opened.length, started, cadencesApplied: applied.length, resignalled: unnoticed.length };
  },

  /**
   * The due date and the reminders. The due date binds the provider, so it is never guessed: while a year it counts
   * through has no calendar, the plan says which year it waits for (the gap is recorded and announced) and the
   * workflow sleeps until that year is loaded.
   */
  async planObligation(obligationId: number): Promise<ObligationPlan> {
    const o = await obligationById(deps.db, obligationId);
    if (!o) throw ApplicationFailure.nonRetryable(`obligation ${obligationId} not found`, 'ObligationNotFound');
    const base = {
      obligationId: o.id,
      providerCode: o.provider_code,
      period: o.period,
      state: o.state,
      onTime: o.on_time,
      awaitingCalendarYear: null,
    };
    if (o.state === 'waived') {
      // Nothing is owed: no due date to compute (its year's calendar may not even be loaded), no reminders.
      const due = o.due_date ?? '';
      return { ...base, dueDate: due, dueEndsAt: due && endOfShanghaiDay(due), reminders: [], caseWorkflowId: null };
    }
    const what = `报送义务 ${o.id}（${o.provider_code} ${o.period}）的截止日期 / the due date of obligation ${o.id} (${o.provider_code} ${o.period})`;
    const due = (await settleWithCalendar(deps.db, what, (calendar) => settleObligationDueDate(deps.db, calendar, o.id, SYSTEM_ACTOR)))!;
    let caseWorkflowId: string | null = null;
    if (o.case_id) caseWorkflowId = (await deps.db('compliance_cases').where('id', o.case_id).first('workflow_id'))?.workflow_id ?? null;
    if (due.dueDate === null)
      return { ...base, dueDate: '', dueEndsAt: '', reminders: [], caseWorkflowId, awaitingCalendarYear: due.pendingYear };
    let reminders: ReminderPlan[];
    try {
      reminders = reminderPlan(
        await loadCalendar(deps.db),
        parsePeriod(o.period)!,
        due.dueDate,
        obligationSettings().obligationReminderWorkingDays,
        REMINDER_HOUR,
      );
    } catch (e) {
      throw calendarFailure(e);
    }
    return { ...base, dueDate: due.dueDate, dueEndsAt: endOfShanghaiDay(due.dueDate), reminders, caseWorkflowId };
  },

  /**
   * A step of the submission workflow, once its batch is received: tells the obligation of the batch's provider and
   * period (its workflow checks the database). No obligation open for that period, or fulfilled: nothing to tell.
   */
  async tellObligationOfBatch(submissionId: string): Promise<{ told: boolean }> {
    const o = await obligationOfSubmission(deps.db, submissionId);
    if (!o || o.state === 'fulfilled') return { told: false };
    return { told: await tellObligationOfSubmission(deps.temporal, o.workflowId, submissionId) };
  },

  /** A submission was announced: records the fulfilment if the database holds one (and resolves its case). */
  async checkObligationFulfilment(obligationId: number): Promise<{ fulfilled: boolean; onTime: boolean | null; waived: boolean }> {
    const f = await deps.db.transaction(async (trx) => fulfilObligation(trx, (await obligationById(trx, obligationId, true))!));
    if (f.resolvedCase) await tellCaseWorkflow(deps.temporal, f.resolvedCase.workflowId);
    return { fulfilled: f.fulfilled, onTime: f.onTime, waived: f.waived };
  },

  /** A reminder before the due date, kept as a notification the provider reads through the API. */
  async sendObligationReminder(
    obligationId: number,
    workingDaysBefore: number,
    date: string,
  ): Promise<{ fulfilled: boolean; onTime: boolean | null; sent: boolean; waived: boolean }> {
    return deps.db.transaction(async (trx) => {
      const o = (await obligationById(trx, obligationId, true))!;
      const f = await fulfilObligation(trx, o);
      if (f.fulfilled) return { fulfilled: true, onTime: f.onTime, sent: false, waived: false };
      if (f.waived) return { fulfilled: false, onTime: null, sent: false, waived: true };
      const dedupeKey = `obligation-reminder-${o.id}-${workingDaysBefore}`;
      const sent = await notify(trx, {
        to: { providerId: o.provider_id },
        ...obligationReminder({ period: o.period, dueDate: o.due_date, workingDaysBefore }),
        entity: 'obligation',
        entityId: String(o.id),
        data: { period: o.period, dueDate: o.due_date, workingDaysBefore, date },
        dedupeKey,
      });
      if (sent) {
        await trx('obligation_events')
          .insert({
            obligation_id: o.id,
            kind: 'reminded',
            actor: SYSTEM_ACTOR,
            detail: { workingDaysBefore, date, dueDate: o.due_date },
            dedupe_key: dedupeKey,
          })
          .onConflict('dedupe_key')
          .ignore();
        await recordAudit(trx, {
          actor: SYSTEM_ACTOR,
          action: 'obligation.remind',
          entity: 'obligation',
          id: o.id,
          article: 'E7, P9',
          detail: { workingDaysBefore, date, dueDate: o.due_date },
        });
      }
      return { fulfilled: false, onTime: null, sent, waived: false };
    });
  },

  /** The due date has passed: fulfilled after all (the database says so), or overdue with a compliance case. */
  async declareObligationOverdue(
    obligationId: number,
  ): Promise<{ state: 'fulfilled' | 'overdue' | 'waived'; onTime: boolean | null; caseWorkflowId: string | null }> {
    const r = await declareOverdue(deps.db, obligationId);
    if (r.resolvedCase) await tellCaseWorkflow(deps.temporal, r.resolvedCase.workflowId);
    if (r.state === 'overdue' && r.caseId && r.caseWorkflowId) await ensureComplianceCaseWorkflow(deps, r.caseId, r.caseWorkflowId);
    return { state: r.state, onTime: r.onTime, caseWorkflowId: r.caseWorkflowId };
  },

  async loadComplianceCase(caseId: string): Promise<CaseSnapshot> {
    const c = await caseById(deps.db, caseId);
    if (!c) throw ApplicationFailure.nonRetryable(`compliance case ${caseId} not found`, 'CaseNotFound');
    return {
      caseId,
      kind: c.kind,
      state: c.state,
      orderDeadline: c.order_deadline,
      deadlineEndsAt: c.order_deadline ? endOfShanghaiDay(c.order_deadline) : null,
    };
  },

  async recordRectificationOrder(
    caseId: string,
    req: OrderRequest,
  ): Promise<{ state: CaseState; orderDeadline: string; deadlineEndsAt: string }> {
    try {
      return await recordOrder(deps.db, caseId, req);
    } catch (e) {
      throw stateFailure(e);
    }
  },

  /** The order's deadline passed: resolved (submitted in time) or due for escalation. */
  async rectificationDeadlinePassed(caseId: string): Promise<{ state: CaseState }> {
    const r = await orderDeadlinePassed(deps.db, caseId);
    return { state: r.state };
  },

  async recordCaseEscalation(caseId: string, req: EscalationRequest): Promise<{ state: CaseState; escalatedAt: string }> {
    try {
      return await recordEscalation(deps.db, caseId, req);
    } catch (e) {
      throw stateFailure(e);
    }
  },
});
