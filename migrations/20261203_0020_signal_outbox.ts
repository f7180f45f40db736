import type { Knex } from 'knex';

/**
 * Signals to workflows that an answered request promised (staff "publish now", held records released, a nil return,
 * a provider's deactivation): written in the same transaction as the change and its audit entry, delivered after the
 * commit, and by the API's reconciler (every minute) while Temporal could not be reached. A 2xx answer is then
 * durable even when Temporal is down; delivering twice is harmless (every workflow reads the database on a signal).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE workflow_signals (
      id bigserial PRIMARY KEY,
      workflow_id text NOT NULL,
      signal text NOT NULL,
      args jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      last_error text
    );
    CREATE INDEX workflow_signals_pending ON workflow_signals (id) WHERE delivered_at IS NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE workflow_signals');
}
