/**
 * Production entry point of the Temporal worker: one stateless process; run as many copies as needed against an
 * external Temporal (TEMPORAL_ADDRESS) and PostgreSQL (DATABASE_URL). It does not migrate: run `npm run migrate`
 * before starting a new version. SIGTERM / SIGINT: the worker stops polling, lets the activities in flight
 * finish, then the connections close and the process exits 0.
 */
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createDb } from '../db/knex';
import {
  PlatformError,
  Shutdown,
  checkDatabase,
  connectTemporal,
  describeError,
  log,
  logError,
  redactUrl,
  requireCurrentSchema,
  loadSettings,
} from '../scripts/platform';
import { Client } from '@temporalio/client';
import { createWorker } from './worker';
import { ensureSchedules } from './schedules';

if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';

const shutdown = new Shutdown();
let stopping = false;
let exitCode: number | undefined;

async function stop(code: number, message?: string): Promise<never> {
  if (message) logError(message);
  stopping = true;
  exitCode ??= code;
  const clean = await shutdown.run();
  if (exitCode === 0 && clean) log('worker stopped');
  process.exit(exitCode === 0 && !clean ? 1 : exitCode);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    log(`${sig} received: stopping the worker`);
    void stop(0);
  });
}

async function main(): Promise<void> {
  const config = loadSettings();
  const missing = [!config.databaseUrl && 'DATABASE_URL', !config.temporalAddress && 'TEMPORAL_ADDRESS'].filter(Boolean);
  if (missing.length) {
    throw new PlatformError(
      `worker/main.ts needs ${missing.join(' and ')} (an external PostgreSQL and Temporal).\n` +
        '  For everything on this machine (embedded PostgreSQL, Temporal dev server), use `npm start`.',
      2,
    );
  }
  const databaseUrl = config.databaseUrl!;
  const temporalAddress = config.temporalAddress!;

  // Signals are handled here, in order; the SDK must not shut the worker down on its own.
  Runtime.install({ logger: new DefaultLogger('INFO'), shutdownSignals: [] });

  const db = createDb(databaseUrl, 20);
  shutdown.add('database connection pool', () => db.destroy());
  await checkDatabase(db, redactUrl(databaseUrl));
  await requireCurrentSchema(db);
  if (stopping) return;

  // Wait for Temporal with a clear message (the worker's own connection does not retry at start).
  const clientConnection = await connectTemporal({ address: temporalAddress, namespace: config.temporalNamespace, timeoutMs: 30_000, aborted: () => stopping });
  shutdown.add('Temporal client connection', () => clientConnection.close());
  if (stopping) return;
  const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
  const schedules = await ensureSchedules(client, config.taskQueue);
  if (schedules.length) log(`Temporal Schedules in place: ${schedules.join(', ')}`);
  const connection = await NativeConnection.connect({ address: temporalAddress });
  shutdown.add('Temporal connection', () => connection.close());

  const worker: Worker = await createWorker({
    connection,
    client,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    db,
    publicationWorkingDays: config.publicationWorkingDays,
  });
  // Run it at once, even if a stop was requested meanwhile: only a running worker releases its connection.
  const run = worker.run();
  shutdown.add(
    'Temporal worker',
    async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
    },
    60_000,
  );
  run.catch((e: unknown) => void stop(1, `the Temporal worker failed: ${describeError(e)}`));
  log(`worker polling task queue ${config.taskQueue} (Temporal ${temporalAddress}, namespace ${config.temporalNamespace}; PostgreSQL ${redactUrl(databaseUrl)})`);
}

main().catch((e: unknown) => {
  if (e instanceof PlatformError && e.exitCode === 0) return void stop(0);
  if (!(e instanceof PlatformError) && e instanceof Error && e.stack) console.error(e.stack);
  void stop(e instanceof PlatformError ? e.exitCode : 1, e instanceof PlatformError ? e.message : `the worker did not start: ${describeError(e)}`);
});
