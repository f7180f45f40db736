import type { Knex } from 'knex';

/**
 * What a record names — its provider, its catalog item, its submission — is checked once per batch on the intake
 * path instead of once per row, with the same guarantee for every writer of `records`:
 *
 * - A row written by any other path (a correction, a script, plain SQL) is checked by an AFTER INSERT row trigger
 *   that looks each reference up and locks it FOR KEY SHARE, as a foreign key does.
 * - Intake (db/intake.ts) checks its batch set-based after its COPY — the provider and every catalog item the batch
 *   uses, locked FOR KEY SHARE, the submission inserted in the same transaction — and says so with
 *   `SET LOCAL qz.checked_submission = '<its submission id>'`: the trigger skips the rows of that one submission,
 *   in that one transaction (the trigger's WHEN is evaluated without calling the function, and AFTER row triggers
 *   keep COPY's multi-row inserts).
 * - A record's references never change: an UPDATE of provider_id, item_code or submission_id is checked the same way.
 * - The referenced side: deleting a provider, a catalog item or a submission that records name, or changing its
 *   key, is refused (SQLSTATE 23503, as a foreign key would), after waiting for the KEY SHARE locks of writers
 *   still inserting.
 *
 * Record keys become time-ordered (UUID version 7): new keys land at the right edge of the two unique indexes on
 * record_key instead of at random pages. A version 7 key shows when it was made, to the millisecond; on the public
 * page that is when the department's batch was stored, which the page's publication date already tells to the day,
 * and says nothing about the subject.
 */
export async function up(knex: Knex): Promise<void> {
  const version = Number((await knex.raw('SHOW server_version_num')).rows[0].server_version_num);
  if (version < 180000) {
    // PostgreSQL 17 and earlier have no uuidv7(): the same layout (RFC 9562 §5.7) from the clock and random bits.
    await knex.raw(`
      CREATE FUNCTION uuidv7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT encode(
                 set_bit(set_bit(
                   overlay(uuid_send(gen_random_uuid())
                           PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                           FROM 1 FOR 6),
                   52, 1), 53, 1),
                 'hex')::uuid
      $$;
    `);
  }
  await knex.raw(`
    ALTER TABLE records ALTER COLUMN record_key SET DEFAULT uuidv7();

    ALTER TABLE records DROP CONSTRAINT IF EXISTS records_submission_id_foreign;
    ALTER TABLE records DROP CONSTRAINT IF EXISTS records_provider_id_foreign;
    ALTER TABLE records DROP CONSTRAINT IF EXISTS records_item_code_foreign;

    CREATE FUNCTION qz_record_references() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM 1 FROM providers WHERE id = NEW.provider_id FOR KEY SHARE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'record % names provider %, which does not exist', NEW.id, NEW.provider_id
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'records_provider_id_exists', TABLE = 'records';
      END IF;
      PERFORM 1 FROM catalog_items WHERE code = NEW.item_code FOR KEY SHARE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'record % names catalog item %, which does not exist', NEW.id, NEW.item_code
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'records_item_code_exists', TABLE = 'records';
      END IF;
      IF NEW.submission_id IS NOT NULL THEN
        PERFORM 1 FROM submissions WHERE id = NEW.submission_id FOR KEY SHARE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'record % names submission %, which does not exist', NEW.id, NEW.submission_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'records_submission_id_exists', TABLE = 'records';
        END IF;
      END IF;
      RETURN NULL;
    END $$;

    CREATE TRIGGER records_references_on_insert AFTER INSERT ON records FOR EACH ROW
      WHEN (NEW.submission_id IS NULL OR NEW.submission_id::text IS DISTINCT FROM current_setting('qz.checked_submission', true))
      EXECUTE FUNCTION qz_record_references();
    CREATE TRIGGER records_references_on_update AFTER UPDATE ON records FOR EACH ROW
      WHEN (OLD.provider_id IS DISTINCT FROM NEW.provider_id OR OLD.item_code IS DISTINCT FROM NEW.item_code
            OR OLD.submission_id IS DISTINCT FROM NEW.submission_id)
      EXECUTE FUNCTION qz_record_references();

    CREATE FUNCTION qz_referenced_by_records() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      named boolean;
      what text;
    BEGIN
      IF TG_TABLE_NAME = 'providers' THEN
        what := 'provider ' || OLD.id;
        named := EXISTS (SELECT 1 FROM records WHERE provider_id = OLD.id);
      ELSIF TG_TABLE_NAME = 'catalog_items' THEN
        what := 'catalog item ' || OLD.code;
        named := EXISTS (SELECT 1 FROM records WHERE item_code = OLD.code);
      ELSE
        what := 'submission ' || OLD.id;
        named := EXISTS (SELECT 1 FROM records WHERE submission_id = OLD.id);
      END IF;
      IF named THEN
        RAISE EXCEPTION '% is named by records', what
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'records_references', TABLE = TG_TABLE_NAME;
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$;

    CREATE TRIGGER providers_referenced_by_records BEFORE DELETE ON providers
      FOR EACH ROW EXECUTE FUNCTION qz_referenced_by_records();
    CREATE TRIGGER providers_key_referenced_by_records BEFORE UPDATE OF id ON providers
      FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION qz_referenced_by_records();
    CREATE TRIGGER catalog_items_referenced_by_records BEFORE DELETE ON catalog_items
      FOR EACH ROW EXECUTE FUNCTION qz_referenced_by_records();
    CREATE TRIGGER catalog_items_key_referenced_by_records BEFORE UPDATE OF code ON catalog_items
      FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION qz_referenced_by_records();
    CREATE TRIGGER submissions_referenced_by_records BEFORE DELETE ON submissions
      FOR EACH ROW EXECUTE FUNCTION qz_referenced_by_records();
    CREATE TRIGGER submissions_key_referenced_by_records BEFORE UPDATE OF id ON submissions
      FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION qz_referenced_by_records();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER submissions_key_referenced_by_records ON submissions;
    DROP TRIGGER submissions_referenced_by_records ON submissions;
    DROP TRIGGER catalog_items_key_referenced_by_records ON catalog_items;
    DROP TRIGGER catalog_items_referenced_by_records ON catalog_items;
    DROP TRIGGER providers_key_referenced_by_records ON providers;
    DROP TRIGGER providers_referenced_by_records ON providers;
    DROP FUNCTION qz_referenced_by_records();
    DROP TRIGGER records_references_on_update ON records;
    DROP TRIGGER records_references_on_insert ON records;
    DROP FUNCTION qz_record_references();
    ALTER TABLE records ADD CONSTRAINT records_submission_id_foreign FOREIGN KEY (submission_id) REFERENCES submissions (id);
    ALTER TABLE records ADD CONSTRAINT records_provider_id_foreign FOREIGN KEY (provider_id) REFERENCES providers (id);
    ALTER TABLE records ADD CONSTRAINT records_item_code_foreign FOREIGN KEY (item_code) REFERENCES catalog_items (code);
    ALTER TABLE records ALTER COLUMN record_key SET DEFAULT gen_random_uuid();
  `);
  const fn = await knex.raw(
    `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 'uuidv7' AND n.nspname <> 'pg_catalog'`,
  );
  if (fn.rows.length) await knex.raw('DROP FUNCTION uuidv7()');
}
