/**
 * `npm run bench:xlsx [-- --rows 100000 --runs 1]`: an Excel upload (POST /submissions, .xlsx) against the same
 * rows sent as CSV (the baseline), in the same run, on the same database.
 *
 *   PostgreSQL  DATABASE_URL: a fresh database qz_bench_xlsx on that server, dropped at the end; otherwise a fresh
 *               embedded PostgreSQL in .data/bench-xlsx-postgres on a free port, removed at the end.
 *   Temporal    TEMPORAL_ADDRESS, or a Temporal CLI dev server (no worker: the API only starts the workflows).
 *   workbook    the bench rows (bench/support.ts, E-PENALTY) written once with exceljs's streaming WorkbookWriter
 *               (shared strings, as Excel writes them) into a temp file, not timed.
 *   measured    per round and format: TRUNCATE + CHECKPOINT, a fresh API child process (so its peak RSS, VmHWM,
 *               is that format's alone), one chunked request from the first body byte to the end of the 202
 *               answer; rows/s, wall time, the API's CPU time and peak RSS. The best round of each is kept.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { loadSettings, redactUrl, type Shutdown } from '../scripts/platform';
import { migrateAndSeed } from '../scripts/postgres';
import { createDb, type Db } from '../db/knex';
import { createPrincipal, issueApiKey } from '../db/principals';
import { ROOT } from '../domain/config';
import { startCommand } from '../scripts/cli';
import {
  CSV_HEADER,
  ITEM_CODE,
  RowSource,
  benchRow,
  csvLine,
  freePort,
  int,
  loadAverage,
  machine,
  mb,
  positiveArg,
  procCpuMs,
  procStatusKb,
  previousMonthPeriod,
  provideBenchDatabase,
  provideBenchTemporal,
  runBench,
  secs,
  spawnApi,
} from './support';

const BENCH_DB = 'qz_bench_xlsx';
const PG_DIR = path.join(ROOT, '.data/bench-xlsx-postgres');
const TEMPORAL_DIR = path.join(ROOT, '.data/bench-xlsx-temporal');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const log = (m: string) => console.log(`[bench:xlsx] ${m}`);

interface Run {
  ms: number;
  rowsPerSec: number;
  bytes: number;
  cpuMs: number | null;
  peakKb: number | null;
}

/** The bench rows as a workbook: a header of the codes (as the CSV's), then one row per record, as exceljs streams it. */
async function writeWorkbook(file: string, rows: number, eventDate: string): Promise<void> {
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const ws = writer.addWorksheet('数据');
  ws.addRow(CSV_HEADER.trim().split(',')).commit();
  for (let i = 1; i <= rows; i++) {
    const r = benchRow(i);
    ws.addRow([ITEM_CODE, r.subjectId, eventDate, r.decisionNo, '虚假宣传', '罚款', '钦州市市场监督管理局']).commit();
  }
  await writer.commit();
}

async function post(
  port: number,
  auth: string,
  period: string,
  type: string,
  body: Readable,
): Promise<{ status: number; text: string; done: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/submissions?period=${encodeURIComponent(period)}`,
        agent: false,
        headers: { Authorization: auth, 'Idempotency-Key': `bench-xlsx-${crypto.randomUUID()}`, 'Content-Type': type },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), done: performance.now() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    pipeline(body, req).catch(() => undefined);
  });
}

async function main(shutdown: Shutdown): Promise<void> {
  const rows = positiveArg('rows', 100_000);
  const runs = positiveArg('runs', 1);
  const config = loadSettings();
  log(`${int(rows)} rows, ${runs} round(s); ${machine()}; load average ${loadAverage()}`);

  const { url } = await provideBenchDatabase({ config, shutdown, benchDb: BENCH_DB, pgDir: PG_DIR, log });
  log(`PostgreSQL: ${redactUrl(url)}`);
  const db = createDb(url, 2);
  shutdown.add('connection pool', () => db.destroy());
  await migrateAndSeed(db, log);
  // A fresh dev server: ready (serving the namespace) before the API connects to it.
  const { address: temporalAddress } = await provideBenchTemporal({ config, shutdown, dir: TEMPORAL_DIR, log, ready: true });
  const principal = await createPrincipal(db, { name: '基准测试 / xlsx bench', role: 'provider', providerCode: 'QZ-GSJ' }, null, 'bench');
  const auth = `Bearer ${(await issueApiKey(db, principal.id, { label: 'bench:xlsx' }, null, 'bench')).token}`;

  const period = previousMonthPeriod();
  const eventDate = `${period}-09`;
  const file = path.join(os.tmpdir(), `qz-bench-${process.pid}.xlsx`);
  shutdown.add('workbook file', async () => fs.rmSync(file, { force: true }));
  const t = performance.now();
  await writeWorkbook(file, rows, eventDate);
  const xlsxBytes = fs.statSync(file).size;
  log(`workbook written in ${secs(performance.now() - t)}: ${(xlsxBytes / 2 ** 20).toFixed(1)} MiB`);

  const measure = async (format: 'csv' | 'xlsx'): Promise<Run> => {
    await resetTables(db);
    const port = await freePort();
    const api = spawnApi({
      env: { DATABASE_URL: url, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: 'qz-bench-xlsx' },
      port,
      log,
    });
    try {
      await api.ready(60_000);
      const cpuBefore = procCpuMs(api.pid);
      let started = 0;
      let bytes = 0;
      const body =
        format === 'csv'
          ? new RowSource(rows, (r) => csvLine(r, eventDate), CSV_HEADER)
          : fs.createReadStream(file, { highWaterMark: 1 << 16 });
      body.once('data', () => (started = performance.now()));
      body.on('data', (c: Buffer) => (bytes += c.length));
      const res = await post(port, auth, period, format === 'csv' ? 'text/csv; charset=utf-8' : XLSX, body);
      if (res.status !== 202) throw new Error(`${format}: the API answered ${res.status}: ${res.text.slice(0, 1000)}`);
      const stored = JSON.parse(res.text).submission.row_count;
      if (stored !== rows) throw new Error(`${format}: ${rows} rows sent, ${stored} stored`);
      const ms = res.done - started;
      const cpuAfter = procCpuMs(api.pid);
      return {
        ms,
        rowsPerSec: (rows * 1000) / ms,
        bytes,
        cpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
        peakKb: procStatusKb(api.pid, 'VmHWM'),
      };
    } finally {
      await api.stop();
    }
  };

  const results: Record<'csv' | 'xlsx', Run[]> = { csv: [], xlsx: [] };
  for (let round = 1; round <= runs; round++) {
    for (const format of ['csv', 'xlsx'] as const) {
      const r = await measure(format);
      results[format].push(r);
      log(`round ${round}/${runs}  ${format.padEnd(4)}  ${secs(r.ms)}  ${int(r.rowsPerSec)} rows/s  API peak RSS ${mb(r.peakKb)}`);
    }
  }
  const best = (rs: Run[]) => rs.reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
  const c = best(results.csv);
  const x = best(results.xlsx);
  const line = (name: string, r: Run) =>
    `${name.padEnd(24)}${int(r.rowsPerSec).padStart(10)} rows/s   ${secs(r.ms).padStart(8)}   ${(r.bytes / 2 ** 20).toFixed(1).padStart(6)} MiB sent   API CPU ${r.cpuMs === null ? 'n/a' : secs(r.cpuMs)}   API peak RSS ${mb(r.peakKb)}`;
  console.log(
    [
      '',
      '══════════════ bench:xlsx — Excel upload vs CSV of the same rows ══════════════',
      `rows                    ${int(rows)} E-PENALTY rows, one chunked POST /submissions each`,
      line('CSV (baseline)', c),
      line('Excel .xlsx', x),
      `ratio xlsx / CSV        ${(x.rowsPerSec / c.rowsPerSec).toFixed(2).padStart(10)}          (rows/s); peak RSS ${mb(x.peakKb)} vs ${mb(c.peakKb)}`,
      `machine                 ${machine()}; load average ${loadAverage()}`,
      'method                  per round and format: TRUNCATE+CHECKPOINT, a fresh API process, one request; best round kept',
      '════════════════════════════════════════════════════════════════════════════',
      '',
    ].join('\n'),
  );
}

async function resetTables(db: Db): Promise<void> {
  await db.raw('TRUNCATE records, submissions, idempotency_keys, enterprises CASCADE');
  await db.raw('CHECKPOINT');
}

const USAGE = `用法 / usage: npm run bench:xlsx -- [--rows N] [--runs K]
  --rows N   每个批次的行数 / rows per batch (default 100000; env BENCH_ROWS)
  --runs K   每种格式的轮数，取最好 / rounds of each format, the best is kept (default 1; env BENCH_RUNS)
  -h, --help 显示本说明 / show this help`;

// --help, unknown arguments and every setting answered before anything starts (scripts/cli.ts).
startCommand('bench:xlsx', USAGE, { rows: { value: 'required' }, runs: { value: 'required' } });
runBench(main, log);
