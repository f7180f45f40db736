import type { Knex } from 'knex';

/**
 * Signed checkpoints of the audit chain (db/seal.ts): the copy the public API serves. The signed log itself lives
 * outside the database (CHECKPOINT_LOG); this table is only what is published, and is append-only. `signed_at`
 * is kept as the text that was signed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE audit_checkpoints (
      seq bigint PRIMARY KEY,
      hash text NOT NULL,
      records bigint NOT NULL,
      signed_at text NOT NULL,
      key_id text NOT NULL,
      sig text NOT NULL
    );
    CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION append_only_table();
    CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION append_only_table();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE audit_checkpoints');
}
