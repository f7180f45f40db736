/**
 * `npm run bench:public [-- --rows 1000000 --connections 10 --seconds 10 --rate 100 --explain --only TEXT --profile [DIR]]`: the public API (no login) under a
 * fixed concurrency with autocannon, next to the bare SQL of the same lookups in the same run.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench_public on that server, dropped at the end; otherwise a
 *               fresh embedded PostgreSQL in .data/bench-public-postgres on a free port, removed at the end.
 *   data        rows/5 enterprises, each with 5 records (registration, honor, penalty, dishonest-debtor entry —
 *               published — and a restricted tax record), loaded set-based (COPY + INSERT … SELECT); then the
 *               name search's fragment counts are rebuilt (the daily `name-search-statistics` Schedule's work).
 *   Temporal    TEMPORAL_ADDRESS, or a Temporal CLI dev server (the API connects to it at start; the public
 *               endpoints never call it).
 *   API         `node --import tsx api/main.ts` as a child process, rate limit raised out of the way.
 *   names       Chinese enterprise names built from Qinzhou's places, common trade-name characters, 20 lines of
 *               business and 5 legal forms (see nameOf), one in twenty in logistics.
 *   measured    for each lookup — the floor (GET /health next to SELECT 1: one HTTP hop against one round trip to
 *               PostgreSQL), an enterprise's page, a search by part of a name (trade name and trade, as people type
 *               it), by two characters (物流, in one name of twenty), by code — at a fixed rate (`rate` requests/s,
 *               open loop, as people arrive: what a person waits) and at saturation (autocannon at `connections` for
 *               `seconds`, random enterprises), then the same lookups as bare SQL (the queries of db/public-pages.ts on
 *               a pool of `connections`) the same two ways. p50/p95/p99 from every response time, requests/s, the
 *               ratio API p95 / SQL p95, at saturation the CPU per answer of the API process, PostgreSQL and the load
 *               generator (on 2 cores a closed loop is bound by their sum), and the API process's resident memory.
 *               Targets: p95 within 1.5× of the bare SQL's and p99 under 20 ms.
 *   --explain   prints EXPLAIN (ANALYZE, BUFFERS) of a page and a name search first.
 *   --only TEXT measures only the lookups whose name contains TEXT (e.g. `page`, `code`).
 *   --profile   writes a CPU profile of the API process to DIR (default .data/bench-profiles) when it stops.
 */
import http from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Client as PgClient } from 'pg';
import { Shutdown, loadSettings, redactUrl } from '../scripts/platform';
import { migrateAndSeed } from '../scripts/postgres';
import { createDb, type Db } from '../db/knex';
import { ROOT } from '../domain/config';
import { startCommand } from '../scripts/cli';
import { withUsccCheck } from '../domain/identifiers';
import { shanghaiDate } from '../domain/calendar';
import {
  NAME_SEARCH_SQL,
  enterprisePage,
  refreshNameSearchStatistics,
  searchEnterprises,
  PAGE_SQL as PAGE_SQL_FOR_EXPLAIN,
} from '../db/public-pages';
import {
  runBench,
  positiveArg,
  provideBenchDatabase,
  provideBenchTemporal,
  freePort,
  int,
  loadAverage,
  machine,
  procStatusKb,
  procCpuMs,
  postgresCpuMs,
  secs,
  spawnApi,
} from './support';

const BENCH_DB = 'qz_bench_public';
const PG_DIR = path.join(ROOT, '.data/bench-public-postgres');
const TEMPORAL_DIR = path.join(ROOT, '.data/bench-public-temporal');
// A name as Qinzhou's register writes them: [place][trade name, 字号][trade][form]. Words from the city's districts
// and towns, the usual characters of trade names, the common lines of business and legal forms.
const PLACES = [
  '钦州市',
  '钦州',
  '广西钦州',
  '钦州市钦南区',
  '钦州市钦北区',
  '灵山县',
  '浦北县',
  '钦州港',
  '钦州市钦南区沙埠镇',
  '灵山县檀圩镇',
  '浦北县小江镇',
  '钦北区大垌镇',
];
const ZIHAO = '华鑫恒盛泰源达宏兴隆海湾港通德信利丰金银瑞祥和顺发安康宁昌荣富强远航蓝天鸿福佳旺永新联创力众诚合益嘉美胜邦博'.split('');
const TRADES = [
  '物流',
  '贸易',
  '建筑工程',
  '农业科技',
  '食品',
  '化工',
  '石化',
  '港务',
  '船务',
  '水产养殖',
  '建材',
  '电子商务',
  '餐饮管理',
  '房地产开发',
  '机械设备',
  '汽车销售',
  '医药',
  '旅游开发',
  '文化传媒',
  '网络科技',
];
const FORMS = ['有限公司', '有限责任公司', '股份有限公司', '专业合作社', '经营部'];
const log = (m: string) => console.log(`[bench:public] ${m}`);

const usccOf = (i: number) => withUsccCheck(`91450700MB${String(i).padStart(7, '0')}`);
// Enterprise i gets its own combination (a multiplicative permutation of the whole space, so neighbours differ in
// every word): a trade name of two characters, or three for one in four (3.5 M two-character and 189 M
// three-character names possible); one name in twenty is in logistics (物流: the 1–2-character search's word),
// and a trade name with its trade (华鑫物流) is shared by about 3 enterprises of 200,000, as in a real register.
const ZH = ZIHAO.length;
const SPACE = PLACES.length * TRADES.length * FORMS.length * ZH * ZH * ZH;
function partsOf(i: number): { place: string; zihao: string; trade: string; form: string } {
  let k = (i * 2_654_435_761) % SPACE; // 2654435761 is prime, SPACE is not a multiple of it: a bijection
  const take = (n: number) => {
    const d = k % n;
    k = Math.floor(k / n);
    return d;
  };
  const place = PLACES[take(PLACES.length)];
  const trade = TRADES[take(TRADES.length)];
  const form = FORMS[take(FORMS.length)];
  const a = ZIHAO[take(ZH)];
  const b = ZIHAO[take(ZH)];
  const c = ZIHAO[take(ZH)];
  return { place, zihao: i % 4 === 0 ? a + b + c : a + b, trade, form };
}
const nameOf = (i: number) => {
  const p = partsOf(i);
  return `${p.place}${p.zihao}${p.trade}${p.form}`;
};
// What a person types to find enterprise i: its trade name and trade (华鑫物流), the usual way to look a company up.
const partOf = (i: number) => {
  const p = partsOf(i);
  return `${p.zihao}${p.trade}`;
};

async function load(db: Db, enterprises: number): Promise<void> {
  const conn = (await db.client.acquireConnection()) as PgClient;
  try {
    const lines = (function* () {
      for (let i = 1; i <= enterprises; i += 1000) {
        let s = '';
        for (let j = i; j < Math.min(i + 1000, enterprises + 1); j++) s += `${usccOf(j)}\t${nameOf(j)}\t存续\n`;
        yield s;
      }
    })();
    await pipeline(Readable.from(lines), conn.query(copyFrom('COPY enterprises (uscc, name, status) FROM STDIN')));
  } finally {
    await db.client.releaseConnection(conn);
  }
  const providers = await db('providers').whereIn('code', ['QZ-GSJ', 'QZ-COURT', 'QZ-TAX']).select('id', 'code');
  const pid = (c: string) => providers.find((p: { code: string }) => p.code === c).id as number;
  const creator = '00000000-0000-4000-8000-000000000001';
  const [{ id: sub }] = await db('submissions')
    .insert({
      provider_id: pid('QZ-GSJ'),
      period: '2026-10',
      idempotency_key: 'bench-public',
      request_hash: '',
      format: 'csv',
      row_count: 0,
      received_at: db.fn.now(),
      workflow_id: 'bench-public',
      created_by: creator,
      publication_deadline: '2026-10-15',
    })
    .returning('id');
  await db.raw(
    `INSERT INTO records (submission_id, provider_id, item_code, subject_type, subject_id, payload, event_date, valid_until, created_by)
     SELECT ?::uuid, k.provider_id, k.item_code, 'enterprise', e.uscc,
            CASE k.item_code
              WHEN 'E-BASIC-REG' THEN jsonb_build_object('name', e.name, 'legal_representative', '张三', 'established_on', '2015-05-01', 'status', '存续', 'registered_capital', 500)
              WHEN 'E-HONOR' THEN jsonb_build_object('title', '守合同重信用企业', 'kind', '表彰', 'issuer', '钦州市人民政府')
              WHEN 'E-PENALTY' THEN jsonb_build_object('decision_no', '钦市监罚〔2026〕' || right(e.uscc, 6) || '号', 'violation', '虚假宣传', 'penalty', '罚款', 'authority', '钦州市市场监督管理局', 'amount', 5000)
              WHEN 'E-DISHONEST' THEN jsonb_build_object('case_no', '(2026)桂07执' || right(e.uscc, 5) || '号', 'court', '钦州市中级人民法院', 'obligation', '给付货款')
              ELSE jsonb_build_object('tax_year', 2025, 'tax_paid', 120000, 'rating', 'B') END,
            DATE '2026-06-01', CASE WHEN k.item_code = 'E-HONOR' THEN DATE '2028-12-31' END, ?::uuid
       FROM enterprises e
       CROSS JOIN (VALUES ('E-BASIC-REG', ?::int), ('E-HONOR', ?::int), ('E-PENALTY', ?::int), ('E-DISHONEST', ?::int), ('E-TAX', ?::int)) AS k(item_code, provider_id)`,
    [sub, creator, pid('QZ-GSJ'), pid('QZ-GSJ'), pid('QZ-GSJ'), pid('QZ-COURT'), pid('QZ-TAX')],
  );
  await db.raw(
    `INSERT INTO publications (record_key, record_id, submission_id, provider_id, subject_id, item_code, category, state, due_date,
                               published_at, publication_date, period_end, period_basis)
     SELECT r.record_key, r.id, r.submission_id, r.provider_id, r.subject_id, r.item_code, ci.category, 'published', DATE '2026-10-15',
            TIMESTAMPTZ '2026-10-12 00:00+08', DATE '2026-10-12',
            CASE ci.category WHEN 'basic' THEN NULL WHEN 'honor' THEN r.valid_until ELSE DATE '2029-10-11' END,
            CASE ci.category WHEN 'basic' THEN 'until_terminated' WHEN 'honor' THEN 'validity' ELSE 'default_years' END
       FROM records r JOIN catalog_items ci ON ci.code = r.item_code
      WHERE ci.disclosure = 'public'`,
  );
  for (const t of ['enterprises', 'records', 'publications']) await db.raw(`VACUUM ANALYZE ${t}`);
}

interface Figures {
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  requests: number;
}

function figures(latencies: number[], ms: number): Figures {
  const s = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), rps: (s.length / ms) * 1000, requests: s.length };
}

/** autocannon against the API: every response time kept (for p95), non-2xx counted. */
function cannon(port: number, connections: number, seconds: number, nextPath: () => string): Promise<Figures & { errors: number }> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    const inst = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextPath() }) }],
      },
      (err) => {
        if (err) return reject(err);
        resolve({ ...figures(latencies, performance.now() - started), errors });
      },
    );
    inst.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      if (status !== 200) errors++;
    });
  });
}

/** The same lookups as bare SQL (the API's own queries, no HTTP), `connections` at a time for `seconds`. */
async function bare(connections: number, seconds: number, lookup: () => Promise<unknown>): Promise<Figures> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await lookup();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return figures(latencies, performance.now() - started);
}

/**
 * A lookup at a fixed rate (open loop: one starts every 1000/rate ms whatever the others do, as people arrive) for
 * `seconds`: through the API (an HTTP GET on a keep-alive agent) or as bare SQL.
 */
async function atRate(rate: number, seconds: number, lookup: () => Promise<unknown>): Promise<Figures> {
  const latencies: number[] = [];
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const at = started + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    inFlight.push(lookup().then(() => void latencies.push(performance.now() - t)));
  }
  await Promise.all(inFlight);
  return figures(latencies, performance.now() - started);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** One GET through the API; anything but 200 fails the bench. */
function get(port: number, urlPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${urlPath}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

async function main(shutdown: Shutdown): Promise<void> {
  const rows = positiveArg('rows', 1_000_000);
  const connections = positiveArg('connections', 10);
  const seconds = positiveArg('seconds', 10);
  const rate = positiveArg('rate', 100);
  const enterprises = Math.max(1, Math.floor(rows / 5));
  const config = loadSettings();
  log(
    `${int(enterprises * 5)} records (${int(enterprises)} enterprises × 5), ${connections} connections, ${seconds} s per measurement; ${machine()}; load average ${loadAverage()}`,
  );

  const { url } = await provideBenchDatabase({ config, shutdown, benchDb: BENCH_DB, pgDir: PG_DIR, log });
  log(`PostgreSQL: ${redactUrl(url)}`);
  const db = createDb(url, connections);
  shutdown.add('connection pool', () => db.destroy());
  await migrateAndSeed(db, log);
  const t = performance.now();
  await load(db, enterprises);
  const [{ n: recordCount }] = (await db.raw('SELECT count(*)::int AS n FROM records')).rows;
  log(`loaded ${int(recordCount)} records in ${secs(performance.now() - t)}`);
  // What the daily name-search-statistics Schedule does on a platform (and at every worker start).
  const stats = await refreshNameSearchStatistics(db);
  log(`name search statistics: ${int(stats.grams)} common fragments of ${int(stats.enterprises)} names counted in ${secs(stats.ms)}`);

  // A fresh dev server: ready (serving the namespace) before the API connects to it.
  const { address: temporalAddress } = await provideBenchTemporal({ config, shutdown, dir: TEMPORAL_DIR, log, ready: true });

  const port = await freePort();
  const profileAt = process.argv.indexOf('--profile');
  const profileDir =
    profileAt >= 0
      ? path.resolve(
          ROOT,
          process.argv[profileAt + 1] && !process.argv[profileAt + 1].startsWith('-')
            ? process.argv[profileAt + 1]
            : '.data/bench-profiles',
        )
      : null;
  const api = spawnApi({
    nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    env: { DATABASE_URL: url, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: 'qz-bench-public', PUBLIC_RATE_LIMIT: '100000000' },
    port,
    log,
  });
  shutdown.add('API process', () => api.stop());
  shutdown.add('HTTP agent', async () => agent.destroy());
  await api.ready(60_000);
  log(`API on port ${port} (pid ${api.pid})`);

  const today = shanghaiDate(new Date());
  const pick = () => 1 + Math.floor(Math.random() * enterprises);
  // `perSecond`: the fixed rate of a lookup (the 2-character browse, ~15 ms of PostgreSQL each at 1M records, at a
  // tenth of it: 100 a second would need more than the machine's two cores).
  const lookups: Array<{ name: string; path: () => string; sql: () => Promise<unknown>; perSecond?: number }> = [
    // The floor: what one HTTP hop to the API process costs on this machine next to one round trip to PostgreSQL.
    { name: 'floor: /health, SELECT 1', path: () => '/health', sql: () => db.raw('SELECT 1') },
    {
      name: 'enterprise page',
      path: () => `/public/enterprises/${usccOf(pick())}`,
      sql: async () => {
        const page = await enterprisePage(db, usccOf(pick()), today);
        if (!page || page.warnings.length !== 2) throw new Error('the bare page lookup found the wrong records');
      },
    },
    {
      name: 'search: part of a name',
      path: () => `/public/enterprises?q=${encodeURIComponent(partOf(pick()))}`,
      sql: () => searchEnterprises(db, { name: partOf(pick()), limit: 20, offset: 0 }),
    },
    {
      name: 'search: 2 characters',
      path: () => `/public/enterprises?q=${encodeURIComponent('物流')}&page=${1 + Math.floor(Math.random() * 5)}&page_size=20`,
      sql: () => searchEnterprises(db, { name: '物流', limit: 20, offset: 20 * Math.floor(Math.random() * 5) }),
      perSecond: Math.max(1, Math.round(rate / 10)),
    },
    {
      name: 'search: credit code',
      path: () => `/public/enterprises?q=${usccOf(pick())}`,
      sql: () => searchEnterprises(db, { code: usccOf(pick()), limit: 20, offset: 0 }),
    },
  ];

  // Correctness first: the API answers what the bare lookups find.
  const probe = await fetch(`http://127.0.0.1:${port}/public/enterprises/${usccOf(1)}`);
  const body = (await probe.json()) as { warnings: unknown[]; basic: unknown[]; honors: unknown[] };
  if (
    probe.status !== 200 ||
    body.warnings.length !== 2 ||
    body.basic.length !== 1 ||
    body.honors.length !== 1 ||
    JSON.stringify(body).includes('tax_paid')
  ) {
    throw new Error(`the API page is wrong: ${probe.status} ${JSON.stringify(body).slice(0, 300)}`);
  }

  if (process.argv.includes('--explain')) {
    const { rows } = await db.raw(
      `EXPLAIN (ANALYZE, BUFFERS) ${PAGE_SQL_FOR_EXPLAIN.replace(/\$1/g, `'${usccOf(7)}'`).replace(/\$2/g, `'${today}'`)}`,
    );
    console.log(rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
    await db.transaction(async (trx) => {
      await trx.raw(`PREPARE qz_explain_name AS ${NAME_SEARCH_SQL}`);
      const s2 = await trx.raw(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE qz_explain_name('${partOf(12345)}', 21, 0, '%${partOf(12345)}%')`);
      console.log(s2.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
      await trx.raw('DEALLOCATE qz_explain_name');
    });
  }

  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '') : '';
  // CPU per answer of each process in the measured window: on 2 cores a closed loop at `connections` is bound by
  // the sum, so this says where an API answer's extra time goes (its process, PostgreSQL, the load generator).
  type Cpu = { api: number; pg: number; bench: number };
  const cpuNow = (): Cpu => ({
    api: procCpuMs(api.pid) ?? NaN,
    pg: postgresCpuMs(),
    bench: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000,
  });
  const perAnswer = (a: Cpu, b: Cpu, n: number): Cpu => ({
    api: (b.api - a.api) / n,
    pg: (b.pg - a.pg) / n,
    bench: (b.bench - a.bench) / n,
  });
  const results: Array<{
    name: string;
    api: Figures & { errors: number };
    sql: Figures;
    apiCpu: Cpu;
    sqlCpu: Cpu;
    apiRate: Figures;
    sqlRate: Figures;
  }> = [];
  for (const l of lookups.filter((x) => x.name.includes(only))) {
    await cannon(port, connections, 2, l.path); // warm-up
    const c0 = cpuNow();
    const apiFig = await cannon(port, connections, seconds, l.path);
    const c1 = cpuNow();
    if (apiFig.errors) throw new Error(`${l.name}: ${apiFig.errors} answers were not 200`);
    await bare(connections, 1, l.sql);
    const c2 = cpuNow();
    const sqlFig = await bare(connections, seconds, l.sql);
    const c3 = cpuNow();
    const apiRate = await atRate(l.perSecond ?? rate, seconds, () => get(port, l.path()));
    const sqlRate = await atRate(l.perSecond ?? rate, seconds, l.sql);
    results.push({
      name: l.name,
      api: apiFig,
      sql: sqlFig,
      apiCpu: perAnswer(c0, c1, apiFig.requests),
      sqlCpu: perAnswer(c2, c3, sqlFig.requests),
      apiRate,
      sqlRate,
    });
    log(`${l.name}: done`);
  }

  const ms = (v: number) => `${v.toFixed(2)} ms`.padStart(10);
  const verdict = (api: Figures, sql: Figures) => {
    const ratio = api.p95 / sql.p95;
    return `p95 API/SQL ${ratio.toFixed(2)}×  (targets: within 1.5× ${ratio <= 1.5 ? 'met' : 'NOT met'}, p99 < 20 ms ${api.p99 < 20 ? 'met' : 'NOT met'})`;
  };
  const row = (label: string, path: string, f: Figures) =>
    console.log(`  ${label.padEnd(24)} ${path.padEnd(9)} ${ms(f.p50)} ${ms(f.p95)} ${ms(f.p99)} ${int(f.rps).padStart(9)}`);
  const cpu = (c: Cpu, api: boolean) =>
    `CPU per answer: ${api ? `API ${c.api.toFixed(2)} ms + ` : ''}PostgreSQL ${c.pg.toFixed(2)} ms + ${api ? 'load generator' : 'client'} ${c.bench.toFixed(2)} ms`;
  const header = (title: string) => {
    console.log(`\n  ${title}`);
    console.log(
      `  ${'lookup'.padEnd(24)} ${'path'.padEnd(9)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'p99'.padStart(10)} ${'req/s'.padStart(9)}`,
    );
  };
  header(`at ${rate} requests/s (a fixed rate, the 2-character browse at ${Math.max(1, Math.round(rate / 10))}: what a person waits)`);
  for (const r of results) {
    row(r.name, 'API', r.apiRate);
    row('', 'bare SQL', r.sqlRate);
    console.log(`  ${''.padEnd(24)} ${verdict(r.apiRate, r.sqlRate)}`);
  }
  header(
    `${connections} connections as fast as they go (saturation: the machine's CPU is shared by the API, PostgreSQL and the load generator)`,
  );
  for (const r of results) {
    row(r.name, 'API', r.api);
    row('', 'bare SQL', r.sql);
    console.log(`  ${''.padEnd(24)} API      ${cpu(r.apiCpu, true)}`);
    console.log(`  ${''.padEnd(24)} bare SQL ${cpu(r.sqlCpu, false)}`);
    console.log(`  ${''.padEnd(24)} ${verdict(r.api, r.sql)}`);
  }
  const mb = (kb: number | null) => (kb === null ? 'unknown' : `${(kb / 1024).toFixed(0)} MB`);
  console.log(
    `\n  ${connections} connections; API process resident memory: peak ${mb(procStatusKb(api.pid, 'VmHWM'))}, now ${mb(procStatusKb(api.pid, 'VmRSS'))}; load average now ${loadAverage()}\n`,
  );
}

const USAGE = `用法 / usage: npm run bench:public -- [--rows N] [--connections C] [--seconds S] [--rate R] [--explain] [--only TEXT] [--profile [DIR]]
  --rows N          记录数 / records, 5 per enterprise (default 1000000; env BENCH_ROWS)
  --connections C   并发连接数 / concurrent connections at saturation (default 10; env BENCH_CONNECTIONS)
  --seconds S       每次测量的秒数 / seconds per measurement (default 10; env BENCH_SECONDS)
  --rate R          固定速率（请求/秒）/ fixed rate in requests per second (default 100; env BENCH_RATE)
  --explain         打印查询计划 / print the query plans
  --only TEXT       只测名称含 TEXT 的查询 / only the lookups whose name contains TEXT
  --profile [DIR]   API 进程的 CPU 剖析写入 DIR / a CPU profile of the API process in DIR (default .data/bench-profiles)
  -h, --help        显示本说明 / show this help`;

// --help, unknown arguments and every setting answered before anything starts (scripts/cli.ts).
startCommand('bench:public', USAGE, {
  rows: { value: 'required' },
  connections: { value: 'required' },
  seconds: { value: 'required' },
  rate: { value: 'required' },
  explain: {},
  only: { value: 'required' },
  profile: { value: 'optional' },
});
runBench(main, log);
