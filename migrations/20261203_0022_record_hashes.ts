import type { Knex } from 'knex';
import { recordAudit, systemActor } from '../db/audit';
import { recordHashOf, RecordDigest, type RecordContent } from '../domain/record-hash';

/**
 * Records become tamper-evident (E23, P26; domain/record-hash.ts):
 *
 * - `records.hash`: every version's content hash, chained to the version before; written by the platform with the
 *   version (intake's COPY, a correction), never updated. A row without one was written around the platform.
 * - A stored version's content never changes: an UPDATE may move `is_current` and nothing else.
 * - `record_erasures`: what retention removed (P19) is remembered by its hash alone — the record's key, version,
 *   batch and content hash, no personal data — so the verifier can tell an erased record from a deleted one. Each
 *   retention batch also commits to its hashes in the audit chain. Append-only.
 * - The index of a batch's records keeps their order (submission, id), so a batch is read back in slices.
 * - The records already stored get their hashes here, and one audit entry (`records.commit`) commits to all of them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE records ADD COLUMN hash text;

    CREATE TABLE record_erasures (
      batch_id uuid NOT NULL,
      record_id bigint NOT NULL,
      submission_id uuid,
      record_key uuid NOT NULL,
      version integer NOT NULL,
      hash text,
      erased_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (record_key, version)
    );
    CREATE INDEX record_erasures_submission ON record_erasures (submission_id, record_id);
    CREATE INDEX record_erasures_batch ON record_erasures (batch_id, record_id);
    CREATE INDEX record_erasures_record ON record_erasures (record_id);

    -- A batch's records in the order they were stored, read in slices by the verifier.
    DROP INDEX records_submission;
    CREATE INDEX records_submission ON records (submission_id, id);
    CREATE TRIGGER record_erasures_no_update BEFORE UPDATE OR DELETE ON record_erasures FOR EACH ROW EXECUTE FUNCTION append_only_table();
    CREATE TRIGGER record_erasures_no_truncate BEFORE TRUNCATE ON record_erasures FOR EACH STATEMENT EXECUTE FUNCTION append_only_table();
  `);

  // The hashes of the records already stored, each key's versions in order.
  const BATCH = 5000;
  let after: { key: string; version: number } | null = null;
  let prev = { key: '', hash: '' };
  for (;;) {
    const rows = (await knex('records')
      .modify((b) => {
        if (after) b.whereRaw('(record_key, version) > (?::uuid, ?)', [after.key, after.version]);
      })
      .orderBy([{ column: 'record_key' }, { column: 'version' }])
      .limit(BATCH)
      .select('*')) as (RecordContent & { id: number })[];
    if (!rows.length) break;
    const ids: number[] = [];
    const hashes: string[] = [];
    for (const r of rows) {
      const h = recordHashOf(r.record_key === prev.key && r.version > 1 ? prev.hash : '', r);
      ids.push(r.id);
      hashes.push(h);
      prev = { key: r.record_key, hash: h };
    }
    await knex.raw('UPDATE records r SET hash = v.hash FROM unnest(?::bigint[], ?::text[]) AS v(id, hash) WHERE r.id = v.id', [
      ids,
      hashes,
    ]);
    const last = rows[rows.length - 1];
    after = { key: last.record_key, version: last.version };
  }
  const digest = new RecordDigest();
  let throughId = 0;
  for (;;) {
    const rows = (await knex('records').where('id', '>', throughId).orderBy('id').limit(BATCH).select('id', 'hash')) as {
      id: number;
      hash: string;
    }[];
    if (!rows.length) break;
    for (const r of rows) digest.add(r.hash);
    throughId = rows[rows.length - 1].id;
  }
  if (digest.count > 0)
    await recordAudit(knex, {
      actor: systemActor('setup'),
      action: 'records.commit',
      entity: 'records',
      id: throughId,
      article: 'E23, P26',
      detail: { through_id: throughId, count: digest.count, digest: digest.digest() },
    });

  await knex.raw(`
    CREATE FUNCTION qz_record_content_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      current boolean := NEW.is_current;
    BEGIN
      NEW.is_current := OLD.is_current;
      IF NEW IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION '信用记录一经存储不得修改，更正须新增版本（E23、P26）/ a stored record version never changes: a correction is a new version'
          USING ERRCODE = 'integrity_constraint_violation', TABLE = 'records';
      END IF;
      NEW.is_current := current;
      RETURN NEW;
    END $$;
    CREATE TRIGGER records_content_fixed BEFORE UPDATE ON records FOR EACH ROW EXECUTE FUNCTION qz_record_content_fixed();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER records_content_fixed ON records;
    DROP FUNCTION qz_record_content_fixed();
    DROP TABLE record_erasures;
    DROP INDEX records_submission;
    CREATE INDEX records_submission ON records (submission_id);
    ALTER TABLE records DROP COLUMN hash;
  `);
}
