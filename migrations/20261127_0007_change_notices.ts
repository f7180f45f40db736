import type { Knex } from 'knex';

/**
 * Change notices for the caches of API processes (db/changes.ts): a statement that changes what an API key
 * resolves to (a key revoked or expired, a principal deactivated or edited, a provider's code) or the working-day
 * calendar sends `NOTIFY qz_cache, '<table>'`, delivered to every listening process when the transaction commits.
 * Writes that cannot change them (last_used_at of a key) send nothing.
 */
const NOTICES: Array<[table: string, events: string]> = [
  ['api_keys', 'UPDATE OF revoked_at, expires_at, secret_hash, principal_id, prefix OR DELETE OR TRUNCATE'],
  ['principals', 'UPDATE OR DELETE OR TRUNCATE'],
  ['providers', 'UPDATE OF code OR DELETE OR TRUNCATE'],
  ['calendar_years', 'INSERT OR UPDATE OR DELETE OR TRUNCATE'],
  ['calendar_days', 'INSERT OR UPDATE OR DELETE OR TRUNCATE'],
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION notify_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('qz_cache', TG_TABLE_NAME);
      RETURN NULL;
    END $$;
  `);
  for (const [table, events] of NOTICES) {
    await knex.raw(
      `CREATE TRIGGER ${table}_cache_notice AFTER ${events} ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change()`,
    );
  }
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
