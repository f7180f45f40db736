/**
 * `npm run bench:expiry [-- --rows 1000000 --due 100000 --runs 2]`: the daily publication sweep (E15) on a table of
 * published records, of which some are due, next to a bare single-statement UPDATE of the same rows.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench_expiry on that server, dropped at the end; otherwise a
 *               fresh embedded PostgreSQL in .data/bench-expiry-postgres on a free port, removed at the end.
 *   data        `rows` records and as many published rows in `publications` (generate_series, set-based), of
 *               which `due` have a period that ended before the run date; the rest end later or never.
 *   measured    1. the sweep activity itself (sweepPublications, the code the daily Schedule runs: overdue
 *               publishing, corrections, overrides, terminations, then expiry in PUBLICATION_SWEEP_BATCH chunks);
 *               2. the same activity again for the same date (a repeated run: nothing left to do);
 *               3. its expiry step alone (unpublishExpired, the chunked statement);
 *               4. the baseline: one bare
 *               `UPDATE publications SET state = 'archived' … WHERE state = 'published' AND period_end < $date`.
 *               Each from the same state (due rows published again, VACUUM ANALYZE, CHECKPOINT); `--runs` rounds
 *               (default 2), odd rounds in that order, even rounds reversed; the best of each is kept.
 *
 * Prints the times, rows/s and the ratio sweep/baseline. Exit 0 when it worked (whatever the numbers), 1 on a
 * wrong count or a failure.
 */
import path from 'node:path';
import { Client } from '@temporalio/client';
import { Shutdown, loadSettings, redactUrl } from '../scripts/platform';
import { migrateAndSeed } from '../scripts/postgres';
import { createDb, type Db } from '../db/knex';
import { ROOT, publicationSettings } from '../domain/config';
import { startCommand } from '../scripts/cli';
import { publicationActivities } from '../activities/publication';
import { unpublishExpired } from '../db/publication-sweep';
import { runBench, positiveArg, provideBenchDatabase, int, loadAverage, machine, secs } from './support';

const BENCH_DB = 'qz_bench_expiry';
const PG_DIR = path.join(ROOT, '.data/bench-expiry-postgres');
const RUN_DATE = '2026-12-01';
const log = (m: string) => console.log(`[bench:expiry] ${m}`);

async function load(db: Db, rows: number, due: number): Promise<void> {
  const sub = await db.raw(`SELECT p.id AS provider_id FROM providers p WHERE p.code = 'QZ-GSJ'`);
  const providerId = sub.rows[0].provider_id as number;
  const creator = '00000000-0000-4000-8000-000000000001';
  const [{ id: submissionId }] = await db('submissions')
    .insert({
      provider_id: providerId,
      period: '2026-10',
      idempotency_key: 'bench-expiry',
      request_hash: '',
      format: 'csv',
      row_count: rows,
      received_at: db.fn.now(),
      workflow_id: 'bench-expiry',
      created_by: creator,
    })
    .returning('id');
  // Records: a mix of public items; the subject is a stand-in code (the sweep never reads it).
  await db.raw(
    `INSERT INTO records (submission_id, provider_id, item_code, subject_type, subject_id, payload, event_date, created_by)
     SELECT ?::uuid, ?, (ARRAY['E-PENALTY','E-HONOR','E-BASIC-REG','E-INSPECTION-FAIL'])[1 + i % 4], 'enterprise',
            'BENCH' || lpad(i::text, 13, '0'), jsonb_build_object('n', i), DATE '2024-01-01', ?::uuid
       FROM generate_series(1, ?) AS i`,
    [submissionId, providerId, creator, rows],
  );
  // Published rows: `due` of them ended before the run date (spread over the 30 days before it), the rest later
  // (spread over five years) or never (basic information).
  await db.raw(
    `INSERT INTO publications (record_key, record_id, submission_id, provider_id, subject_id, item_code, category, state, due_date,
                               published_at, publication_date, period_end, period_basis)
     SELECT r.record_key, r.id, r.submission_id, r.provider_id, r.subject_id, r.item_code, ci.category, 'published', DATE '2024-01-08',
            TIMESTAMPTZ '2024-01-08 00:00+08', DATE '2024-01-08',
            CASE WHEN n <= ? THEN ?::date - 1 - (n % 30)::int
                 WHEN ci.category = 'basic' THEN NULL
                 ELSE ?::date + (n % 1825)::int END,
            CASE WHEN ci.category = 'basic' AND n > ? THEN 'until_terminated' ELSE 'default_years' END
       FROM (SELECT r.*, (r.id * 7919) % ? + 1 AS n FROM records r) r
       JOIN catalog_items ci ON ci.code = r.item_code`,
    [due, RUN_DATE, RUN_DATE, due, rows],
  );
  await db.raw('VACUUM ANALYZE records');
  await db.raw('VACUUM ANALYZE publications');
}

async function count(db: Db, state: string): Promise<number> {
  const r = await db('publications').where('state', state).count<{ n: number }[]>({ n: '*' });
  return Number(r[0].n);
}

async function main(shutdown: Shutdown): Promise<void> {
  const rows = positiveArg('rows', 1_000_000);
  const due = positiveArg('due', 100_000);
  if (due > rows) throw new Error('--due must not exceed --rows');
  const config = loadSettings();
  log(`${int(rows)} published records, ${int(due)} due on ${RUN_DATE}; ${machine()}; load average ${loadAverage()}`);

  const { url } = await provideBenchDatabase({ config, shutdown, benchDb: BENCH_DB, pgDir: PG_DIR, log });
  log(`PostgreSQL: ${redactUrl(url)}`);
  const db = createDb(url, 4);
  shutdown.add('connection pool', () => db.destroy());
  await migrateAndSeed(db, log);

  const t = performance.now();
  await load(db, rows, due);
  log(`loaded in ${secs(performance.now() - t)}`);

  // The activity as the worker runs it (no Temporal call inside it; heartbeats are skipped outside a worker).
  const activities = publicationActivities({ db, publicationWorkingDays: 5, temporal: undefined as unknown as Client, taskQueue: 'bench' });
  const asOf = new Date(`${RUN_DATE}T00:30:00+08:00`).toISOString();
  const chunk = publicationSettings().sweepBatch;

  /** Every measurement starts from the same table: the due rows published again, vacuumed, analysed, checkpointed. */
  const reset = async () => {
    await db.raw(
      `UPDATE publications SET state = 'published', archived_at = NULL, archived_on = NULL, archive_reason = NULL WHERE state = 'archived'`,
    );
    await db.raw('VACUUM ANALYZE publications');
    await db.raw('CHECKPOINT');
  };
  const checkArchived = async (what: string, n: number) => {
    const archived = await count(db, 'archived');
    if (n !== due || archived !== due) throw new Error(`${what} archived ${n} (table: ${archived}), expected ${due}`);
    if ((await count(db, 'published')) !== rows - due) throw new Error(`${what}: published rows lost or left`);
  };

  const best = { sweep: Infinity, step: Infinity, bare: Infinity, again: Infinity };
  let counts: unknown = null;
  const measure: Record<'sweep' | 'step' | 'bare', () => Promise<number>> = {
    // 1. The daily sweep activity, whole; then once more for the same date (nothing left to do).
    sweep: async () => {
      const t0 = performance.now();
      const first = await activities.sweepPublications({ runDate: RUN_DATE, asOf });
      const ms = performance.now() - t0;
      await checkArchived('the sweep', first.expired);
      counts = first;
      const t1 = performance.now();
      const again = await activities.sweepPublications({ runDate: RUN_DATE, asOf });
      best.again = Math.min(best.again, performance.now() - t1);
      if (again.expired !== 0) throw new Error(`a repeated run archived ${again.expired} more`);
      return ms;
    },
    // 2. Its expiry step alone (chunks of PUBLICATION_SWEEP_BATCH, one short transaction each).
    step: async () => {
      const t0 = performance.now();
      const n = await unpublishExpired(db, RUN_DATE, chunk);
      const ms = performance.now() - t0;
      await checkArchived('the expiry step', n);
      return ms;
    },
    // 3. The baseline: one bare UPDATE of the same rows, one transaction.
    bare: async () => {
      const t0 = performance.now();
      const r = await db.raw(
        `UPDATE publications SET state = 'archived', archive_reason = 'period_ended', archived_at = now(), archived_on = ?::date
          WHERE state = 'published' AND period_end IS NOT NULL AND period_end < ?::date`,
        [RUN_DATE, RUN_DATE],
      );
      const ms = performance.now() - t0;
      await checkArchived('the baseline', r.rowCount as number);
      return ms;
    },
  };
  const runs = positiveArg('runs', 2);
  for (let round = 1; round <= runs; round++) {
    const order: Array<'sweep' | 'step' | 'bare'> = round % 2 ? ['sweep', 'step', 'bare'] : ['bare', 'step', 'sweep'];
    for (const what of order) {
      await reset();
      const ms = await measure[what]();
      best[what] = Math.min(best[what], ms);
      log(`round ${round}/${runs}  ${what.padEnd(5)} ${secs(ms)}`);
    }
  }

  const rate = (n: number, ms: number) => `${int((n / ms) * 1000)} rows/s`;
  console.log('');
  console.log(
    `  daily sweep (activity, whole)          ${secs(best.sweep).padStart(9)}   ${rate(due, best.sweep)}   (${JSON.stringify(counts)})`,
  );
  console.log(`  its expiry step (chunks of ${String(chunk).padEnd(6)})    ${secs(best.step).padStart(9)}   ${rate(due, best.step)}`);
  console.log(`  repeated run, same date                ${secs(best.again).padStart(9)}   nothing left to do`);
  console.log(`  baseline: one bare UPDATE              ${secs(best.bare).padStart(9)}   ${rate(due, best.bare)}`);
  console.log(
    `  ratio expiry step / baseline           ${(best.step / best.bare).toFixed(2)}×   target ≤ 1.3×: ${best.step / best.bare <= 1.3 ? 'met' : 'MISSED'}`,
  );
  console.log(`  ratio whole sweep / baseline           ${(best.sweep / best.bare).toFixed(2)}×`);
  console.log(`  method: best of ${runs} rounds; each measurement after the same reset (due rows published, VACUUM ANALYZE, CHECKPOINT);`);
  console.log(`          odd rounds sweep, step, bare; even rounds the reverse. Load average ${loadAverage()}`);
  console.log('');
}

const USAGE = `用法 / usage: npm run bench:expiry -- [--rows N] [--due D] [--runs K]
  --rows N   已公示的记录数 / published records (default 1000000; env BENCH_ROWS)
  --due D    其中到期的 / of which due on the run date (default 100000; env BENCH_DUE)
  --runs K   每种测量的轮数，取最好 / rounds of each measurement, the best is kept (default 2; env BENCH_RUNS)
  -h, --help 显示本说明 / show this help`;

// --help, unknown arguments and every setting answered before anything starts (scripts/cli.ts).
startCommand('bench:expiry', USAGE, { rows: { value: 'required' }, due: { value: 'required' }, runs: { value: 'required' } });
runBench(main, log);
