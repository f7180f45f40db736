/**
 * `npm start`: the whole platform on this machine, in one command.
 *
 *   PostgreSQL  DATABASE_URL, or the embedded server (data in PG_DATA_DIR, default .data/postgres)
 *   schema      migrated; an empty database is seeded (catalog, providers, calendar)
 *   Temporal    TEMPORAL_ADDRESS, or the Temporal CLI dev server (state in TEMPORAL_DB_FILE, default .data/temporal.db)
 *   worker      the Temporal worker of the platform's task queue
 *   API         HTTP on HOST:PORT (default 127.0.0.1:3000), docs at /docs
 *
 * Ctrl-C (or SIGTERM) stops everything in order: HTTP server, worker, Temporal connections, database pool,
 * Temporal dev server, embedded PostgreSQL; the process then exits 0. Data is kept for the next start.
 *
 * Two processes: this one (in the terminal's process group) supervises a second one that runs the platform in a
 * process group of its own. Ctrl-C in a terminal signals the whole foreground group; without this separation
 * PostgreSQL and the Temporal dev server, children of the platform, would receive it too and stop before the
 * worker and the API that use them. The supervisor turns the first Ctrl-C into one SIGTERM for the platform and
 * exits with its exit code; if the supervisor disappears, the platform stops itself the same way.
 */
import { fork } from 'node:child_process';
import type { Server } from 'node:http';
import { serviceUsage, startCommand } from './cli';

if (!process.env.TZ) process.env.TZ = 'Asia/Shanghai';
// --help, and every setting checked before anything starts: a refused one is one line and exit 2 (scripts/cli.ts).
startCommand(
  'platform',
  serviceUsage('npm start', {
    zh: '在本机启动整个平台：PostgreSQL（DATABASE_URL 或内嵌）、迁移、Temporal（TEMPORAL_ADDRESS 或开发服务器）、worker 与 API',
    en: 'the whole platform on this machine: PostgreSQL (DATABASE_URL or embedded), migrations, Temporal (TEMPORAL_ADDRESS or the dev server), worker and API',
  }),
);

const SUPERVISED = 'QZ_PLATFORM_SUPERVISED';

if (process.env[SUPERVISED] === '1') {
  void runPlatform();
} else {
  supervise();
}

function supervise(): void {
  const child = fork(__filename, process.argv.slice(2), {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [SUPERVISED]: '1' },
  });
  let stoppingSince = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // tsx may relay the terminal's signal a moment after it arrived directly: not a second Ctrl-C
      if (Date.now() - stoppingSince > 1000) console.log(`[platform] ${signal}: already stopping, please wait`);
      return;
    }
    stoppingSince = Date.now();
    child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal); // the platform reports it and stops
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  child.on('error', (e) => {
    console.error(`[platform] could not start the platform process: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) console.error(`[platform] the platform process was killed by ${signal}`);
    process.exit(code ?? 1);
  });
}

async function runPlatform(): Promise<void> {
  const platform = await import('./platform');
  const processes = await import('./processes');
  const postgres = await import('./postgres');
  const temporalDev = await import('./temporal-dev');
  const httpServer = await import('./http');
  const { PlatformError, Shutdown, describeError, log, logError } = platform;
  const shutdown = new Shutdown();

  let stopReason: string | undefined;
  let running = false;
  let exitCode: number | undefined;
  const finish = async (code: number, message?: string) => {
    if (message) logError(message);
    stopReason ??= 'failure';
    exitCode ??= code; // the first reason to stop decides the exit code
    const clean = await shutdown.run();
    if (exitCode === 0 && clean) log('stopped');
    process.exit(exitCode === 0 && !clean ? 1 : exitCode);
  };
  const requestStop = (reason: string) => {
    if (stopReason) return;
    stopReason = reason;
    log(`${reason}: stopping`);
    if (running) void finish(0);
    // while starting, the start sequence notices `stopReason` after its current step and stops what it started
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => requestStop(`${sig} received`));
  process.on('disconnect', () => requestStop('the npm start process is gone'));
  const interrupted = () => {
    if (stopReason) throw new PlatformError('start interrupted', 0);
  };

  try {
    const { TEMPORAL_CLI } = await import('../domain/config');
    const config = platform.loadSettings();
    const probeHost = ['0.0.0.0', '::', ''].includes(config.apiHost) ? '127.0.0.1' : config.apiHost;
    if (await processes.portInUse(probeHost, config.apiPort)) {
      throw new PlatformError(
        `port ${config.apiPort} on ${config.apiHost} is already in use (is the platform already running?): set PORT to another port`,
      );
    }

    // PostgreSQL, schema and seed
    const pg = await postgres.providePostgres(config, { join: false });
    if (pg.embedded) shutdown.add('embedded PostgreSQL', () => pg.stop(), 60_000);
    interrupted();
    const { createDb } = await import('../db/knex');
    // One pool for the worker and the API: statements bounded as the API's are (the worker's steps are chunked).
    const { dbSessionSettings } = await import('../domain/config');
    const db = createDb(pg.url, 20, { statementTimeoutMs: dbSessionSettings().statementTimeoutMs });
    shutdown.add('database connection pool', () => db.destroy());
    await postgres.checkDatabase(db, pg.location);
    // The seal (db/seal.ts) is read, or made, before the first audit entry is written.
    const { checkpointLogOf, processSeal } = await import('../db/seal');
    const { sealSettings } = await import('../domain/config');
    const seal = processSeal();
    log(`seal key ${sealSettings().keyFile} (key id ${seal.keyId}); signed checkpoints to ${checkpointLogOf(db)}`);
    // Migrations run as the owner; the platform as its runtime role (db/roles.ts).
    const owner = createDb(pg.ownerUrl, 1);
    try {
      await postgres.migrateAndSeed(owner);
    } finally {
      await owner.destroy();
    }
    // Caches of keys and the calendar follow changes made by any process (db/changes.ts).
    const { startChangeFeed } = await import('../db/changes');
    const feed = await startChangeFeed(db, platform.log);
    shutdown.add('change feed', () => feed.stop());
    // Audit entries are chained in order, apart from the transactions that write them (db/audit-chainer.ts).
    const { startAuditChainer } = await import('../db/audit-chainer');
    const { auditChainIntervalMs } = await import('../domain/config');
    const stopChainer = startAuditChainer(db, platform.log, auditChainIntervalMs());
    shutdown.add('audit chainer', stopChainer);
    interrupted();

    // Temporal
    let temporalAddress = config.temporalAddress;
    let dev: Awaited<ReturnType<typeof temporalDev.startTemporalDevServer>> | undefined;
    if (!temporalAddress) {
      dev = await temporalDev.startTemporalDevServer(config, TEMPORAL_CLI);
      shutdown.add('Temporal dev server', dev.stop, 30_000);
      temporalAddress = dev.address;
    }
    log(`waiting for Temporal at ${temporalAddress}`);
    const connection = await temporalDev.connectTemporal({
      address: temporalAddress,
      namespace: config.temporalNamespace,
      timeoutMs: dev ? 90_000 : 30_000,
      namespaceMayAppear: dev !== undefined,
      serverExited: dev?.exited,
      aborted: () => stopReason !== undefined,
    });
    shutdown.add('Temporal client connection', () => connection.close());
    interrupted();

    // Worker
    const { NativeConnection } = await import('@temporalio/worker');
    // The SDK's logs through the platform's, at WARN; its worker metrics on TEMPORAL_METRICS_PORT. Signals are ours: the
    // SDK must not start its own worker shutdown on SIGINT/SIGTERM.
    const { installTemporalRuntime } = await import('../worker/runtime');
    const { metricsSettings } = await import('../domain/config');
    installTemporalRuntime('WARN', metricsSettings('temporal'));
    const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    shutdown.add('Temporal worker connection', () => nativeConnection.close());
    const { Client } = await import('@temporalio/client');
    const client = new Client({ connection, namespace: config.temporalNamespace });
    // A dev server started here has the search attributes; an external one may not (npm run temporal:search-attributes).
    const { enableSearchAttributes } = await import('../processes/search-attributes');
    if (!(await enableSearchAttributes(client)))
      log(
        "Temporal 命名空间未登记平台的搜索属性 / the namespace lacks the platform's search attributes: npm run temporal:search-attributes",
      );
    const { ensureSchedules } = await import('../worker/schedules');
    const schedules = await ensureSchedules(client, config.taskQueue);
    if (schedules.length) log(`Temporal Schedules in place: ${schedules.join(', ')}`);
    const { createWorker } = await import('../worker/worker');
    log('preparing the Temporal worker (bundling the workflows)');
    const worker = await createWorker({
      connection: nativeConnection,
      client,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      db,
      publicationWorkingDays: config.publicationWorkingDays,
    });
    // Run it at once, even if a stop was requested meanwhile: only a running worker releases its connection.
    const workerRun = worker.run();
    shutdown.add(
      'Temporal worker',
      async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
      },
      60_000,
    );
    workerRun.catch((e: unknown) => {
      if (!shutdown.started) void finish(1, `the Temporal worker failed: ${describeError(e)}`);
    });
    interrupted();

    // API
    const { createApp } = await import('../api/app');
    const app = createApp({ db, temporal: client, config });
    const { startSubmissionReconciler } = await import('../processes/starts');
    const stopReconciler = startSubmissionReconciler(db, client, config.taskQueue);
    shutdown.add('submission workflow reconciler', async () => stopReconciler());
    // One GET /metrics for the whole platform of this machine (API and worker share the process).
    const metrics = metricsSettings('api');
    if (metrics.port > 0) {
      const { registry, serveMetrics } = await import('../ops/metrics');
      const { registerPlatformGauges } = await import('../api/metrics');
      registerPlatformGauges(db);
      const metricsServer = await serveMetrics(registry, metrics.host, metrics.port);
      shutdown.add('metrics server', () => httpServer.closeServer(metricsServer));
    }
    const server: Server = await httpServer.listen(app, config.apiHost, config.apiPort);
    shutdown.add('HTTP server', () => httpServer.closeServer(server), 15_000);
    server.on('error', (e) => {
      if (!shutdown.started) void finish(1, `the HTTP server failed: ${describeError(e)}`);
    });
    interrupted();

    const api = (p = '') => httpServer.httpUrl(config.apiHost, config.apiPort, p);
    const lines = [
      '',
      '钦州市信用信息共享平台 已启动 / Qinzhou credit information sharing platform is running',
      `  API:              ${api()}`,
      `  API docs:         ${api('/docs')}`,
      `  OpenAPI JSON:     ${api('/openapi.json')}`,
      `  Temporal:         ${temporalAddress} (namespace ${config.temporalNamespace}, task queue ${config.taskQueue})`,
      ...(dev ? [`  Temporal Web UI:  ${dev.uiUrl}`, `  Temporal state:   ${config.temporalDevDb}`] : []),
      `  PostgreSQL:       ${pg.location}`,
      '',
      'Create the first administrator API key (shown once) / 创建首个管理员密钥：',
      '  npm run key -- --role admin --name "平台管理员"',
      'Press Ctrl-C to stop / 按 Ctrl-C 停止.',
      '',
    ];
    console.log(lines.join('\n'));
    running = true;
    if (stopReason) void finish(0);
  } catch (e) {
    if (e instanceof PlatformError && e.exitCode === 0) {
      await finish(0);
    } else {
      const message = e instanceof PlatformError ? e.message : `the platform did not start: ${describeError(e)}`;
      if (!(e instanceof PlatformError) && e instanceof Error && e.stack) console.error(e.stack);
      await finish(e instanceof PlatformError ? e.exitCode : 1, message);
    }
  }
}
