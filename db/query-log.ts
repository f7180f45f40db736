import type { Knex } from 'knex';
import type { Db } from './knex';
import { recordAudit } from './audit';
import { notify } from './notifications';
import { recordMarks } from './objection-suspension';
import { authorizationBasis } from './authorizations';
import { dutyProofBasis } from './documents';
import { judicialRequestBasis } from './judicial-requests';
import { ratingAgreementBasis } from './rating-agreements';
import { ratingApprovalBasis } from './rating-requests';
import { isoColumn, type Conn } from './time';
import { querySettings } from '../domain/config';
import { shanghaiDate } from '../domain/calendar';
import { queryVolumeUnusual } from '../domain/notices/query-log';
import { querierActor, type QuerierInfo } from '../domain/querier';
import { decideAccess, type AccessDecision, type BasisFacts, type Subject } from '../domain/access';

/**
 * Running a query (E13, E14, P12–P14) and its log (P20, E22): every query, answered or refused, is decided on its
 * basis, answered with what the basis allows and logged in one transaction; the log is read by the querier, the
 * subject (P20) and the platform's oversight.
 */

/** The basis a query states. */
export type BasisInput =
  | { kind: 'self' }
  | { kind: 'authorization'; authorizationId: string }
  | { kind: 'rating_approval'; requestId: string }
  | { kind: 'rating_agreement'; agreementId: string }
  | { kind: 'duty'; documentId: string }
  | { kind: 'judicial_request'; requestId: string };

interface LoadedBasis {
  facts: BasisFacts;
  ref: string | null;
  documentId: string | null;
  documentSha256: string | null;
}

async function loadBasis(db: Conn, basis: BasisInput): Promise<LoadedBasis> {
  switch (basis.kind) {
    case 'self':
      return { facts: { kind: 'self' }, ref: null, documentId: null, documentSha256: null };
    case 'authorization': {
      const { authorization, documentId, documentSha256 } = await authorizationBasis(db, basis.authorizationId);
      return { facts: { kind: 'authorization', authorization }, ref: basis.authorizationId, documentId, documentSha256 };
    }
    case 'rating_approval': {
      const approval = await ratingApprovalBasis(db, basis.requestId);
      return { facts: { kind: 'rating_approval', approval }, ref: basis.requestId, documentId: null, documentSha256: null };
    }
    case 'rating_agreement': {
      const { agreement, documentId, documentSha256 } = await ratingAgreementBasis(db, basis.agreementId);
      return { facts: { kind: 'rating_agreement', agreement }, ref: basis.agreementId, documentId, documentSha256 };
    }
    case 'duty': {
      const { proof, documentId, documentSha256 } = await dutyProofBasis(db, basis.documentId);
      return { facts: { kind: 'duty', proof }, ref: basis.documentId, documentId, documentSha256 };
    }
    case 'judicial_request': {
      const { request, documentId, documentSha256 } = await judicialRequestBasis(db, basis.requestId);
      return { facts: { kind: 'judicial_request', request }, ref: basis.requestId, documentId, documentSha256 };
    }
  }
}

/** A record as a query answers it. */
export interface AnsweredRecord {
  record_key: string;
  version: number;
  item_code: string;
  item_name: string;
  category: string;
  provider: string;
  payload: Record<string, unknown>;
  event_date: string;
  concluded_date: string | null;
  valid_until: string | null;
  lifted_date: string | null;
  updated_at: string;
  /** P22: the record is under objection (or the subject still disagrees after it). */
  disputed: boolean;
}

/** The columns of a record as a query answers it (records r, catalog_items c, providers p). */
function answeredColumns(db: Conn) {
  return [
    'r.record_key',
    'r.version',
    'r.item_code',
    'c.name_zh as item_name',
    'c.category',
    'p.code as provider',
    'r.payload',
    'r.event_date',
    'r.concluded_date',
    'r.valid_until',
    'r.lifted_date',
    isoColumn(db, 'r.created_at', 'updated_at'),
  ];
}

export interface QueryRequest {
  querier: QuerierInfo;
  subject: Subject;
  categories: string[];
  basis: BasisInput;
  purpose: string | null;
  channel: 'direct' | 'judicial_request';
  /** Staff answering a judicial request on the requester's behalf. */
  handledBy?: { id: string; actor: string };
  /** The instant of the query (default now). */
  at?: Date;
}

export type QueryOutcome =
  | { kind: 'answered'; queryId: number; at: string; decision: Extract<AccessDecision, { ok: true }>; records: AnsweredRecord[] }
  | { kind: 'refused'; queryId: number; at: string; decision: Extract<AccessDecision, { ok: false }> };

/**
 * Decides a query on its basis, reads what is allowed, and logs it — answered or refused — in the query log
 * (P20, E22) and the audit log, in one transaction: nothing is answered that is not logged.
 */
export async function runQuery(db: Db, req: QueryRequest): Promise<QueryOutcome> {
  const at = req.at ?? new Date();
  const outcome = await db.transaction(async (trx) => {
    const basis = await loadBasis(trx, req.basis);
    const decision = decideAccess({
      querier: req.querier,
      subject: req.subject,
      categories: req.categories,
      basis: basis.facts,
      today: shanghaiDate(at),
      now: at.toISOString(),
    });
    let records: AnsweredRecord[] = [];
    if (decision.ok) {
      const rows = (await trx('records as r')
        .join('catalog_items as c', 'c.code', 'r.item_code')
        .join('providers as p', 'p.id', 'r.provider_id')
        .where({ 'r.subject_type': req.subject.type, 'r.subject_id': req.subject.id, 'r.is_current': true, 'r.status': 'active' })
        .whereIn('c.category', decision.allowed)
        .orderBy([{ column: 'c.category' }, { column: 'r.event_date', order: 'desc' }, { column: 'r.id' }])
        .select(answeredColumns(trx))) as Omit<AnsweredRecord, 'disputed'>[];
      // P22: records under objection are marked disputed; those withdrawn from queries are left out (db/objection-suspension.ts).
      const marks = await recordMarks(
        trx,
        rows.map((r) => r.record_key),
      );
      records = rows.filter((r) => !marks.withdrawn.has(r.record_key)).map((r) => ({ ...r, disputed: marks.disputed.has(r.record_key) }));
    }
    const requested = req.categories.length ? [...new Set(req.categories)] : [];
    const [log] = await trx('query_log')
      .insert({
        at,
        principal_id: req.querier.id,
        principal_role: req.querier.role,
        principal_name: req.querier.name,
        organization: req.querier.organization,
        channel: req.channel,
        handled_by: req.handledBy?.id ?? null,
        subject_type: req.subject.type,
        subject_id: req.subject.id,
        categories_requested: requested,
        categories_answered: decision.ok ? decision.allowed : [],
        withheld: JSON.stringify(decision.withheld),
        basis: decision.basis,
        basis_ref: basis.ref,
        document_id: basis.documentId,
        document_sha256: basis.documentSha256,
        purpose: req.purpose,
        fee: decision.fee,
        outcome: decision.ok ? 'answered' : 'refused',
        refusal_code: decision.ok ? null : decision.code,
        refusal_reason: decision.ok ? null : decision.reason,
        refusal_article: decision.ok ? null : decision.article,
        item_count: records.length,
      })
      .returning('id');
    if (records.length) {
      await trx('query_log_items').insert(
        records.map((r) => ({
          query_log_id: log.id,
          record_key: r.record_key,
          version: r.version,
          item_code: r.item_code,
          category: r.category,
        })),
      );
    }
    await recordAudit(trx, {
      principalId: req.handledBy?.id ?? req.querier.id,
      actor: req.handledBy ? req.handledBy.actor : querierActor(req.querier),
      action: decision.ok ? 'query.answered' : 'query.refused',
      entity: 'query',
      id: String(log.id),
      article: decision.article,
      detail: {
        querier: req.querier.id,
        subject_type: req.subject.type,
        subject_id: req.subject.id,
        basis: decision.basis,
        basis_ref: basis.ref,
        channel: req.channel,
        categories: decision.ok ? decision.allowed : [],
        items: records.length,
        fee: decision.fee,
        ...(decision.ok ? {} : { refusal: decision.code }),
      },
    });
    const when = at.toISOString();
    return decision.ok
      ? ({ kind: 'answered', queryId: log.id as number, at: when, decision, records } as const)
      : ({ kind: 'refused', queryId: log.id as number, at: when, decision } as const);
  });
  await flagUnusualVolume(db, req.querier, at);
  return outcome;
}

/** P11: a principal that passes the day's query limit is reported to the administrators once that day. */
async function flagUnusualVolume(db: Db, q: QuerierInfo, at: Date): Promise<void> {
  const limit = querySettings().queryVolumeDailyLimit;
  const day = shanghaiDate(at);
  const [{ n }] = await db('query_log')
    .where('principal_id', q.id)
    .where('at', '>=', db.raw(`(?::date)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [day]))
    .count({ n: '*' });
  if (Number(n) <= limit) return;
  await notify(db, {
    to: { role: 'admin' },
    ...queryVolumeUnusual({ name: q.name, organization: q.organization, role: q.role, day, count: n as number | string, limit }),
    entity: 'principal',
    entityId: q.id,
    data: { principal_id: q.id, date: day, count: Number(n), limit },
    dedupeKey: `query-volume:${q.id}:${day}`,
  });
}

// ─── The query log, read ─────────────────────────────────────────────────────────────────────────────────────

export const queryLogColumns = (db: Conn) => [
  'q.id',
  isoColumn(db, 'q.at'),
  'q.principal_id',
  'q.principal_role',
  'q.principal_name',
  'q.organization',
  'q.channel',
  'q.subject_type',
  'q.subject_id',
  'q.categories_requested',
  'q.categories_answered',
  'q.withheld',
  'q.basis',
  'q.basis_ref',
  'q.document_id',
  'q.document_sha256',
  'q.purpose',
  'q.fee',
  'q.outcome',
  'q.refusal_code',
  'q.refusal_reason',
  'q.refusal_article',
  'q.item_count',
  'q.retain_until',
];

export interface LogFilter {
  subjectType?: string;
  subjectId?: string;
  principalId?: string;
  outcome?: 'answered' | 'refused';
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

/** The log, filtered; dates are Shanghai calendar days, both included. */
export function queryLog(db: Knex, f: LogFilter) {
  return db('query_log as q')
    .modify((b) => {
      if (f.subjectType) b.where('q.subject_type', f.subjectType);
      if (f.subjectId) b.where('q.subject_id', f.subjectId);
      if (f.principalId) b.where('q.principal_id', f.principalId);
      if (f.outcome) b.where('q.outcome', f.outcome);
      if (f.from) b.where('q.at', '>=', db.raw(`(?::date)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [f.from]));
      if (f.to) b.where('q.at', '<', db.raw(`(?::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [f.to]));
    })
    .orderBy('q.id', 'desc')
    .limit(f.limit)
    .offset(f.offset)
    .select(queryLogColumns(db));
}

/** One logged query; undefined when there is none. */
export async function loggedQuery(db: Conn, id: number): Promise<Record<string, unknown> | undefined> {
  return db('query_log as q').where('q.id', id).first(queryLogColumns(db));
}

/** The record versions a logged query returned, by record key. */
export async function loggedQueryItems(
  db: Conn,
  id: number,
): Promise<{ record_key: string; version: number; item_code: string; category: string }[]> {
  return db('query_log_items').where('query_log_id', id).orderBy('record_key').select('record_key', 'version', 'item_code', 'category');
}

/** The record versions a logged query returned, as they were. */
export async function answeredRecords(db: Knex, queryId: number): Promise<AnsweredRecord[]> {
  const rows = await db('query_log_items as i')
    .join('records as r', (j) => j.on('r.record_key', 'i.record_key').andOn('r.version', 'i.version'))
    .join('catalog_items as c', 'c.code', 'r.item_code')
    .join('providers as p', 'p.id', 'r.provider_id')
    .where('i.query_log_id', queryId)
    .orderBy([{ column: 'c.category' }, { column: 'r.event_date', order: 'desc' }, { column: 'r.id' }])
    .select(answeredColumns(db));
  const marks = await recordMarks(
    db,
    rows.map((r: AnsweredRecord) => r.record_key),
  );
  return rows.map((r: AnsweredRecord) => ({ ...r, disputed: marks.disputed.has(r.record_key) }));
}
