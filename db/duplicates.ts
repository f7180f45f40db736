/**
 * Exact duplicates in a batch being stored (E10: a provider reports a record once, then corrects it). A row of
 * the batch is a duplicate when a current, active record of the same provider has the same item, subject, dates
 * and payload (JSON equality: key order does not matter) — stored earlier, or an earlier row of the same batch.
 * The batch is then refused whole, each duplicate named with the record or row it repeats (README, "Intake").
 */
import type { RowError } from '../domain/records';

type Query = (sql: string, params?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>;

/** A duplicate row: `row` of the batch repeats stored record `recordKey`, or `sameAsRow` of the batch. */
export interface Duplicate {
  row: number;
  recordKey?: string;
  sameAsRow?: number;
}

const FIND_SQL = `
  SELECT n.id, o.id AS other_id, o.record_key, (o.submission_id IS NOT DISTINCT FROM $1) AS same_batch
    FROM records n
    JOIN LATERAL (
      SELECT o.id, o.record_key, o.submission_id FROM records o
       WHERE o.subject_type = n.subject_type AND o.subject_id = n.subject_id AND o.is_current
         AND o.provider_id = $2 AND o.item_code = n.item_code AND o.status = 'active'
         AND o.event_date = n.event_date
         AND o.concluded_date IS NOT DISTINCT FROM n.concluded_date
         AND o.valid_until IS NOT DISTINCT FROM n.valid_until
         AND o.lifted_date IS NOT DISTINCT FROM n.lifted_date
         AND o.payload = n.payload
         AND (o.submission_id IS DISTINCT FROM $1 OR o.id < n.id)
       ORDER BY (o.submission_id IS NOT DISTINCT FROM $1), o.id
       LIMIT 1
    ) o ON true
   WHERE n.submission_id = $1
   ORDER BY n.id
   LIMIT $3`;

/**
 * The batch's ordinal (1 = its first stored row) of each record id; run only when duplicates were found, as one
 * pass over the batch's ids.
 */
const ORDINALS_SQL = `
  SELECT id, ord FROM (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM records WHERE submission_id = $1) s
   WHERE id = ANY($2::bigint[])`;

/**
 * The first `limit` duplicates of batch `submissionId` (already copied into `records`, uncommitted). `rowOf`
 * turns the ordinal of a stored row into the row number the provider sees.
 */
export async function findDuplicates(
  q: Query,
  submissionId: string,
  providerId: number,
  limit: number,
  rowOf: (ordinal: number) => number = (n) => n,
): Promise<Duplicate[]> {
  const found = (await q(FIND_SQL, [submissionId, providerId, limit])).rows as Array<{
    id: string;
    other_id: string;
    record_key: string;
    same_batch: boolean;
  }>;
  if (!found.length) return [];
  const ids = [...new Set(found.flatMap((f) => (f.same_batch ? [f.id, f.other_id] : [f.id])))];
  const ord = new Map(
    ((await q(ORDINALS_SQL, [submissionId, ids])).rows as Array<{ id: string; ord: string }>).map((r) => [String(r.id), Number(r.ord)]),
  );
  return found.map((f) =>
    f.same_batch
      ? { row: rowOf(ord.get(String(f.id))!), sameAsRow: rowOf(ord.get(String(f.other_id))!) }
      : { row: rowOf(ord.get(String(f.id))!), recordKey: f.record_key },
  );
}

/** A duplicate as the provider reads it: the row, and the record or row it repeats. */
export function duplicateError(d: Duplicate): RowError & { record_key?: string } {
  if (d.sameAsRow !== undefined)
    return {
      row: d.row,
      field: '(record)',
      reason: `与本批第 ${d.sameAsRow} 行完全相同（同一信息项、主体、日期和内容）/ an exact duplicate of row ${d.sameAsRow} of this batch`,
      article: 'E10',
    };
  return {
    row: d.row,
    field: '(record)',
    reason: `与已报送的记录 ${d.recordKey} 完全相同（同一单位、信息项、主体、日期和内容），无需重复报送；要更改请提交更正 / an exact duplicate of stored record ${d.recordKey}: nothing to store; to change it, send a correction`,
    article: 'E10',
    record_key: d.recordKey,
  };
}
