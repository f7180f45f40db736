import knexFactory, { Knex } from 'knex';
import pg from 'pg';
import { dbSessionSettings, type DbSessionSettings } from '../domain/config';

// DATE columns come back as 'YYYY-MM-DD' strings: a calendar date has no time zone.
pg.types.setTypeParser(1082, (v: string) => v);
// BIGINT counts fit in a JS number for this platform's sizes.
pg.types.setTypeParser(20, (v: string) => Number(v));

export type Db = Knex;

/**
 * A pool of the platform's sessions (domain/config.ts, dbSessionSettings): bounded connect, lock wait and idle
 * transaction everywhere; a bounded statement only where `session.statementTimeoutMs` is given (the API).
 */
export function createDb(connectionString: string, poolMax = 10, session: Partial<DbSessionSettings> = {}): Db {
  const s = { ...dbSessionSettings(), statementTimeoutMs: 0, ...session };
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString,
      application_name: 'qinzhou-credit',
      ...(s.connectTimeoutMs ? { connectionTimeoutMillis: s.connectTimeoutMs } : {}),
      ...(s.lockTimeoutMs ? { lock_timeout: s.lockTimeoutMs } : {}),
      ...(s.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: s.idleInTransactionTimeoutMs } : {}),
      ...(s.statementTimeoutMs ? { statement_timeout: s.statementTimeoutMs } : {}),
    } as Knex.PgConnectionConfig,
    pool: { min: 0, max: poolMax },
    // Waiting for a free connection is bounded too: a pool stuck behind an outage answers 503, not a hang.
    acquireConnectionTimeout: Math.max(10_000, s.connectTimeoutMs * 2),
  });
}
