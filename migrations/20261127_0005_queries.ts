import type { Knex } from 'knex';

export async function up(_knex: Knex): Promise<void> {}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
