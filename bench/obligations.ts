/**
 * `npm run bench:obligations [-- --providers 500 --requests 300]`: reporting obligations at city scale.
 *
 *   1. Opening: 500 monthly providers; each of 12 monthly periods (2025-12 … 2026-11) is opened for all of them the
 *      way the daily opener does it — set-based SQL (`openMissingObligations`), then one workflow start per
 *      obligation (`startPendingObligationWorkflows`, ids `obligation-<provider>-<period>`). Printed: the time of
 *      each, median and slowest.
 *   2. The overdue board with 10,000 obligations in the database (8 earlier periods are added in bulk, the states
 *      of the past periods set the way the workflows would have left them: on time, late, overdue, ordered,
 *      escalation due, escalated). Printed: p50/p95 of `GET /obligations/board` (HTTP, authenticated, working
 *      days overdue from the calendar) next to p50/p95 of its bare SQL query (`boardQuery`), same run, same
 *      database, and their ratio. Target: the endpoint's p95 within 2× the bare query's.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench_obligations on that server (dropped at the end);
 *               otherwise a fresh embedded PostgreSQL in .data/bench-obligations-postgres (removed at the end).
 *   Temporal    TEMPORAL_ADDRESS, or a Temporal CLI dev server on free ports (state removed at the end). No worker
 *               runs: the workflows are started on a task queue of the bench's own and left there.
 *
 * Exit 0 when everything worked, whatever the numbers; 1 on a failure; 2 on a usage error.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { Shutdown, describeError, loadSettings } from '../scripts/platform';
import { migrateAndSeed } from '../scripts/postgres';
import { connectTemporal } from '../scripts/temporal-dev';
import { createDb } from '../db/knex';
import { loadCalendar } from '../db/calendar';
import { startChangeFeed } from '../db/changes';
import { openMissingObligations } from '../db/obligations';
import { boardQuery, type BoardFilter } from '../db/obligation-board';
import { createPrincipal, issueApiKey } from '../db/principals';
import { startPendingObligationWorkflows } from '../processes/starts';
import { createApp } from '../api/app';
import { ROOT } from '../domain/config';
import { startCommand } from '../scripts/cli';
import { shanghaiDate } from '../domain/calendar';
import { provideBenchDatabase, provideBenchTemporal, int, loadAverage, machine } from './support';

const BENCH_DB = 'qz_bench_obligations';
const PG_DIR = path.join(ROOT, '.data/bench-obligations-postgres');
const TEMPORAL_DIR = path.join(ROOT, '.data/bench-obligations-temporal');
const MEASURED_PERIODS = [
  '2025-12',
  '2026-01',
  '2026-02',
  '2026-03',
  '2026-04',
  '2026-05',
  '2026-06',
  '2026-07',
  '2026-08',
  '2026-09',
  '2026-10',
  '2026-11',
];
const HISTORY_FROM = '2025-04-01'; // 8 more months of history: 20 periods × 500 providers = 10,000 obligations
const TARGET_RATIO = 2;

const log = (m: string) => console.log(`[bench] ${m}`);

function args(argv: string[]): { providers: number; requests: number } {
  let providers = 500;
  let requests = 300;
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--providers' && Number.isInteger(v) && v > 0 && v <= 5000) {
      providers = v;
      i++;
    } else if (argv[i] === '--requests' && Number.isInteger(v) && v >= 20 && v <= 100000) {
      requests = v;
      i++;
    } else {
      console.error(`usage: npm run bench:obligations -- [--providers N (1–5000, default 500)] [--requests K (≥ 20, default 300)]`);
      process.exit(2);
    }
  }
  return { providers, requests };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

const shutdown = new Shutdown();

async function main(): Promise<void> {
  const { providers, requests } = args(process.argv.slice(2));
  const config = loadSettings();
  log(`${providers} providers × ${MEASURED_PERIODS.length} monthly periods; ${machine()}; load average ${loadAverage()}`);

  // ── PostgreSQL ──
  const { url } = await provideBenchDatabase({ config, shutdown, benchDb: BENCH_DB, pgDir: PG_DIR, log });
  const db = createDb(url, 10);
  shutdown.add('connection pool', () => db.destroy());
  await migrateAndSeed(db, log);

  // ── Temporal ──
  const { address, exited } = await provideBenchTemporal({ config, shutdown, dir: TEMPORAL_DIR, log });
  const connection = await connectTemporal({
    address,
    namespace: config.temporalNamespace,
    timeoutMs: 90_000,
    namespaceMayAppear: exited !== undefined,
    serverExited: exited,
  });
  shutdown.add('Temporal connection', () => connection.close());
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const taskQueue = `qz-bench-obligations-${crypto.randomBytes(4).toString('hex')}`;

  // ── 500 monthly providers, tracked from April 2025 ──
  await db('providers').update({ active: false });
  const ids: number[] = (
    await db('providers')
      .insert(
        Array.from({ length: providers }, (_, i) => ({
          code: `BENCH-${String(i + 1).padStart(4, '0')}`,
          name_zh: `基准单位${i + 1}`,
          name_en: `Bench provider ${i + 1}`,
          kind: i % 5 === 0 ? 'utility' : 'administrative',
          legal_basis: 'E7',
        })),
      )
      .returning('id')
  ).map((r: { id: number }) => r.id);
  await db('provider_cadence_changes').insert(
    ids.map((id) => ({ provider_id: id, kind: 'initial', cadence: 'monthly', effective_from: HISTORY_FROM, actor: 'bench' })),
  );
  const calendar = await loadCalendar(db);

  // History (not measured): 8 periods opened in one set-based statement, their workflows counted as started.
  const history = await openMissingObligations(db, { today: '2025-11-30', dueWorkingDays: 5, calendar, actor: 'bench' });
  await db('obligations').whereNull('workflow_started_at').update({ workflow_started_at: db.fn.now() });
  log(`history: ${int(history.length)} obligations of 2025-04 … 2025-11 opened in bulk`);

  // ── 1. Opening one period for every provider ──
  const sqlTimes: number[] = [];
  const startTimes: number[] = [];
  for (const period of MEASURED_PERIODS) {
    const t0 = performance.now();
    const opened = await openMissingObligations(db, { today: `${period}-01`, dueWorkingDays: 5, calendar, actor: 'bench' });
    const t1 = performance.now();
    const started = await startPendingObligationWorkflows({ db, temporal, taskQueue });
    const t2 = performance.now();
    if (opened.length !== providers || started !== providers)
      throw new Error(`${period}: opened ${opened.length}, started ${started}, expected ${providers}`);
    sqlTimes.push(t1 - t0);
    startTimes.push(t2 - t1);
    log(
      `open ${period}: ${int(opened.length)} obligations — SQL ${ms(t1 - t0)}, ${int(started)} workflow starts ${ms(t2 - t1)}, total ${ms(t2 - t0)}`,
    );
  }
  const again = await openMissingObligations(db, { today: '2026-11-01', dueWorkingDays: 5, calendar, actor: 'bench' });
  if (again.length) throw new Error(`opening again opened ${again.length}`);

  // ── The states the workflows would have left ──
  const today = shanghaiDate(new Date());
  await db.raw('SELECT setseed(0.42)');
  await db.raw(
    `
    WITH past AS (SELECT id, provider_id, due_date, floor(random() * 10)::int AS n FROM obligations WHERE due_date < ?::date)
    UPDATE obligations o SET state = CASE WHEN past.n % 10 < 8 THEN 'fulfilled' WHEN past.n % 10 = 8 THEN 'fulfilled' ELSE 'overdue' END,
           on_time = CASE WHEN past.n % 10 < 8 THEN true WHEN past.n % 10 = 8 THEN false END,
           fulfilled_at = CASE WHEN past.n % 10 <= 8 THEN o.due_date::timestamptz END,
           overdue_at = CASE WHEN past.n % 10 >= 8 THEN (o.due_date + 1)::timestamptz END
      FROM past WHERE past.id = o.id`,
    [today],
  );
  await db.raw(`
    WITH c AS (
      INSERT INTO compliance_cases (provider_id, kind, reference_id, state, article, summary, missed_deadline, workflow_id, order_deadline, ordered_at, escalation_due_at, escalated_at, referred_to)
      SELECT o.provider_id, 'reporting', o.id::text,
             (ARRAY['overdue','ordered','escalation_due','escalated'])[1 + o.id % 4], 'E7, E20, P9, P24', '基准', o.due_date,
             'compliance-reporting-' || o.id, CASE WHEN o.id % 4 > 0 THEN o.due_date + 20 END, CASE WHEN o.id % 4 > 0 THEN now() END,
             CASE WHEN o.id % 4 > 1 THEN now() END, CASE WHEN o.id % 4 = 3 THEN now() END, CASE WHEN o.id % 4 = 3 THEN '钦州市监察部门' END
        FROM obligations o WHERE o.state = 'overdue'
      RETURNING id, reference_id)
    UPDATE obligations o SET case_id = c.id FROM c WHERE o.id = c.reference_id::bigint`);
  await db.raw('ANALYZE');
  const [{ total, overdue }] = (
    await db.raw(`SELECT count(*) AS total, count(*) FILTER (WHERE state = 'overdue') AS overdue FROM obligations`)
  ).rows;
  log(`database: ${int(total)} obligations, ${int(overdue)} overdue on the board`);

  // ── 2. The board: endpoint vs bare SQL ──
  const admin = await createPrincipal(db, { name: '基准管理员', role: 'admin' }, null, 'bench');
  const key = await issueApiKey(db, admin.id, { label: 'bench:obligations' }, null, 'bench');
  // As the API process runs: listening for changes, so keys and the calendar are cached (db/changes.ts).
  const feed = await startChangeFeed(db, log);
  shutdown.add('change feed', () => feed.stop());
  const app = createApp({ db, temporal, config: { taskQueue, jsonBodyLimit: '1mb', maxReportedErrors: 100 } });
  const httpServer = http.createServer(app);
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  shutdown.add('API', () => new Promise<void>((r) => httpServer.close(() => r())));
  const port = (httpServer.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (p: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: p, agent, headers: { authorization: `Bearer ${key.token}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });

  const cases: Array<{ name: string; query: string; filter: BoardFilter }> = [
    { name: 'default (most overdue first, 50)', query: '', filter: { sort: 'working_days_overdue', order: 'desc', limit: 50, offset: 0 } },
    {
      name: 'state=ordered, by provider',
      query: '?state=ordered&sort=provider&order=asc',
      filter: { state: 'ordered', sort: 'provider', order: 'asc', limit: 50, offset: 0 },
    },
    {
      name: 'period=2026-03, kind=administrative',
      query: '?period=2026-03&kind=administrative',
      filter: { period: '2026-03', kind: 'administrative', sort: 'working_days_overdue', order: 'desc', limit: 50, offset: 0 },
    },
  ];
  // What an authenticated request would cost before any route runs without the key cache (api/auth.ts): the key
  // lookup and the last_used_at write, timed here as statements, to read the ratio with.
  const authCost: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    await db('api_keys as k')
      .join('principals as p', 'p.id', 'k.principal_id')
      .leftJoin('providers as pr', 'pr.id', 'p.provider_id')
      .where('k.prefix', key.prefix)
      .first('k.id', 'k.secret_hash', 'p.*', 'pr.code as provider_code');
    await db('api_keys').where('id', key.id).update({ last_used_at: new Date() });
    authCost.push(performance.now() - t);
  }
  log(`authentication without the key cache (key lookup + last_used_at write): p50 ${ms(pct(authCost, 50))} p95 ${ms(pct(authCost, 95))}`);
  let worst = 0;
  for (const c of cases) {
    const { sql, bindings } = boardQuery(c.filter);
    const check = await get(`/obligations/board${c.query}`);
    if (check.status !== 200) throw new Error(`board answered ${check.status}: ${check.body.slice(0, 300)}`);
    const rows = JSON.parse(check.body).rows.length;
    for (let i = 0; i < 20; i++) await Promise.all([get(`/obligations/board${c.query}`), db.raw(sql, bindings as never[])]); // warm-up
    const api: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < requests; i++) {
      // interleaved, so that both see the same machine state
      let t = performance.now();
      const r = await get(`/obligations/board${c.query}`);
      api.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`board answered ${r.status}`);
      t = performance.now();
      await db.raw(sql, bindings as never[]);
      bare.push(performance.now() - t);
    }
    const ratio = pct(api, 95) / pct(bare, 95);
    worst = Math.max(worst, ratio);
    log(
      `board ${c.name} (${rows} rows): endpoint p50 ${ms(pct(api, 50))} p95 ${ms(pct(api, 95))} | bare SQL p50 ${ms(pct(bare, 50))} p95 ${ms(pct(bare, 95))} | p95 ratio ${ratio.toFixed(2)}×`,
    );
  }
  agent.destroy();

  const median = (xs: number[]) => pct(xs, 50);
  log('── summary ──');
  log(
    `opening a period for ${providers} providers: SQL median ${ms(median(sqlTimes))} (max ${ms(Math.max(...sqlTimes))}), workflow starts median ${ms(median(startTimes))} (max ${ms(Math.max(...startTimes))}), total median ${ms(median(sqlTimes.map((s, i) => s + startTimes[i])))}`,
  );
  log(
    `overdue board with ${int(total)} obligations: worst p95 ratio endpoint / bare SQL ${worst.toFixed(2)}× (target ≤ ${TARGET_RATIO}×: ${worst <= TARGET_RATIO ? 'met' : 'NOT met'})`,
  );
}

const USAGE = `用法 / usage: npm run bench:obligations -- [--providers N] [--requests K]
  --providers N   按月报送的信息提供单位数 / monthly providers, 1–5000 (default 500)
  --requests K    看板请求数 / requests of the overdue board, ≥ 20 (default 300)
  -h, --help      显示本说明 / show this help`;

// --help, unknown arguments and every setting answered before anything starts (scripts/cli.ts).
startCommand('bench', USAGE, { providers: { value: 'required' }, requests: { value: 'required' } });
main().then(
  async () => {
    await shutdown.run(log);
    process.exit(0);
  },
  async (e: unknown) => {
    console.error(`[bench] failed: ${describeError(e)}`);
    if (e instanceof Error && e.stack) console.error(e.stack);
    await shutdown.run(log);
    process.exit(1);
  },
);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    void shutdown.run(log).then(() => process.exit(130));
  });
}
