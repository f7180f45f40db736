/**
 * Compliance cases (E20, P24) as the database holds them: a provider's failure (an obligation overdue, an objection
 * verification not answered in time), opened, resolved and ordered to rectify (责令限期改正); escalation is in
 * db/compliance-escalation.ts. Every write is idempotent and writes its step to the case's events and the audit log
 * in the same transaction.
 */
import type { Knex } from 'knex';
import type { Db } from './knex';
import { isoColumn, type Conn } from './time';
import { recordAudit, systemActor } from './audit';
import { notify } from './notifications';
import { complianceCaseWorkflowId } from '../domain/workflow-ids';
import type { Principal } from '../domain/roles';
import { CASE_ARTICLE, CASE_STATE_ZH, endOfShanghaiDay, type CaseKind, type CaseState } from '../domain/obligations';
import { caseOrdered } from '../domain/notices/compliance-cases';

export interface NewComplianceCase {
  providerId: number;
  kind: CaseKind;
  /** The obligation's id, the objection's id… — one case per kind and reference. */
  referenceId: string;
  /** The deadline the provider missed (YYYY-MM-DD). */
  missedDeadline: string | null;
  /** What the provider failed to do, in Chinese. */
  summary: string;
  actor?: string;
}

/** Opens a case (or finds the one already open for that kind and reference), with its event and audit entry. */
export async function insertComplianceCase(
  trx: Knex.Transaction,
  c: NewComplianceCase,
): Promise<{ id: string; workflowId: string; created: boolean }> {
  const workflowId = complianceCaseWorkflowId(c.kind, c.referenceId);
  const actor = c.actor ?? systemActor('obligations');
  const inserted = await trx('compliance_cases')
    .insert({
      provider_id: c.providerId,
      kind: c.kind,
      reference_id: c.referenceId,
      article: CASE_ARTICLE[c.kind],
      summary: c.summary,
      missed_deadline: c.missedDeadline,
      workflow_id: workflowId,
    })
    .onConflict(['kind', 'reference_id'])
    .ignore()
    .returning('id');
  if (!inserted.length) {
    const existing = await trx('compliance_cases').where({ kind: c.kind, reference_id: c.referenceId }).first('id', 'workflow_id');
    return { id: existing.id, workflowId: existing.workflow_id, created: false };
  }
  const id = inserted[0].id as string;
  const article = CASE_ARTICLE[c.kind];
  const detail = { kind: c.kind, referenceId: c.referenceId, missedDeadline: c.missedDeadline, summary: c.summary, article };
  await recordCaseStep(trx, id, { kind: 'opened', action: 'open', actor, article, detail });
  return { id, workflowId, created: true };
}

/** A step of a case: its event row and its audit entry (`compliance_case.<action>`), with the same detail. */
export async function recordCaseStep(
  trx: Knex,
  caseId: string,
  s: { kind: string; action: string; principalId?: string | null; actor: string; article: string; detail: Record<string, unknown> },
): Promise<void> {
  await trx('compliance_case_events').insert({
    case_id: caseId,
    kind: s.kind,
    principal_id: s.principalId ?? null,
    actor: s.actor,
    detail: s.detail,
  });
  await recordAudit(trx, {
    principalId: s.principalId,
    actor: s.actor,
    action: `compliance_case.${s.action}`,
    entity: 'compliance_case',
    id: caseId,
    article: s.article,
    detail: s.detail,
  });
}

export interface CaseRow {
  id: string;
  provider_id: number;
  provider_code: string;
  provider_name: string;
  kind: CaseKind;
  reference_id: string;
  state: CaseState;
  summary: string;
  article: string;
  missed_deadline: string | null;
  order_deadline: string | null;
  workflow_id: string;
}

export async function caseById(db: Conn, id: string, lock = false): Promise<CaseRow | undefined> {
  const q = db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .where('c.id', id)
    .first('c.*', 'p.code as provider_code', 'p.name_zh as provider_name');
  if (lock) q.forUpdate('c');
  return q;
}

/** Resolves a case still overdue or ordered; answers whether it changed. The audit entry names the case's article. */
export async function resolveCaseRow(
  trx: Knex.Transaction,
  caseId: string,
  r: { actor: string; principalId?: string | null; resolution: string; detail?: Record<string, unknown> },
): Promise<boolean> {
  const done = await trx('compliance_cases')
    .where('id', caseId)
    .whereIn('state', ['overdue', 'ordered'])
    .update({ state: 'resolved', resolved_at: trx.fn.now(), resolved_by: r.actor, resolution: r.resolution })
    .returning(['id', 'provider_id', 'summary', 'article']);
  if (!done.length) return false;
  const detail = { resolution: r.resolution, ...r.detail };
  await recordCaseStep(trx, caseId, {
    kind: 'resolved',
    action: 'resolve',
    principalId: r.principalId,
    actor: r.actor,
    article: done[0].article,
    detail,
  });
  return true;
}

/**
 * The provider did what it failed to do (e.g. answered the objection verification): the case is resolved, if it
 * is still overdue or ordered and the order's deadline has not passed. Answers the case's workflow id when it
 * changed (tell the workflow: `caseChangedSignal`), or null.
 */
export async function resolveComplianceCase(
  db: Db,
  input: { caseId: string; actor: string; principalId?: string | null; resolution: string; at?: Date; detail?: Record<string, unknown> },
): Promise<string | null> {
  return db.transaction(async (trx) => {
    const c = await caseById(trx, input.caseId, true);
    if (!c) return null;
    const at = input.at ?? new Date();
    if (c.state === 'ordered' && c.order_deadline && at >= new Date(endOfShanghaiDay(c.order_deadline))) return null;
    const changed = await resolveCaseRow(trx, c.id, {
      actor: input.actor,
      principalId: input.principalId,
      resolution: input.resolution,
      detail: input.detail,
    });
    return changed ? c.workflow_id : null;
  });
}

export class CaseStateError extends Error {
  constructor(
    readonly state: CaseState,
    message: string,
  ) {
    super(message);
  }
}

export interface OrderInput {
  deadline: string;
  note: string | null;
  principalId: string;
  actor: string;
  requestId: string;
}

/** 责令限期改正 (E20, P24): an overdue case gets a deadline. The same request again answers what was stored. */
export async function recordOrder(
  db: Db,
  caseId: string,
  input: OrderInput,
): Promise<{ state: CaseState; orderDeadline: string; deadlineEndsAt: string }> {
  return db.transaction(async (trx) => {
    const c = await trx('compliance_cases').where('id', caseId).forUpdate().first('*');
    if (!c) throw new CaseStateError('resolved', `案件 ${caseId} 不存在 / no such case`);
    if (c.state === 'ordered' && c.order_request_id === input.requestId) {
      return { state: 'ordered', orderDeadline: c.order_deadline, deadlineEndsAt: endOfShanghaiDay(c.order_deadline) };
    }
    if (c.state !== 'overdue') {
      throw new CaseStateError(
        c.state,
        `案件当前状态为"${CASE_STATE_ZH[c.state as CaseState]}"，只能对逾期案件责令限期改正 / only an overdue case can be ordered (state: ${c.state})`,
      );
    }
    await trx('compliance_cases').where({ id: caseId, state: 'overdue' }).update({
      state: 'ordered',
      order_deadline: input.deadline,
      order_note: input.note,
      ordered_at: trx.fn.now(),
      ordered_by_principal: input.principalId,
      ordered_by: input.actor,
      order_request_id: input.requestId,
    });
    const detail = { deadline: input.deadline, note: input.note, article: c.article };
    await recordCaseStep(trx, caseId, {
      kind: 'ordered',
      action: 'order',
      principalId: input.principalId,
      actor: input.actor,
      article: c.article,
      detail,
    });
    await notify(trx, {
      to: { providerId: c.provider_id },
      ...caseOrdered({ summary: c.summary, article: c.article, deadline: input.deadline, note: input.note }),
      entity: 'compliance_case',
      entityId: caseId,
      data: { deadline: input.deadline, kind: c.kind, referenceId: c.reference_id },
      dedupeKey: `compliance-ordered-${caseId}`,
    });
    return { state: 'ordered', orderDeadline: input.deadline, deadlineEndsAt: endOfShanghaiDay(input.deadline) };
  });
}

// ─── What the API reads ──────────────────────────────────────────────────────────────────────────────────────

/** A case as the API answers it (`compliance_cases as c` joined to `providers as p`). */
export function caseColumns(db: Conn) {
  return [
    'c.id',
    'p.code as provider',
    'p.name_zh as provider_name',
    'c.kind',
    'c.reference_id',
    'c.state',
    'c.article',
    'c.summary',
    'c.missed_deadline',
    isoColumn(db, 'c.opened_at'),
    'c.order_deadline',
    'c.order_note',
    isoColumn(db, 'c.ordered_at'),
    'c.ordered_by',
    isoColumn(db, 'c.escalation_due_at'),
    isoColumn(db, 'c.escalated_at'),
    'c.escalated_by',
    'c.referred_to',
    'c.responsible_unit',
    'c.escalation_note',
    isoColumn(db, 'c.resolved_at'),
    'c.resolution',
  ];
}

export const withStateZh = <T extends { state: CaseState }>(c: T) => ({ ...c, state_zh: CASE_STATE_ZH[c.state] });

/** A page of the cases the caller may see (a provider its own), newest first, and their total. */
export async function listCases(
  db: Db,
  p: Principal,
  q: { state?: CaseState; kind?: string; provider?: string[]; limit: number; offset: number },
) {
  const base = db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .modify((b) => {
      if (p.role === 'provider') b.where('c.provider_id', p.providerId);
      else if (q.provider) b.whereIn('p.code', q.provider);
      if (q.state) b.where('c.state', q.state);
      if (q.kind) b.where('c.kind', q.kind);
    });
  const [{ n }] = await base.clone().count({ n: '*' });
  const rows = await base
    .orderBy([{ column: 'c.opened_at', order: 'desc' }, { column: 'c.id' }])
    .limit(q.limit)
    .offset(q.offset)
    .select(caseColumns(db));
  return { total: Number(n), cases: rows.map(withStateZh) };
}

/** A case the caller may see: admin and supervisor all, a provider its own; undefined otherwise. */
export async function visibleCase(db: Db, p: Principal, id: string) {
  const row = await db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .where('c.id', id)
    .modify((b) => {
      if (p.role === 'provider') b.where('c.provider_id', p.providerId);
    })
    .first(caseColumns(db));
  return row ? withStateZh(row) : undefined;
}

/** Every case of a provider, newest first. */
export async function casesOfProvider(db: Db, providerId: number) {
  const rows = await db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .where('c.provider_id', providerId)
    .orderBy('c.opened_at', 'desc')
    .select(caseColumns(db));
  return rows.map(withStateZh);
}

/** The steps of a case, in order. */
export function caseEvents(db: Db, id: string) {
  return db('compliance_case_events')
    .where('case_id', id)
    .orderBy([{ column: 'at' }, { column: 'id' }])
    .select(isoColumn(db, 'at'), 'kind', 'actor', 'detail');
}
