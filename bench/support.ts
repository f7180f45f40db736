/**
 * Helpers of bench/ingest.ts: settings, free ports, the row generator (CSV for the API, COPY text for the
 * baseline: the same rows), the API child process, /proc readings and the self-supervision that keeps Ctrl-C
 * away from the child processes until the bench has stopped them in order.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { v7 as uuidv7 } from 'uuid';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createDb } from '../db/knex';
import { withUsccCheck } from '../domain/identifiers';
import { ROOT, TEMPORAL_CLI, type Config } from '../domain/config';
import { Shutdown, describeError } from '../scripts/platform';
import { providePostgres, type Postgres } from '../scripts/postgres';
import { connectTemporal, startTemporalDevServer } from '../scripts/temporal-dev';

// ─── Settings ────────────────────────────────────────────────────────────────────────────────────────────────

export interface BenchSettings {
  rows: number;
  /** Measurements of each kind; the best is kept. */
  runs: number;
  /** Folder for a CPU profile (and a heap profile) of the API child, or null. */
  profileDir: string | null;
}

export class UsageError extends Error {}

/** The USCC stem has 7 digits for the row number. */
export const MAX_ROWS = 9_999_999;

function positiveInt(raw: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const cleaned = raw.trim().replace(/[_,]/g, '');
  const n = /^\d+(\.\d+)?e\d+$/i.test(cleaned) ? Number(cleaned) : /^\d+$/.test(cleaned) ? Number(cleaned) : NaN;
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new UsageError(`${what} must be a whole number between 1 and ${max} (got ${raw})`);
  return n;
}

export const USAGE = `usage: npm run bench:ingest -- [--rows N] [--runs K] [--profile [DIR]]
  --rows N      rows per batch (default 100000; env BENCH_ROWS)
  --runs K      measurements of each kind, the best is kept (default 2; env BENCH_RUNS)
  --profile     write a CPU profile and a heap profile of the API process to DIR (default .data/bench-profiles)
env: DATABASE_URL (a fresh database qz_bench is created on that server and dropped at the end; otherwise an
     embedded PostgreSQL in .data/bench-postgres), TEMPORAL_ADDRESS (otherwise a Temporal CLI dev server)`;

export function parseSettings(argv: string[], env: NodeJS.ProcessEnv): BenchSettings {
  let rows = env.BENCH_ROWS ? positiveInt(env.BENCH_ROWS, 'BENCH_ROWS', MAX_ROWS) : 100_000;
  let runs = env.BENCH_RUNS ? positiveInt(env.BENCH_RUNS, 'BENCH_RUNS', 20) : 2;
  let profileDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] =
      argv[i].startsWith('--') && argv[i].includes('=')
        ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
        : [argv[i], undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--rows':
      case '-n':
        rows = positiveInt(value(), '--rows', MAX_ROWS);
        break;
      case '--runs':
        runs = positiveInt(value(), '--runs', 20);
        break;
      case '--profile':
        profileDir = path.resolve(ROOT, inline ?? (argv[i + 1] && !argv[i + 1].startsWith('-') ? argv[++i] : '.data/bench-profiles'));
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown argument ${argv[i]}`);
    }
  }
  return { rows, runs, profileDir };
}

// ─── Ports, databases, files ─────────────────────────────────────────────────────────────────────────────────

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** Drops (if left by an earlier run) and creates `name` on the server of `serverUrl`. */
export async function createFreshDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = createDb(serverUrl, 1);
  try {
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    await admin.raw('CREATE DATABASE ??', [name]);
  } finally {
    await admin.destroy();
  }
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = createDb(serverUrl, 1);
  try {
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
  } finally {
    await admin.destroy();
  }
}

/** True when a live `postgres` process holds `dir`'s postmaster.pid (a server left by a killed run). */
export function postgresRunsOn(dir: string): boolean {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
}

export function removeFolder(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

// ─── /proc and the machine ───────────────────────────────────────────────────────────────────────────────────

/** A `kB` field of /proc/<pid>/status (VmHWM = peak resident set, VmRSS = now), in kB, or null. */
export function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS' | 'VmPeak'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) the process has used so far, in ms (USER_HZ is 100 on Linux), or null. */
export function procCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14 and 15 of the full line)
  } catch {
    return null;
  }
}

/**
 * CPU time (ms) used so far by PostgreSQL: every process named `postgres` (the server and its backends), plus what
 * the server's exited backends used (its reaped children's time), so a connection closed between two readings still
 * counts.
 */
export function postgresCpuMs(): number {
  const procs = new Map<number, { ppid: number; self: number; children: number }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // ppid is field 4 of the full line; utime, stime, cutime, cstime fields 14–17 (USER_HZ 100).
      procs.set(Number(entry), {
        ppid: Number(f[1]),
        self: (Number(f[11]) + Number(f[12])) * 10,
        children: (Number(f[13]) + Number(f[14])) * 10,
      });
    } catch {
      continue;
    }
  }
  let total = 0;
  for (const p of procs.values()) total += p.self + (procs.has(p.ppid) ? 0 : p.children);
  return total;
}

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return `${cpus.length} cores (${model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}`;
}

/** The 1-minute load average: other work on the machine makes the numbers noisy. */
export const loadAverage = () => os.loadavg()[0].toFixed(2);

// ─── Rows ────────────────────────────────────────────────────────────────────────────────────────────────────

/** The previous calendar month in Asia/Shanghai (a monthly period that has begun), e.g. 2026-10. */
export function previousMonthPeriod(now = new Date()): string {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .format(now)
    .split('-')
    .map(Number);
  const py = m === 1 ? y - 1 : y;
  const pm = m === 1 ? 12 : m - 1;
  return `${py}-${String(pm).padStart(2, '0')}`;
}

/** The fields of bench row i (E-PENALTY of enterprise i): one generator for both paths. */
export interface BenchRow {
  subjectId: string;
  decisionNo: string;
}

export const ITEM_CODE = 'E-PENALTY';
const VIOLATION = '虚假宣传';
const PENALTY = '罚款';
const AUTHORITY = '钦州市市场监督管理局';

export function benchRow(i: number): BenchRow {
  return { subjectId: withUsccCheck(`91450700MA${String(i).padStart(7, '0')}`), decisionNo: `钦市监罚〔2026〕${i}号` };
}

export const CSV_HEADER = 'item_code,subject_id,event_date,decision_no,violation,penalty,authority\n';

export function csvLine(r: BenchRow, eventDate: string): string {
  return `${ITEM_CODE},${r.subjectId},${eventDate},${r.decisionNo},${VIOLATION},${PENALTY},${AUTHORITY}\n`;
}

/** The columns db/intake.ts copies, in its order. */
export const COPY_SQL =
  'COPY records (record_key, submission_id, provider_id, item_code, subject_type, subject_id, payload, event_date, concluded_date, valid_until, lifted_date, created_by, hash) FROM STDIN';

/**
 * The line the API stores for a CSV row: a time-ordered key, the payload with its keys sorted (no backslashes to
 * escape) and a content hash of the same length (not computed: the baselines measure PostgreSQL, the API's hashing
 * is part of what the API costs).
 */
export function copyLine(r: BenchRow, eventDate: string, submissionId: string, providerId: number, createdBy: string): string {
  const payload = JSON.stringify({ authority: AUTHORITY, decision_no: r.decisionNo, penalty: PENALTY, violation: VIOLATION });
  const hash = r.subjectId.padStart(64, '0');
  return `${uuidv7()}\t${submissionId}\t${providerId}\t${ITEM_CODE}\tenterprise\t${r.subjectId}\t${payload}\t${eventDate}\t\\N\t\\N\t\\N\t${createdBy}\t${hash}\n`;
}

/**
 * Rows 1..n produced on demand, `rowsPerChunk` at a time (about 64 KB), with an optional first line: the body
 * never exists in memory as a whole. `started` is the time the first chunk was handed over.
 */
export class RowSource extends Readable {
  private next = 1;
  private headerSent = false;
  started: number | null = null;
  bytes = 0;

  constructor(
    private readonly n: number,
    private readonly line: (r: BenchRow) => string,
    private readonly header = '',
    private readonly rowsPerChunk = 512,
  ) {
    super({ highWaterMark: 1 << 16 });
  }

  override _read(): void {
    let s = '';
    if (!this.headerSent) {
      s = this.header;
      this.headerSent = true;
    }
    const end = Math.min(this.n, this.next + this.rowsPerChunk - 1);
    for (; this.next <= end; this.next++) s += this.line(benchRow(this.next));
    if (s) {
      const buf = Buffer.from(s, 'utf8');
      this.bytes += buf.length;
      this.started ??= performance.now();
      this.push(buf);
    }
    if (this.next > this.n) this.push(null);
  }
}

// ─── The API child process ───────────────────────────────────────────────────────────────────────────────────

export interface ApiChild {
  pid: number;
  port: number;
  /** Why it exited, or null while it runs. */
  exited(): string | null;
  /** Resolves once GET /health answers 200. */
  ready(timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** Its last lines of output (for a failure report). */
  recentOutput(): string;
}

export function spawnApi(opts: { env: Record<string, string>; port: number; nodeArgs?: string[]; log: (m: string) => void }): ApiChild {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, PORT: String(opts.port), HOST: '127.0.0.1' };
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'api/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!child.pid) throw new Error('the API process did not start');
  const recent: string[] = [];
  let exitDescription: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      exitDescription ??= `could not start: ${e.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitDescription ??= signal ? `stopped by ${signal}` : `exited with code ${code}`;
      resolve();
    });
  });
  let quiet = false;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > 40) recent.shift();
      if (!quiet && /error|fail|deferred/i.test(line)) opts.log(`api: ${line}`);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  return {
    pid: child.pid,
    port: opts.port,
    exited: () => exitDescription,
    recentOutput: () => recent.join('\n  '),
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitDescription !== null) throw new Error(`the API process ${exitDescription}; its last output:\n  ${recent.join('\n  ')}`);
        const status = await new Promise<number>((resolve) => {
          const req = http.get({ host: '127.0.0.1', port: opts.port, path: '/health', agent: false, timeout: 1000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(0));
        });
        if (status === 200) return;
        if (Date.now() > deadline)
          throw new Error(
            `the API did not answer on port ${opts.port} within ${timeoutMs / 1000} s; its last output:\n  ${recent.join('\n  ')}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop(graceMs = 20_000) {
      quiet = true;
      if (exitDescription !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!stopped) {
        opts.log(`the API process (pid ${child.pid}) did not stop within ${graceMs / 1000} s: killing it`);
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ─── Supervision ─────────────────────────────────────────────────────────────────────────────────────────────

const SUPERVISED = 'QZ_BENCH_SUPERVISED';

/**
 * Ctrl-C signals the terminal's whole foreground process group, which would stop PostgreSQL, the Temporal dev
 * server and the API before the bench stops them in order (as scripts/start.ts explains). So the bench runs in a
 * process group of its own, and this process turns the first Ctrl-C into one SIGTERM for it and exits with its
 * exit code. Returns true in the supervised process (which should run the bench).
 */
export function superviseSelf(entry: string): boolean {
  if (process.env[SUPERVISED] === '1') return true;
  const child = fork(entry, process.argv.slice(2), {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [SUPERVISED]: '1' },
  });
  let stoppingSince = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // tsx relays the terminal's signal a moment after it arrived directly: not a second Ctrl-C
      if (Date.now() - stoppingSince > 1000) console.log(`[bench] ${signal}: already stopping, please wait`);
      return;
    }
    stoppingSince = Date.now();
    child.kill('SIGTERM');
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  child.on('error', (e) => {
    console.error(`[bench] could not start the bench process: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) console.error(`[bench] the bench process was killed by ${signal}`);
    process.exit(code ?? 1);
  });
  return false;
}

// ─── Formatting ──────────────────────────────────────────────────────────────────────────────────────────────

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const mb = (kb: number | null) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

/**
 * A fresh database for a benchmark, dropped at the end: `benchDb` on DATABASE_URL's server, or on a fresh embedded
 * PostgreSQL in `pgDir` on a free port (the folder removed at the end). Registers its own clean-up on `shutdown`.
 */
export async function provideBenchDatabase(opts: {
  config: Config;
  shutdown: Shutdown;
  benchDb: string;
  pgDir: string;
  log: (m: string) => void;
}): Promise<{ server: Postgres; url: string }> {
  const { config, shutdown, benchDb, pgDir, log } = opts;
  let server: Postgres;
  if (config.databaseUrl) {
    if (databaseOf(config.databaseUrl) === benchDb) {
      throw new UsageError(`DATABASE_URL names the database ${benchDb}, which the bench drops: point it at another database of the server`);
    }
    server = await providePostgres(config, { join: false, log });
  } else {
    shutdown.add('bench PostgreSQL folder', async () => removeFolder(pgDir));
    if (!postgresRunsOn(pgDir)) removeFolder(pgDir); // a server left running is stopped by providePostgres
    server = await providePostgres({ ...config, embeddedPgDir: pgDir, embeddedPgPort: await freePort() }, { join: false, log });
    shutdown.add('embedded PostgreSQL', () => server.stop(), 60_000);
  }
  await createFreshDatabase(server.adminUrl ?? server.url, benchDb);
  shutdown.add(`database ${benchDb}`, () => dropDatabase(server.adminUrl ?? server.url, benchDb));
  return { server, url: withDatabase(server.adminUrl ?? server.url, benchDb) };
}

/**
 * Temporal for a benchmark: TEMPORAL_ADDRESS, or a fresh Temporal CLI dev server with its state in `dir` on free
 * ports (stopped and removed at the end). `exited` is set for a dev server (it tells why it stopped, if it did).
 */
export async function provideBenchTemporal(opts: {
  config: Config;
  shutdown: Shutdown;
  dir: string;
  log: (m: string) => void;
  /** Wait until a fresh dev server serves the namespace (for a bench whose API connects to it at start). */
  ready?: boolean;
}): Promise<{ address: string; exited?: () => string | null }> {
  const { config, shutdown, dir, log } = opts;
  if (config.temporalAddress) return { address: config.temporalAddress };
  shutdown.add('bench Temporal folder', async () => removeFolder(dir));
  removeFolder(dir);
  const dev = await startTemporalDevServer(
    { ...config, temporalDevDb: path.join(dir, 'temporal.db'), temporalDevPort: await freePort(), temporalUiPort: await freePort() },
    TEMPORAL_CLI,
    log,
  );
  shutdown.add('Temporal dev server', dev.stop, 30_000);
  if (opts.ready) {
    const c = await connectTemporal({
      address: dev.address,
      namespace: config.temporalNamespace,
      timeoutMs: 90_000,
      namespaceMayAppear: true,
      serverExited: dev.exited,
    });
    await c.close();
  }
  return { address: dev.address, exited: dev.exited };
}

/** A positive whole number from `--name N` or BENCH_NAME (underscores and commas allowed: 1_000_000). */
export function positiveArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[`BENCH_${name.toUpperCase()}`];
  if (raw === undefined) return fallback;
  const n = Number(String(raw).replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
}

/**
 * Runs a benchmark's `main` with an ordered clean-up: on success, failure or SIGINT/SIGTERM everything `main`
 * registered on the shutdown is stopped, then the process exits (0, 1 on failure, 130 on a signal).
 */
export function runBench(main: (shutdown: Shutdown) => Promise<void>, log: (m: string) => void): void {
  const shutdown = new Shutdown();
  let stopping = false;
  const finish = async (code: number, message?: string): Promise<never> => {
    if (message) (code === 0 ? log : console.error)(message);
    stopping = true;
    await shutdown.run(log);
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void (stopping || finish(130, `${sig}: stopping`)));
  main(shutdown).then(
    () => finish(0),
    (e: unknown) => finish(1, `FAILED: ${describeError(e)}`),
  );
}
