import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { recordMarks } from './objections';
import { querySettings } from '../domain/config';
import { shanghaiDate } from '../domain/calendar';
import {
  decideAccess,
  type AccessDecision,
  type AuthorizationFacts,
  type BasisFacts,
  type BasisKind,
  type Querier,
  type RatingAgreementFacts,
  type RatingApprovalFacts,
  type Subject,
} from '../domain/access';
import type { Principal } from '../domain/roles';

type Conn = Knex | Knex.Transaction;

/** Instants leave the database as ISO strings in UTC. */
export const isoColumn = (db: Conn, column: string, alias = column.split('.').pop()!) =>
  db.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ??`, [alias]);

export interface QuerierInfo extends Querier {
  name: string;
}

export function querierOf(p: Principal): QuerierInfo {
  return { id: p.id, name: p.name, role: p.role, organization: p.organization, enterpriseUscc: p.enterpriseUscc, personId: p.personId };
}

const actorOf = (q: { role: string; name: string }) => `${q.role}:${q.name}`;

// ─── Documents ─────────────────────────────────────────────────────────────────────────────────────────────

/** Types of an uploaded document: written authorizations, proofs of duty and signed rating agreements are scans or PDFs. */
export const DOCUMENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export const DOCUMENT_KINDS = ['authorization', 'duty_proof', 'rating_agreement'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export interface StoredDocument {
  id: string;
  kind: DocumentKind;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

export async function storeDocument(
  db: Db,
  doc: { kind: DocumentKind; fileName: string; contentType: string; content: Buffer },
  by: { id: string; actor: string },
): Promise<StoredDocument> {
  const sha256 = crypto.createHash('sha256').update(doc.content).digest('hex');
  return db.transaction(async (trx) => {
    const [row] = await trx('documents')
      .insert({ kind: doc.kind, file_name: doc.fileName, content_type: doc.contentType, size_bytes: doc.content.length, sha256, content: doc.content, uploaded_by: by.id })
      .returning(['id', 'kind', 'file_name', 'content_type', 'size_bytes', 'sha256', 'uploaded_by', isoColumn(trx, 'uploaded_at')]);
    await trx('audit_log').insert({
      principal_id: by.id,
      actor: by.actor,
      action: 'document.upload',
      entity: 'document',
      entity_id: row.id,
      detail: { kind: doc.kind, file_name: doc.fileName, content_type: doc.contentType, size_bytes: doc.content.length, sha256 },
    });
    return row as StoredDocument;
  });
}

export async function documentMeta(db: Conn, id: string): Promise<StoredDocument | undefined> {
  return db('documents').where('id', id).first(['id', 'kind', 'file_name', 'content_type', 'size_bytes', 'sha256', 'uploaded_by', isoColumn(db, 'uploaded_at')]);
}

// ─── Authorizations (E14.2, P12.2) ───────────────────────────────────────────────────────────────────────────

export interface NewAuthorization {
  subjectType: 'enterprise' | 'person';
  subjectId: string;
  granteePrincipalId: string | null;
  granteeOrganization: string | null;
  categories: string[];
  validFrom: string;
  validUntil: string;
  purpose: string;
  documentId: string;
}

export const authorizationColumns = (db: Conn) => [
  'a.id',
  'a.subject_type',
  'a.subject_id',
  'a.grantee_principal_id',
  'g.name as grantee_name',
  'a.grantee_organization',
  'a.categories',
  'a.valid_from',
  'a.valid_until',
  'a.purpose',
  'a.document_id',
  isoColumn(db, 'a.created_at'),
  isoColumn(db, 'a.revoked_at'),
  'a.revoke_reason',
];

export async function createAuthorization(db: Db, a: NewAuthorization, by: { id: string; actor: string }): Promise<Record<string, unknown>> {
  return db.transaction(async (trx) => {
    const [{ id }] = await trx('authorizations')
      .insert({
        subject_type: a.subjectType,
        subject_id: a.subjectId,
        granted_by: by.id,
        grantee_principal_id: a.granteePrincipalId,
        grantee_organization: a.granteeOrganization,
        categories: a.categories,
        valid_from: a.validFrom,
        valid_until: a.validUntil,
        purpose: a.purpose,
        document_id: a.documentId,
      })
      .returning('id');
    await trx('audit_log').insert({
      principal_id: by.id,
      actor: by.actor,
      action: 'authorization.grant',
      entity: 'authorization',
      entity_id: id,
      detail: {
        subject_type: a.subjectType,
        subject_id: a.subjectId,
        grantee_principal_id: a.granteePrincipalId,
        grantee_organization: a.granteeOrganization,
        categories: a.categories,
        valid_from: a.validFrom,
        valid_until: a.validUntil,
        document_id: a.documentId,
        article: a.subjectType === 'enterprise' ? 'E14(2)' : 'P12(2)',
      },
    });
    return (await trx('authorizations as a').leftJoin('principals as g', 'g.id', 'a.grantee_principal_id').where('a.id', id).first(authorizationColumns(trx))) as Record<string, unknown>;
  });
}

/** Revokes an authorization of the subject; `not_found` when it is not the subject's, `already` when revoked. */
export async function revokeAuthorization(
  db: Db,
  id: string,
  subject: Subject,
  reason: string,
  by: { id: string; actor: string },
): Promise<{ kind: 'ok'; revokedAt: string } | { kind: 'not_found' } | { kind: 'already'; revokedAt: string }> {
  return db.transaction(async (trx) => {
    const cur = await trx('authorizations').where({ id, subject_type: subject.type, subject_id: subject.id }).forUpdate().first('id', 'revoked_at');
    if (!cur) return { kind: 'not_found' } as const;
    if (cur.revoked_at) return { kind: 'already', revokedAt: new Date(cur.revoked_at).toISOString() } as const;
    const [row] = await trx('authorizations').where('id', id).update({ revoked_at: trx.fn.now(), revoked_by: by.id, revoke_reason: reason }).returning('revoked_at');
    await trx('audit_log').insert({ principal_id: by.id, actor: by.actor, action: 'authorization.revoke', entity: 'authorization', entity_id: id, detail: { reason } });
    return { kind: 'ok', revokedAt: new Date(row.revoked_at).toISOString() } as const;
  });
}

function authorizationFacts(row: Record<string, unknown> | undefined): AuthorizationFacts | null {
  if (!row) return null;
  return {
    id: row.id as string,
    subjectType: row.subject_type as AuthorizationFacts['subjectType'],
    subjectId: row.subject_id as string,
    granteePrincipalId: (row.grantee_principal_id as string | null) ?? null,
    granteeOrganization: (row.grantee_organization as string | null) ?? null,
    categories: row.categories as string[],
    validFrom: row.valid_from as string,
    validUntil: row.valid_until as string,
    revokedAt: row.revoked_at ? new Date(row.revoked_at as string).toISOString() : null,
  };
}

// ─── Running a query ─────────────────────────────────────────────────────────────────────────────────────────

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
      const row = await db('authorizations as a').leftJoin('documents as d', 'd.id', 'a.document_id').where('a.id', basis.authorizationId).first('a.*', 'd.sha256');
      return { facts: { kind: 'authorization', authorization: authorizationFacts(row) }, ref: basis.authorizationId, documentId: row?.document_id ?? null, documentSha256: row?.sha256 ?? null };
    }
    case 'rating_approval': {
      const row = await db('rating_requests').where('id', basis.requestId).first();
      const approval: RatingApprovalFacts | null = row
        ? {
            id: row.id,
            agencyPrincipalId: row.agency_principal_id,
            subjectUscc: row.subject_uscc,
            categories: row.categories,
            status: row.status,
            validUntil: row.valid_until ? new Date(row.valid_until).toISOString() : null,
          }
        : null;
      return { facts: { kind: 'rating_approval', approval }, ref: basis.requestId, documentId: null, documentSha256: null };
    }
    case 'rating_agreement': {
      const row = await db('rating_agreements as a').leftJoin('documents as d', 'd.id', 'a.document_id').where('a.id', basis.agreementId).first('a.*', 'd.sha256');
      return { facts: { kind: 'rating_agreement', agreement: ratingAgreementFacts(row) }, ref: basis.agreementId, documentId: row?.document_id ?? null, documentSha256: row?.sha256 ?? null };
    }
    case 'duty': {
      const doc = await db('documents').where('id', basis.documentId).first('id', 'kind', 'uploaded_by', 'sha256');
      return {
        facts: { kind: 'duty', proof: doc ? { documentId: doc.id, kind: doc.kind, uploadedBy: doc.uploaded_by } : null },
        ref: basis.documentId,
        documentId: doc?.id ?? null,
        documentSha256: doc?.sha256 ?? null,
      };
    }
    case 'judicial_request': {
      const row = await db('judicial_requests as j').leftJoin('documents as d', 'd.id', 'j.document_id').where('j.id', basis.requestId).first('j.*', 'd.sha256');
      return {
        facts: {
          kind: 'judicial_request',
          request: row ? { id: row.id, requesterPrincipalId: row.requester_principal_id, subjectType: row.subject_type, subjectId: row.subject_id } : null,
        },
        ref: basis.requestId,
        documentId: row?.document_id ?? null,
        documentSha256: row?.sha256 ?? null,
      };
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

/**
 * What the objection process says about records in an answer (P22): which are marked disputed and which are
 * withdrawn from queries because their provider did not verify an objection in time (db/objections.ts).
 */
export async function objectionMarks(db: Conn, recordKeys: string[]): Promise<{ disputed: Set<string>; withdrawn: Set<string> }> {
  return recordMarks(db, recordKeys);
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
    const decision = decideAccess({ querier: req.querier, subject: req.subject, categories: req.categories, basis: basis.facts, today: shanghaiDate(at), now: at.toISOString() });
    let records: AnsweredRecord[] = [];
    if (decision.ok) {
      const rows = (await trx('records as r')
        .join('catalog_items as c', 'c.code', 'r.item_code')
        .join('providers as p', 'p.id', 'r.provider_id')
        .where({ 'r.subject_type': req.subject.type, 'r.subject_id': req.subject.id, 'r.is_current': true, 'r.status': 'active' })
        .whereIn('c.category', decision.allowed)
        .orderBy([{ column: 'c.category' }, { column: 'r.event_date', order: 'desc' }, { column: 'r.id' }])
        .select(answeredColumns(trx))) as Omit<AnsweredRecord, 'disputed'>[];
      const marks = await objectionMarks(
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
      await trx('query_log_items').insert(records.map((r) => ({ query_log_id: log.id, record_key: r.record_key, version: r.version, item_code: r.item_code, category: r.category })));
    }
    await trx('audit_log').insert({
      principal_id: req.handledBy?.id ?? req.querier.id,
      actor: req.handledBy ? req.handledBy.actor : actorOf(req.querier),
      action: decision.ok ? 'query.answered' : 'query.refused',
      entity: 'query',
      entity_id: String(log.id),
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
        ...(decision.ok ? {} : { refusal: decision.code, article: decision.article }),
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
    kind: 'query.volume_unusual',
    title: `查询量异常：${q.name} / unusual query volume`,
    body: `${q.name}（${q.organization ?? q.role}）${day} 已查询 ${n} 次，超过每日 ${limit} 次的监控阈值（P11）。/ ${n} queries on ${day}, above the daily threshold of ${limit}.`,
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

/** The record versions a logged query returned, as they were. */
export async function answeredRecords(db: Knex, queryId: number): Promise<AnsweredRecord[]> {
  const rows = await db('query_log_items as i')
    .join('records as r', (j) => j.on('r.record_key', 'i.record_key').andOn('r.version', 'i.version'))
    .join('catalog_items as c', 'c.code', 'r.item_code')
    .join('providers as p', 'p.id', 'r.provider_id')
    .where('i.query_log_id', queryId)
    .orderBy([{ column: 'c.category' }, { column: 'r.event_date', order: 'desc' }, { column: 'r.id' }])
    .select(answeredColumns(db));
  const marks = await objectionMarks(
    db,
    rows.map((r: AnsweredRecord) => r.record_key),
  );
  return rows.map((r: AnsweredRecord) => ({ ...r, disputed: marks.disputed.has(r.record_key) }));
}

/** E16: chargeable answered queries of a period, per month and querier, with the period's totals. */
export async function feeReport(db: Knex, from: string, to: string) {
  const range = (b: Knex.QueryBuilder) =>
    b
      .where('q.at', '>=', db.raw(`(?::date)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [from]))
      .where('q.at', '<', db.raw(`(?::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [to]));
  const rows = await db('query_log as q')
    .modify(range)
    .where({ 'q.fee': 'chargeable', 'q.outcome': 'answered' })
    .groupByRaw(`1, 2, 3, 4, 5`)
    .orderByRaw('1, 6 desc, 3')
    .select(
      db.raw(`to_char(q.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') as month`),
      'q.principal_id',
      'q.principal_name',
      'q.principal_role',
      'q.organization',
      db.raw('count(*)::int as queries'),
      db.raw('sum(q.item_count)::int as items'),
    );
  const totals = await db('query_log as q')
    .modify(range)
    .groupBy('q.fee', 'q.outcome')
    .select('q.fee', 'q.outcome', db.raw('count(*)::int as n'));
  const count = (fee: string, outcome: string) => totals.find((t: { fee: string; outcome: string; n: number }) => t.fee === fee && t.outcome === outcome)?.n ?? 0;
  return {
    from,
    to,
    rows,
    totals: { chargeable: count('chargeable', 'answered'), free: count('free', 'answered'), refused: count('free', 'refused') + count('chargeable', 'refused') },
  };
}

// ─── Access monitoring (P11, E19) ────────────────────────────────────────────────────────────────────────────

export interface MonitoringRow {
  principal_id: string | null;
  name: string | null;
  role: string | null;
  organization: string | null;
  failed_auth: number;
  refused_queries: number;
  queries: number;
  /** Per day in the window, with the unusual days flagged. */
  days: { date: string; queries: number; unusual: boolean }[];
  /** Average queries per day over the 30 days before the window. */
  baseline_daily_average: number;
  unusual: boolean;
}

/**
 * Per principal over the days `from`..`to` (Shanghai): failed authentications (by the key prefix that was
 * tried), refused queries, queries per day; a day is unusual above the daily limit or above `factor` times the
 * principal's own daily average of the 30 days before the window.
 */
export async function accessMonitoring(db: Knex, from: string, to: string): Promise<{ from: string; to: string; limit: number; factor: number; principals: MonitoringRow[]; failed_auth_unknown_keys: number }> {
  const { queryVolumeDailyLimit: limit, queryVolumeFactor: factor } = querySettings();
  const start = db.raw(`(?::date)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [from]);
  const end = db.raw(`(?::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [to]);
  const failed = (await db('audit_log as a')
    .leftJoin('api_keys as k', 'k.prefix', 'a.entity_id')
    .where('a.action', 'auth.failed')
    .where('a.at', '>=', start)
    .where('a.at', '<', end)
    .groupBy('k.principal_id')
    .select('k.principal_id', db.raw('count(*)::int as n'))) as { principal_id: string | null; n: number }[];
  const perDay = (await db('query_log as q')
    .where('q.at', '>=', start)
    .where('q.at', '<', end)
    .groupByRaw('1, 2')
    .select('q.principal_id', db.raw(`to_char(q.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') as day`), db.raw('count(*)::int as n'), db.raw(`count(*) FILTER (WHERE q.outcome = 'refused')::int as refused`))) as {
    principal_id: string;
    day: string;
    n: number;
    refused: number;
  }[];
  const baseline = (await db('query_log as q')
    .where('q.at', '>=', db.raw(`(?::date - 30)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [from]))
    .where('q.at', '<', start)
    .groupBy('q.principal_id')
    .select('q.principal_id', db.raw('count(*)::int as n'))) as { principal_id: string; n: number }[];

  const ids = new Set<string>([...perDay.map((d) => d.principal_id), ...failed.filter((f) => f.principal_id).map((f) => f.principal_id!)]);
  const principals = ids.size
    ? ((await db('principals').whereIn('id', [...ids]).select('id', 'name', 'role', 'organization')) as { id: string; name: string; role: string; organization: string | null }[])
    : [];
  const rows: MonitoringRow[] = principals.map((p) => {
    const days = perDay.filter((d) => d.principal_id === p.id).sort((a, b) => (a.day < b.day ? -1 : 1));
    const avg = (baseline.find((b) => b.principal_id === p.id)?.n ?? 0) / 30;
    const flagged = days.map((d) => ({ date: d.day, queries: d.n, unusual: d.n > limit || (avg > 0 && d.n > factor * avg && d.n >= 10) }));
    return {
      principal_id: p.id,
      name: p.name,
      role: p.role,
      organization: p.organization,
      failed_auth: failed.find((f) => f.principal_id === p.id)?.n ?? 0,
      refused_queries: days.reduce((s, d) => s + d.refused, 0),
      queries: days.reduce((s, d) => s + d.n, 0),
      days: flagged,
      baseline_daily_average: Math.round(avg * 100) / 100,
      unusual: flagged.some((d) => d.unusual),
    };
  });
  rows.sort((a, b) => Number(b.unusual) - Number(a.unusual) || b.failed_auth + b.refused_queries - (a.failed_auth + a.refused_queries) || b.queries - a.queries);
  return { from, to, limit, factor, principals: rows, failed_auth_unknown_keys: failed.find((f) => f.principal_id === null)?.n ?? 0 };
}

// ─── Rating-agency requests (E14.3) and judicial requests (E14.4, P13) ─────────────────────────────────────────

export const ratingWorkflowId = (id: string) => `rating-request-${id}`;
export const judicialWorkflowId = (id: string) => `judicial-request-${id}`;

export const ratingColumns = (db: Conn) => [
  'r.id',
  'r.agency_principal_id',
  'p.name as agency_name',
  'r.organization',
  'r.subject_uscc',
  'r.categories',
  'r.purpose',
  'r.status',
  isoColumn(db, 'r.requested_at'),
  'r.decision_deadline',
  isoColumn(db, 'r.decision_due_at'),
  db.raw('(r.calendar_pending_year IS NOT NULL) AS decision_deadline_provisional'),
  isoColumn(db, 'r.decided_at'),
  'r.decision_reason',
  isoColumn(db, 'r.valid_until'),
  'r.workflow_id',
];

export async function createRatingRequest(db: Db, q: QuerierInfo, r: { subjectUscc: string; categories: string[]; purpose: string }): Promise<{ id: string; workflowId: string }> {
  const id = crypto.randomUUID();
  const workflowId = ratingWorkflowId(id);
  await db.transaction(async (trx) => {
    // requested_at from the application's clock: the decision deadline counts from it.
    await trx('rating_requests').insert({ id, agency_principal_id: q.id, organization: q.organization, subject_uscc: r.subjectUscc, categories: r.categories, purpose: r.purpose, requested_at: new Date(), workflow_id: workflowId });
    await trx('audit_log').insert({
      principal_id: q.id,
      actor: actorOf(q),
      action: 'rating_request.file',
      entity: 'rating_request',
      entity_id: id,
      detail: { subject_uscc: r.subjectUscc, categories: r.categories, article: 'E14(3)' },
    });
  });
  return { id, workflowId };
}

export const judicialColumns = (db: Conn) => [
  'j.id',
  'j.requester_principal_id',
  'p.name as requester_name',
  'j.organization',
  'j.subject_type',
  'j.subject_id',
  'j.categories',
  'j.case_no',
  'j.purpose',
  'j.document_id',
  isoColumn(db, 'j.received_at'),
  'j.receipt_date',
  'j.answer_due',
  isoColumn(db, 'j.due_at'),
  db.raw('(j.calendar_pending_year IS NOT NULL) AS answer_due_provisional'),
  'j.alert_date',
  isoColumn(db, 'j.alerted_at'),
  isoColumn(db, 'j.overdue_at'),
  'j.status',
  isoColumn(db, 'j.answered_at'),
  'j.answer_reason',
  'j.query_log_id',
  'j.met',
  'j.workflow_id',
];

export async function createJudicialRequest(
  db: Db,
  q: QuerierInfo,
  r: { subjectType: 'enterprise' | 'person'; subjectId: string; categories: string[] | null; caseNo: string; purpose: string; documentId: string },
): Promise<{ id: string; workflowId: string }> {
  const id = crypto.randomUUID();
  const workflowId = judicialWorkflowId(id);
  await db.transaction(async (trx) => {
    await trx('judicial_requests').insert({
      id,
      requester_principal_id: q.id,
      organization: q.organization,
      subject_type: r.subjectType,
      subject_id: r.subjectId,
      categories: r.categories,
      case_no: r.caseNo,
      purpose: r.purpose,
      document_id: r.documentId,
      // The application's clock: the 3 working days count from it.
      received_at: new Date(),
      workflow_id: workflowId,
    });
    await trx('audit_log').insert({
      principal_id: q.id,
      actor: actorOf(q),
      action: 'judicial_request.file',
      entity: 'judicial_request',
      entity_id: id,
      detail: { subject_type: r.subjectType, subject_id: r.subjectId, case_no: r.caseNo, document_id: r.documentId, article: r.subjectType === 'enterprise' ? 'E14(4)' : 'P13' },
    });
  });
  return { id, workflowId };
}

// ─── Rating-agency agreements (E14.3) ────────────────────────────────────────────────────────────────────────

export const RATING_AGREEMENT_STATUSES = ['active', 'upcoming', 'expired', 'terminated'] as const;
export type RatingAgreementStatus = (typeof RATING_AGREEMENT_STATUSES)[number];

/** An agreement's status on `today` (Shanghai): terminated, expired (past valid_until), upcoming (before valid_from) or active. */
const agreementStatusSql = `CASE WHEN a.terminated_at IS NOT NULL THEN 'terminated' WHEN a.valid_until < ?::date THEN 'expired' WHEN a.valid_from > ?::date THEN 'upcoming' ELSE 'active' END`;

export const ratingAgreementColumns = (db: Conn, today: string) => [
  'a.id',
  'a.agency_principal_id',
  'p.name as agency_name',
  'a.organization',
  'a.agreement_no',
  'a.categories',
  'a.enterprises',
  'a.purpose',
  'a.valid_from',
  'a.valid_until',
  'a.document_id',
  db.raw(`${agreementStatusSql} as status`, [today, today]),
  'a.created_by',
  isoColumn(db, 'a.created_at'),
  isoColumn(db, 'a.terminated_at'),
  'a.terminated_by',
  'a.termination_reason',
];

function ratingAgreementFacts(row: Record<string, unknown> | undefined): RatingAgreementFacts | null {
  if (!row) return null;
  return {
    id: row.id as string,
    agencyPrincipalId: row.agency_principal_id as string,
    agreementNo: row.agreement_no as string,
    categories: row.categories as string[],
    enterprises: (row.enterprises as string[] | null) ?? null,
    validFrom: row.valid_from as string,
    validUntil: row.valid_until as string,
    terminatedAt: row.terminated_at ? new Date(row.terminated_at as string).toISOString() : null,
  };
}

export interface RatingAgreementFilter {
  /** Only this agency's agreements (a rating agency sees its own only). */
  agencyPrincipalId?: string;
  status?: RatingAgreementStatus;
  today: string;
  limit: number;
  offset: number;
}

const ratingAgreementsFrom = (db: Conn, agencyPrincipalId: string | undefined) =>
  db('rating_agreements as a')
    .join('principals as p', 'p.id', 'a.agency_principal_id')
    .modify((b) => {
      if (agencyPrincipalId) b.where('a.agency_principal_id', agencyPrincipalId);
    });

export async function listRatingAgreements(db: Conn, f: RatingAgreementFilter): Promise<Record<string, unknown>[]> {
  return ratingAgreementsFrom(db, f.agencyPrincipalId)
    .modify((b) => {
      if (f.status) b.whereRaw(`${agreementStatusSql} = ?`, [f.today, f.today, f.status]);
    })
    .orderBy([{ column: 'a.created_at', order: 'desc' }, { column: 'a.id' }])
    .limit(f.limit)
    .offset(f.offset)
    .select(ratingAgreementColumns(db, f.today));
}

/** One agreement; undefined when there is none or (with `agencyPrincipalId`) it is another agency's. */
export async function getRatingAgreement(db: Conn, id: string, today: string, agencyPrincipalId?: string): Promise<Record<string, unknown> | undefined> {
  return ratingAgreementsFrom(db, agencyPrincipalId).where('a.id', id).first(ratingAgreementColumns(db, today));
}

export interface NewRatingAgreement {
  agencyPrincipalId: string;
  organization: string | null;
  agreementNo: string;
  categories: string[];
  enterprises: string[] | null;
  purpose: string;
  validFrom: string;
  validUntil: string;
  documentId: string | null;
}

/** Records a signed agreement with its audit entry, in one transaction; `duplicate` when its number is taken. */
export async function createRatingAgreement(
  db: Db,
  a: NewRatingAgreement,
  by: { id: string; actor: string },
  today: string,
): Promise<{ kind: 'ok'; agreement: Record<string, unknown> } | { kind: 'duplicate' }> {
  try {
    return await db.transaction(async (trx) => {
      const [{ id }] = await trx('rating_agreements')
        .insert({
          agency_principal_id: a.agencyPrincipalId,
          organization: a.organization,
          agreement_no: a.agreementNo,
          categories: a.categories,
          enterprises: a.enterprises,
          purpose: a.purpose,
          valid_from: a.validFrom,
          valid_until: a.validUntil,
          document_id: a.documentId,
          created_by: by.id,
        })
        .returning('id');
      await trx('audit_log').insert({
        principal_id: by.id,
        actor: by.actor,
        action: 'rating_agreement.create',
        entity: 'rating_agreement',
        entity_id: id,
        detail: {
          agency_principal_id: a.agencyPrincipalId,
          agreement_no: a.agreementNo,
          categories: a.categories,
          enterprises: a.enterprises,
          valid_from: a.validFrom,
          valid_until: a.validUntil,
          document_id: a.documentId,
          article: 'E14(3)',
        },
      });
      return { kind: 'ok', agreement: (await getRatingAgreement(trx, id, today))! } as const;
    });
  } catch (e) {
    const err = e as { code?: string; constraint?: string };
    if (err.code === '23505' && err.constraint === 'rating_agreements_agreement_no') return { kind: 'duplicate' };
    throw e;
  }
}

/** Ends an agreement at once, with its audit entry; `already` when it was terminated before. */
export async function terminateRatingAgreement(
  db: Db,
  id: string,
  reason: string,
  by: { id: string; actor: string },
): Promise<{ kind: 'ok'; terminatedAt: string } | { kind: 'not_found' } | { kind: 'already'; terminatedAt: string }> {
  return db.transaction(async (trx) => {
    const cur = await trx('rating_agreements').where('id', id).forUpdate().first('id', 'agreement_no', 'terminated_at');
    if (!cur) return { kind: 'not_found' } as const;
    if (cur.terminated_at) return { kind: 'already', terminatedAt: new Date(cur.terminated_at).toISOString() } as const;
    const [row] = await trx('rating_agreements').where('id', id).update({ terminated_at: trx.fn.now(), terminated_by: by.id, termination_reason: reason }).returning('terminated_at');
    await trx('audit_log').insert({
      principal_id: by.id,
      actor: by.actor,
      action: 'rating_agreement.terminate',
      entity: 'rating_agreement',
      entity_id: id,
      detail: { agreement_no: cur.agreement_no, reason, article: 'E14(3)' },
    });
    return { kind: 'ok', terminatedAt: new Date(row.terminated_at).toISOString() } as const;
  });
}

// ─── Retention (P19) ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Removes, in one statement, up to `batchSize` personal records (every version of each) whose 5 years of
 * retention are over on `asOf` (P19): kept through the day 5 years after the concluded date (the period starts
 * the day after the conclusion and ends on the corresponding day, Civil Code art. 201–202), removed from the
 * next day on. Records without a concluded date are kept. Enterprise records, the query log and the audit log
 * are untouched. Persons left without any record (and without an account) go with their last record.
 */
export async function purgeRetentionBatch(db: Db, asOf: string, batchSize: number): Promise<{ recordKeys: number; rows: number; persons: number }> {
  return db.transaction(async (trx) => {
    const { rows } = (await trx.raw(
      `WITH doomed AS (
         SELECT record_key FROM records
          WHERE subject_type = 'person' AND is_current AND concluded_date IS NOT NULL
            AND concluded_date < (?::date - interval '5 years')::date + 2
            AND (concluded_date + interval '5 years')::date < ?::date
          LIMIT ?
       ), gone AS (
         DELETE FROM records r USING doomed d WHERE r.record_key = d.record_key
         RETURNING r.record_key, r.subject_id
       )
       SELECT count(DISTINCT record_key)::int AS keys, count(*)::int AS rows, coalesce(array_agg(DISTINCT subject_id), '{}') AS subjects FROM gone`,
      [asOf, asOf, batchSize],
    )) as { rows: { keys: number; rows: number; subjects: string[] }[] };
    const { keys, rows: deleted, subjects } = rows[0];
    let persons = 0;
    if (subjects.length) {
      try {
        persons = await trx.transaction(async (sp) => {
          const { rowCount } = (await sp.raw(
            `DELETE FROM persons p WHERE p.citizen_id = ANY(string_to_array(?, ','))
               AND NOT EXISTS (SELECT 1 FROM records r WHERE r.subject_type = 'person' AND r.subject_id = p.citizen_id AND r.is_current)
               AND NOT EXISTS (SELECT 1 FROM principals pr WHERE pr.person_id = p.citizen_id)`,
            [subjects.join(',')],
          )) as { rowCount: number };
          return rowCount;
        });
      } catch (e) {
        // A person still named elsewhere (a foreign key) stays; their records are gone all the same.
        if ((e as { code?: string }).code !== '23503') throw e;
      }
    }
    return { recordKeys: keys, rows: deleted, persons };
  });
}

/** Records one retention sweep once (by its run id) with one audit entry. */
export async function recordRetentionRun(db: Db, run: { runId: string; asOf: string; recordKeys: number; rows: number; persons: number; batches: number }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const inserted = await trx('retention_runs')
      .insert({ run_id: run.runId, as_of: run.asOf, record_keys: run.recordKeys, rows_deleted: run.rows, batches: run.batches })
      .onConflict('run_id')
      .ignore()
      .returning('run_id');
    if (!inserted.length) return false;
    await trx('audit_log').insert({
      actor: 'system:retention',
      action: 'retention.purge',
      entity: 'retention_run',
      entity_id: run.runId,
      detail: { as_of: run.asOf, record_keys: run.recordKeys, rows_deleted: run.rows, persons_deleted: run.persons, batches: run.batches, article: 'P19' },
    });
    return true;
  });
}

export type { BasisKind };
