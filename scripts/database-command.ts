/**
 * One-shot commands on the platform's database (`npm run migrate`, `npm run key`, `npm run verify:audit`). Not a
 * command itself: each of those reads its own arguments (scripts/cli.ts) before calling it.
 */
import { createDb, type Db } from '../db/knex';
import type { Config } from '../domain/config';
import { PlatformError, describeError, loadSettings, type Log } from './platform';
import { checkDatabase, migrateAndSeed, providePostgres } from './postgres';
import { requireSettings } from './cli';

/**
 * Runs a command (`npm run migrate`, `npm run key`, `npm run verify:audit`) against the platform's database,
 * migrated and seeded first unless `migrate: false` (a check that must not change it): DATABASE_URL, or the
 * embedded PostgreSQL — the running one when the platform is up, otherwise started for the command and stopped
 * after it. Exits with the command's code; on a failure with `failureCode` if given, else PlatformError's own
 * code or 1.
 */
export function runDatabaseCommand(
  name: string,
  say: Log,
  body: (ctx: { db: Db; config: Config; location: string }) => Promise<number>,
  options: { migrate?: boolean; failureCode?: number } = {},
): void {
  if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';
  // Every setting checked before the database is touched: a refused one is one line and exit 2 (scripts/cli.ts).
  requireSettings(name);
  const main = async (): Promise<number> => {
    const config = loadSettings();
    const pg = await providePostgres(config, { join: true, log: say });
    try {
      const db = createDb(pg.url, 2);
      try {
        await checkDatabase(db, pg.location);
        if (options.migrate !== false) {
          // Migrations run as the owner; the command as the runtime role (db/roles.ts).
          const owner = createDb(pg.ownerUrl, 1);
          try {
            await migrateAndSeed(owner, say);
          } finally {
            await owner.destroy();
          }
        }
        return await body({ db, config, location: pg.location });
      } finally {
        await db.destroy();
      }
    } finally {
      await pg.stop();
    }
  };
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (!(e instanceof PlatformError) && e instanceof Error && e.stack) console.error(e.stack);
      console.error(`[${name}] ${e instanceof PlatformError ? e.message : `failed: ${describeError(e)}`}`);
      process.exit(options.failureCode ?? (e instanceof PlatformError ? e.exitCode : 1));
    },
  );
}
