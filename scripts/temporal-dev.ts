/**
 * Temporal for the entry points: the Temporal CLI dev server (its state kept across restarts, a server left behind
 * by a killed run stopped), and a client connection retried while the server starts.
 */
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../processes/search-attributes';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Connection } from '@temporalio/client';
import type { Config } from '../domain/config';
import { PlatformError, describeError, log, logError, sleep, type Log } from './platform';
import { nodeOwner, pidAlive, portInUse, procRead, stopLeftover } from './processes';

export interface TemporalDevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with its state in config.temporalDevDb (kept across restarts).
 * Its pid is kept beside the db file so that a server left behind by a killed run is stopped on the next start.
 */
export async function startTemporalDevServer(
  config: Config,
  cli: string,
  logFn: Log = log,
): Promise<TemporalDevServer & { exited: () => string | null }> {
  if (!fs.existsSync(cli)) {
    throw new PlatformError(
      `the Temporal CLI is not installed at ${cli}: run \`npm run tools\` (scripts/tools.sh), or set TEMPORAL_ADDRESS`,
    );
  }
  fs.mkdirSync(path.dirname(config.temporalDevDb), { recursive: true });
  const pidFile = `${config.temporalDevDb}.pid`;
  const previous = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : NaN);
  if (pidAlive(previous) && (procRead(previous, 'cmdline') ?? '').includes('start-dev')) {
    const owner = nodeOwner(previous);
    if (owner) {
      throw new PlatformError(
        `a Temporal dev server on ${config.temporalDevDb} is already running (pid ${previous}, started by process ${owner}).\n` +
          `  Is the platform already running? Stop it first (Ctrl-C in its terminal, or kill -TERM ${owner}).`,
      );
    }
    await stopLeftover(previous, 'a Temporal dev server', 'SIGTERM', logFn);
  }
  fs.rmSync(pidFile, { force: true });
  for (const [port, setting] of [
    [config.temporalDevPort, 'TEMPORAL_PORT'],
    [config.temporalUiPort, 'TEMPORAL_UI_PORT'],
  ] as const) {
    if (await portInUse('127.0.0.1', port)) {
      throw new PlatformError(
        `port ${port} is already in use by another program, so the Temporal dev server cannot start.\n` +
          `  Set ${setting} to a free port, or TEMPORAL_ADDRESS to use a running Temporal server.`,
      );
    }
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(config.temporalDevPort),
    '--ui-port',
    String(config.temporalUiPort),
    '--db-filename',
    config.temporalDevDb,
    '--namespace',
    config.temporalNamespace,
    '--log-level',
    'warn',
    // The platform's search attributes (processes/search-attributes.ts), so the Web UI finds a provider's processes.
    ...Object.values(SEARCH_ATTRIBUTES).flatMap((k) => [
      '--search-attribute',
      `${k.name}=${k.type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword'}`,
    ]),
    // A write-ahead log, synced at every commit: as durable as SQLite's default rollback journal (nothing
    // acknowledged is lost to a crash or a power cut) with one sync per commit instead of several. Measured with
    // 500 workflow starts (bench:obligations' opening): 7.5 s → 4.8–5.5 s on a 2-core machine.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=full',
  ];
  logFn(`starting the Temporal dev server (state in ${config.temporalDevDb})`);
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const recent: string[] = [];
  let exitDescription: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      exitDescription = `could not run ${cli}: ${e.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitDescription ??= signal ? `stopped by ${signal}` : `exited with code ${code}`;
      resolve();
    });
  });
  let stopping = false;
  const collect = (forward: boolean) => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > 30) recent.shift();
      // While it stops, its internal workers complain that the frontend is gone: not worth showing.
      if (forward && !stopping) console.error(`[temporal] ${line}`);
    }
  };
  child.stdout.on('data', collect(false)); // the start banner: the addresses are printed by the platform
  child.stderr.on('data', collect(true));
  if (child.pid) fs.writeFileSync(pidFile, String(child.pid));

  return {
    address: `127.0.0.1:${config.temporalDevPort}`,
    uiUrl: `http://127.0.0.1:${config.temporalUiPort}`,
    exited: () =>
      exitDescription === null ? null : `${exitDescription}${recent.length ? `; its last output:\n  ${recent.join('\n  ')}` : ''}`,
    stop: async () => {
      if (exitDescription === null) {
        stopping = true;
        child.kill('SIGTERM');
        const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
        if (!stopped) {
          logError('the Temporal dev server did not stop within 20 s: killing it');
          child.kill('SIGKILL');
          await exited;
        }
      }
      fs.rmSync(pidFile, { force: true });
    },
  };
}

/**
 * A Temporal client connection, retried until `timeoutMs`: the server may still be starting. Fails with a clear
 * message when it never answers, when the dev server process exits, or when the namespace does not exist.
 */
export async function connectTemporal(opts: {
  address: string;
  namespace: string;
  timeoutMs: number;
  /** The namespace is being created (dev server starting): keep waiting for it instead of failing. */
  namespaceMayAppear?: boolean;
  /** Why the server process is gone, or null while it runs. */
  serverExited?: () => string | null;
  aborted?: () => boolean;
  /**
   * Attempts of each call while Temporal is unavailable (the client's default is 10, about 20 s): a request path
   * takes few, so that an outage is answered 503 at once instead of after the retries.
   */
  callAttempts?: number;
}): Promise<Connection> {
  const { Connection, isGrpcServiceError, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } = await import('@temporalio/client');
  const interceptors = opts.callAttempts
    ? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: opts.callAttempts }))]
    : undefined;
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (opts.aborted?.()) throw new PlatformError('start interrupted', 0);
    const gone = opts.serverExited?.();
    if (gone) throw new PlatformError(`the Temporal dev server stopped while starting: ${gone}`);
    const connection = Connection.lazy({ address: opts.address, connectTimeout: '2s', ...(interceptors ? { interceptors } : {}) });
    try {
      await connection.ensureConnected();
      await connection.workflowService.describeNamespace({ namespace: opts.namespace });
      return connection;
    } catch (e) {
      await connection.close().catch(() => undefined);
      lastError = e;
      if (isGrpcServiceError(e) && e.code === 5 /* NOT_FOUND */ && !opts.namespaceMayAppear) {
        throw new PlatformError(
          `the Temporal server at ${opts.address} has no namespace "${opts.namespace}": create it, or set TEMPORAL_NAMESPACE`,
        );
      }
    }
    if (Date.now() > deadline) {
      throw new PlatformError(
        `Temporal at ${opts.address} did not answer within ${Math.round(opts.timeoutMs / 1000)} s (${describeError(lastError)}).\n` +
          `  Check that the server is running and reachable (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).`,
      );
    }
    await sleep(500);
  }
}
