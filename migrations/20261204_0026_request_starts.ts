import type { Knex } from 'knex';

/**
 * A rating agency's or a judicial body's request is stored first and its workflow started after (E14(3), E14(4),
 * P13): when Temporal cannot be reached then, the request is kept, answered 202, and the reconciler starts its
 * workflow when Temporal is back (processes/starts.ts). `workflow_started_at` tells which are waiting; the requests
 * stored before this migration had theirs started with them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE rating_requests ADD COLUMN workflow_started_at timestamptz;
    UPDATE rating_requests SET workflow_started_at = requested_at;
    CREATE INDEX rating_requests_awaiting_start ON rating_requests (requested_at) WHERE workflow_started_at IS NULL;
    ALTER TABLE judicial_requests ADD COLUMN workflow_started_at timestamptz;
    UPDATE judicial_requests SET workflow_started_at = received_at;
    CREATE INDEX judicial_requests_awaiting_start ON judicial_requests (received_at) WHERE workflow_started_at IS NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE rating_requests DROP COLUMN workflow_started_at;
    ALTER TABLE judicial_requests DROP COLUMN workflow_started_at;
  `);
}
