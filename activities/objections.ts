import { ApplicationFailure } from '@temporalio/activity';
import { ObjectionStateError, objectionItems, objectionRow } from '../db/objections';
import {
  checkCorrections,
  linkComplianceCase,
  markDeadlinePassed,
  noteProvisionalDeadline,
  openVerification,
  recordProviderAnswer,
  type AnswerResult,
  type DeadlineResult,
} from '../db/objection-verification';
import { applyCorrections, concludeObjection, type ConcludeResult } from '../db/objection-outcome';
import { systemActor } from '../db/audit';
import { objectionDeadline, type ObjectionDeadline, type Outcome, type RecordCorrection, type Verdict } from '../domain/objections';
import { openComplianceCase, resolveComplianceCaseAndTell } from './obligations';
import { settleWithCalendar } from './calendar';
import { settleObjectionDeadline } from '../db/deadlines';
import type { ActivityDeps } from './deps';

export type { AnswerResult, DeadlineResult } from '../db/objection-verification';
export type { ConcludeResult } from '../db/objection-outcome';
export type { ObjectionDeadline } from '../domain/objections';

export interface ProviderAnswerInput {
  objectionId: string;
  verdict: Verdict;
  reason: string;
  corrections: RecordCorrection[] | null;
  providerPrincipalId: string;
  providerActor: string;
  /** The instant of the answer (workflow time, ISO). */
  at: string;
}

export interface OutcomeInput {
  objectionId: string;
  outcome: Outcome;
  reason: string;
  staffPrincipalId: string;
  staffActor: string;
  /** The instant of the decision (workflow time, ISO). */
  at: string;
}

const stateFailure = (e: unknown): unknown =>
  e instanceof ObjectionStateError ? ApplicationFailure.nonRetryable(e.message, 'ObjectionStateConflict', { state: e.state }) : e;

const missing = (id: string) => ApplicationFailure.nonRetryable(`objection ${id} not found`, 'ObjectionNotFound');

/** Every side effect of an objection's process (E18, P21–P24). Each is idempotent. */
export const objectionActivities = (deps: ActivityDeps) => ({
  /**
   * Computes the deadline (10th working day after the day of acceptance, from the calendar in the database),
   * asks the provider to verify and tells the applicant. A missing calendar year retries until it is loaded.
   */
  async objectionOpen(objectionId: string): Promise<ObjectionDeadline> {
    const o = await objectionRow(deps.db, objectionId);
    if (!o) throw missing(objectionId);
    if (!o.accepted_at)
      throw ApplicationFailure.nonRetryable(`objection ${objectionId} is not accepted`, 'ObjectionStateConflict', { state: o.state });
    const acceptedAt = new Date(o.accepted_at);
    const what = `异议 ${objectionId} 的核实期限 / the verification deadline of objection ${objectionId}`;
    // Opened once (notices with the deadline); settled again while it is provisional and the year is there.
    const d = await settleWithCalendar(deps.db, what, async (calendar) => {
      const opened = await openVerification(deps.db, objectionId, objectionDeadline(calendar, acceptedAt));
      return opened.provisional ? settleObjectionDeadline(deps.db, calendar, objectionId) : opened;
    });
    return d!;
  },

  /** A provisional deadline has come: staff are told; nothing is declared overdue on it. */
  async objectionProvisionalDeadline(objectionId: string): Promise<void> {
    await noteProvisionalDeadline(deps.db, objectionId);
  },

  /** Records the provider's verification; a late answer resolves the compliance case of its delay. */
  async objectionRecordAnswer(input: ProviderAnswerInput): Promise<AnswerResult> {
    let r: AnswerResult;
    try {
      r = await recordProviderAnswer(deps.db, input.objectionId, {
        verdict: input.verdict,
        reason: input.reason,
        corrections: input.corrections,
        by: { id: input.providerPrincipalId, actor: input.providerActor },
        at: input.at,
      });
    } catch (e) {
      throw stateFailure(e);
    }
    if (r.complianceCaseId) {
      await resolveComplianceCaseAndTell(deps, {
        caseId: r.complianceCaseId,
        actor: input.providerActor,
        principalId: input.providerPrincipalId,
        resolution: `信息提供单位已于 ${r.answeredAt.slice(0, 10)} 答复异议核实（逾期）/ the provider answered the verification late`,
        detail: { objection_id: input.objectionId, verdict: r.verdict },
      });
    }
    return r;
  },

  /**
   * The deadline has passed: an unverified objection becomes overdue (a personal record withdrawn from queries,
   * staff told) and the provider's delay opens a compliance case (E20, P24: order → escalation).
   */
  async objectionDeadlinePassed(input: { objectionId: string; at: string }): Promise<DeadlineResult & { complianceCaseId: string | null }> {
    const r = await markDeadlinePassed(deps.db, input.objectionId, input.at);
    if (!r.overdue) return { ...r, complianceCaseId: null };
    const o = (await objectionRow(deps.db, input.objectionId))!;
    if (o.provider_verdict && o.answered_in_time) return { ...r, complianceCaseId: null };
    const c = await openComplianceCase(deps, {
      providerId: r.providerId,
      kind: 'objection_verification',
      referenceId: input.objectionId,
      missedDeadline: r.deadline,
      summary: `未在 ${r.deadline} 前（受理后 10 个工作日内）答复异议核实（异议 ${input.objectionId}，主体 ${r.subjectId}）`,
    });
    await linkComplianceCase(deps.db, input.objectionId, c.id);
    // The provider answered while the case was being opened: the case is resolved at once.
    const after = (await objectionRow(deps.db, input.objectionId))!;
    if (after.provider_verdict) {
      await resolveComplianceCaseAndTell(deps, {
        caseId: c.id,
        actor: systemActor('objection'),
        resolution: '信息提供单位已答复异议核实（逾期）/ the provider answered the verification late',
        detail: { objection_id: input.objectionId },
      });
    }
    return { ...r, complianceCaseId: c.id };
  },

  /**
   * Concludes the objection with the staff's outcome: corrected → new record versions (or deletions, P23), public
   * correction notices (E18), the subject and past queriers told (P23); upheld → the written answer. Refused
   * (non-retryable) when a correction no longer fits the record.
   */
  async objectionConclude(input: OutcomeInput): Promise<ConcludeResult> {
    const o = await objectionRow(deps.db, input.objectionId);
    if (!o) throw missing(input.objectionId);
    const by = { id: input.staffPrincipalId, actor: input.staffActor };
    const appliedKeys = new Set((await objectionItems(deps.db, o.id)).filter((i) => i.result).map((i) => i.record_key));
    if (!o.outcome && input.outcome === 'corrected') {
      // All or nothing: every correction is checked against the current records before any is applied.
      const problems = await checkCorrections(
        deps.db,
        o.id,
        o.provider_id,
        (o.provider_corrections ?? []).filter((c) => !appliedKeys.has(c.record_key)),
        { skipGone: true },
      );
      if (problems.length) {
        throw ApplicationFailure.nonRetryable(
          `更正内容已不适用于当前记录，请信息提供单位重新核实 / the correction no longer fits the record: ${problems.map((e) => `${e.field} ${e.reason}`).join('; ')}`,
          'CorrectionInvalid',
          problems,
        );
      }
      const failures = await applyCorrections(deps.db, o, by);
      if (failures.length) {
        throw ApplicationFailure.nonRetryable(
          `更正内容已不适用于当前记录，请信息提供单位重新核实 / the correction no longer fits the record: ${failures.map((f) => `${f.recordKey}: ${f.errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`).join(' | ')}`,
          'CorrectionInvalid',
          failures,
        );
      }
    }
    try {
      return await concludeObjection(deps.db, input.objectionId, { outcome: input.outcome, reason: input.reason, by, at: input.at });
    } catch (e) {
      throw stateFailure(e);
    }
  },
});
