/**
 * Production entry point of the HTTP API: one stateless process; run as many copies as needed behind a load
 * balancer, against an external PostgreSQL (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS). It does not migrate:
 * run `npm run migrate` before starting a new version. SIGTERM / SIGINT: stop accepting connections, finish the
 * requests in flight, close the Temporal connection and the database pool, exit 0.
 */
import { Client } from '@temporalio/client';
import { createDb } from '../db/knex';
import {
  PlatformError,
  Shutdown,
  checkDatabase,
  closeServer,
  connectTemporal,
  describeError,
  httpUrl,
  listen,
  log,
  logError,
  redactUrl,
  requireCurrentSchema,
  loadSettings,
} from '../scripts/platform';
import { createApp } from './app';
import { startSubmissionReconciler } from './temporal';

if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';

const shutdown = new Shutdown();
let stopping = false;
let exitCode: number | undefined;

async function stop(code: number, message?: string): Promise<never> {
  if (message) logError(message);
  stopping = true;
  exitCode ??= code;
  const clean = await shutdown.run();
  if (exitCode === 0 && clean) log('API stopped');
  process.exit(exitCode === 0 && !clean ? 1 : exitCode);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    log(`${sig} received: stopping the API`);
    void stop(0);
  });
}

async function main(): Promise<void> {
  const config = loadSettings();
  const missing = [!config.databaseUrl && 'DATABASE_URL', !config.temporalAddress && 'TEMPORAL_ADDRESS'].filter(Boolean);
  if (missing.length) {
    throw new PlatformError(
      `api/main.ts needs ${missing.join(' and ')} (an external PostgreSQL and Temporal).\n` +
        '  For everything on this machine (embedded PostgreSQL, Temporal dev server), use `npm start`.',
      2,
    );
  }
  const databaseUrl = config.databaseUrl!;
  const temporalAddress = config.temporalAddress!;

  const db = createDb(databaseUrl, 20);
  shutdown.add('database connection pool', () => db.destroy());
  await checkDatabase(db, redactUrl(databaseUrl));
  await requireCurrentSchema(db);
  if (stopping) return;

  const connection = await connectTemporal({
    address: temporalAddress,
    namespace: config.temporalNamespace,
    timeoutMs: 30_000,
    aborted: () => stopping,
  });
  shutdown.add('Temporal client connection', () => connection.close());
  if (stopping) return;

  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const app = createApp({ db, temporal, config });
  // Submissions stored while Temporal was unreachable get their workflow when it is back.
  const stopReconciler = startSubmissionReconciler(db, temporal, config.taskQueue);
  shutdown.add('submission workflow reconciler', async () => stopReconciler());
  const server = await listen(app, config.apiHost, config.apiPort);
  shutdown.add('HTTP server', () => closeServer(server), 15_000);
  server.on('error', (e) => void stop(1, `the HTTP server failed: ${describeError(e)}`));
  log(
    `API listening on ${httpUrl(config.apiHost, config.apiPort)} (docs ${httpUrl(config.apiHost, config.apiPort, '/docs')}); ` +
      `PostgreSQL ${redactUrl(databaseUrl)}; Temporal ${temporalAddress}, namespace ${config.temporalNamespace}`,
  );
}

main().catch((e: unknown) => {
  if (e instanceof PlatformError && e.exitCode === 0) return void stop(0);
  if (!(e instanceof PlatformError) && e instanceof Error && e.stack) console.error(e.stack);
  void stop(e instanceof PlatformError ? e.exitCode : 1, e instanceof PlatformError ? e.message : `the API did not start: ${describeError(e)}`);
});
