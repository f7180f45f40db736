import type { Knex } from 'knex';

/**
 * Deactivating an information provider (a department merged or abolished, an agreement ended): when, by whom and
 * why, and what became of its obligations. An obligation still open and with nothing submitted for it is
 * `waived` (its period is no longer owed); one already overdue stays overdue with its compliance case (the
 * failure happened before). A deactivated provider gets no new obligations and may not submit.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE obligations DROP CONSTRAINT obligations_state_check');
  await knex.raw(
    `ALTER TABLE obligations ADD CONSTRAINT obligations_state_check CHECK (state IN ('open', 'fulfilled', 'overdue', 'waived'))`,
  );
  await knex.schema.alterTable('obligations', (t) => {
    t.timestamp('waived_at', { useTz: true });
    t.text('waived_reason');
  });
  await knex.schema.alterTable('providers', (t) => {
    t.timestamp('deactivated_at', { useTz: true });
    t.uuid('deactivated_by');
    t.text('deactivation_reason');
  });
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
