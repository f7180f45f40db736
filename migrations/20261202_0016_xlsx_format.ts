import type { Knex } from 'knex';

/**
 * Batches uploaded as Excel workbooks (.xlsx): a submission's format may be 'xlsx' beside 'json' and 'csv' (the
 * check of 0001, named by PostgreSQL after its column).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE submissions DROP CONSTRAINT submissions_format_check;
    ALTER TABLE submissions ADD CONSTRAINT submissions_format_check CHECK (format IN ('json', 'csv', 'xlsx'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE submissions DROP CONSTRAINT submissions_format_check;
    ALTER TABLE submissions ADD CONSTRAINT submissions_format_check CHECK (format IN ('json', 'csv'));
  `);
}
