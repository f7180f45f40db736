import type { Knex } from 'knex';

/**
 * Requests of the public endpoints per client and minute, shared by every API process (api/rate-store.ts), so a
 * client's rate limit holds however many processes serve it. Counts of a minute long past are deleted; the table
 * is UNLOGGED (not worth a write-ahead log: after a crash, counting starts again).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNLOGGED TABLE public_rate_hits (
      client text NOT NULL,
      window_start timestamptz NOT NULL,
      hits integer NOT NULL,
      PRIMARY KEY (client, window_start)
    )`);
  await knex.raw('CREATE INDEX public_rate_hits_window ON public_rate_hits (window_start)');
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
