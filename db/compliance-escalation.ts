/**
 * The end of a compliance case's chain (E20, P24: 拒不改正的): the rectification order's deadline passes, the
 * supervisors are told, and a supervisor refers the case to the supervision department (提请监察部门追究直接责任人的
 * 行政责任). Each step writes the case's event and the audit log in the same transaction.
 */
import type { Db } from './knex';
import { systemActor } from './audit';
import { isoInstant } from './time';
import { notify } from './notifications';
import { CaseStateError, caseById, recordCaseStep } from './compliance-cases';
import { fulfilObligation, obligationById } from './obligations';
import { CASE_STATE_ZH, type CaseState } from '../domain/obligations';
import { caseEscalated, caseEscalatedToAdmin, caseEscalationDue } from '../domain/notices/compliance-cases';

/**
 * The order's deadline has passed. A reporting case whose submission came in time is resolved (the obligation
 * is fulfilled); otherwise the case is due for escalation and the supervisors are told (E20, P24: 拒不改正的).
 */
export async function orderDeadlinePassed(db: Db, caseId: string): Promise<{ state: CaseState; resolvedObligation: boolean }> {
  return db.transaction(async (trx) => {
    const c = (await caseById(trx, caseId, true))!;
    if (c.state !== 'ordered') return { state: c.state, resolvedObligation: false };
    if (c.kind === 'reporting') {
      const o = await obligationById(trx, Number(c.reference_id), true);
      if (o) {
        const f = await fulfilObligation(trx, o);
        if (f.resolvedCase) return { state: 'resolved', resolvedObligation: true };
      }
    }
    await trx('compliance_cases')
      .where({ id: caseId, state: 'ordered' })
      .update({ state: 'escalation_due', escalation_due_at: trx.fn.now() });
    const actor = systemActor('obligations');
    const detail = { orderDeadline: c.order_deadline, article: c.article };
    await recordCaseStep(trx, caseId, { kind: 'escalation_due', action: 'escalation_due', actor, article: c.article, detail });
    await notify(trx, {
      to: { role: 'supervisor' },
      ...caseEscalationDue({
        providerName: c.provider_name,
        providerCode: c.provider_code,
        summary: c.summary,
        orderDeadline: c.order_deadline,
        article: c.article,
      }),
      entity: 'compliance_case',
      entityId: caseId,
      data: { provider: c.provider_code, kind: c.kind, orderDeadline: c.order_deadline },
      dedupeKey: `compliance-escalation-due-${caseId}`,
    });
    return { state: 'escalation_due', resolvedObligation: false };
  });
}

export interface EscalationInput {
  responsibleUnit: string;
  referredTo: string;
  note: string;
  principalId: string;
  actor: string;
  requestId: string;
}

/** 提请监察部门追究直接责任人的行政责任 (E20, P24). The same request again answers what was stored. */
export async function recordEscalation(db: Db, caseId: string, input: EscalationInput): Promise<{ state: CaseState; escalatedAt: string }> {
  return db.transaction(async (trx) => {
    const c = await trx('compliance_cases').where('id', caseId).forUpdate().first('*');
    if (!c) throw new CaseStateError('resolved', `案件 ${caseId} 不存在 / no such case`);
    if (c.state === 'escalated' && c.escalation_request_id === input.requestId)
      return { state: 'escalated', escalatedAt: isoInstant(c.escalated_at)! };
    if (c.state !== 'escalation_due') {
      throw new CaseStateError(
        c.state,
        `案件当前状态为"${CASE_STATE_ZH[c.state as CaseState]}"，只有逾期未改正的案件可提请监察 / only a case whose order was ignored can be escalated (state: ${c.state})`,
      );
    }
    const [row] = await trx('compliance_cases')
      .where({ id: caseId, state: 'escalation_due' })
      .update({
        state: 'escalated',
        escalated_at: trx.fn.now(),
        escalated_by_principal: input.principalId,
        escalated_by: input.actor,
        responsible_unit: input.responsibleUnit,
        referred_to: input.referredTo,
        escalation_note: input.note,
        escalation_request_id: input.requestId,
      })
      .returning(['escalated_at']);
    const detail = { responsibleUnit: input.responsibleUnit, referredTo: input.referredTo, note: input.note, article: c.article };
    await recordCaseStep(trx, caseId, {
      kind: 'escalated',
      action: 'escalate',
      principalId: input.principalId,
      actor: input.actor,
      article: c.article,
      detail,
    });
    await notify(trx, {
      to: { providerId: c.provider_id },
      ...caseEscalated({ summary: c.summary, orderDeadline: c.order_deadline, referredTo: input.referredTo, article: c.article }),
      entity: 'compliance_case',
      entityId: caseId,
      data: { referredTo: input.referredTo, responsibleUnit: input.responsibleUnit },
      dedupeKey: `compliance-escalated-${caseId}`,
    });
    await notify(trx, {
      to: { role: 'admin' },
      ...caseEscalatedToAdmin({
        summary: c.summary,
        referredTo: input.referredTo,
        responsibleUnit: input.responsibleUnit,
        note: input.note,
      }),
      entity: 'compliance_case',
      entityId: caseId,
      data: { referredTo: input.referredTo, responsibleUnit: input.responsibleUnit },
      dedupeKey: `compliance-escalated-admin-${caseId}`,
    });
    return { state: 'escalated', escalatedAt: isoInstant(row.escalated_at)! };
  });
}
