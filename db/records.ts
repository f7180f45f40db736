import type { Db } from './knex';
import { loadCatalog, providerItems } from './catalog';
import { shanghaiDate } from '../domain/calendar';
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
export async function changeRecord(db: Db, providerId: number, principalId: string, actor: string, recordKey: string, change: RecordChange): Promise<ChangeOutcome> {
  const catalog = await loadCatalog(db);
  const allowed = await providerItems(db, providerId);
  return db.transaction(async (trx) => {
    const cur = await trx('records').where({ record_key: recordKey, is_current: true, provider_id: providerId }).forUpdate().first();
    if (!cur) return { kind: 'not_found' } as const;
    if (cur.version !== change.baseVersion || cur.status !== 'active') return { kind: 'conflict', currentVersion: cur.version, status: cur.status } as const;

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
      if (!v.ok) return { kind: 'invalid', errors: v.errors.map((e) => ({ ...e, field: e.field.startsWith('payload') || e.field === 'item_code' || e.field === 'subject_id' ? e.field : `changes.${e.field}` })) } as const;
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
    await trx('records').insert({
      record_key: recordKey,
      version,
      is_current: true,
      status: change.retract ? 'retracted' : 'active',
      submission_id: null,
      provider_id: providerId,
      item_code: cur.item_code,
      subject_type: cur.subject_type,
      subject_id: cur.subject_id,
      payload: JSON.stringify(next.payload),
      event_date: next.event_date,
      concluded_date: next.concluded_date,
      valid_until: next.valid_until,
      lifted_date: next.lifted_date,
      change_reason: change.reason,
      created_by: principalId,
    });
    if (cur.item_code === 'E-BASIC-REG' && !change.retract) {
      // The registry follows the current registration record: a corrected name or state (a termination reported by
      // mistake and corrected) is the enterprise's state from now on.
      await trx('enterprises')
        .where('uscc', cur.subject_id)
        .update({ name: next.payload.name ?? null, status: next.payload.status ?? null, updated_at: trx.fn.now() });
    }
    await trx('audit_log').insert({
      principal_id: principalId,
      actor,
      action: change.retract ? 'record.retract' : 'record.correct',
      entity: 'record',
      entity_id: recordKey,
      detail: { from_version: cur.version, to_version: version, reason: change.reason, article: 'E10' },
    });
    return { kind: 'ok', recordKey, version } as const;
  });
}
