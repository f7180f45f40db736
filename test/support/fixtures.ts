import { withCitizenIdCheck, withUsccCheck } from '../../domain/identifiers';
import type { Db } from '../../db/knex';

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

/** A record of `item` (provided by QZ-GSJ) stored directly, without a batch; answers its record key. */
export async function seedRecord(
  db: Db,
  item: string,
  subjectType: 'enterprise' | 'person',
  subjectId: string,
  payload: Record<string, unknown>,
): Promise<string> {
  const provider = await db('providers').where('code', 'QZ-GSJ').first('id');
  const [row] = await db('records')
    .insert({
      provider_id: provider.id,
      item_code: item,
      subject_type: subjectType,
      subject_id: subjectId,
      payload: JSON.stringify(payload),
      event_date: '2026-03-01',
      created_by: '00000000-0000-0000-0000-000000000000',
    })
    .returning('record_key');
  return row.record_key;
}
