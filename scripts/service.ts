/**
 * The frame of a production process (api/main.ts, worker/main.ts): external PostgreSQL and Temporal only, a
 * database whose schema is current, ordered shutdown on SIGTERM / SIGINT / SIGHUP, exit codes (0 stopped, 1
 * failed, 2 bad settings).
 */
import fs from 'node:fs';
import { dbSessionSettings, sealSettings, type Config } from '../domain/config';
import { processSeal } from '../db/seal';
import { createDb, type Db } from '../db/knex';
import { PlatformError, Shutdown, describeError, log, logError, redactUrl, loadSettings } from './platform';
import { checkDatabase, requireCurrentSchema } from './postgres';
import { serviceUsage, startCommand } from './cli';

export interface ServiceContext {
  config: Config;
  databaseUrl: string;
  temporalAddress: string;
  db: Db;
  shutdown: Shutdown;
  /** True once a stop was asked for: a long start sequence checks it between steps. */
  stopping(): boolean;
  /** Stops the process with exit code 1 and this message. */
  fail(message: string): void;
}

export function runService(
  name: string,
  entry: string,
  start: (ctx: ServiceContext) => Promise<void>,
  opts: { boundStatements?: boolean } = {},
): void {
  if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';
  // --help, and every setting checked before anything starts: a refused one is one line and exit 2 (scripts/cli.ts).
  startCommand(
    'platform',
    serviceUsage(entry, {
      zh: `平台的 ${name} 进程，使用外部 PostgreSQL 与 Temporal（DATABASE_URL、TEMPORAL_ADDRESS）`,
      en: `the platform's ${name} process, against an external PostgreSQL and Temporal (DATABASE_URL, TEMPORAL_ADDRESS)`,
    }),
  );
  const shutdown = new Shutdown();
  let stopping = false;
  let exitCode: number | undefined;

  const stop = async (code: number, message?: string): Promise<void> => {
    if (message) logError(message);
    stopping = true;
    exitCode ??= code;
    const clean = await shutdown.run();
    if (exitCode === 0 && clean) log(`${name} stopped`);
    process.exit(exitCode === 0 && !clean ? 1 : exitCode);
  };

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      log(`${sig} received: stopping the ${name}`);
      void stop(0);
    });
  }

  const main = async () => {
    const config = loadSettings();
    const missing = [!config.databaseUrl && 'DATABASE_URL', !config.temporalAddress && 'TEMPORAL_ADDRESS'].filter(Boolean);
    if (missing.length) {
      throw new PlatformError(
        `${entry} needs ${missing.join(' and ')} (an external PostgreSQL and Temporal).\n` +
          '  For everything on this machine (embedded PostgreSQL, Temporal dev server), use `npm start`.',
        2,
      );
    }
    // Every process seals with the same key: one made here would seal what the others cannot check.
    const { keyFile } = sealSettings();
    if (!fs.existsSync(keyFile))
      throw new PlatformError(
        `${entry} needs the platform's seal key at ${keyFile} (SEAL_KEY_FILE): make it once with \`npm run seal:key\` and copy it to every API and worker machine`,
        2,
      );
    log(`${name}: seal key id ${processSeal().keyId} (${keyFile})`);
    const databaseUrl = config.databaseUrl!;
    const db = createDb(databaseUrl, 20, opts.boundStatements ? { statementTimeoutMs: dbSessionSettings().statementTimeoutMs } : {});
    shutdown.add('database connection pool', () => db.destroy());
    await checkDatabase(db, redactUrl(databaseUrl));
    await requireCurrentSchema(db);
    if (stopping) return;
    await start({
      config,
      databaseUrl,
      temporalAddress: config.temporalAddress!,
      db,
      shutdown,
      stopping: () => stopping,
      fail: (message) => void stop(1, message),
    });
  };

  main().catch((e: unknown) => {
    if (e instanceof PlatformError && e.exitCode === 0) return void stop(0);
    if (!(e instanceof PlatformError) && e instanceof Error && e.stack) console.error(e.stack);
    void stop(
      e instanceof PlatformError ? e.exitCode : 1,
      e instanceof PlatformError ? e.message : `the ${name} did not start: ${describeError(e)}`,
    );
  });
}
