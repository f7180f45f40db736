import type { Knex } from 'knex';
import { isoColumn } from './time';

/**
 * The public correction notices (E18): an enterprise's published public record corrected or deleted on an
 * objection is announced on the public portal. Written when the objection is concluded; read by anyone.
 */

/**
 * Publishes the correction notices of an objection's corrected or deleted records that are public enterprise
 * records and were published (once per record). Answers how many were written. `at` is the decision's instant.
 */
export async function publishCorrectionNotices(trx: Knex.Transaction, objectionId: string, at: string): Promise<number> {
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
    [objectionId, at, at, objectionId],
  )) as { rowCount: number };
  return rowCount;
}

/** How many correction notices an objection published. */
export async function correctionNoticeCount(trx: Knex.Transaction, objectionId: string): Promise<number> {
  const [{ n }] = await trx('correction_notices').where('objection_id', objectionId).count({ n: '*' });
  return Number(n);
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
    .select(
      'id',
      'record_key',
      'enterprise_uscc',
      'enterprise_name',
      'item_code',
      'action',
      'new_version',
      'summary',
      isoColumn(db, 'published_at'),
      'publication_date',
    );
  return { items: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}
