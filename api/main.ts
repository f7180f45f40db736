/**
 * Production entry point of the HTTP API: one stateless process; run as many copies as needed behind a load
 * balancer, against an external PostgreSQL (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS). It does not migrate:
 * run `npm run migrate` before starting a new version. SIGTERM / SIGINT: stop accepting connections, finish the
 * requests in flight, close the Temporal connection and the database pool, exit 0.
 */
import { Client } from '@temporalio/client';
import { describeError, log, redactUrl } from '../scripts/platform';
import { connectTemporal } from '../scripts/temporal-dev';
import { closeServer, httpUrl, listen } from '../scripts/http';
import { runService } from '../scripts/service';
import { startChangeFeed } from '../db/changes';
import { startAuditChainer } from '../db/audit-chainer';
import { auditChainIntervalMs, metricsSettings } from '../domain/config';
import { registry, serveMetrics } from '../ops/metrics';
import { registerPlatformGauges } from './metrics';
import { createApp } from './app';
import { startSubmissionReconciler } from '../processes/starts';
import { enableSearchAttributes } from '../processes/search-attributes';

runService(
  'API',
  'api/main.ts',
  async ({ config, databaseUrl, temporalAddress, db, shutdown, stopping, fail }) => {
    const connection = await connectTemporal({
      address: temporalAddress,
      namespace: config.temporalNamespace,
      timeoutMs: 30_000,
      aborted: stopping,
      // A request waits at most about a second on an unavailable Temporal, then is answered 503 (api/errors.ts).
      callAttempts: 4,
    });
    shutdown.add('Temporal client connection', () => connection.close());
    if (stopping()) return;

    // Caches of keys and the calendar follow changes made by any process (db/changes.ts).
    const feed = await startChangeFeed(db, log);
    shutdown.add('change feed', () => feed.stop());
    // Audit entries written by any process are chained in order (db/audit-chainer.ts).
    const stopChainer = startAuditChainer(db, log, auditChainIntervalMs());
    shutdown.add('audit chainer', stopChainer);
    const temporal = new Client({ connection, namespace: config.temporalNamespace });
    // The processes it starts carry the search attributes, where the namespace has them (processes/search-attributes.ts).
    if (!(await enableSearchAttributes(temporal)))
      log(
        "Temporal 命名空间未登记平台的搜索属性 / the namespace lacks the platform's search attributes: npm run temporal:search-attributes",
      );
    const app = createApp({ db, temporal, config });
    // Submissions stored while Temporal was unreachable get their workflow when it is back.
    const stopReconciler = startSubmissionReconciler(db, temporal, config.taskQueue);
    shutdown.add('submission workflow reconciler', async () => stopReconciler());
    // GET /metrics on a port of its own (ops/metrics.ts): the process's, the HTTP routes', intake's and the database's.
    const metrics = metricsSettings('api');
    if (metrics.port > 0) {
      registerPlatformGauges(db);
      const metricsServer = await serveMetrics(registry, metrics.host, metrics.port);
      shutdown.add('metrics server', () => closeServer(metricsServer));
      log(`metrics on ${httpUrl(metrics.host, metrics.port, '/metrics')}`);
    }
    const server = await listen(app, config.apiHost, config.apiPort);
    shutdown.add('HTTP server', () => closeServer(server), 15_000);
    server.on('error', (e) => fail(`the HTTP server failed: ${describeError(e)}`));
    log(
      `API listening on ${httpUrl(config.apiHost, config.apiPort)} (docs ${httpUrl(config.apiHost, config.apiPort, '/docs')}); ` +
        `PostgreSQL ${redactUrl(databaseUrl)}; Temporal ${temporalAddress}, namespace ${config.temporalNamespace}`,
    );
  },
  // The API's statements are bounded (PG_STATEMENT_TIMEOUT_MS): a stalled one is answered 503, not held.
  { boundStatements: true },
);
