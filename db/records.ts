import type { Knex } from 'knex';
import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn } from './time';
import { loadCatalog, providerItems } from './catalog';
import { shanghaiDate } from '../domain/calendar';
import { canonicalJson, recordHashOf } from '../domain/record-hash';
import { RecordValidator, type RowError } from '../domain/records';

export interface RecordChange {
  baseVersion: number;
  reason: string;
  /** For a correction: the fields that change. */
  changes?: {
    payload?: Record<string, unknown>;
    event_date?: string;
    concluded_date?: string | null;
    valid_until?: string | null;
    lifted_date?: string | null;
  };
  retract?: boolean;
}

export type ChangeOutcome =
  | { kind: 'ok'; recordKey: string; version: number }
  | { kind: 'not_found' }
  | { kind: 'conflict'; currentVersion: number; status: string }
  | { kind: 'invalid'; errors: RowError[] };

/**
 * A provider corrects or retracts one of its own records (E10): the current version is closed and a new version
 * is written; nothing is overwritten (E23.2, P26.3). Another provider's record is "not found".
 */
export async function changeRecord(
  db: Db,
  providerId: number,
  principalId: string,
  actor: string,
  recordKey: string,
  change: RecordChange,
): Promise<ChangeOutcome> {
  const catalog = await loadCatalog(db);
  const allowed = await providerItems(db, providerId);
  return db.transaction(async (trx) => {
    const cur = await trx('records').where({ record_key: recordKey, is_current: true, provider_id: providerId }).forUpdate().first();
    if (!cur) return { kind: 'not_found' } as const;
    if (cur.version !== change.baseVersion || cur.status !== 'active')
      return { kind: 'conflict', currentVersion: cur.version, status: cur.status } as const;

    let next = {
      payload: cur.payload as Record<string, unknown>,
      event_date: cur.event_date as string,
      concluded_date: cur.concluded_date as string | null,
      valid_until: cur.valid_until as string | null,
      lifted_date: cur.lifted_date as string | null,
    };
    if (!change.retract) {
      const c = change.changes ?? {};
      next = {
        payload: c.payload ?? next.payload,
        event_date: c.event_date ?? next.event_date,
        concluded_date: c.concluded_date !== undefined ? c.concluded_date : next.concluded_date,
        valid_until: c.valid_until !== undefined ? c.valid_until : next.valid_until,
        lifted_date: c.lifted_date !== undefined ? c.lifted_date : next.lifted_date,
      };
      const validator = new RecordValidator({ catalog, allowedItems: allowed, today: shanghaiDate(new Date()) });
      const v = validator.validate({ item_code: cur.item_code, subject_id: cur.subject_id, ...next }, 1);
      if (!v.ok)
        return {
          kind: 'invalid',
          errors: v.errors.map((e) => ({
            ...e,
            field: e.field.startsWith('payload') || e.field === 'item_code' || e.field === 'subject_id' ? e.field : `changes.${e.field}`,
          })),
        } as const;
      next = {
        payload: v.record.payload,
        event_date: v.record.eventDate,
        concluded_date: v.record.concludedDate,
        valid_until: v.record.validUntil,
        lifted_date: v.record.liftedDate,
      };
    }
    await trx('records').where('id', cur.id).update({ is_current: false });
    const version = cur.version + 1;
    const row = {
      record_key: recordKey,
      version,
      status: change.retract ? 'retracted' : 'active',
      submission_id: null,
      provider_id: providerId,
      item_code: cur.item_code as string,
      subject_type: cur.subject_type as string,
      subject_id: cur.subject_id as string,
      payload: next.payload,
      event_date: next.event_date,
      concluded_date: next.concluded_date,
      valid_until: next.valid_until,
      lifted_date: next.lifted_date,
      change_reason: change.reason,
      created_by: principalId,
    };
    // The new version's hash chains to the one it replaces (domain/record-hash.ts); the audit entry commits to it.
    const payloadJson = canonicalJson(next.payload);
    const hash = recordHashOf((cur.hash as string | null) ?? '', row, payloadJson);
    await trx('records').insert({ ...row, is_current: true, payload: payloadJson, hash });
    if (cur.item_code === 'E-BASIC-REG' && !change.retract) {
      // The registry follows the current registration record: a corrected name or state (a termination reported by
      // mistake and corrected) is the enterprise's state from now on.
      await trx('enterprises')
        .where('uscc', cur.subject_id)
        .update({ name: next.payload.name ?? null, status: next.payload.status ?? null, updated_at: trx.fn.now() });
    }
    await recordAudit(trx, {
      principalId,
      actor,
      action: change.retract ? 'record.retract' : 'record.correct',
      entity: 'record',
      id: recordKey,
      article: 'E10',
      detail: { from_version: cur.version, to_version: version, reason: change.reason, record_hash: hash },
    });
    return { kind: 'ok', recordKey, version } as const;
  });
}

// ─── Reads (api/routes/records.ts) ───────────────────────────────────────────────────────────────────────────

/**
 * Whose records a reader sees: a provider its own (`providerId`); staff enterprise records only (personal records
 * are read through POST /queries, which logs, P20).
 */
export interface RecordScope {
  providerId?: number | null;
  enterpriseOnly: boolean;
}

const recordColumns = (db: Db) => [
  'r.record_key',
  'r.version',
  'r.is_current',
  'r.status',
  'p.code as provider',
  'r.item_code',
  'r.subject_type',
  'r.subject_id',
  'r.payload',
  'r.event_date',
  'r.concluded_date',
  'r.valid_until',
  'r.lifted_date',
  'r.change_reason',
  'r.submission_id',
  isoColumn(db, 'r.created_at'),
];

const scoped = (scope: RecordScope) => (b: Knex.QueryBuilder) => {
  if (scope.providerId !== undefined) b.where('r.provider_id', scope.providerId);
  if (scope.enterpriseOnly) b.where('r.subject_type', 'enterprise');
};

/** Current records, in the order they were written. */
export async function listRecords(
  db: Db,
  scope: RecordScope,
  q: { subject_id?: string; item_code?: string; submission_id?: string; limit: number; offset: number },
): Promise<Record<string, unknown>[]> {
  return db('records as r')
    .join('providers as p', 'p.id', 'r.provider_id')
    .where('r.is_current', true)
    .modify(scoped(scope))
    .modify((b) => {
      if (q.subject_id) b.where('r.subject_id', q.subject_id);
      if (q.item_code) b.where('r.item_code', q.item_code);
      if (q.submission_id) b.where('r.submission_id', q.submission_id);
    })
    .orderBy('r.id')
    .limit(q.limit)
    .offset(q.offset)
    .select(recordColumns(db));
}

/** Every version of a record, newest first; empty when the reader may not see it. */
export async function recordVersions(db: Db, scope: RecordScope, recordKey: string): Promise<Record<string, unknown>[]> {
  return db('records as r')
    .join('providers as p', 'p.id', 'r.provider_id')
    .where('r.record_key', recordKey)
    .modify(scoped(scope))
    .orderBy('r.version', 'desc')
    .select(recordColumns(db));
}
