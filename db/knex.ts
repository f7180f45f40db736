import knexFactory, { Knex } from 'knex';
import pg from 'pg';

// DATE columns come back as 'YYYY-MM-DD' strings: a calendar date has no time zone.
pg.types.setTypeParser(1082, (v: string) => v);
// BIGINT counts fit in a JS number for this platform's sizes.
pg.types.setTypeParser(20, (v: string) => Number(v));

export type Db = Knex;

export function createDb(connectionString: string, poolMax = 10): Db {
  return knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: 'qinzhou-credit' },
    pool: { min: 0, max: poolMax },
  });
}
