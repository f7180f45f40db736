import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit } from './audit';
import { isoColumn, type Conn } from './time';
import { objectionWorkflowId } from '../domain/workflow-ids';
import type { Principal } from '../domain/roles';
import { articleOf } from '../domain/objections';
import { objectionFiled, objectionRefused } from '../domain/notices/objections';
import {
  OBJECTION_STATE_ZH,
  OPEN_STATES,
  type ObjectionState,
  type Outcome,
  type RecordCorrection,
  type Verdict,
} from '../domain/objections';

/**
 * Objections (E18, P21–P24), the aggregate and its first steps: the records an objection names, filing,
 * acceptance, refusal and reading. The later stages are beside it: evidence (objection-attachments.ts), the
 * provider's verification (objection-verification.ts), the outcome (objection-outcome.ts), suspension and the
 * marks every query sees (objection-suspension.ts), the public correction notices (correction-notices.ts).
 *
 * A little over 400 lines: filing checks every named record against what the applicant may know of it, and those
 * reads are shared by acceptance and the views; splitting them would leave two halves of one check.
 */

/** Who does something: a principal (or the system) and its label for the audit log. */
export interface Actor {
  id: string | null;
  actor: string;
}

export class ObjectionStateError extends Error {
  constructor(
    readonly state: ObjectionState,
    message: string,
  ) {
    super(message);
  }
}

// ─── The objection and its items ────────────────────────────────────────────────────────────────────────────

export interface ObjectionRow {
  id: string;
  applicant_principal_id: string;
  applicant_name: string;
  subject_type: 'enterprise' | 'person';
  subject_id: string;
  provider_id: number;
  claim: string;
  state: ObjectionState;
  accepted_at: Date | null;
  acceptance_date: string | null;
  deadline: string | null;
  due_at: Date | null;
  /** The deadline is provisional: it waits on this year's calendar (migration 0013). */
  calendar_pending_year: number | null;
  provider_verdict: Verdict | null;
  provider_reason: string | null;
  provider_corrections: RecordCorrection[] | null;
  provider_answered_at: Date | null;
  provider_answered_by: string | null;
  answered_in_time: boolean | null;
  verification_overdue_at: Date | null;
  compliance_case_id: string | null;
  outcome: Outcome | null;
  outcome_reason: string | null;
  decided_at: Date | null;
  written_answer: string | null;
  suspended_at: Date | null;
  suspension_ended_at: Date | null;
}

export async function objectionRow(db: Conn, id: string, lock = false): Promise<ObjectionRow | undefined> {
  const q = db('objections').where('id', id).first();
  return (lock ? q.forUpdate() : q) as Promise<ObjectionRow | undefined>;
}

/** The records an objection names, with their catalog item and their result once concluded. */
export async function objectionItems(db: Conn, id: string) {
  return db('objection_items as i')
    .join('catalog_items as c', 'c.code', 'i.item_code')
    .where('i.objection_id', id)
    .orderBy('i.record_key')
    .select(
      'i.record_key',
      'i.version_at_filing',
      'i.item_code',
      'c.name_zh as item_name',
      'c.category',
      'c.disclosure',
      'i.result',
      'i.result_version',
    ) as Promise<
    {
      record_key: string;
      version_at_filing: number;
      item_code: string;
      item_name: string;
      category: string;
      disclosure: string;
      result: string | null;
      result_version: number | null;
    }[]
  >;
}

// ─── Records named by an objection ───────────────────────────────────────────────────────────────────────────

export interface NamedRecord {
  record_key: string;
  version: number;
  status: string;
  item_code: string;
  item_name: string;
  category: string;
  disclosure: string;
  subject_type: 'enterprise' | 'person';
  subject_id: string;
  provider_id: number;
  provider_code: string;
  provider_name: string;
}

/** The current versions of records by key (absent keys are simply missing from the answer). */
export async function currentRecords(db: Conn, keys: string[]): Promise<NamedRecord[]> {
  if (!keys.length) return [];
  return db('records as r')
    .join('catalog_items as c', 'c.code', 'r.item_code')
    .join('providers as p', 'p.id', 'r.provider_id')
    .whereIn('r.record_key', keys)
    .where('r.is_current', true)
    .select(
      'r.record_key',
      'r.version',
      'r.status',
      'r.item_code',
      'c.name_zh as item_name',
      'c.category',
      'c.disclosure',
      'r.subject_type',
      'r.subject_id',
      'r.provider_id',
      'p.code as provider_code',
      'p.name_zh as provider_name',
    );
}

/**
 * The enterprise records among `keys` a third party can know of (E18 "记录或发布的信用信息"): published and not
 * suspended, or returned to that principal by an answered query.
 */
export async function recordsKnownTo(db: Conn, principalId: string, keys: string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const { rows } = (await db.raw(
    `SELECT p.record_key::text AS k FROM publications p WHERE p.record_key = ANY(?::uuid[]) AND p.state = 'published' AND p.suspended_at IS NULL
     UNION
     SELECT i.record_key::text FROM query_log_items i JOIN query_log q ON q.id = i.query_log_id
      WHERE i.record_key = ANY(?::uuid[]) AND q.principal_id = ? AND q.outcome = 'answered'`,
    [keys, keys, principalId],
  )) as { rows: { k: string }[] };
  return new Set(rows.map((r) => r.k));
}

/** Open objections (accepted or not yet decided on) of this applicant naming any of these records. */
export async function openObjectionsOf(db: Conn, principalId: string, keys: string[]): Promise<{ id: string; record_key: string }[]> {
  return db('objections as o')
    .join('objection_items as i', 'i.objection_id', 'o.id')
    .where('o.applicant_principal_id', principalId)
    .whereIn('o.state', ['submitted', ...OPEN_STATES])
    .whereIn('i.record_key', keys)
    .select('o.id', 'i.record_key');
}

// ─── Filing, acceptance, refusal ─────────────────────────────────────────────────────────────────────────────

export interface NewObjection {
  applicant: { id: string; role: string; name: string; organization: string | null; actor: string };
  records: NamedRecord[];
  claim: string;
  evidenceSummary: string;
  suspensionRequested: boolean;
  suspensionRequestReason: string | null;
}

export async function fileObjection(db: Db, o: NewObjection): Promise<string> {
  const first = o.records[0];
  return db.transaction(async (trx) => {
    const [{ id }] = await trx('objections')
      .insert({
        applicant_principal_id: o.applicant.id,
        applicant_role: o.applicant.role,
        applicant_name: o.applicant.name,
        applicant_organization: o.applicant.organization,
        subject_type: first.subject_type,
        subject_id: first.subject_id,
        provider_id: first.provider_id,
        claim: o.claim,
        evidence_summary: o.evidenceSummary,
        suspension_requested: o.suspensionRequested,
        suspension_request_reason: o.suspensionRequestReason,
      })
      .returning('id');
    await trx('objection_items').insert(
      o.records.map((r) => ({ objection_id: id, record_key: r.record_key, version_at_filing: r.version, item_code: r.item_code })),
    );
    await notify(trx, {
      to: { role: 'staff' },
      ...objectionFiled({
        applicantName: o.applicant.name,
        subjectType: first.subject_type,
        subjectId: first.subject_id,
        itemNames: o.records.map((r) => r.item_name),
        suspensionRequested: o.suspensionRequested,
      }),
      entity: 'objection',
      entityId: id,
      data: {
        subject_type: first.subject_type,
        subject_id: first.subject_id,
        records: o.records.map((r) => r.record_key),
        suspension_requested: o.suspensionRequested,
      },
      dedupeKey: `objection-filed:${id}`,
    });
    await recordAudit(trx, {
      principalId: o.applicant.id,
      actor: o.applicant.actor,
      action: 'objection.file',
      entity: 'objection',
      id,
      article: articleOf(first.subject_type, 'E18', 'P21'),
      detail: {
        subject_type: first.subject_type,
        subject_id: first.subject_id,
        provider_id: first.provider_id,
        records: o.records.map((r) => ({ record_key: r.record_key, version: r.version })),
        suspension_requested: o.suspensionRequested,
      },
    });
    return id as string;
  });
}

/**
 * Staff accept an objection: the 10-working-day clock starts at this instant (E18, P22). Answers the workflow to
 * start; accepting an accepted objection again answers the same (the caller makes sure its workflow runs).
 */
export async function acceptObjection(db: Db, id: string, by: Actor): Promise<{ workflowId: string; already: boolean }> {
  return db.transaction(async (trx) => {
    const o = await trx('objections').where('id', id).forUpdate().first('state', 'workflow_id', 'subject_type');
    if (o.state !== 'submitted') {
      if (o.workflow_id) return { workflowId: o.workflow_id as string, already: true };
      throw new ObjectionStateError(
        o.state,
        `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能受理 / the objection is ${o.state}`,
      );
    }
    const [{ n }] = await trx('documents').where({ kind: 'objection_evidence', objection_id: id }).count({ n: '*' });
    if (Number(n) === 0) {
      throw new ObjectionStateError(
        o.state,
        `申请人尚未提供证据文件，不能受理；可不予受理并说明理由（${articleOf(o.subject_type, 'E18', 'P21')}）/ no evidence attached: refuse it with a reason instead`,
      );
    }
    const workflowId = objectionWorkflowId(id);
    // The application's clock, not the database's: the 10 working days count from it (one clock for every deadline).
    await trx('objections')
      .where('id', id)
      .update({ state: 'accepted', accepted_at: new Date(), accepted_by: by.id, workflow_id: workflowId });
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'objection.accept',
      entity: 'objection',
      id,
      article: articleOf(o.subject_type, 'E18', 'P22'),
      detail: { workflow_id: workflowId },
    });
    return { workflowId, already: false };
  });
}

/** Staff refuse an objection with their reason (e.g. no evidence); the applicant is told. */
export async function refuseObjection(db: Db, id: string, reason: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = await trx('objections').where('id', id).forUpdate().first('state', 'applicant_principal_id', 'subject_type');
    if (o.state !== 'submitted')
      throw new ObjectionStateError(
        o.state,
        `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能不予受理 / the objection is ${o.state}`,
      );
    await trx('objections')
      .where('id', id)
      .update({ state: 'refused', refused_at: trx.fn.now(), refused_by: by.id, refusal_reason: reason });
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      ...objectionRefused({ id, subjectType: o.subject_type, reason }),
      entity: 'objection',
      entityId: id,
      data: { reason },
      dedupeKey: `objection-refused:${id}`,
    });
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'objection.refuse',
      entity: 'objection',
      id,
      article: articleOf(o.subject_type, 'E18', 'P21'),
      detail: { reason },
    });
  });
}

// ─── Reading ────────────────────────────────────────────────────────────────────────────────────────────────

export const objectionColumns = (db: Conn) => [
  'o.id',
  'o.applicant_principal_id',
  'o.applicant_role',
  'o.applicant_name',
  'o.applicant_organization',
  'o.subject_type',
  'o.subject_id',
  'pr.code as provider',
  'pr.name_zh as provider_name',
  'o.claim',
  'o.evidence_summary',
  'o.state',
  isoColumn(db, 'o.filed_at'),
  isoColumn(db, 'o.accepted_at'),
  isoColumn(db, 'o.refused_at'),
  'o.refusal_reason',
  'o.acceptance_date',
  'o.deadline',
  isoColumn(db, 'o.due_at'),
  db.raw('(o.calendar_pending_year IS NOT NULL) AS deadline_provisional'),
  'o.calendar_pending_year',
  'o.workflow_id',
  'o.provider_verdict',
  'o.provider_reason',
  'o.provider_corrections',
  isoColumn(db, 'o.provider_answered_at'),
  'o.answered_in_time',
  isoColumn(db, 'o.verification_overdue_at'),
  'o.compliance_case_id',
  isoColumn(db, 'o.withdrawn_from_queries_at'),
  'o.outcome',
  'o.outcome_reason',
  isoColumn(db, 'o.decided_at'),
  isoColumn(db, 'o.concluded_at'),
  isoColumn(db, 'o.still_disagrees_at'),
  'o.still_disagrees_statement',
  'o.suspension_requested',
  'o.suspension_request_reason',
  isoColumn(db, 'o.suspended_at'),
  'o.suspension_reason',
  'o.suspension_on_request',
  isoColumn(db, 'o.suspension_ended_at'),
  'o.suspension_end_reason',
];

/** An objection as read through the API (`objectionColumns`); the route adds what it computes. */
export type ObjectionView = Record<string, unknown> & {
  id: string;
  state: ObjectionState;
  subject_type: 'enterprise' | 'person';
  deadline: string | null;
  deadline_provisional: boolean;
  workflow_id: string | null;
  provider_verdict: Verdict | null;
  verification_overdue_at: string | null;
  outcome: Outcome | null;
};

const STAFF = ['staff', 'admin', 'supervisor'];

/** The objections a principal may see: its own (applicant), its records' once accepted (provider), all (staff). */
function visibleTo(db: Knex, p: Principal) {
  return db('objections as o')
    .join('providers as pr', 'pr.id', 'o.provider_id')
    .modify((b) => {
      if (STAFF.includes(p.role)) return;
      if (p.role === 'provider') b.where('o.provider_id', p.providerId).whereNotIn('o.state', ['submitted', 'refused']);
      else b.where('o.applicant_principal_id', p.id);
    });
}

/** One objection as `p` may see it; undefined when there is none or `p` may not see it. */
export async function objectionFor(db: Knex, p: Principal, id: string): Promise<ObjectionView | undefined> {
  return visibleTo(db, p).where('o.id', id).first(objectionColumns(db));
}

/** Whether `p` may see the objection. */
export async function objectionVisibleTo(db: Knex, p: Principal, id: string): Promise<boolean> {
  return !!(await visibleTo(db, p).where('o.id', id).first('o.id'));
}

/** The objections `p` may see, newest first. */
export async function objectionsFor(
  db: Knex,
  p: Principal,
  q: { state?: ObjectionState; limit: number; offset: number },
): Promise<ObjectionView[]> {
  return visibleTo(db, p)
    .modify((b) => {
      if (q.state) b.where('o.state', q.state);
    })
    .orderBy('o.filed_at', 'desc')
    .limit(q.limit)
    .offset(q.offset)
    .select(objectionColumns(db));
}

/** An objection of this applicant (its state and subject type); undefined when it is not theirs. */
export async function ownObjection(
  db: Conn,
  applicantId: string,
  id: string,
): Promise<{ id: string; state: ObjectionState; subject_type: string } | undefined> {
  return db('objections').where({ id, applicant_principal_id: applicantId }).first('id', 'state', 'subject_type');
}

/** The written answer of a concluded objection. */
export async function writtenAnswerOf(db: Conn, id: string): Promise<string> {
  return (await db('objections').where('id', id).first('written_answer')).written_answer as string;
}
