import type { Knex } from 'knex';

/**
 * Least privilege (db/roles.ts): the platform's runtime role may insert into the audit and record tables but never
 * update, delete or truncate them, and owns nothing. What the runtime needs beyond that runs as the owner, each a
 * function that does one thing:
 *
 * - `audit_log_chain()`, the chain trigger, moves the chain head the runtime cannot write;
 * - `qz_audit_chain_lock()` takes the head's lock, for a writer that must count before it writes (failed
 *   authentications, db/auth-failures.ts);
 * - `qz_retention_purge(as_of, batch_size, batch_id)` removes one batch of personal records whose 5 years are over
 *   (P19) — those and no others — remembering each by its hash in record_erasures.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER FUNCTION audit_log_chain() SECURITY DEFINER SET search_path FROM CURRENT;

    CREATE FUNCTION qz_audit_chain_lock() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
      PERFORM 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    END $$;

    -- PL/pgSQL with EXECUTE: the statement is planned for the date and batch size given (as the application's own
    -- statement was), so the keys come from the partial index records_person_concluded in its order.
    CREATE FUNCTION qz_retention_purge(as_of date, batch_size integer, batch_id uuid)
      RETURNS TABLE (keys integer, rows integer, subjects text[], digest text)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
      RETURN QUERY EXECUTE $q$
        WITH gone AS (
          DELETE FROM records r
           WHERE r.record_key = ANY(ARRAY(
                   SELECT record_key FROM records
                    WHERE subject_type = 'person' AND is_current AND concluded_date IS NOT NULL
                      AND concluded_date < ($1 - interval '5 years')::date + 2
                      AND (concluded_date + interval '5 years')::date < $1
                    ORDER BY concluded_date
                    LIMIT $2))
          RETURNING r.id, r.submission_id, r.record_key, r.version, r.hash, r.subject_id
        ), kept AS (
          INSERT INTO record_erasures (batch_id, record_id, submission_id, record_key, version, hash)
          SELECT $3, id, submission_id, record_key, version, hash FROM gone
        )
        SELECT count(DISTINCT record_key)::int, count(*)::int, coalesce(array_agg(DISTINCT subject_id), '{}'),
               encode(digest(coalesce(string_agg(coalesce(hash, ''), '' ORDER BY id), ''), 'sha256'), 'hex')
          FROM gone
      $q$ USING as_of, batch_size, batch_id;
    END $$;

    REVOKE EXECUTE ON FUNCTION qz_audit_chain_lock(), qz_retention_purge(date, integer, uuid) FROM PUBLIC;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION qz_retention_purge(date, integer, uuid);
    DROP FUNCTION qz_audit_chain_lock();
    ALTER FUNCTION audit_log_chain() SECURITY INVOKER RESET search_path;
  `);
}
