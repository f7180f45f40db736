/**
 * `npm run bench:retention [-- --records N] [--batch B] [--runs K]`: the retention purge (P19) as the daily sweep
 * runs it — db/retention.ts `purgeRetentionBatch`, one statement and one transaction per batch of record keys,
 * until nothing is due — against a baseline measured in the same run on the same data: ONE set-based DELETE of
 * every due record (and of the persons left without records) in one transaction, the fastest the database can
 * do it, holding its locks for the whole time.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench_retention on that server, dropped at the end; otherwise a
 *               fresh embedded PostgreSQL in .data/bench-retention-postgres on a free port, removed at the end.
 *   Data        N personal record keys (default 1,000,000) with a concluded date: half past their 5 years on the
 *               sweep's day, half not (the boundary day included); every 10th key has a second version; N/10
 *               enterprise records with old concluded dates (never purged); one persons row per subject.
 *               The enterprise records are published (publications rows), as in the platform: each removed row
 *               is checked against them. Rebuilt before every measurement (then VACUUM ANALYZE and CHECKPOINT),
 *               so both start equal; odd runs measure the baseline first, even runs the platform first.
 *
 * Printed: rows removed, seconds, rows/s of each, their ratio, the longest single transaction of the batched
 * purge (what other writers may wait for), and a check that both leave exactly the same rows.
 * Exit 0 when both purges removed the same rows; 1 otherwise or on failure; 2 on a usage error.
 */
import path from 'node:path';
import { Shutdown, describeError, loadSettings, redactUrl } from '../scripts/platform';
import { migrateAndSeed, providePostgres, type Postgres } from '../scripts/postgres';
import { createDb, type Db } from '../db/knex';
import { purgeRetentionBatch } from '../db/retention';
import { ROOT, querySettings } from '../domain/config';
import { startCommand } from '../scripts/cli';
import {
  createFreshDatabase,
  databaseOf,
  dropDatabase,
  freePort,
  int,
  loadAverage,
  machine,
  postgresRunsOn,
  removeFolder,
  secs,
  superviseSelf,
  UsageError,
  withDatabase,
} from './support';

const BENCH_DB = 'qz_bench_retention';
const BENCH_PG_DIR = path.join(ROOT, '.data/bench-retention-postgres');
const AS_OF = '2026-11-27';
const USAGE = `usage: npm run bench:retention -- [--records N] [--batch B] [--runs K]
  --records N   personal record keys (default 1000000; env BENCH_RECORDS)
  --batch B     record keys per batch of the platform's purge (default RETENTION_BATCH_SIZE, 5000)
  --runs K      measurements of each kind, the best is kept; the order alternates (default 2)`;

const log = (m: string) => console.log(`[bench] ${m}`);
const logError = (m: string) => console.error(`[bench] ${m}`);
class BenchFailure extends Error {}

const shutdown = new Shutdown();
let stopping = false;

async function finish(code: number, message?: string): Promise<never> {
  if (message) (code === 0 ? log : logError)(message);
  stopping = true;
  const clean = await shutdown.run(log);
  process.exit(code === 0 && !clean ? 1 : code);
}

function parseArgs(argv: string[]): { records: number; batch: number; runs: number } {
  const num = (raw: string | undefined, what: string) => {
    const n = Number(String(raw ?? '').replace(/[_,]/g, ''));
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${what} must be a whole number ≥ 1 (got ${raw})`);
    return n;
  };
  let records = process.env.BENCH_RECORDS ? num(process.env.BENCH_RECORDS, 'BENCH_RECORDS') : 1_000_000;
  let batch = querySettings().retentionBatchSize;
  let runs = 2;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--records' || flag === '--rows') records = num(value(), flag);
    else if (flag === '--batch') batch = num(value(), flag);
    else if (flag === '--runs') runs = num(value(), flag);
    else if (flag === '--help' || flag === '-h') throw new UsageError('');
    else throw new UsageError(`unknown argument ${argv[i]}`);
  }
  return { records, batch, runs };
}

/** The data set, rebuilt from nothing: every measurement starts from the same rows. */
async function build(db: Db, n: number): Promise<{ rows: number }> {
  await db.raw('TRUNCATE records, publications, persons CASCADE');
  // What an earlier run erased is remembered (append-only, P19): the bench, as the superuser, forgets it, since the
  // next run's records have the same keys.
  await db.raw('ALTER TABLE record_erasures DISABLE TRIGGER record_erasures_no_truncate');
  await db.raw('TRUNCATE record_erasures');
  await db.raw('ALTER TABLE record_erasures ENABLE TRIGGER record_erasures_no_truncate');
  const provider = (await db('providers').where('code', 'QZ-COURT').first('id')).id as number;
  const payload = JSON.stringify({ case_no: '(2018)桂07执1号', court: '钦州市中级人民法院', obligation: '给付货款' });
  // key i: expired when odd (1..1000 days past the end of its 5 years), kept when even (0..999 days before it)
  await db.raw(
    `INSERT INTO records (record_key, version, is_current, provider_id, item_code, subject_type, subject_id, payload, event_date, concluded_date, created_by)
     SELECT md5(i::text || ':k')::uuid, 1, i % 10 <> 1, ?, 'P-DISHONEST', 'person', '4507001985' || lpad(i::text, 8, '0'), ?::jsonb, DATE '2015-01-01',
            CASE WHEN i % 2 = 1 THEN (?::date - interval '5 years')::date - 1 - (i % 1000) ELSE (?::date - interval '5 years')::date + (i % 1000) END,
            '00000000-0000-0000-0000-000000000000'
       FROM generate_series(1, ?) i`,
    [provider, payload, AS_OF, AS_OF, n],
  );
  // every 10th key: a current second version (a correction)
  await db.raw(
    `INSERT INTO records (record_key, version, is_current, provider_id, item_code, subject_type, subject_id, payload, event_date, concluded_date, change_reason, created_by)
     SELECT record_key, 2, true, provider_id, item_code, subject_type, subject_id, payload, event_date, concluded_date, '更正', created_by
       FROM records WHERE version = 1 AND NOT is_current`,
  );
  await db.raw(
    `INSERT INTO records (record_key, provider_id, item_code, subject_type, subject_id, payload, event_date, concluded_date, created_by)
     SELECT md5(i::text || ':e')::uuid, ?, 'E-TAX', 'enterprise', '91450700MA' || lpad(i::text, 8, '0'), '{"tax_year": 2015}'::jsonb, DATE '2015-01-01', DATE '2010-01-01', '00000000-0000-0000-0000-000000000000'
       FROM generate_series(1, ?) i`,
    [provider, Math.max(1, Math.floor(n / 10))],
  );
  // the enterprise records are published: every removed row is checked against publications (its foreign key)
  await db.raw(
    `INSERT INTO publications (record_key, record_id, provider_id, subject_id, item_code, category, state, due_date, publication_date, period_end)
     SELECT record_key, id, provider_id, subject_id, item_code, 'warning', 'published', DATE '2015-01-08', DATE '2015-01-08', DATE '2030-01-01'
       FROM records WHERE subject_type = 'enterprise'`,
  );
  await db.raw(`INSERT INTO persons (citizen_id, name) SELECT '4507001985' || lpad(i::text, 8, '0'), '张某' FROM generate_series(1, ?) i`, [
    n,
  ]);
  await db.raw('VACUUM ANALYZE records');
  await db.raw('VACUUM ANALYZE persons');
  await db.raw('VACUUM ANALYZE publications');
  await db.raw('CHECKPOINT');
  const [{ c }] = (await db.raw('SELECT count(*)::int AS c FROM records')).rows;
  return { rows: c };
}

async function fingerprint(db: Db): Promise<string> {
  const { rows } = await db.raw(
    `SELECT count(*)::int AS n, coalesce(sum(hashtext(record_key::text || ':' || version))::text, '0') AS h FROM records`,
  );
  const [{ p }] = (await db.raw('SELECT count(*)::int AS p FROM persons')).rows;
  return `${rows[0].n} rows, ${p} persons, checksum ${rows[0].h}`;
}

async function baseline(db: Db): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  const rows = await db.transaction(async (trx) => {
    const { rowCount } = await trx.raw(
      `DELETE FROM records r USING records c
        WHERE c.record_key = r.record_key AND c.is_current AND c.subject_type = 'person' AND c.concluded_date IS NOT NULL
          AND (c.concluded_date + interval '5 years')::date < ?::date`,
      [AS_OF],
    );
    await trx.raw(
      `DELETE FROM persons p WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.subject_type = 'person' AND r.subject_id = p.citizen_id AND r.is_current)
         AND NOT EXISTS (SELECT 1 FROM principals pr WHERE pr.person_id = p.citizen_id)`,
    );
    return rowCount as number;
  });
  return { ms: performance.now() - t0, rows };
}

async function platform(db: Db, batch: number): Promise<{ ms: number; rows: number; batches: number; longestMs: number }> {
  const t0 = performance.now();
  let rows = 0;
  let batches = 0;
  let longestMs = 0;
  for (;;) {
    const b0 = performance.now();
    const b = await purgeRetentionBatch(db, AS_OF, batch);
    longestMs = Math.max(longestMs, performance.now() - b0);
    if (!b.rows) break;
    rows += b.rows;
    batches++;
  }
  return { ms: performance.now() - t0, rows, batches, longestMs };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadSettings();
  log(
    `${int(args.records)} personal record keys, batches of ${int(args.batch)}, ${args.runs} run(s); ${machine()}; load average ${loadAverage()}`,
  );
  let server: Postgres;
  if (config.databaseUrl) {
    if (databaseOf(config.databaseUrl) === BENCH_DB) throw new UsageError(`DATABASE_URL names ${BENCH_DB}, which the bench drops`);
    server = await providePostgres(config, { join: false, log });
  } else {
    shutdown.add('bench PostgreSQL folder', async () => removeFolder(BENCH_PG_DIR));
    if (!postgresRunsOn(BENCH_PG_DIR)) removeFolder(BENCH_PG_DIR);
    server = await providePostgres({ ...config, embeddedPgDir: BENCH_PG_DIR, embeddedPgPort: await freePort() }, { join: false, log });
    shutdown.add('embedded PostgreSQL', () => server.stop(), 60_000);
  }
  await createFreshDatabase(server.adminUrl ?? server.url, BENCH_DB);
  shutdown.add(`database ${BENCH_DB}`, () => dropDatabase(server.adminUrl ?? server.url, BENCH_DB));
  const url = withDatabase(server.adminUrl ?? server.url, BENCH_DB);
  log(`PostgreSQL: ${redactUrl(url)}`);
  const db = createDb(url, 2);
  shutdown.add('bench connection pool', () => db.destroy());
  await migrateAndSeed(db, log);

  let best = { base: Infinity, plat: Infinity };
  let last: { base?: Awaited<ReturnType<typeof baseline>>; plat?: Awaited<ReturnType<typeof platform>>; fb?: string; fp?: string } = {};
  for (let run = 1; run <= args.runs; run++) {
    // odd runs measure the baseline first, even runs the platform first: each on data rebuilt the same way
    const measureBase = async () => {
      const t0 = performance.now();
      const built = await build(db, args.records);
      log(`run ${run}: data built: ${int(built.rows)} rows in ${secs(performance.now() - t0)}`);
      const base = await baseline(db);
      log(`run ${run}: baseline, one DELETE: ${int(base.rows)} rows in ${secs(base.ms)} (${int(base.rows / (base.ms / 1000))} rows/s)`);
      return { base, fb: await fingerprint(db) };
    };
    const measurePlatform = async () => {
      await build(db, args.records);
      const plat = await platform(db, args.batch);
      log(
        `run ${run}: platform, ${plat.batches} batches: ${int(plat.rows)} rows in ${secs(plat.ms)} (${int(plat.rows / (plat.ms / 1000))} rows/s), longest transaction ${secs(plat.longestMs)}`,
      );
      return { plat, fp: await fingerprint(db) };
    };
    let b: Awaited<ReturnType<typeof measureBase>>;
    let p: Awaited<ReturnType<typeof measurePlatform>>;
    if (run % 2 === 1) {
      b = await measureBase();
      p = await measurePlatform();
    } else {
      p = await measurePlatform();
      b = await measureBase();
    }
    const { base, fb } = b;
    const { plat, fp } = p;
    if (fb !== fp || base.rows !== plat.rows)
      throw new BenchFailure(
        `the two purges left different data: baseline ${fb} (${base.rows} removed), platform ${fp} (${plat.rows} removed)`,
      );
    best = { base: Math.min(best.base, base.ms), plat: Math.min(best.plat, plat.ms) };
    last = { base, plat, fb, fp };
  }
  const rows = last.plat!.rows;
  console.log('');
  console.log(`retention purge (P19), ${int(args.records)} personal record keys (${int(rows)} rows due), as of ${AS_OF}`);
  console.log(
    `  baseline  one set-based DELETE, one transaction     ${secs(best.base).padStart(9)}  ${int(rows / (best.base / 1000)).padStart(10)} rows/s  (locks held ${secs(best.base)})`,
  );
  console.log(
    `  platform  ${String(last.plat!.batches).padStart(4)} batches of ${int(args.batch)} keys               ${secs(best.plat).padStart(9)}  ${int(rows / (best.plat / 1000)).padStart(10)} rows/s  (longest transaction ${secs(last.plat!.longestMs)})`,
  );
  console.log(`  ratio     platform / baseline throughput           ${(best.base / best.plat).toFixed(2)}`);
  console.log(`  left      ${last.fp}  (identical for both)`);
  console.log(`  load average at the end ${loadAverage()}`);
}

// --help, unknown arguments and every setting answered before anything starts (scripts/cli.ts).
startCommand('bench', USAGE, {
  records: { value: 'required' },
  rows: { value: 'required' },
  batch: { value: 'required' },
  runs: { value: 'required' },
});

if (superviseSelf(__filename)) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (!stopping) void finish(130, `${sig} received: stopping and cleaning up`);
    });
  }
  main().then(
    () => finish(0),
    (e: unknown) => {
      if (stopping) return;
      if (e instanceof UsageError) return e.message ? finish(2, `${e.message}\n${USAGE}`) : finish(0, USAGE);
      if (!(e instanceof BenchFailure) && e instanceof Error && e.stack) console.error(e.stack);
      return finish(1, `${e instanceof BenchFailure ? 'FAILED' : 'the bench did not complete'}: ${describeError(e)}`);
    },
  );
}
