import { withCitizenIdCheck, withUsccCheck } from '../../domain/identifiers';
import crypto from 'node:crypto';
import type { Db } from '../../db/knex';
import { recordAudit } from '../../db/audit';
import { canonicalJson, RecordDigest, recordHashOf } from '../../domain/record-hash';

/** A valid unified social credit code for enterprise number n (Qinzhou division code 450700). */
export function uscc(n: number): string {
  return withUsccCheck(`91450700MA${String(n).padStart(7, '0')}`);
}

/** A valid citizen ID number for person n (born 1985-06-15 in Qinzhou). */
export function citizenId(n: number): string {
  return withCitizenIdCheck(`45070019850615${String(n % 1000).padStart(3, '0')}`);
}

export function penaltyRow(n: number, overrides: Record<string, unknown> = {}) {
  return {
    item_code: 'E-PENALTY',
    subject_id: uscc(n),
    event_date: '2026-10-12',
    payload: {
      decision_no: `钦市监罚〔2026〕${n}号`,
      violation: '虚假宣传',
      penalty: '罚款',
      authority: '钦州市市场监督管理局',
      amount: 5000,
    },
    ...overrides,
  };
}

export function registrationRow(n: number, name = `钦州市测试企业${n}有限公司`) {
  return {
    item_code: 'E-BASIC-REG',
    subject_id: uscc(n),
    event_date: '2020-03-01',
    payload: { name, legal_representative: '张三', established_on: '2020-03-01', status: '存续' },
  };
}

/**
 * A record of `item` (provided by QZ-GSJ) stored as intake stores a one-row batch — the submission, the record with
 * its content hash, the `submission.accept` entry committing to it (db/intake.ts) — without the HTTP request and
 * its workflow, and without the catalog's check of who may provide what; answers its record key.
 */
export async function seedRecord(
  db: Db,
  item: string,
  subjectType: 'enterprise' | 'person',
  subjectId: string,
  payload: Record<string, unknown>,
): Promise<string> {
  const provider = await db('providers').where('code', 'QZ-GSJ').first('id');
  const createdBy = '00000000-0000-0000-0000-000000000000';
  return db.transaction(async (trx) => {
    const key = crypto.randomUUID();
    const [sub] = await trx('submissions')
      .insert({
        provider_id: provider.id,
        period: '2026-03',
        idempotency_key: `seed-${key}`,
        request_hash: '',
        format: 'json',
        row_count: 1,
        received_at: new Date('2026-03-02T02:00:00Z'),
        workflow_id: `seed-${key}`,
        created_by: createdBy,
      })
      .returning('id');
    const record = {
      record_key: key,
      version: 1,
      status: 'active',
      submission_id: sub.id as string,
      provider_id: provider.id as number,
      item_code: item,
      subject_type: subjectType,
      subject_id: subjectId,
      payload,
      event_date: '2026-03-01',
      concluded_date: null,
      valid_until: null,
      lifted_date: null,
      change_reason: null,
      created_by: createdBy,
    };
    const hash = recordHashOf('', record);
    await trx('records').insert({ ...record, payload: canonicalJson(payload), hash });
    const digest = new RecordDigest();
    digest.add(hash);
    await recordAudit(trx, {
      actor: 'test:fixture',
      action: 'submission.accept',
      entity: 'submission',
      id: sub.id,
      article: 'E10, E12',
      detail: { period: '2026-03', format: 'json', rows: 1, records: { count: 1, digest: digest.digest() } },
    });
    return key;
  });
}
