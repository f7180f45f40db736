import type { Knex } from 'knex';

/**
 * A year no calendar covers is an explicit state (SPEC "Working days"). `calendar_gaps` records each year the
 * platform needed and did not have: when first and last needed, when the administrators were told, when it was
 * loaded. Every row whose deadline waits on such a year says which year in `calendar_pending_year`:
 *
 * - obligations: the due date is not set yet (it binds the provider: never guessed);
 * - submissions, objections, judicial and rating requests: the deadline shown is provisional, the earliest the
 *   true one can be (every day of the missing year counted as a working day), and is recomputed when it is loaded.
 *
 * A notice that stops being true (the year was loaded) is closed: `notifications.resolved_at`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('calendar_gaps', (t) => {
    t.integer('year').primary();
    t.timestamp('first_needed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_needed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** What first needed it, e.g. "obligation 12 (2026-12)". */
    t.text('first_needed_by').notNullable();
    t.timestamp('notified_at', { useTz: true });
    t.timestamp('resolved_at', { useTz: true });
  });
  await knex.raw('CREATE INDEX calendar_gaps_open ON calendar_gaps (year) WHERE resolved_at IS NULL');

  for (const table of ['obligations', 'submissions', 'objections', 'judicial_requests', 'rating_requests']) {
    await knex.schema.alterTable(table, (t) => {
      t.integer('calendar_pending_year');
    });
    await knex.raw(`CREATE INDEX ${table}_calendar_pending ON ${table} (calendar_pending_year) WHERE calendar_pending_year IS NOT NULL`);
  }
  await knex.schema.alterTable('notifications', (t) => {
    t.timestamp('resolved_at', { useTz: true });
  });
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
