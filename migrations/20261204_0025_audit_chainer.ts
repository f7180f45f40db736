import type { Knex } from 'knex';

/**
 * The audit chain's serialization point moves out of the writers' transactions (E23, P26). Until now every audited
 * write took the chain head's row lock in its insert trigger and held it to its commit, so one stalled transaction
 * stalled every audited write. From here:
 *
 * - a writer stores its entry unchained (`seq`, `prev_hash`, `hash` empty) and takes no lock;
 * - `qz_audit_chain(max_entries)`, the owner's function, chains committed entries in the order of their ids, each to
 *   the one before, and moves the head, in one short statement; every API and worker process calls it every second
 *   (db/audit.ts `startAuditChainer`), and so do the verifier and the checkpoint before they read the head;
 * - the append-only guard lets an entry be updated once, from unchained to chained, with its content unchanged.
 *
 * An entry's content carries the platform's seal (db/seal.ts) from the moment it is written, so an entry forged in
 * the database before it is chained is named once it is. A transaction that has not committed has nothing to chain:
 * the others pass it by.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE audit_log ALTER COLUMN seq DROP NOT NULL, ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL;
    CREATE INDEX audit_log_unchained ON audit_log (id) WHERE seq IS NULL;

    -- Whatever a writer gives, an entry starts unchained: only the chainer places it in the chain.
    CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.at := coalesce(NEW.at, now());
      NEW.detail := coalesce(NEW.detail, '{}'::jsonb);
      NEW.seq := NULL;
      NEW.prev_hash := NULL;
      NEW.hash := NULL;
      RETURN NEW;
    END $$;
    ALTER FUNCTION audit_log_chain() SECURITY INVOKER RESET search_path;

    CREATE FUNCTION audit_log_append_only_but_chaining() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
         AND (NEW.id, NEW.at, NEW.principal_id, NEW.actor, NEW.action, NEW.entity, NEW.entity_id, NEW.detail)
             IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.principal_id, OLD.actor, OLD.action, OLD.entity, OLD.entity_id, OLD.detail)
      THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit_log is append-only (审计日志只能追加)';
    END $$;
    DROP TRIGGER audit_log_no_update ON audit_log;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only_but_chaining();

    CREATE FUNCTION qz_audit_chain(max_entries integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DECLARE
      head audit_chain_head%ROWTYPE;
      e audit_log%ROWTYPE;
      n integer := 0;
    BEGIN
      -- Chainers line up on the head, each for one statement; a writer never waits here.
      SELECT * INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'the audit chain head is missing (审计链头缺失)';
      END IF;
      FOR e IN SELECT * FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT max_entries FOR UPDATE LOOP
        e.seq := head.seq + 1;
        e.prev_hash := head.hash;
        e.hash := encode(digest(e.prev_hash || audit_log_canonical(e), 'sha256'), 'hex');
        UPDATE audit_log SET seq = e.seq, prev_hash = e.prev_hash, hash = e.hash WHERE id = e.id;
        head.seq := e.seq;
        head.hash := e.hash;
        n := n + 1;
      END LOOP;
      IF n > 0 THEN
        UPDATE audit_chain_head SET seq = head.seq, hash = head.hash WHERE id = 1;
      END IF;
      RETURN n;
    END $$;
    REVOKE EXECUTE ON FUNCTION qz_audit_chain(integer) FROM PUBLIC;

    -- Failed authentications now count under a lock of their own (db/auth-failures.ts).
    DROP FUNCTION qz_audit_chain_lock();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    SELECT qz_audit_chain(2147483647);
    DROP FUNCTION qz_audit_chain(integer);
    DROP TRIGGER audit_log_no_update ON audit_log;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    DROP FUNCTION audit_log_append_only_but_chaining();
    CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      head audit_chain_head%ROWTYPE;
    BEGIN
      SELECT * INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
      NEW.at := coalesce(NEW.at, now());
      NEW.detail := coalesce(NEW.detail, '{}'::jsonb);
      NEW.seq := head.seq + 1;
      NEW.prev_hash := head.hash;
      NEW.hash := encode(digest(NEW.prev_hash || audit_log_canonical(NEW), 'sha256'), 'hex');
      UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
      RETURN NEW;
    END $$;
    ALTER FUNCTION audit_log_chain() SECURITY DEFINER SET search_path FROM CURRENT;
    DROP INDEX audit_log_unchained;
    ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
    CREATE FUNCTION qz_audit_chain_lock() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
      PERFORM 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    END $$;
    REVOKE EXECUTE ON FUNCTION qz_audit_chain_lock() FROM PUBLIC;
  `);
}
