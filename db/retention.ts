import crypto from 'node:crypto';
import type { Db } from './knex';
import { recordAudit, systemActor } from './audit';

/** Retention (P19): personal records go 5 years after their conclusion, in set-based batches. */

/**
 * Removes, in one statement, up to `batchSize` personal records (every version of each) whose 5 years of
 * retention are over on `asOf` (P19): kept through the day 5 years after the concluded date (the period starts
 * the day after the conclusion and ends on the corresponding day, Civil Code art. 201–202), removed from the
 * next day on. Records without a concluded date are kept. Enterprise records, the query log and the audit log
 * are untouched. Persons left without any record (and without an account) go with their last record.
 */
export async function purgeRetentionBatch(
  db: Db,
  asOf: string,
  batchSize: number,
): Promise<{ recordKeys: number; rows: number; persons: number }> {
  return db.transaction(async (trx) => {
    // The keys come from the partial index records_person_concluded in its order (rows removed by earlier batches
    // are skipped there, not read again from the heap); every version of each key is then found through
    // records_key_version: a batch costs its own rows, never a pass over the table (a join could hash it whole).
    // What is erased is remembered by its content hash alone (record_erasures, no personal data), and the batch
    // commits to those hashes in the audit chain: the verifier (db/record-chain.ts) tells it from a deletion.
    const batchId = crypto.randomUUID();
    // The deletion runs as the owner (migration 0024): the platform's own role cannot delete records.
    const { rows } = (await trx.raw('SELECT * FROM qz_retention_purge(?::date, ?::int, ?::uuid)', [asOf, batchSize, batchId])) as {
      rows: { keys: number; rows: number; subjects: string[]; digest: string }[];
    };
    const { keys, rows: deleted, subjects, digest } = rows[0];
    if (deleted)
      await recordAudit(trx, {
        actor: systemActor('retention'),
        action: 'records.erase',
        entity: 'retention_batch',
        id: batchId,
        article: 'P19',
        detail: { as_of: asOf, record_keys: keys, count: deleted, digest },
      });
    let persons = 0;
    if (subjects.length) {
      try {
        persons = await trx.transaction(async (sp) => {
          const { rowCount } = (await sp.raw(
            // OFFSET 0 keeps the record check a probe of records_subject per person of this batch: as an anti-join
            // the planner may hash every current personal record of the table for a few thousand persons.
            `DELETE FROM persons p WHERE p.citizen_id = ANY(?::text[])
               AND NOT EXISTS (SELECT 1 FROM records r WHERE r.subject_type = 'person' AND r.subject_id = p.citizen_id AND r.is_current OFFSET 0)
               AND NOT EXISTS (SELECT 1 FROM principals pr WHERE pr.person_id = p.citizen_id)`,
            [subjects],
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
export async function recordRetentionRun(
  db: Db,
  run: { runId: string; asOf: string; recordKeys: number; rows: number; persons: number; batches: number },
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const inserted = await trx('retention_runs')
      .insert({ run_id: run.runId, as_of: run.asOf, record_keys: run.recordKeys, rows_deleted: run.rows, batches: run.batches })
      .onConflict('run_id')
      .ignore()
      .returning('run_id');
    if (!inserted.length) return false;
    await recordAudit(trx, {
      actor: systemActor('retention'),
      action: 'retention.purge',
      entity: 'retention_run',
      id: run.runId,
      article: 'P19',
      detail: { as_of: run.asOf, record_keys: run.recordKeys, rows_deleted: run.rows, persons_deleted: run.persons, batches: run.batches },
    });
    return true;
  });
}
