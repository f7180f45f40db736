import { Gauge } from 'prom-client';
import type { Db } from '../db/knex';
import { platformGauges, type PlatformGauges } from '../db/platform-gauges';
import { shanghaiDate } from '../domain/calendar';
import { registry } from '../ops/metrics';

/**
 * The gauges of what the database knows (db/platform-gauges.ts), read at most every 15 s whatever the number of
 * scrapes, from the database of the process that serves them (`registerPlatformGauges`, called once at start).
 */
let source: Db | undefined;
let cached: { at: number; value: Promise<PlatformGauges> } | undefined;
const CACHE_MS = 15_000;

function current(): Promise<PlatformGauges> | undefined {
  if (!source) return undefined;
  if (!cached || Date.now() - cached.at > CACHE_MS) {
    const value = platformGauges(source, shanghaiDate(new Date()));
    value.catch(() => {
      cached = undefined;
    });
    cached = { at: Date.now(), value };
  }
  return cached.value;
}

function gauge(name: string, help: string, labelNames: string[], fill: (g: Gauge, v: PlatformGauges) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const v = await current();
      if (!v) return;
      this.reset();
      fill(this, v);
    },
  });
}

let registered = false;

export function registerPlatformGauges(db: Db): void {
  source = db;
  cached = undefined;
  if (registered) return;
  registered = true;
  gauge('qz_obligations', '报送义务 / reporting obligations, by state', ['state'], (g, v) =>
    v.obligations.forEach((r) => g.set({ state: r.state }, r.n)),
  );
  gauge('qz_compliance_cases', '督办案件 / compliance cases, by state', ['state'], (g, v) =>
    v.cases.forEach((r) => g.set({ state: r.state }, r.n)),
  );
  gauge('qz_objections', '异议 / objections, by state', ['state'], (g, v) => v.objections.forEach((r) => g.set({ state: r.state }, r.n)));
  gauge(
    'qz_objections_open_by_days_left',
    '办理中的异议，按核实期限剩余天数 / open objections by calendar days left to their deadline (past, 0-2, 3-5, 6+)',
    ['days_left'],
    (g, v) => v.objectionDaysLeft.forEach((r) => g.set({ days_left: r.bucket }, r.n)),
  );
  gauge(
    'qz_publication_batches_unpublished',
    '尚有记录未公开的批次 / batches with records not yet public, by E12 stage (in_time, due_today: past day 4, overdue)',
    ['stage'],
    (g, v) => v.unpublishedBatches.forEach((r) => g.set({ stage: r.stage }, r.n)),
  );
  gauge(
    'qz_publication_lag_seconds',
    '近 24 小时公开记录从受理到公开的时长 / receipt to publication of the records published in the last 24 hours, seconds',
    ['quantile'],
    (g, v) => {
      const l = v.publicationLag;
      if (l.p50 !== null) g.set({ quantile: '0.5' }, l.p50);
      if (l.p95 !== null) g.set({ quantile: '0.95' }, l.p95);
      if (l.max !== null) g.set({ quantile: '1' }, l.max);
    },
  );
}
