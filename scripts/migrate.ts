/**
 * `npm run migrate`: brings the schema up to date and seeds an empty database (catalog, providers, calendar).
 * Against DATABASE_URL, or the embedded PostgreSQL: the running one when the platform is up, otherwise it is
 * started for this command and stopped afterwards.
 */
import { createDb } from '../db/knex';
import { PlatformError, checkDatabase, describeError, migrateAndSeed, providePostgres, loadSettings } from './platform';

if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';

const say = (m: string) => console.log(`[migrate] ${m}`);

async function main(): Promise<number> {
  const config = loadSettings();
  const pg = await providePostgres(config, { join: true, log: say });
  try {
    const db = createDb(pg.url, 2);
    try {
      await checkDatabase(db, pg.location);
      await migrateAndSeed(db, say);
      say(`done: ${pg.location}`);
    } finally {
      await db.destroy();
    }
  } finally {
    await pg.stop();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (!(e instanceof PlatformError) && e instanceof Error && e.stack) console.error(e.stack);
    console.error(`[migrate] ${e instanceof PlatformError ? e.message : `failed: ${describeError(e)}`}`);
    process.exit(e instanceof PlatformError ? e.exitCode : 1);
  },
);
