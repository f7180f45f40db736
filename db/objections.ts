import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { changeRecord } from './records';
import { loadCatalog, providerItems } from './catalog';
import { shanghaiDate } from '../domain/calendar';
import { RecordValidator, type RowError } from '../domain/records';
import {
  OBJECTION_STATE_ZH,
  OPEN_STATES,
  objectionWorkflowId,
  type ObjectionDeadline,
  type ObjectionState,
  type Outcome,
  type RecordCorrection,
  type Verdict,
} from '../domain/objections';

type Conn = Knex | Knex.Transaction;

/** Who does something: a principal (or the system) and its label for the audit log. */
export interface Actor {
  id: string | null;
  actor: string;
}

const SYSTEM: Actor = { id: null, actor: 'system:objection' };

const iso = (db: Conn, column: string, alias = column.split('.').pop()!) =>
  db.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ??`, [alias]);

/** The body of the platform that handles an objection: 征集机构 (E18) for enterprises, 征集服务机构 (P22) for persons. */
const platformZh = (subjectType: string) => (subjectType === 'enterprise' ? '钦州市信用信息征集机构' : '钦州市信用信息征集服务机构');
const articleOf = (subjectType: string, e: string, p: string) => (subjectType === 'enterprise' ? e : p);

export class ObjectionStateError extends Error {
  constructor(
    readonly state: ObjectionState,
    message: string,
  ) {
    super(message);
  }
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

// ─── Filing, evidence, acceptance, refusal ───────────────────────────────────────────────────────────────────

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
    await trx('objection_items').insert(o.records.map((r) => ({ objection_id: id, record_key: r.record_key, version_at_filing: r.version, item_code: r.item_code })));
    await notify(trx, {
      to: { role: 'staff' },
      kind: 'objection.filed',
      title: `新的异议申请待受理 / a new objection awaits acceptance`,
      body: `${o.applicant.name} 对 ${first.subject_id} 的 ${o.records.length} 条信用信息（${[...new Set(o.records.map((r) => r.item_name))].join('、')}）提出异议（${articleOf(first.subject_type, 'E18', 'P21')}）${o.suspensionRequested ? '，并申请暂停公开（E18 第二款）' : ''}。/ An objection was filed.`,
      entity: 'objection',
      entityId: id,
      data: { subject_type: first.subject_type, subject_id: first.subject_id, records: o.records.map((r) => r.record_key), suspension_requested: o.suspensionRequested },
      dedupeKey: `objection-filed:${id}`,
    });
    await trx('audit_log').insert({
      principal_id: o.applicant.id,
      actor: o.applicant.actor,
      action: 'objection.file',
      entity: 'objection',
      entity_id: id,
      detail: {
        subject_type: first.subject_type,
        subject_id: first.subject_id,
        provider_id: first.provider_id,
        records: o.records.map((r) => ({ record_key: r.record_key, version: r.version })),
        suspension_requested: o.suspensionRequested,
        article: articleOf(first.subject_type, 'E18', 'P21'),
      },
    });
    return id as string;
  });
}

export interface StoredAttachment {
  id: string;
  objection_id: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

const attachmentColumns = (db: Conn) => ['id', 'objection_id', 'file_name', 'content_type', 'size_bytes', 'sha256', 'uploaded_by', iso(db, 'uploaded_at')];

/** Adds one evidence file; refused (ObjectionStateError) once the objection is refused or concluded, or past the per-objection limit. */
export async function addAttachment(
  db: Db,
  objectionId: string,
  file: { fileName: string; contentType: string; content: Buffer },
  maxFiles: number,
  by: Actor,
): Promise<StoredAttachment> {
  const sha256 = crypto.createHash('sha256').update(file.content).digest('hex');
  return db.transaction(async (trx) => {
    const o = await trx('objections').where('id', objectionId).forUpdate().first('state');
    if (o.state === 'refused' || o.state === 'corrected' || o.state === 'upheld') {
      throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能再补充证据 / the objection is ${o.state}: no more evidence`);
    }
    const [{ n }] = await trx('objection_attachments').where('objection_id', objectionId).count({ n: '*' });
    if (Number(n) >= maxFiles) throw new ObjectionStateError(o.state, `每项异议最多 ${maxFiles} 个证据文件 / at most ${maxFiles} files per objection`);
    const [row] = await trx('objection_attachments')
      .insert({ objection_id: objectionId, file_name: file.fileName, content_type: file.contentType, size_bytes: file.content.length, sha256, content: file.content, uploaded_by: by.id })
      .returning(attachmentColumns(trx));
    await trx('audit_log').insert({
      principal_id: by.id,
      actor: by.actor,
      action: 'objection.attach',
      entity: 'objection',
      entity_id: objectionId,
      detail: { attachment_id: row.id, file_name: file.fileName, content_type: file.contentType, size_bytes: file.content.length, sha256 },
    });
    return row as StoredAttachment;
  });
}

export async function attachmentsOf(db: Conn, objectionId: string): Promise<StoredAttachment[]> {
  return db('objection_attachments').where('objection_id', objectionId).orderBy('uploaded_at').select(attachmentColumns(db));
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
      throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能受理 / the objection is ${o.state}`);
    }
    const [{ n }] = await trx('objection_attachments').where('objection_id', id).count({ n: '*' });
    if (Number(n) === 0) {
      throw new ObjectionStateError(o.state, `申请人尚未提供证据文件，不能受理；可不予受理并说明理由（${articleOf(o.subject_type, 'E18', 'P21')}）/ no evidence attached: refuse it with a reason instead`);
    }
    const workflowId = objectionWorkflowId(id);
    // The application's clock, not the database's: the 10 working days count from it (one clock for every deadline).
    await trx('objections').where('id', id).update({ state: 'accepted', accepted_at: new Date(), accepted_by: by.id, workflow_id: workflowId });
    await trx('audit_log').insert({ principal_id: by.id, actor: by.actor, action: 'objection.accept', entity: 'objection', entity_id: id, detail: { workflow_id: workflowId, article: articleOf(o.subject_type, 'E18', 'P22') } });
    return { workflowId, already: false };
  });
}

/** Staff refuse an objection with their reason (e.g. no evidence); the applicant is told. */
export async function refuseObjection(db: Db, id: string, reason: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = await trx('objections').where('id', id).forUpdate().first('state', 'applicant_principal_id', 'subject_type');
    if (o.state !== 'submitted') throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能不予受理 / the objection is ${o.state}`);
    await trx('objections').where('id', id).update({ state: 'refused', refused_at: trx.fn.now(), refused_by: by.id, refusal_reason: reason });
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      kind: 'objection.refused',
      title: '异议申请不予受理 / your objection was not accepted',
      body: `您的异议申请（编号 ${id}）不予受理。理由：${reason}。您可补充依据后重新提出（${articleOf(o.subject_type, 'E18', 'P21')}）。/ Not accepted: ${reason}`,
      entity: 'objection',
      entityId: id,
      data: { reason },
      dedupeKey: `objection-refused:${id}`,
    });
    await trx('audit_log').insert({ principal_id: by.id, actor: by.actor, action: 'objection.refuse', entity: 'objection', entity_id: id, detail: { reason } });
  });
}

// ─── The process (called by the activities) ─────────────────────────────────────────────────────────────────

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

async function itemsOf(db: Conn, id: string) {
  return db('objection_items as i')
    .join('catalog_items as c', 'c.code', 'i.item_code')
    .where('i.objection_id', id)
    .orderBy('i.record_key')
    .select('i.record_key', 'i.version_at_filing', 'i.item_code', 'c.name_zh as item_name', 'c.category', 'c.disclosure', 'i.result', 'i.result_version') as Promise<
    { record_key: string; version_at_filing: number; item_code: string; item_name: string; category: string; disclosure: string; result: string | null; result_version: number | null }[]
  >;
}

const deadlineOf = (o: ObjectionRow): ObjectionDeadline | null =>
  o.deadline && o.acceptance_date && o.due_at
    ? { acceptanceDate: o.acceptance_date, deadline: o.deadline, dueAt: new Date(o.due_at).toISOString(), provisional: o.calendar_pending_year !== null, pendingYear: o.calendar_pending_year }
    : null;

/** "（暂定…）" after a provisional deadline in a notice, Chinese and English. */
const provisionalNote = (d: ObjectionDeadline) =>
  d.provisional
    ? { zh: `（暂定：${d.pendingYear} 年工作日历尚未载入，载入后确定的期限不会早于此日）`, en: ` (provisional until ${d.pendingYear}'s calendar is loaded; the final deadline is not earlier)` }
    : { zh: '', en: '' };

/**
 * Opens the verification: stores the deadline, asks the provider to verify (a notification it reads through the
 * API) and tells the applicant the objection is accepted, with its deadline. Once; a repeat answers what was stored.
 */
export async function openVerification(db: Db, id: string, d: ObjectionDeadline): Promise<ObjectionDeadline> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    const stored = deadlineOf(o);
    if (stored) return stored;
    await trx('objections')
      .where('id', id)
      .update({ acceptance_date: d.acceptanceDate, deadline: d.deadline, due_at: d.dueAt, calendar_pending_year: d.pendingYear ?? null, state: 'verifying', verification_requested_at: trx.fn.now() });
    const items = await itemsOf(trx, id);
    const article = articleOf(o.subject_type, 'E18', 'P22');
    const note = provisionalNote(d);
    await notify(trx, {
      to: { providerId: o.provider_id },
      kind: 'objection.verification_requested',
      title: `请于 ${d.deadline}${d.provisional ? '（暂定）' : ''}前核实异议信息 / please verify an objected record by ${d.deadline}${d.provisional ? ' (provisional)' : ''}`,
      body: `${o.applicant_name} 对贵单位报送的 ${items.length} 条信用信息（${[...new Set(items.map((i) => i.item_name))].join('、')}，主体 ${o.subject_id}）提出异议：${o.claim}。请于 ${d.deadline}（受理后第 10 个工作日）${note.zh}前通过 POST /objections/${id}/verification 答复：确有错误的提供更正内容或删除，核实无误的说明理由（${article}）。逾期未答复的，责令限期改正（E20、P24）${o.subject_type === 'person' ? '，且该信息不再提供查询（P22）' : ''}。/ Verify by ${d.deadline}${note.en}.`,
      entity: 'objection',
      entityId: id,
      data: { deadline: d.deadline, due_at: d.dueAt, provisional: !!d.provisional, records: items.map((i) => i.record_key) },
      dedupeKey: `objection-verify:${id}`,
    });
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      kind: 'objection.accepted',
      title: `异议已受理，核实期限 ${d.deadline} / your objection is accepted`,
      body: `您的异议申请（编号 ${id}）已于 ${d.acceptanceDate} 受理，将在 ${d.deadline}（10 个工作日内）${note.zh}前会同信息提供单位核实（${article}）。/ Accepted on ${d.acceptanceDate}; verified by ${d.deadline}${note.en}.`,
      entity: 'objection',
      entityId: id,
      data: { acceptance_date: d.acceptanceDate, deadline: d.deadline },
      dedupeKey: `objection-accepted:${id}`,
    });
    await trx('audit_log').insert({
      actor: SYSTEM.actor,
      action: 'objection.verification_requested',
      entity: 'objection',
      entity_id: id,
      detail: { provider_id: o.provider_id, acceptance_date: d.acceptanceDate, deadline: d.deadline, due_at: d.dueAt, provisional: !!d.provisional, article },
    });
    return d;
  });
}

export interface AnswerResult {
  verdict: Verdict;
  answeredAt: string;
  /** Null: answered after a provisional deadline, decided when the year is loaded. */
  inTime: boolean | null;
  complianceCaseId: string | null;
}

/** Checks a provider's corrections against the records of the objection and the catalog (as a provider's own correction would be). */
export async function checkCorrections(db: Db, objectionId: string, providerId: number, corrections: RecordCorrection[], opts: { skipGone?: boolean } = {}): Promise<RowError[]> {
  const items = await itemsOf(db, objectionId);
  const keys = new Set(items.map((i) => i.record_key));
  const records = new Map((await db('records').whereIn('record_key', [...keys]).where('is_current', true).select('*')).map((r: Record<string, unknown>) => [r.record_key as string, r]));
  const catalog = await loadCatalog(db);
  const validator = new RecordValidator({ catalog, allowedItems: await providerItems(db, providerId), today: shanghaiDate(new Date()) });
  const errors: RowError[] = [];
  const seen = new Set<string>();
  corrections.forEach((c, i) => {
    const field = `corrections.${i}`;
    if (!keys.has(c.record_key)) return void errors.push({ row: i + 1, field: `${field}.record_key`, reason: '该记录不在本异议所涉记录之中 / not a record of this objection' });
    if (seen.has(c.record_key)) return void errors.push({ row: i + 1, field: `${field}.record_key`, reason: '同一记录重复出现 / the same record twice' });
    seen.add(c.record_key);
    const cur = records.get(c.record_key);
    if ((!cur || cur.status !== 'active') && opts.skipGone) return;
    if (!cur || cur.status !== 'active') return void errors.push({ row: i + 1, field: `${field}.record_key`, reason: '该记录已撤回或已删除 / the record is retracted or removed' });
    if (c.action === 'delete') return;
    const ch = c.changes ?? {};
    const next = {
      item_code: cur.item_code,
      subject_id: cur.subject_id,
      payload: ch.payload ?? cur.payload,
      event_date: ch.event_date ?? cur.event_date,
      concluded_date: ch.concluded_date !== undefined ? ch.concluded_date : cur.concluded_date,
      valid_until: ch.valid_until !== undefined ? ch.valid_until : cur.valid_until,
      lifted_date: ch.lifted_date !== undefined ? ch.lifted_date : cur.lifted_date,
    };
    const v = validator.validate(next, i + 1);
    if (!v.ok) errors.push(...v.errors.map((e) => ({ ...e, field: `${field}.changes.${e.field}` })));
  });
  return errors;
}

/**
 * Records the provider's verification (once). A late answer resolves the compliance case its delay opened
 * (the caller tells the case's workflow). `at` is the workflow's time of the answer.
 */
export async function recordProviderAnswer(
  db: Db,
  id: string,
  a: { verdict: Verdict; reason: string; corrections: RecordCorrection[] | null; by: Actor; at: string },
): Promise<AnswerResult> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (o.provider_verdict) {
      return { verdict: o.provider_verdict, answeredAt: new Date(o.provider_answered_at!).toISOString(), inTime: o.answered_in_time, complianceCaseId: o.compliance_case_id };
    }
    if (o.state !== 'verifying' && o.state !== 'overdue') throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，不能答复核实 / the objection is ${o.state}`);
    // After a provisional deadline the answer may still be in time: decided when the year is loaded.
    const beforeDue = !!o.due_at && Date.parse(a.at) < new Date(o.due_at).getTime();
    const inTime: boolean | null = beforeDue ? true : o.calendar_pending_year !== null ? null : false;
    await trx('objections')
      .where('id', id)
      .update({
        state: 'answered',
        provider_verdict: a.verdict,
        provider_reason: a.reason,
        provider_corrections: a.corrections ? JSON.stringify(a.corrections) : null,
        provider_answered_at: a.at,
        provider_answered_by: a.by.id,
        answered_in_time: inTime,
      });
    await notify(trx, {
      to: { role: 'staff' },
      kind: 'objection.provider_answered',
      title: `信息提供单位已答复异议核实：${a.verdict === 'confirmed_wrong' ? '确有错误' : '核实无误'} / the provider answered`,
      body: `异议 ${id}（主体 ${o.subject_id}）：信息提供单位${inTime ? '在期限内' : inTime === null ? '在暂定期限后' : '逾期'}答复「${a.verdict === 'confirmed_wrong' ? '确有错误' : '核实无误'}」，理由：${a.reason}。请作出处理结论（更正或维持）。/ Please signal the outcome.`,
      entity: 'objection',
      entityId: id,
      data: { verdict: a.verdict, in_time: inTime, corrections: a.corrections?.length ?? 0 },
      dedupeKey: `objection-answered:${id}`,
    });
    await trx('audit_log').insert({
      principal_id: a.by.id,
      actor: a.by.actor,
      action: 'objection.provider_answer',
      entity: 'objection',
      entity_id: id,
      detail: { verdict: a.verdict, reason: a.reason, corrections: a.corrections, in_time: inTime, deadline: o.deadline, article: articleOf(o.subject_type, 'E18', 'P22') },
    });
    return { verdict: a.verdict, answeredAt: a.at, inTime, complianceCaseId: o.compliance_case_id };
  });
}

export interface DeadlineResult {
  /** The provider had not verified: the objection is overdue (and a personal record withdrawn from queries). */
  overdue: boolean;
  providerId: number;
  deadline: string | null;
  subjectType: 'enterprise' | 'person';
  subjectId: string;
}

/**
 * The deadline has passed (`at`, the workflow's time). Unverified: the objection is overdue — a personal record
 * is withdrawn from every query (P22 last para.), an enterprise record's objection goes to staff as overdue.
 * Verified but not concluded: staff are reminded. Once.
 */
export async function markDeadlinePassed(db: Db, id: string, at: string): Promise<DeadlineResult> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    const base = { providerId: o.provider_id, deadline: o.deadline, subjectType: o.subject_type, subjectId: o.subject_id };
    // A provisional deadline binds the platform, never the provider: nothing is declared overdue on it.
    if (o.calendar_pending_year !== null) return { overdue: false, ...base };
    if (o.state === 'overdue') return { overdue: true, ...base };
    if (o.state === 'answered' && !o.answered_in_time) return { overdue: true, ...base };
    if (o.state === 'answered') {
      await notify(trx, {
        to: { role: 'staff' },
        kind: 'objection.outcome_overdue',
        title: `异议处理期限 ${o.deadline} 已到，尚未作出结论 / the objection's deadline has come without an outcome`,
        body: `异议 ${id}（主体 ${o.subject_id}）信息提供单位已答复，请尽快作出更正或维持的结论（${articleOf(o.subject_type, 'E18', 'P22')}）。`,
        entity: 'objection',
        entityId: id,
        dedupeKey: `objection-outcome-overdue:${id}`,
      });
      return { overdue: false, ...base };
    }
    if (o.state !== 'verifying') return { overdue: false, ...base };
    const person = o.subject_type === 'person';
    await trx('objections')
      .where('id', id)
      .update({ state: 'overdue', verification_overdue_at: at, withdrawn_from_queries_at: person ? at : null });
    const provider = await trx('providers').where('id', o.provider_id).first('name_zh');
    await notify(trx, {
      to: { role: 'staff' },
      kind: 'objection.verification_overdue',
      title: `异议核实逾期：${provider.name_zh} 未在 ${o.deadline} 前答复 / verification overdue`,
      body: person
        ? `异议 ${id}：信息提供单位未在 10 个工作日内核实，所涉个人信用信息自即日起不再提供查询（P22 末款），并已转入责令限期改正程序（P24）。`
        : `异议 ${id}：信息提供单位未在 10 个工作日内核实（E18），请跟进处理；已转入责令限期改正程序（E20）。`,
      entity: 'objection',
      entityId: id,
      data: { deadline: o.deadline, provider_id: o.provider_id },
      dedupeKey: `objection-overdue:${id}`,
    });
    if (person) {
      await notify(trx, {
        to: { principalId: o.applicant_principal_id },
        kind: 'objection.record_withdrawn',
        title: '异议所涉信息暂停提供查询 / the objected record is withdrawn from queries',
        body: `信息提供单位未在 ${o.deadline} 前核实您的异议（编号 ${id}），所涉信息不再向社会提供查询（P22 末款），直至核实处理完毕。`,
        entity: 'objection',
        entityId: id,
        dedupeKey: `objection-withdrawn:${id}`,
      });
    }
    await trx('audit_log').insert({
      actor: SYSTEM.actor,
      action: 'objection.verification_overdue',
      entity: 'objection',
      entity_id: id,
      detail: { deadline: o.deadline, provider_id: o.provider_id, withdrawn_from_queries: person, article: person ? 'P22, P24' : 'E18, E20' },
    });
    return { overdue: true, ...base };
  });
}

/**
 * A provisional verification deadline has come (a year on the way has no calendar): staff are told once that the
 * platform's 10 working days may end today; the provider is not late before the deadline is settled.
 */
export async function noteProvisionalDeadline(db: Db, id: string): Promise<void> {
  const o = await objectionRow(db, id);
  if (!o?.deadline || o.calendar_pending_year === null) return;
  await notify(db, {
    to: { role: 'staff' },
    kind: 'objection.provisional_deadline',
    title: `异议核实期限（暂定）${o.deadline} 已到 / the provisional verification deadline ${o.deadline} has come`,
    body: `异议 ${id}（主体 ${o.subject_id}）：${o.calendar_pending_year} 年工作日历尚未载入，10 个工作日的核实期限最早于 ${o.deadline} 届满，请尽快会同信息提供单位核实并作出结论（${articleOf(o.subject_type, 'E18', 'P22')}）。期限确定前，不认定信息提供单位逾期。/ The 10 working days may end on ${o.deadline}; the provider is not late until the deadline is settled with ${o.calendar_pending_year}'s calendar.`,
    entity: 'objection',
    entityId: id,
    data: { deadline: o.deadline, pending_year: o.calendar_pending_year },
    dedupeKey: `objection-provisional-due:${id}:${o.deadline}`,
  });
}

export async function linkComplianceCase(db: Db, id: string, caseId: string): Promise<void> {
  await db('objections').where('id', id).whereNull('compliance_case_id').update({ compliance_case_id: caseId });
}

// ─── The outcome ─────────────────────────────────────────────────────────────────────────────────────────────

export interface ItemResult {
  record_key: string;
  item_name: string;
  result: 'corrected' | 'deleted' | 'unchanged' | 'gone';
  version: number | null;
}

export interface ConcludeResult {
  outcome: Outcome;
  decidedAt: string;
  items: ItemResult[];
  correctionNotices: number;
  queriersNotified: number;
}

export type ApplyFailure = { recordKey: string; errors: RowError[] };

/**
 * Applies the provider's corrections as new record versions (E10, P23: corrected, or deleted as a retraction),
 * each once: a version already written for this objection (its reason names the objection) is recognized.
 * Answers the records that could not be corrected (the correction is no longer valid).
 */
export async function applyCorrections(db: Db, o: ObjectionRow, by: Actor & { id: string }): Promise<ApplyFailure[]> {
  const failures: ApplyFailure[] = [];
  const marker = `（异议 ${o.id}）`;
  for (const c of o.provider_corrections ?? []) {
    const item = await db('objection_items').where({ objection_id: o.id, record_key: c.record_key }).first('result');
    if (!item || item.result) continue;
    const done = async (result: ItemResult['result'], version: number | null) => {
      await db('objection_items').where({ objection_id: o.id, record_key: c.record_key }).whereNull('result').update({ result, result_version: version });
    };
    for (let attempt = 0; ; attempt++) {
      const cur = await db('records').where({ record_key: c.record_key, is_current: true }).first('version', 'status', 'change_reason', 'provider_id');
      if (!cur) {
        await done('gone', null);
        break;
      }
      if (typeof cur.change_reason === 'string' && cur.change_reason.includes(marker)) {
        await done(c.action === 'delete' ? 'deleted' : 'corrected', cur.version);
        break;
      }
      if (cur.status !== 'active' || cur.provider_id !== o.provider_id) {
        await done('gone', cur.version);
        break;
      }
      const out = await changeRecord(db, o.provider_id, by.id, by.actor, c.record_key, {
        baseVersion: cur.version,
        reason: `经异议核实${c.action === 'delete' ? '删除' : '更正'}${marker}：${o.provider_reason ?? ''}`,
        changes: c.action === 'delete' ? undefined : c.changes,
        retract: c.action === 'delete',
      });
      if (out.kind === 'ok') {
        await done(c.action === 'delete' ? 'deleted' : 'corrected', out.version);
        break;
      }
      if (out.kind === 'invalid') {
        failures.push({ recordKey: c.record_key, errors: out.errors });
        break;
      }
      if (out.kind === 'not_found') {
        await done('gone', null);
        break;
      }
      if (attempt >= 3) throw new Error(`record ${c.record_key} keeps changing; try again`);
    }
  }
  return failures;
}

/** Recomputes the suspension of these records' publications from the open suspensions of objections naming them. */
async function refreshSuspension(trx: Knex.Transaction, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await trx.raw(
    `UPDATE publications p SET suspended_at = s.at
       FROM (SELECT k.key AS record_key,
                    (SELECT min(o.suspended_at) FROM objection_items i JOIN objections o ON o.id = i.objection_id
                      WHERE i.record_key = k.key AND o.suspended_at IS NOT NULL AND o.suspension_ended_at IS NULL) AS at
               FROM unnest(?::uuid[]) AS k(key)) s
      WHERE p.record_key = s.record_key AND p.suspended_at IS DISTINCT FROM s.at`,
    [keys],
  );
}

function writtenAnswer(o: ObjectionRow, outcome: Outcome, reason: string, items: ItemResult[], providerName: string, day: string): string {
  const lines = [
    `${outcome === 'corrected' ? '异议处理结果书面答复' : '异议核实结果书面答复'}`,
    `异议编号：${o.id}`,
    `申请人：${o.applicant_name}`,
    `信息主体：${o.subject_id}`,
    `受理日期：${o.acceptance_date ?? '—'}；核实期限：${o.deadline ?? '—'}`,
    `您的异议：${o.claim}`,
    '',
  ];
  if (outcome === 'corrected') {
    lines.push(`经会同${providerName}核实，所涉信用信息确有错误，已予以更正（${articleOf(o.subject_type, 'E18', 'P22 第一款第（一）项、P23')}）：`);
    const zh = { corrected: '已更正', deleted: '已删除', unchanged: '经核实无误，未作变更', gone: '该记录已不存在' } as const;
    for (const i of items) lines.push(`  · ${i.item_name}（${i.record_key}）：${zh[i.result]}${i.version ? `，现为第 ${i.version} 版` : ''}`);
    if (o.subject_type === 'enterprise') lines.push('更正情况已予以公示（E18）。');
    else lines.push('已通知信息主体及曾查询该信息的信息使用人（P23）。');
  } else {
    lines.push(`经会同${providerName}核实，所涉信用信息无误，予以维持（${articleOf(o.subject_type, 'E18', 'P22 第一款第（二）项')}）。`);
    for (const i of items) lines.push(`  · ${i.item_name}（${i.record_key}）`);
    if (o.subject_type === 'person') lines.push('如您仍有异议，可通过 POST /objections/{id}/disagreement 提出，平台将对相关信息作出存在异议的标注（P22）。');
  }
  lines.push(`信息提供单位意见：${o.provider_reason ?? '—'}`, `处理说明：${reason}`, '', `${platformZh(o.subject_type)}`, day);
  return lines.join('\n');
}

/**
 * Concludes an objection (once): records the outcome and the written answer, ends a suspension, publishes the
 * correction notices of public enterprise records (E18), tells the applicant, the subject and every principal
 * who queried a corrected record (P23). The corrections themselves are applied before (applyCorrections).
 */
export async function concludeObjection(
  db: Db,
  id: string,
  d: { outcome: Outcome; reason: string; by: Actor; at: string },
): Promise<ConcludeResult> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    const stored = async (): Promise<ConcludeResult> => {
      const items = await itemsOf(trx, id);
      const [{ n }] = await trx('correction_notices').where('objection_id', id).count({ n: '*' });
      const [{ q }] = await trx('notifications').where({ kind: 'record.corrected_after_query', entity_id: id }).count({ q: '*' });
      return {
        outcome: o.outcome!,
        decidedAt: new Date(o.decided_at!).toISOString(),
        items: items.map((i) => ({ record_key: i.record_key, item_name: i.item_name, result: (i.result ?? 'unchanged') as ItemResult['result'], version: i.result_version })),
        correctionNotices: Number(n),
        queriersNotified: Number(q),
      };
    };
    if (o.outcome) return stored();
    if (o.state !== 'answered') throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，不能作出结论 / the objection is ${o.state}`);
    if ((d.outcome === 'corrected') !== (o.provider_verdict === 'confirmed_wrong')) {
      throw new ObjectionStateError(o.state, `处理结论须与信息提供单位的核实结果一致（${o.provider_verdict}）/ the outcome must follow the verification`);
    }

    await trx('objection_items').where('objection_id', id).whereNull('result').update({ result: 'unchanged' });
    const itemRows = await itemsOf(trx, id);
    const items: ItemResult[] = itemRows.map((i) => ({ record_key: i.record_key, item_name: i.item_name, result: i.result as ItemResult['result'], version: i.result_version }));
    const provider = await trx('providers').where('id', o.provider_id).first('name_zh');
    const day = shanghaiDate(new Date(d.at));
    const answer = writtenAnswer(o, d.outcome, d.reason, items, provider.name_zh, day);
    const suspended = o.suspended_at && !o.suspension_ended_at;
    await trx('objections')
      .where('id', id)
      .update({
        state: d.outcome,
        outcome: d.outcome,
        outcome_reason: d.reason,
        decided_at: d.at,
        decided_by: d.by.id,
        written_answer: answer,
        concluded_at: d.at,
        ...(suspended ? { suspension_ended_at: d.at, suspension_end_reason: '异议处理完毕 / the objection is concluded' } : {}),
      });
    await refreshSuspension(
      trx,
      itemRows.map((i) => i.record_key),
    );

    const changed = items.filter((i) => i.result === 'corrected' || i.result === 'deleted');
    let notices = 0;
    let queriers = 0;
    if (d.outcome === 'corrected' && changed.length) {
      // E18: public enterprise records that were published get a public correction notice.
      const { rowCount } = (await trx.raw(
        `INSERT INTO correction_notices (objection_id, record_key, enterprise_uscc, enterprise_name, item_code, action, new_version, summary, published_at, publication_date)
         SELECT ?, i.record_key, o.subject_id, e.name, i.item_code, CASE i.result WHEN 'deleted' THEN 'deleted' ELSE 'corrected' END, i.result_version,
                c.name_zh || CASE i.result WHEN 'deleted' THEN '：经异议核实，该信息有误，已删除' ELSE '：经异议核实，该信息有误，已更正' END || '（E18）',
                ?::timestamptz, (?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date
           FROM objection_items i
           JOIN objections o ON o.id = i.objection_id
           JOIN catalog_items c ON c.code = i.item_code AND c.disclosure = 'public' AND c.subject_type = 'enterprise'
           LEFT JOIN enterprises e ON e.uscc = o.subject_id
          WHERE i.objection_id = ? AND i.result IN ('corrected', 'deleted')
            AND EXISTS (SELECT 1 FROM publications p WHERE p.record_key = i.record_key AND p.state IN ('published', 'archived'))
         ON CONFLICT (objection_id, record_key) DO NOTHING`,
        [id, d.at, d.at, id],
      )) as { rowCount: number };
      notices = rowCount;

      await notify(trx, {
        to: { subjectType: o.subject_type, subjectId: o.subject_id },
        kind: 'objection.record_corrected',
        title: '您的信用信息经异议核实已更正 / your credit record was corrected',
        body: `经异议核实（编号 ${id}），您的以下信用信息已${changed.map((i) => `${i.item_name}（${i.result === 'deleted' ? '删除' : `更正为第 ${i.version} 版`}）`).join('、')}（${articleOf(o.subject_type, 'E18', 'P23')}）。`,
        entity: 'objection',
        entityId: id,
        data: { records: changed },
        dedupeKey: `objection-corrected-subject:${id}`,
      });
      // P23: every principal who was given a corrected record before is told (the subject's own accounts are told above).
      const { rowCount: told } = (await trx.raw(
        `INSERT INTO notifications (recipient_principal_id, kind, title, body, entity, entity_id, data, dedupe_key)
         SELECT q.principal_id, 'record.corrected_after_query',
                '您曾查询的信用信息已更正 / a record you queried was corrected',
                '您曾查询的 ' || ? || ' 的 ' || count(DISTINCT i.record_key) || ' 条信用信息经异议核实有误，已更正或删除（' || ? || '）。请以更正后的信息为准，不得继续使用原信息。/ A record you were given was corrected.',
                'objection', ?, jsonb_build_object('subject_type', ?::text, 'subject_id', ?::text, 'records', jsonb_agg(DISTINCT i.record_key)),
                'objection-corrected-querier:' || ? || ':' || q.principal_id
           FROM query_log_items i
           JOIN query_log q ON q.id = i.query_log_id AND q.outcome = 'answered'
           JOIN principals pr ON pr.id = q.principal_id
          WHERE i.record_key = ANY(?::uuid[])
            AND coalesce(pr.enterprise_uscc, '') <> ? AND coalesce(pr.person_id, '') <> ?
          GROUP BY q.principal_id
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [o.subject_id, articleOf(o.subject_type, 'E18', 'P23'), id, o.subject_type, o.subject_id, id, changed.map((i) => i.record_key), o.subject_id, o.subject_id],
      )) as { rowCount: number };
      queriers = told;
    }
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      kind: 'objection.answer',
      title: d.outcome === 'corrected' ? '异议处理结果：已更正 / your objection: corrected' : '异议核实结果：信息无误，予以维持 / your objection: upheld',
      body: answer,
      entity: 'objection',
      entityId: id,
      data: { outcome: d.outcome },
      dedupeKey: `objection-answer:${id}`,
    });
    await trx('audit_log').insert({
      principal_id: d.by.id,
      actor: d.by.actor,
      action: `objection.${d.outcome}`,
      entity: 'objection',
      entity_id: id,
      detail: {
        outcome: d.outcome,
        reason: d.reason,
        items,
        correction_notices: notices,
        queriers_notified: queriers,
        suspension_ended: !!suspended,
        article: d.outcome === 'corrected' ? articleOf(o.subject_type, 'E18', 'P22, P23') : articleOf(o.subject_type, 'E18', 'P22'),
      },
    });
    return { outcome: d.outcome, decidedAt: d.at, items, correctionNotices: notices, queriersNotified: queriers };
  });
}

// ─── Suspension (E18 2nd para.) and continued disagreement (P22) ─────────────────────────────────────────────

/** The applicant asks staff to suspend publication while the objection is open. */
export async function requestSuspension(db: Db, id: string, reason: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (!['submitted', ...OPEN_STATES].includes(o.state)) throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，不能申请暂停公开 / the objection is ${o.state}`);
    await trx('objections').where('id', id).update({ suspension_requested: true, suspension_request_reason: reason });
    await notify(trx, {
      to: { role: 'staff' },
      kind: 'objection.suspension_requested',
      title: '异议申请人申请暂停公开 / the applicant asks to suspend publication',
      body: `异议 ${id}（主体 ${o.subject_id}）申请人申请在异议期间暂停公开所涉信息，理由：${reason}。认为合理的，可暂停公开（E18 第二款）。`,
      entity: 'objection',
      entityId: id,
      dedupeKey: `objection-suspension-request:${id}:${crypto.createHash('sha256').update(reason).digest('hex').slice(0, 12)}`,
    });
    await trx('audit_log').insert({ principal_id: by.id, actor: by.actor, action: 'objection.request_suspension', entity: 'objection', entity_id: id, detail: { reason, article: 'E18' } });
  });
}

/**
 * Staff suspend the publication of the objection's published records while it is open (E18 2nd para.): hidden
 * from the public pages and search until the outcome (or until staff end it). Answers the suspended record keys.
 */
export async function suspendPublication(db: Db, id: string, s: { reason: string; onRequest: boolean; by: Actor }): Promise<string[]> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (o.subject_type !== 'enterprise') throw new ObjectionStateError(o.state, '个人信用信息不公开发布，无需暂停公开；异议期间作存在异议标注（P22）/ personal records are never published');
    if (!OPEN_STATES.includes(o.state)) throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，只有受理后、处理完毕前可暂停公开（E18 第二款）/ only while the objection is open`);
    if (o.suspended_at && !o.suspension_ended_at) throw new ObjectionStateError(o.state, '已暂停公开 / publication is suspended already');
    if (s.onRequest && !(await trx('objections').where({ id, suspension_requested: true }).first('id'))) {
      throw new ObjectionStateError(o.state, '申请人未申请暂停公开 / the applicant has not asked for a suspension');
    }
    const keys = (await trx('objection_items as i').join('publications as p', 'p.record_key', 'i.record_key').where('i.objection_id', id).whereIn('p.state', ['pending', 'held', 'published']).select('i.record_key')).map(
      (r: { record_key: string }) => r.record_key,
    );
    if (!keys.length) throw new ObjectionStateError(o.state, '所涉记录不是公开发布的信息，无需暂停公开（E13、E18）/ none of the records is published');
    await trx('objections').where('id', id).update({ suspended_at: trx.fn.now(), suspended_by: s.by.id, suspension_reason: s.reason, suspension_on_request: s.onRequest, suspension_ended_at: null, suspension_end_reason: null });
    await refreshSuspension(trx, keys);
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      kind: 'objection.publication_suspended',
      title: '异议期间已暂停公开所涉信息 / publication suspended while your objection is open',
      body: `异议 ${id}：所涉信息在异议处理期间暂停公开（E18 第二款）。理由：${s.reason}`,
      entity: 'objection',
      entityId: id,
      dedupeKey: `objection-suspended:${id}:${Date.now()}`,
    });
    await trx('audit_log').insert({ principal_id: s.by.id, actor: s.by.actor, action: 'objection.suspend_publication', entity: 'objection', entity_id: id, detail: { reason: s.reason, on_request: s.onRequest, records: keys, article: 'E18' } });
    return keys;
  });
}

/** Staff end a suspension before the outcome (the outcome ends it by itself). */
export async function endSuspension(db: Db, id: string, reason: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (!o.suspended_at || o.suspension_ended_at) throw new ObjectionStateError(o.state, '未暂停公开 / publication is not suspended');
    await trx('objections').where('id', id).update({ suspension_ended_at: trx.fn.now(), suspension_end_reason: reason });
    await refreshSuspension(
      trx,
      (await trx('objection_items').where('objection_id', id).select('record_key')).map((r: { record_key: string }) => r.record_key),
    );
    await trx('audit_log').insert({ principal_id: by.id, actor: by.actor, action: 'objection.end_suspension', entity: 'objection', entity_id: id, detail: { reason, article: 'E18' } });
  });
}

/** P22: after the outcome, the person still disagrees — the record keeps its disputed mark. */
export async function recordDisagreement(db: Db, id: string, statement: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (o.subject_type !== 'person') throw new ObjectionStateError(o.state, '存在异议标注适用于个人信用信息（P22）/ the disputed mark is for personal records');
    if (o.state !== 'upheld' && o.state !== 'corrected') throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，处理完毕后方可声明仍有异议 / only after the outcome`);
    const done = await trx('objections').where('id', id).whereNull('still_disagrees_at').update({ still_disagrees_at: trx.fn.now(), still_disagrees_statement: statement }).returning('id');
    if (!done.length) throw new ObjectionStateError(o.state, '已声明仍有异议 / already stated');
    await notify(trx, {
      to: { role: 'staff' },
      kind: 'objection.still_disputed',
      title: '异议处理完毕后申请人仍有异议 / the applicant still disagrees',
      body: `异议 ${id}（主体 ${o.subject_id}）：申请人仍有异议，所涉信息作存在异议标注（P22）。申请人陈述：${statement}`,
      entity: 'objection',
      entityId: id,
      dedupeKey: `objection-still-disputed:${id}`,
    });
    await trx('audit_log').insert({ principal_id: by.id, actor: by.actor, action: 'objection.still_disagrees', entity: 'objection', entity_id: id, detail: { statement, article: 'P22' } });
  });
}

// ─── Marks seen by every query (P22) ─────────────────────────────────────────────────────────────────────────

/**
 * P22 on personal records: disputed while an accepted objection is open, and after its outcome when the applicant
 * still disagrees; withdrawn from every query while the provider has not verified in time (until the outcome).
 */
export async function recordMarks(db: Conn, recordKeys: string[]): Promise<{ disputed: Set<string>; withdrawn: Set<string> }> {
  const disputed = new Set<string>();
  const withdrawn = new Set<string>();
  if (!recordKeys.length) return { disputed, withdrawn };
  const { rows } = (await db.raw(
    `SELECT i.record_key::text AS k,
            bool_or(o.state IN ('accepted', 'verifying', 'overdue', 'answered') OR o.still_disagrees_at IS NOT NULL) AS disputed,
            bool_or(o.withdrawn_from_queries_at IS NOT NULL AND o.outcome IS NULL) AS withdrawn
       FROM objection_items i JOIN objections o ON o.id = i.objection_id
      WHERE i.record_key = ANY(?::uuid[]) AND o.subject_type = 'person'
        AND (o.state IN ('accepted', 'verifying', 'overdue', 'answered') OR o.still_disagrees_at IS NOT NULL)
      GROUP BY i.record_key`,
    [recordKeys],
  )) as { rows: { k: string; disputed: boolean; withdrawn: boolean }[] };
  for (const r of rows) {
    if (r.disputed) disputed.add(r.k);
    if (r.withdrawn) withdrawn.add(r.k);
  }
  return { disputed, withdrawn };
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
  iso(db, 'o.filed_at'),
  iso(db, 'o.accepted_at'),
  iso(db, 'o.refused_at'),
  'o.refusal_reason',
  'o.acceptance_date',
  'o.deadline',
  iso(db, 'o.due_at'),
  db.raw('(o.calendar_pending_year IS NOT NULL) AS deadline_provisional'),
  'o.calendar_pending_year',
  'o.workflow_id',
  'o.provider_verdict',
  'o.provider_reason',
  'o.provider_corrections',
  iso(db, 'o.provider_answered_at'),
  'o.answered_in_time',
  iso(db, 'o.verification_overdue_at'),
  'o.compliance_case_id',
  iso(db, 'o.withdrawn_from_queries_at'),
  'o.outcome',
  'o.outcome_reason',
  iso(db, 'o.decided_at'),
  iso(db, 'o.concluded_at'),
  iso(db, 'o.still_disagrees_at'),
  'o.still_disagrees_statement',
  'o.suspension_requested',
  'o.suspension_request_reason',
  iso(db, 'o.suspended_at'),
  'o.suspension_reason',
  'o.suspension_on_request',
  iso(db, 'o.suspension_ended_at'),
  'o.suspension_end_reason',
];

export function objectionsQuery(db: Knex) {
  return db('objections as o').join('providers as pr', 'pr.id', 'o.provider_id');
}

export async function objectionItems(db: Conn, id: string) {
  return itemsOf(db, id);
}

/** E18: the public correction notices, newest first; optionally of one enterprise. */
export async function publicCorrections(db: Knex, q: { uscc?: string; limit: number; offset: number }) {
  const rows = await db('correction_notices')
    .modify((b) => {
      if (q.uscc) b.where('enterprise_uscc', q.uscc);
    })
    .orderBy([
      { column: 'published_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(q.limit + 1)
    .offset(q.offset)
    .select('id', 'record_key', 'enterprise_uscc', 'enterprise_name', 'item_code', 'action', 'new_version', 'summary', iso(db, 'published_at'), 'publication_date');
  return { items: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}
