import type { Knex } from 'knex';

/**
 * Deactivating an account (a staff member leaves, a body's account is closed): when, by whom and why. A
 * deactivated principal's keys stop working at once (api/auth.ts checks `active`; the change notice of migration
 * 0007 empties every process's key cache); reactivation is recorded the same way. Every step is in the audit log.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('principals', (t) => {
    t.timestamp('deactivated_at', { useTz: true });
    t.uuid('deactivated_by');
    t.text('deactivation_reason');
  });
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
