/**
 * `npm run bench:expiry [-- --rows 1000000 --due 100000]`: the daily publication sweep (E15) on a table of
 * published records, of which some are due, next to a bare single-statement UPDATE of the same rows.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench_expiry on that server, dropped at the end; otherwise a
 *               fresh embedded PostgreSQL in .data/bench-expiry-postgres on a free port, removed at the end.
 *   data        `rows` records and as many published rows in `publications` (generate_series, set-based), of
 *               which `due` have a period that ended before the run date; the rest end later or never.
 *   measured    1. the sweep activity itself (sweepPublications, the code the daily Schedule runs: overdue
 *               publishing, corrections, overrides, terminations, then expiry in PUBLICATION_SWEEP_BATCH chunks);
 *               2. the same activity again for the same date (a repeated run: nothing left to do);
 *               3. the baseline: the due rows set back to published, then one bare
 *               `UPDATE publications SET state = 'archived' … WHERE state = 'published' AND period_end < $date`.
 *
 * Prints the times, rows/s and the ratio sweep/baseline. Exit 0 when it worked (whatever the numbers), 1 on a
 * wrong count or a failure.
 */
import path from 'node:path';
import { Client } from '@temporalio/client';
import { Shutdown, loadSettings, redactUrl } from '../scripts/platform';
import { migrateAndSeed } from '../scripts/postgres';
import { createDb, type Db } from '../db/knex';
import { ROOT } from '../domain/config';
import { publicationActivities } from '../activities/publication';
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

  let t = performance.now();
  await load(db, rows, due);
  log(`loaded in ${secs(performance.now() - t)}`);

  // The activity as the worker runs it (no Temporal call inside it; heartbeats are skipped outside a worker).
  const activities = publicationActivities({ db, publicationWorkingDays: 5, temporal: undefined as unknown as Client, taskQueue: 'bench' });
  const asOf = new Date(`${RUN_DATE}T00:30:00+08:00`).toISOString();

  t = performance.now();
  const first = await activities.sweepPublications({ runDate: RUN_DATE, asOf });
  const sweepMs = performance.now() - t;
  const archived = await count(db, 'archived');
  if (first.expired !== due || archived !== due)
    throw new Error(`the sweep archived ${first.expired} (table: ${archived}), expected ${due}`);
  if ((await count(db, 'published')) !== rows - due) throw new Error('published rows lost or left');

  t = performance.now();
  const again = await activities.sweepPublications({ runDate: RUN_DATE, asOf });
  const againMs = performance.now() - t;
  if (again.expired !== 0) throw new Error(`a repeated run archived ${again.expired} more`);

  // Baseline: the same rows back to published, then one bare statement.
  await db.raw(
    `UPDATE publications SET state = 'published', archived_at = NULL, archived_on = NULL, archive_reason = NULL WHERE state = 'archived'`,
  );
  await db.raw('VACUUM ANALYZE publications');
  t = performance.now();
  const bare = await db.raw(
    `UPDATE publications SET state = 'archived', archive_reason = 'period_ended', archived_at = now(), archived_on = ?::date
      WHERE state = 'published' AND period_end IS NOT NULL AND period_end < ?::date`,
    [RUN_DATE, RUN_DATE],
  );
  const bareMs = performance.now() - t;
  if (bare.rowCount !== due) throw new Error(`the baseline archived ${bare.rowCount}, expected ${due}`);

  const rate = (n: number, ms: number) => `${int((n / ms) * 1000)} rows/s`;
  console.log('');
  console.log(
    `  daily sweep (activity, chunks of ${process.env.PUBLICATION_SWEEP_BATCH ?? '50000'}) ${secs(sweepMs).padStart(9)}   ${rate(due, sweepMs)}   (${JSON.stringify(first)})`,
  );
  console.log(`  repeated run, same date                ${secs(againMs).padStart(9)}   nothing left to do`);
  console.log(`  baseline: one bare UPDATE              ${secs(bareMs).padStart(9)}   ${rate(due, bareMs)}`);
  console.log(`  ratio sweep / baseline                 ${(sweepMs / bareMs).toFixed(2)}×`);
  console.log('');
}

runBench(main, log);
