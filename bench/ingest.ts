/**
 * `npm run bench:ingest [-- --rows N]`: the collection path (POST /submissions, text/csv, one chunked request)
 * against two baselines in the same run: a raw PostgreSQL COPY of the same rows into the same table (`records`, its
 * indexes and triggers), and the same COPY into a bare table of the same columns with no index, key or trigger
 * (`bench_records_bare`: what PostgreSQL itself can take). Then two uploads at once, for the API's peak memory.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench on that server, dropped at the end; otherwise a fresh
 *               embedded PostgreSQL in .data/bench-postgres on a free port, removed at the end. Migrated, seeded.
 *   Temporal    TEMPORAL_ADDRESS, or a Temporal CLI dev server on free ports (state in .data/bench-temporal,
 *               removed at the end). No worker: the API only starts each submission's workflow (on a task queue
 *               of the bench's own, so no real worker picks them up).
 *   API         `node --import tsx api/main.ts` as a child process (free port, 127.0.0.1): its peak RSS is
 *               VmHWM of /proc/<pid>/status.
 *
 * Method. Each round runs the bare COPY, the raw COPY and the API, each from the same table state: before every
 * measurement `TRUNCATE records, submissions, idempotency_keys, enterprises, bench_records_bare CASCADE` and a
 * CHECKPOINT (so none pays for another's dirty pages); odd rounds run them in that order, even rounds in the
 * reverse order. Rows are generated on the fly by one generator (bench/support.ts): the API gets them as CSV, the
 * baselines as COPY text with the very columns and values the API stores. A baseline is BEGIN, INSERT of its
 * submission row, COPY, COMMIT, timed from BEGIN to COMMIT; the API run is timed from the first body byte to the
 * end of the 202 answer. `--runs` rounds (default 2); the best of each is kept. Last, two uploads of `--rows` rows
 * each are sent at once (the peak RSS is reset first through /proc/<pid>/clear_refs).
 *
 * Exit 0 when everything worked, whatever the numbers; 1 on a functional failure (non-202, wrong counts) or an
 * infrastructure failure; 2 on a usage error; 130 when interrupted. Everything started is stopped and removed
 * on success, failure and Ctrl-C.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Shutdown, describeError, loadSettings, redactUrl } from '../scripts/platform';
import { migrateAndSeed, providePostgres, type Postgres } from '../scripts/postgres';
import { connectTemporal } from '../scripts/temporal-dev';
import { createDb, type Db } from '../db/knex';
import { createPrincipal, issueApiKey } from '../db/principals';
import { ROOT } from '../domain/config';
import { startCommand } from '../scripts/cli';
import {
  COPY_SQL,
  CSV_HEADER,
  RowSource,
  USAGE,
  UsageError,
  copyLine,
  createFreshDatabase,
  csvLine,
  databaseOf,
  dropDatabase,
  freePort,
  int,
  loadAverage,
  machine,
  mb,
  parseSettings,
  postgresRunsOn,
  previousMonthPeriod,
  procCpuMs,
  procStatusKb,
  provideBenchTemporal,
  removeFolder,
  secs,
  spawnApi,
  superviseSelf,
  withDatabase,
  type ApiChild,
  type BenchSettings,
} from './support';

const BENCH_DB = 'qz_bench';
const BENCH_PG_DIR = path.join(ROOT, '.data/bench-postgres');
const BENCH_TEMPORAL_DIR = path.join(ROOT, '.data/bench-temporal');
const PROVIDER = 'QZ-GSJ';
const RSS_TARGET_MB = 300;
const RSS_TARGET_ROWS = 1_000_000;
const BARE_RATIO_TARGET = 0.5;
const SAME_RATIO_TARGET = 0.9;
const BARE_TABLE = 'bench_records_bare';

const log = (m: string) => console.log(`[bench] ${m}`);
const logError = (m: string) => console.error(`[bench] ${m}`);

/** A functional failure: the numbers would mean nothing. */
class BenchFailure extends Error {}

interface Measurement {
  ms: number;
  rowsPerSec: number;
  bytes: number;
  /** API runs: CPU time the API process used meanwhile. */
  apiCpuMs?: number | null;
}

const shutdown = new Shutdown();
let stopping = false;

async function finish(code: number, message?: string): Promise<never> {
  if (message) (code === 0 ? log : logError)(message);
  stopping = true;
  const clean = await shutdown.run(log);
  if (!clean) logError('some cleanup steps failed (see above)');
  process.exit(code === 0 && !clean ? 1 : code);
}

function interrupted(): void {
  if (stopping) throw new Error('interrupted');
}

// --help, unknown arguments and every setting answered before anything starts (scripts/cli.ts).
startCommand('bench', USAGE, { rows: { value: 'required', short: 'n' }, runs: { value: 'required' }, profile: { value: 'optional' } });

if (superviseSelf(__filename)) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      void finish(130, `${sig} received: stopping and cleaning up`);
    });
  }
  process.on('disconnect', () => {
    if (!stopping) void finish(130, 'the npm process is gone: stopping and cleaning up');
  });
  main().then(
    () => finish(0),
    (e: unknown) => {
      if (stopping) return; // a signal is being handled
      if (e instanceof UsageError) return e.message ? finish(2, `${e.message}\n${USAGE}`) : finish(0, USAGE);
      if (!(e instanceof BenchFailure) && e instanceof Error && e.stack && !('exitCode' in e)) console.error(e.stack);
      return finish(1, `${e instanceof BenchFailure ? 'FAILED' : 'the bench did not complete'}: ${describeError(e)}`);
    },
  );
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2), process.env);
  const config = loadSettings();
  const loadAtStart = loadAverage();
  log(`${int(settings.rows)} rows, ${settings.runs} round(s); ${machine()}; load average ${loadAtStart}`);

  // ── PostgreSQL: a fresh database qz_bench on DATABASE_URL's server, or a fresh embedded server ──
  let server: Postgres;
  if (config.databaseUrl) {
    if (databaseOf(config.databaseUrl) === BENCH_DB)
      throw new UsageError(
        `DATABASE_URL names the database ${BENCH_DB}, which the bench drops: point it at another database of the server`,
      );
    server = await providePostgres(config, { join: false, log });
  } else {
    shutdown.add('bench PostgreSQL folder', async () => removeFolder(BENCH_PG_DIR));
    if (!postgresRunsOn(BENCH_PG_DIR)) removeFolder(BENCH_PG_DIR); // a server left running is stopped by providePostgres
    const pgConfig = { ...config, embeddedPgDir: BENCH_PG_DIR, embeddedPgPort: await freePort() };
    server = await providePostgres(pgConfig, { join: false, log });
    shutdown.add('embedded PostgreSQL', () => server.stop(), 60_000);
  }
  interrupted();
  await createFreshDatabase(server.adminUrl ?? server.url, BENCH_DB);
  shutdown.add(`database ${BENCH_DB}`, () => dropDatabase(server.adminUrl ?? server.url, BENCH_DB));
  const benchUrl = withDatabase(server.adminUrl ?? server.url, BENCH_DB);
  log(`PostgreSQL: ${redactUrl(benchUrl)}${server.embedded ? ` (embedded, data in ${path.relative(ROOT, BENCH_PG_DIR)})` : ''}`);
  const db = createDb(benchUrl, 4);
  shutdown.add('bench connection pool', () => db.destroy());
  await migrateAndSeed(db, log);
  const pgVersion = (await db.raw('SHOW server_version')).rows[0].server_version as string;
  interrupted();

  // ── Temporal ──
  const { address: temporalAddress, exited: devExited } = await provideBenchTemporal({ config, shutdown, dir: BENCH_TEMPORAL_DIR, log });
  const connection = await connectTemporal({
    address: temporalAddress,
    namespace: config.temporalNamespace,
    timeoutMs: devExited ? 90_000 : 30_000,
    namespaceMayAppear: devExited !== undefined,
    serverExited: devExited,
    aborted: () => stopping,
  });
  shutdown.add('Temporal client connection', () => connection.close());
  log(`Temporal: ${temporalAddress}${devExited ? ' (dev server)' : ''}, namespace ${config.temporalNamespace}`);
  interrupted();

  // ── A provider and its key ──
  const principal = await createPrincipal(db, { name: '基准测试 / ingest bench', role: 'provider', providerCode: PROVIDER }, null, 'bench');
  const key = await issueApiKey(db, principal.id, { label: 'bench:ingest' }, null, 'bench');
  const provider = await db('providers').where('code', PROVIDER).first('id', 'cadence');
  if (provider.cadence !== 'monthly') throw new BenchFailure(`${PROVIDER} reports ${provider.cadence}, the bench sends a monthly period`);

  // ── The API, a process of its own ──
  const taskQueue = `qz-bench-${crypto.randomBytes(4).toString('hex')}`;
  const nodeArgs: string[] = [];
  if (settings.profileDir) {
    fs.mkdirSync(settings.profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${settings.profileDir}`, '--heap-prof', `--heap-prof-dir=${settings.profileDir}`);
  }
  const api = spawnApi({
    env: {
      DATABASE_URL: benchUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: config.temporalNamespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
    },
    port: await freePort(),
    nodeArgs,
    log,
  });
  shutdown.add('API process', () => api.stop(), 30_000);
  await api.ready(120_000);
  const idleRssKb = procStatusKb(api.pid, 'VmRSS');
  log(`API: pid ${api.pid}, http://127.0.0.1:${api.port}, RSS after start ${mb(idleRssKb)}`);
  interrupted();

  // ── Measurements ──
  const period = previousMonthPeriod();
  const eventDate = `${period}-09`;
  const workflowIds: string[] = [];
  const bareRuns: Measurement[] = [];
  const copyRuns: Measurement[] = [];
  const apiRuns: Measurement[] = [];
  // The bare table: the columns and defaults of `records`, nothing else (no index, key, check or trigger).
  await db.raw(`CREATE TABLE ${BARE_TABLE} (LIKE records INCLUDING DEFAULTS)`);
  const auth = `Bearer ${key.token}`;
  for (let round = 1; round <= settings.runs; round++) {
    const steps: Array<() => Promise<void>> = [
      async () => {
        const b = await rawCopy(benchUrl, db, BARE_TABLE, settings.rows, eventDate, period, provider.id, principal.id);
        bareRuns.push(b);
        log(`round ${round}/${settings.runs}  bare COPY ${secs(b.ms)}  ${int(b.rowsPerSec)} rows/s`);
      },
      async () => {
        const c = await rawCopy(benchUrl, db, 'records', settings.rows, eventDate, period, provider.id, principal.id);
        copyRuns.push(c);
        log(`round ${round}/${settings.runs}  raw COPY  ${secs(c.ms)}  ${int(c.rowsPerSec)} rows/s`);
      },
      async () => {
        const a = await apiRun(api, db, settings.rows, eventDate, period, auth, workflowIds);
        apiRuns.push(a);
        log(
          `round ${round}/${settings.runs}  API       ${secs(a.ms)}  ${int(a.rowsPerSec)} rows/s  (API peak RSS so far ${mb(procStatusKb(api.pid, 'VmHWM'))})`,
        );
      },
    ];
    for (const step of round % 2 ? steps : steps.reverse()) {
      await resetTables(db);
      interrupted();
      await step();
      interrupted();
    }
  }
  const peakRssKb = procStatusKb(api.pid, 'VmHWM');
  if (api.exited()) throw new BenchFailure(`the API process ${api.exited()}`);

  // ── Two uploads at once: the API's peak memory with both streaming ──
  await resetTables(db);
  interrupted();
  const pairPeakReset = resetPeakRss(api.pid);
  const pairStart = performance.now();
  const pair = await Promise.all([0, 1].map(() => apiRun(api, db, settings.rows, eventDate, period, auth, workflowIds, false)));
  const pairMs = performance.now() - pairStart;
  const pairPeakKb = procStatusKb(api.pid, 'VmHWM');
  const pairTotal = await countRecords(db, '00000000-0000-0000-0000-000000000000');
  if (pairTotal.total !== 2 * settings.rows)
    throw new BenchFailure(`two uploads at once: ${2 * settings.rows} rows sent, the table holds ${pairTotal.total}`);
  log(
    `two uploads at once  ${secs(pairMs)}  ${int((2 * settings.rows * 1000) / pairMs)} rows/s together (${pair.map((m) => secs(m.ms)).join(', ')})`,
  );
  if (api.exited()) throw new BenchFailure(`the API process ${api.exited()}`);

  // With an external Temporal the started workflows would wait for ever on the bench's task queue.
  if (!devExited) {
    const { Client } = await import('@temporalio/client');
    const client = new Client({ connection, namespace: config.temporalNamespace });
    for (const id of workflowIds)
      await client.workflow
        .getHandle(id)
        .terminate('bench:ingest cleanup')
        .catch(() => undefined);
  }

  report(settings, bareRuns, copyRuns, apiRuns, {
    idleRssKb,
    peakRssKb,
    pair: { ms: pairMs, peakRssKb: pairPeakReset ? pairPeakKb : null },
    pgVersion,
    embedded: server.embedded,
    bytes: apiRuns[0]?.bytes ?? 0,
    load: `${loadAtStart} at start, ${loadAverage()} at end`,
  });
  if (settings.profileDir) log(`profiles of the API process are written to ${settings.profileDir} when it stops`);
}

/** The same empty table state for every measurement. */
async function resetTables(db: Db): Promise<void> {
  await db.raw(`TRUNCATE records, submissions, idempotency_keys, enterprises, ${BARE_TABLE} CASCADE`);
  await db.raw('CHECKPOINT');
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel does not allow it. */
function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function countRecords(db: Db, submissionId: string, table = 'records'): Promise<{ total: number; mine: number }> {
  const row = (
    await db.raw(`SELECT count(*)::int AS total, count(*) FILTER (WHERE submission_id = ?)::int AS mine FROM ${table}`, [submissionId])
  ).rows[0];
  return { total: row.total, mine: row.mine };
}

/** A baseline: BEGIN, the submission row, COPY of the same rows into `table`, COMMIT — from the bench process. */
async function rawCopy(
  url: string,
  db: Db,
  table: 'records' | typeof BARE_TABLE,
  n: number,
  eventDate: string,
  period: string,
  providerId: number,
  principalId: string,
): Promise<Measurement> {
  const client = new pg.Client({ connectionString: url, application_name: 'qz-bench-copy' });
  await client.connect();
  // Not a shutdown step: on Ctrl-C the process exits and DROP DATABASE … WITH (FORCE) ends the session anyway.
  const stopClient = () => client.end().catch(() => undefined);
  const submissionId = crypto.randomUUID();
  const source = new RowSource(n, (r) => copyLine(r, eventDate, submissionId, providerId, principalId));
  let copied = 0;
  const t0 = performance.now();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO submissions (id, provider_id, period, idempotency_key, request_hash, format, row_count, received_at, workflow_id, created_by)
       VALUES ($1, $2, $3, $4, '', 'csv', $5, now(), $6, $7)`,
      [submissionId, providerId, period, `bench-copy-${submissionId}`, n, `bench-copy-${submissionId}`, principalId],
    );
    // As the intake's own COPY: the batch's references are the bench's own rows, so the per-row check is skipped.
    if (table === 'records') await client.query("SELECT set_config('qz.checked_submission', $1, true)", [submissionId]);
    const copy = client.query(copyFrom(COPY_SQL.replace('COPY records', `COPY ${table}`)));
    await pipeline(source, copy);
    copied = copy.rowCount;
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await stopClient();
  }
  const ms = performance.now() - t0;
  const counts = await countRecords(db, submissionId, table);
  if (copied !== n || counts.mine !== n || counts.total !== n) {
    throw new BenchFailure(
      `${table === 'records' ? 'raw' : 'bare'} COPY: ${n} rows sent, COPY reported ${copied}, the table holds ${counts.total} (${counts.mine} of this submission)`,
    );
  }
  return { ms, rowsPerSec: (n * 1000) / ms, bytes: source.bytes };
}

/** The API path: one chunked text/csv POST /submissions, timed from its first body byte to the end of the answer. */
async function apiRun(
  api: ApiChild,
  db: Db,
  n: number,
  eventDate: string,
  period: string,
  auth: string,
  workflowIds: string[],
  alone = true,
): Promise<Measurement> {
  const source = new RowSource(n, (r) => csvLine(r, eventDate), CSV_HEADER);
  const cpuBefore = procCpuMs(api.pid);
  const idempotencyKey = `bench-${crypto.randomUUID()}`;
  const answer = new Promise<{ status: number; body: string; done: number }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: api.port,
        method: 'POST',
        path: `/submissions?period=${encodeURIComponent(period)}`,
        agent: false,
        headers: { Authorization: auth, 'Idempotency-Key': idempotencyKey, 'Content-Type': 'text/csv; charset=utf-8' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), done: performance.now() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // No Content-Length: Node sends the body chunked. An early answer (a 4xx) may cut the upload: the answer counts.
    pipeline(source, req).catch(() => undefined);
  });
  const { status, body, done } = await answer;
  const cpuAfter = procCpuMs(api.pid);
  const ms = done - (source.started ?? done);
  let parsed: { submission?: { id?: string; row_count?: number; workflow_id?: string }; workflow?: string } | undefined;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (status !== 202 || !parsed?.submission?.id) {
    throw new BenchFailure(
      `API answered ${status} (expected 202): ${body.slice(0, 2000)}${api.exited() ? `\n  the API process ${api.exited()}: ${api.recentOutput()}` : ''}`,
    );
  }
  const sub = parsed.submission;
  if (sub.workflow_id) workflowIds.push(sub.workflow_id);
  if (sub.row_count !== n) throw new BenchFailure(`API: ${n} rows sent, the answer says row_count ${sub.row_count}`);
  const counts = await countRecords(db, sub.id!);
  if (counts.mine !== n || (alone && counts.total !== n))
    throw new BenchFailure(`API: ${n} rows sent, the table holds ${counts.total} (${counts.mine} of submission ${sub.id})`);
  if (parsed.workflow !== 'started') logError(`warning: the API answered workflow "${parsed.workflow}" (Temporal start deferred)`);
  return {
    ms,
    rowsPerSec: (n * 1000) / ms,
    bytes: source.bytes,
    apiCpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
  };
}

function report(
  settings: BenchSettings,
  bareRuns: Measurement[],
  copyRuns: Measurement[],
  apiRuns: Measurement[],
  info: {
    idleRssKb: number | null;
    peakRssKb: number | null;
    pair: { ms: number; peakRssKb: number | null };
    pgVersion: string;
    embedded: boolean;
    bytes: number;
    load: string;
  },
): void {
  const best = (runs: Measurement[]) => runs.reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
  const b = best(bareRuns);
  const c = best(copyRuns);
  const a = best(apiRuns);
  const toBare = a.rowsPerSec / b.rowsPerSec;
  const toSame = a.rowsPerSec / c.rowsPerSec;
  const verdict = (mb: number | null, what: string) =>
    mb === null
      ? 'not measured'
      : settings.rows >= RSS_TARGET_ROWS
        ? mb < RSS_TARGET_MB
          ? `meets < ${RSS_TARGET_MB} MB ${what}`
          : `MISSES < ${RSS_TARGET_MB} MB ${what}`
        : `target < ${RSS_TARGET_MB} MB applies at ${int(RSS_TARGET_ROWS)} rows`;
  const peakMb = info.peakRssKb === null ? null : info.peakRssKb / 1024;
  const pairMb = info.pair.peakRssKb === null ? null : info.pair.peakRssKb / 1024;
  const all = (runs: Measurement[]) => runs.map((r) => int(r.rowsPerSec)).join(', ');
  const met = (x: number, target: number) => `target ≥ ${target}: ${x >= target ? 'met' : 'MISSED'}`;
  const lines = [
    '',
    '══════════════ bench:ingest — collection path vs PostgreSQL COPY ══════════════',
    `rows                     ${int(settings.rows)} E-PENALTY rows, ${(info.bytes / 2 ** 20).toFixed(1)} MiB of CSV, one chunked text/csv request`,
    `API  (POST /submissions) ${int(a.rowsPerSec).padStart(10)} rows/s   best of ${apiRuns.length}: ${secs(a.ms)}   (runs: ${all(apiRuns)} rows/s)`,
    `raw COPY, same table     ${int(c.rowsPerSec).padStart(10)} rows/s   best of ${copyRuns.length}: ${secs(c.ms)}   (runs: ${all(copyRuns)} rows/s)`,
    `COPY, bare table         ${int(b.rowsPerSec).padStart(10)} rows/s   best of ${bareRuns.length}: ${secs(b.ms)}   (runs: ${all(bareRuns)} rows/s)`,
    `API process CPU          ${(a.apiCpuMs == null ? 'n/a' : secs(a.apiCpuMs)).padStart(10)}          during its best run (${a.apiCpuMs == null ? 'n/a' : ((a.apiCpuMs * 1000) / settings.rows).toFixed(1)} µs/row; ${a.apiCpuMs == null ? 'n/a' : ((100 * a.apiCpuMs) / a.ms).toFixed(0)}% of one core over the wall time)`,
    `ratio API / same table   ${toSame.toFixed(2).padStart(10)}          ${met(toSame, SAME_RATIO_TARGET)}`,
    `ratio API / bare table   ${toBare.toFixed(2).padStart(10)}          ${met(toBare, BARE_RATIO_TARGET)}`,
    `ratio same / bare table  ${(c.rowsPerSec / b.rowsPerSec).toFixed(2).padStart(10)}          what the indexes and triggers of records cost COPY`,
    `API peak RSS, one upload ${(peakMb === null ? 'n/a' : `${peakMb.toFixed(0)} MB`).padStart(10)}          ${verdict(peakMb, `at ${int(settings.rows)} rows`)}; after start ${mb(info.idleRssKb)}`,
    `two uploads at once      ${(pairMb === null ? 'n/a' : `${pairMb.toFixed(0)} MB`).padStart(10)}          ${verdict(pairMb, `at ${int(settings.rows)} rows each`)}; ${secs(info.pair.ms)}, ${int((2 * settings.rows * 1000) / info.pair.ms)} rows/s together`,
    `machine                  ${machine()}`,
    `load average (1 min)     ${info.load} (anything else running skews the numbers)`,
    `PostgreSQL               ${info.pgVersion}${info.embedded ? ' (embedded, default settings, synchronous_commit=on)' : ''}, same server for all`,
    'method                   per round, each after TRUNCATE+CHECKPOINT: bare COPY, raw COPY, API (even rounds reversed); best of each kept',
    '═══════════════════════════════════════════════════════════════════════════════════',
    '',
  ];
  console.log(lines.join('\n'));
}
