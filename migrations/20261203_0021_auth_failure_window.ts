import type { Knex } from 'knex';

/**
 * The failed-authentication limit counts the audit log's own entries of the last minute per client address, across
 * every API process (db/auth-failures.ts): an index for that count, and one for the once-a-minute throttling notice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX audit_log_auth_failed_ip ON audit_log ((detail->>'ip'), at) WHERE action = 'auth.failed'`);
  await knex.raw(`CREATE INDEX audit_log_auth_throttled ON audit_log (entity_id, at) WHERE action = 'auth.throttled'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX audit_log_auth_throttled');
  await knex.raw('DROP INDEX audit_log_auth_failed_ip');
}
