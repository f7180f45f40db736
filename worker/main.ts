/**
 * Production entry point of the Temporal worker: one stateless process; run as many copies as needed against an
 * external Temporal (TEMPORAL_ADDRESS) and PostgreSQL (DATABASE_URL). It does not migrate: run `npm run migrate`
 * before starting a new version. It puts the platform's Temporal Schedules in place. SIGTERM / SIGINT: the worker
 * stops polling, lets the activities in flight finish, then the connections close and the process exits 0.
 */
import { enableSearchAttributes } from '../processes/search-attributes';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { describeError, log, redactUrl } from '../scripts/platform';
import { connectTemporal } from '../scripts/temporal-dev';
import { runService } from '../scripts/service';
import { startChangeFeed } from '../db/changes';
import { startAuditChainer } from '../db/audit-chainer';
import { auditChainIntervalMs, metricsSettings } from '../domain/config';
import { registry, serveMetrics } from '../ops/metrics';
import { closeServer } from '../scripts/http';
import { installTemporalRuntime } from './runtime';
import { ensureSchedules } from './schedules';
import { createWorker } from './worker';

runService('worker', 'worker/main.ts', async ({ config, databaseUrl, temporalAddress, db, shutdown, stopping, fail }) => {
  // The SDK's logs through the platform's (pino); its own worker metrics on TEMPORAL_METRICS_PORT. Signals are handled
  // by runService, in order: the SDK must not shut the worker down on its own.
  installTemporalRuntime('INFO', metricsSettings('temporal'));
  const metrics = metricsSettings('worker');
  if (metrics.port > 0) {
    const metricsServer = await serveMetrics(registry, metrics.host, metrics.port);
    shutdown.add('metrics server', () => closeServer(metricsServer));
    log(`metrics on http://${metrics.host}:${metrics.port}/metrics`);
  }

  // Wait for Temporal with a clear message (the worker's own connection does not retry at start).
  const clientConnection = await connectTemporal({
    address: temporalAddress,
    namespace: config.temporalNamespace,
    timeoutMs: 30_000,
    aborted: stopping,
  });
  shutdown.add('Temporal client connection', () => clientConnection.close());
  if (stopping()) return;
  const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
  // The processes it starts carry the search attributes, where the namespace has them (processes/search-attributes.ts).
  if (!(await enableSearchAttributes(client)))
    log("Temporal 命名空间未登记平台的搜索属性 / the namespace lacks the platform's search attributes: npm run temporal:search-attributes");
  const schedules = await ensureSchedules(client, config.taskQueue);
  if (schedules.length) log(`Temporal Schedules in place: ${schedules.join(', ')}`);
  const connection = await NativeConnection.connect({ address: temporalAddress });
  shutdown.add('Temporal connection', () => connection.close());

  // The activities' working-day calendar is cached while the process hears changes (db/changes.ts).
  const feed = await startChangeFeed(db, log);
  shutdown.add('change feed', () => feed.stop());
  // Audit entries written by any process are chained in order (db/audit-chainer.ts).
  const stopChainer = startAuditChainer(db, log, auditChainIntervalMs());
  shutdown.add('audit chainer', stopChainer);

  const worker = await createWorker({
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
  run.catch((e: unknown) => fail(`the Temporal worker failed: ${describeError(e)}`));
  log(
    `worker polling task queue ${config.taskQueue} (Temporal ${temporalAddress}, namespace ${config.temporalNamespace}; PostgreSQL ${redactUrl(databaseUrl)})`,
  );
});
