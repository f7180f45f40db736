/**
 * The daily publication sweep (E12, E15), set-based in chunks and idempotent: each statement only moves rows out of
 * the state it expects, so a late or repeated run changes nothing the first run did not. Publishing what is
 * overdue is db/publication.ts's `publishPending`; this file begins and finishes a run, follows corrections and
 * law-specific periods, and unpublishes what ended.
 */
import type { Db } from './knex';
import { recordAudit, systemActor } from './audit';
import { periodColumns } from './publication-periods';
import { TERMINATED_STATUSES_SQL, periodBasisSql, periodEndSql } from '../domain/publication';

const rowsOf = <T>(r: { rows: T[] }) => r.rows;

export interface SweepCounts {
  publishedOverdue: number;
  refreshed: number;
  retracted: number;
  recomputed: number;
  terminated: number;
  expired: number;
}

/** Starts (or resumes) the sweep of a date; answers the lower bound of record ids to look at for corrections. */
export async function beginSweep(db: Db, runDate: string): Promise<{ sinceRecordId: number }> {
  await db.raw(
    `INSERT INTO publication_sweeps (run_date, max_record_id) SELECT ?::date, coalesce(max(id), 0) FROM records
     ON CONFLICT (run_date) DO NOTHING`,
    [runDate],
  );
  // The bound of the run before the previous one: a correction whose id was taken before the previous run but
  // committed after it is still seen (no transaction lasts a day).
  const prior = rowsOf<{ max_record_id: number }>(
    await db.raw('SELECT max_record_id FROM publication_sweeps WHERE run_date < ?::date ORDER BY run_date DESC OFFSET 1 LIMIT 1', [
      runDate,
    ]),
  );
  return { sinceRecordId: prior[0]?.max_record_id ?? 0 };
}

export async function finishSweep(db: Db, runDate: string, counts: SweepCounts): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('publication_sweeps')
      .where('run_date', runDate)
      .update({ finished_at: trx.fn.now(), counts: JSON.stringify(counts) });
    await recordAudit(trx, {
      actor: systemActor('schedule'),
      action: 'publication.sweep',
      entity: 'publication_sweep',
      id: runDate,
      article: 'E15',
      detail: { ...counts },
    });
  });
}

/**
 * Published records corrected or retracted since `sinceRecordId` (a correction is a new version, E10): the key
 * now points at the current version with its period end recomputed (a warning lifted early, an honor's new
 * validity); a retracted record is unpublished at once.
 */
export async function refreshCorrected(db: Db, sinceRecordId: number, runDate: string): Promise<{ refreshed: number; retracted: number }> {
  const cols = periodColumns('p.publication_date');
  const rows = rowsOf<{ retracted: boolean; n: number }>(
    await db.raw(
      `WITH upd AS (
         UPDATE publications p SET
           record_id = r.id,
           period_end = CASE WHEN r.status = 'active' THEN ${periodEndSql(cols)} ELSE p.period_end END,
           period_basis = CASE WHEN r.status = 'active' THEN ${periodBasisSql(cols)} ELSE p.period_basis END,
           state = CASE WHEN r.status = 'active' THEN p.state ELSE 'archived' END,
           archive_reason = CASE WHEN r.status = 'active' THEN p.archive_reason ELSE 'retracted' END,
           archived_at = CASE WHEN r.status = 'active' THEN p.archived_at ELSE now() END,
           archived_on = CASE WHEN r.status = 'active' THEN p.archived_on ELSE ?::date END
          FROM records r
          JOIN catalog_items ci ON ci.code = r.item_code
          LEFT JOIN publication_period_overrides o ON o.item_code = r.item_code
         WHERE r.version > 1 AND r.id > ? AND r.is_current
           AND p.record_key = r.record_key AND p.state = 'published' AND p.record_id <> r.id
         RETURNING r.status <> 'active' AS retracted
       ) SELECT retracted, count(*)::int AS n FROM upd GROUP BY retracted`,
      [runDate, sinceRecordId],
    ),
  );
  return { refreshed: rows.find((r) => !r.retracted)?.n ?? 0, retracted: rows.find((r) => r.retracted)?.n ?? 0 };
}

/** Items whose law-specific period (E15.5) was set or removed: their published rows get their ends recomputed. */
export async function recomputeOverridden(db: Db, onItem?: () => void): Promise<number> {
  const items: { item_code: string; requested_at: string }[] = await db('publication_recompute_items').select('item_code', 'requested_at');
  const cols = periodColumns('p.publication_date');
  let total = 0;
  for (const item of items) {
    const n = await db.transaction(async (trx) => {
      const res = await trx.raw(
        `UPDATE publications p SET period_end = ${periodEndSql(cols)}, period_basis = ${periodBasisSql(cols)}
           FROM records r
           JOIN catalog_items ci ON ci.code = r.item_code
           LEFT JOIN publication_period_overrides o ON o.item_code = r.item_code
          WHERE p.item_code = ? AND p.state = 'published' AND r.record_key = p.record_key AND r.is_current`,
        [item.item_code],
      );
      await trx('publication_recompute_items').where('item_code', item.item_code).where('requested_at', '<=', item.requested_at).delete();
      return res.rowCount as number;
    });
    total += n;
    onItem?.();
  }
  return total;
}

/**
 * Basic information of terminated enterprises (E15.1): the registry's state (注销, 吊销, 撤销) or a provider's
 * current registration record saying so ends the publication of the enterprise's basic records.
 */
export async function unpublishTerminated(db: Db, runDate: string, chunk: number, onChunk?: () => void): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.raw(
      `WITH t AS (
         SELECT uscc AS subject_id FROM enterprises WHERE status IN (${TERMINATED_STATUSES_SQL})
         UNION
         SELECT subject_id FROM records
          WHERE is_current AND status = 'active' AND item_code = 'E-BASIC-REG' AND (payload->>'status') IN (${TERMINATED_STATUSES_SQL})
       ), c AS (
         SELECT p.record_key FROM publications p JOIN t ON t.subject_id = p.subject_id
          WHERE p.state = 'published' AND p.category = 'basic'
          LIMIT ? FOR UPDATE OF p SKIP LOCKED
       )
       UPDATE publications p SET state = 'archived', archive_reason = 'enterprise_terminated', archived_at = now(), archived_on = ?::date
         FROM c WHERE p.record_key = c.record_key`,
      [chunk, runDate],
    );
    total += res.rowCount as number;
    onChunk?.();
    if ((res.rowCount as number) < chunk) return total;
  }
}

/** Everything whose period ended before `runDate` is unpublished and kept as archive (E15, last paragraph). */
export async function unpublishExpired(db: Db, runDate: string, chunk: number, onChunk?: () => void): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.raw(
      // The chunk's rows are locked by their physical address and updated by it (a TID scan): no join back
      // through the key index, no scan of the table. The state is checked again on the locked row.
      `UPDATE publications SET state = 'archived', archive_reason = 'period_ended', archived_at = now(), archived_on = ?::date
        WHERE ctid = ANY (ARRAY(SELECT ctid FROM publications
                                 WHERE state = 'published' AND period_end IS NOT NULL AND period_end < ?::date
                                 LIMIT ? FOR UPDATE SKIP LOCKED))
          AND state = 'published' AND period_end < ?::date`,
      [runDate, runDate, chunk, runDate],
    );
    total += res.rowCount as number;
    onChunk?.();
    if ((res.rowCount as number) < chunk) return total;
  }
}
