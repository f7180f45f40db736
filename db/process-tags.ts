import type { Db } from './knex';

/**
 * What a process is about, for finding it among the others in the Temporal Web UI (processes/search-attributes.ts):
 * the provider's code, the period, the records' keys, the enterprise's credit code, the objection's id. Never a
 * citizen's ID number: a person's processes are found through the platform, which logs who looks (P20).
 */
export interface ProcessTags {
  provider?: string;
  period?: string;
  recordKeys?: string[];
  subject?: string;
  objectionId?: string;
}

const enterpriseOnly = (type: string, id: string) => (type === 'enterprise' ? id : undefined);

export async function submissionTags(db: Db, submissionId: string): Promise<ProcessTags> {
  const r = await db('submissions as s')
    .join('providers as p', 'p.id', 's.provider_id')
    .where('s.id', submissionId)
    .first('p.code', 's.period');
  return r ? { provider: r.code, period: r.period } : {};
}

export async function obligationTags(db: Db, ids: number[]): Promise<Map<number, ProcessTags>> {
  const rows = (await db('obligations as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .whereIn('o.id', ids)
    .select('o.id', 'p.code', 'o.period')) as Array<{ id: number | string; code: string; period: string }>;
  return new Map(rows.map((r) => [Number(r.id), { provider: r.code, period: r.period }]));
}

export async function complianceCaseTags(db: Db, caseId: string): Promise<ProcessTags> {
  const r = await db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .leftJoin('obligations as o', 'o.case_id', 'c.id')
    .where('c.id', caseId)
    .first('p.code', 'o.period');
  return r ? { provider: r.code, period: r.period ?? undefined } : {};
}

export async function objectionTags(db: Db, objectionId: string): Promise<ProcessTags> {
  const o = await db('objections as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .where('o.id', objectionId)
    .first('p.code', 'o.subject_type', 'o.subject_id');
  if (!o) return {};
  const recordKeys = (await db('objection_items').where('objection_id', objectionId).orderBy('record_key').pluck('record_key')) as string[];
  return { provider: o.code, subject: enterpriseOnly(o.subject_type, o.subject_id), objectionId, recordKeys };
}

export async function requestTags(db: Db, kind: 'rating' | 'judicial', id: string): Promise<ProcessTags> {
  if (kind === 'rating') {
    const r = await db('rating_requests').where('id', id).first('subject_uscc');
    return r ? { subject: r.subject_uscc } : {};
  }
  const j = await db('judicial_requests').where('id', id).first('subject_type', 'subject_id');
  return j ? { subject: enterpriseOnly(j.subject_type, j.subject_id) } : {};
}
