import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freshDatabase, type TestDb } from './support/db';
import { devServerEnv, timeSkippingEnv, uniqueTaskQueue, realWorker, stopAll } from './support/temporal';
import { citizenId, uscc } from './support/fixtures';
import { createActivities } from '../activities';
import { purgeRetentionBatch } from '../db/retention';
import { verifyAuditChain } from '../db/audit';
import { createPrincipal } from '../db/principals';
import { addCalendarDays, isIsoDate, shanghaiDate } from '../domain/calendar';
import { addMonths } from '../domain/publication';
import { retentionSweepWorkflow } from '../workflows/query';
import { SCHEDULES, ensureSchedules } from '../worker/schedules';
import type { Db } from '../db/knex';

/**
 * Retention (P19): personal credit information is kept 5 years from the day the act or event was concluded.
 * The period begins the day after the conclusion and ends on the corresponding day 5 years later (Civil Code
 * art. 201, 202): concluded 2021-11-27 → kept through 2026-11-27, removed from 2026-11-28.
 */
const SYSTEM = '00000000-0000-0000-0000-000000000000';

async function personRecord(
  db: Db,
  subjectId: string,
  concluded: string | null,
  opts: { versions?: (string | null)[]; item?: string; subjectType?: 'person' | 'enterprise' } = {},
): Promise<string> {
  const provider = await db('providers').where('code', 'QZ-COURT').first('id');
  const versions = opts.versions ?? [concluded];
  let key: string | undefined;
  for (let v = 0; v < versions.length; v++) {
    const [row] = await db('records')
      .insert({
        ...(key ? { record_key: key } : {}),
        version: v + 1,
        is_current: v === versions.length - 1,
        provider_id: provider.id,
        item_code: opts.item ?? 'P-DISHONEST',
        subject_type: opts.subjectType ?? 'person',
        subject_id: subjectId,
        payload: JSON.stringify({ case_no: `(2016)桂07执${v}号`, court: '钦州市中级人民法院', obligation: '给付' }),
        event_date: '2015-01-01',
        concluded_date: versions[v],
        created_by: SYSTEM,
      })
      .returning('record_key');
    key = row.record_key;
  }
  if ((opts.subjectType ?? 'person') === 'person')
    await db('persons').insert({ citizen_id: subjectId, name: '张某' }).onConflict('citizen_id').ignore();
  return key!;
}

const remaining = async (db: Db, key: string) => Number((await db('records').where('record_key', key).count({ n: '*' }))[0].n);

describe('the retention boundary and what is kept (P19, P20)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await freshDatabase();
  });
  afterAll(async () => {
    await t?.close();
  });

  test('one day before and after 5 years; every version goes; enterprise records, undated records and the query log stay', async () => {
    const asOf = '2026-11-27';
    const keys = {
      dayAfter: await personRecord(t.db, citizenId(1), '2021-11-26'), // 5 years ended yesterday → removed
      lastDay: await personRecord(t.db, citizenId(2), '2021-11-27'), // today is the last day → kept
      dayBefore: await personRecord(t.db, citizenId(3), '2021-11-28'), // one more day → kept
      undated: await personRecord(t.db, citizenId(4), null), // not concluded → kept
      versions: await personRecord(t.db, citizenId(5), null, { versions: ['2019-01-01', '2020-06-30'] }), // current concluded long ago → all versions removed
      corrected: await personRecord(t.db, citizenId(6), null, { versions: ['2015-01-01', '2024-01-01'] }), // current version decides → kept
      sameSubjectOld: await personRecord(t.db, citizenId(3), '2019-05-05'), // person 3 keeps their other record
      enterprise: await personRecord(t.db, uscc(1), '2010-01-01', { subjectType: 'enterprise', item: 'E-TAX' }), // archives stay (E15)
    };
    await createPrincipal(t.db, { name: '有账号的个人', role: 'person', personId: citizenId(7) }, null, 'test');
    const withAccount = await personRecord(t.db, citizenId(7), '2018-01-01');
    // a query that returned the record that will be removed: the log stays (P20)
    const [log] = await t
      .db('query_log')
      .insert({
        principal_id: SYSTEM,
        principal_role: 'government',
        principal_name: '某局',
        channel: 'direct',
        subject_type: 'person',
        subject_id: citizenId(1),
        categories_requested: [],
        categories_answered: ['public_credit'],
        basis: 'duty',
        fee: 'free',
        outcome: 'answered',
        item_count: 1,
      })
      .returning('id');
    await t
      .db('query_log_items')
      .insert({ query_log_id: log.id, record_key: keys.dayAfter, version: 1, item_code: 'P-DISHONEST', category: 'public_credit' });

    let total = { recordKeys: 0, rows: 0, persons: 0 };
    let batches = 0;
    for (;;) {
      const b = await purgeRetentionBatch(t.db, asOf, 2);
      if (!b.rows) break;
      batches++;
      total = { recordKeys: total.recordKeys + b.recordKeys, rows: total.rows + b.rows, persons: total.persons + b.persons };
    }
    expect(batches).toBe(2); // 4 keys, 2 per batch
    expect(total).toEqual({ recordKeys: 4, rows: 5, persons: 2 });
    expect(await remaining(t.db, keys.dayAfter)).toBe(0);
    expect(await remaining(t.db, keys.versions)).toBe(0);
    expect(await remaining(t.db, keys.sameSubjectOld)).toBe(0);
    expect(await remaining(t.db, withAccount)).toBe(0);
    expect(await remaining(t.db, keys.lastDay)).toBe(1);
    expect(await remaining(t.db, keys.dayBefore)).toBe(1);
    expect(await remaining(t.db, keys.undated)).toBe(1);
    expect(await remaining(t.db, keys.corrected)).toBe(2);
    expect(await remaining(t.db, keys.enterprise)).toBe(1);
    // persons left without records go with them; one with an account or other records stays
    expect(
      await t
        .db('persons')
        .whereIn('citizen_id', [citizenId(1), citizenId(5)])
        .count({ n: '*' }),
    ).toEqual([{ n: 0 }]);
    expect(
      await t
        .db('persons')
        .whereIn('citizen_id', [citizenId(3), citizenId(7)])
        .pluck('citizen_id'),
    ).toHaveLength(2);
    expect(await t.db('query_log').where('id', log.id).first('subject_id')).toEqual({ subject_id: citizenId(1) });
    expect(await t.db('query_log_items').where('query_log_id', log.id).pluck('record_key')).toEqual([keys.dayAfter]);

    // the next day, the record whose last day it was goes too; a repeat on the same day removes nothing more
    expect(await purgeRetentionBatch(t.db, asOf, 100)).toMatchObject({ rows: 0 });
    expect(await purgeRetentionBatch(t.db, addCalendarDays(asOf, 1), 100)).toMatchObject({ recordKeys: 1, rows: 1 });
    expect(await remaining(t.db, keys.lastDay)).toBe(0);
    expect(await remaining(t.db, keys.dayBefore)).toBe(1);
  });

  test('29 February: five years later the period ends on 28 February (no corresponding day)', async () => {
    const leap = await personRecord(t.db, citizenId(20), '2020-02-29');
    expect(await purgeRetentionBatch(t.db, '2025-02-28', 100)).toMatchObject({ rows: 0 });
    expect(await remaining(t.db, leap)).toBe(1);
    expect(await purgeRetentionBatch(t.db, '2025-03-01', 100)).toMatchObject({ rows: 1 });
    expect(await remaining(t.db, leap)).toBe(0);
  });

  test('batch by batch, the longest concluded first; a published enterprise record stays', async () => {
    const asOf = '2026-11-27';
    const add = (n: number, concluded: string, opts: { subjectType?: 'enterprise'; item?: string } = {}) =>
      personRecord(t.db, opts.subjectType ? uscc(300 + n) : citizenId(300 + n), concluded, opts);
    const due: string[] = [];
    const kept: string[] = [];
    for (let i = 0; i < 24; i++)
      (i % 3 === 2 ? kept : due).push(await add(i, i % 3 === 2 ? '2022-01-01' : addCalendarDays('2021-11-26', -i)));
    // a published enterprise record: the removal of personal rows is checked against publications and leaves it
    const published = await add(50, '2010-01-01', { subjectType: 'enterprise', item: 'E-TAX' });
    const pub = await t.db('records').where('record_key', published).first('id', 'provider_id', 'subject_id', 'item_code');
    await t.db('publications').insert({
      record_key: published,
      record_id: pub.id,
      provider_id: pub.provider_id,
      subject_id: pub.subject_id,
      item_code: pub.item_code,
      category: 'warning',
      state: 'published',
      due_date: '2015-01-08',
      publication_date: '2015-01-08',
    });

    const batches: number[] = [];
    for (;;) {
      const b = await purgeRetentionBatch(t.db, asOf, 3);
      if (!b.rows) break;
      batches.push(b.recordKeys);
      // the longest concluded go first: after the first batch, the three oldest of the due are gone
      if (batches.length === 1) for (const [i, k] of due.entries()) expect(await remaining(t.db, k)).toBe(i >= due.length - 3 ? 0 : 1);
    }
    expect(batches).toEqual([3, 3, 3, 3, 3, 1]);
    for (const k of due) expect(await remaining(t.db, k)).toBe(0);
    for (const k of kept) expect(await remaining(t.db, k)).toBe(1);
    expect(await remaining(t.db, published)).toBe(1);
    expect(await t.db('publications').where('record_key', published).first('state')).toEqual({ state: 'published' });
  });
});

describe('the retention sweep workflow', () => {
  let t: TestDb;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('retention');
  beforeAll(async () => {
    t = await freshDatabase();
    env = await timeSkippingEnv();
    worker = await realWorker(env, t.db, taskQueue);
    running = worker.run();
  }, 120000);
  afterAll(() => stopAll([worker && { worker, running }], env, t), 90000);

  test('batch by batch to the end; one audit entry per run with its counts; a repeated run removes nothing more', async () => {
    const today = shanghaiDate(new Date());
    // The first conclusion date still kept today: the same day 5 years ago, or on 29 February (no such day then)
    // 1 March, since a record concluded on 28 February had its last day yesterday.
    const sameDay = `${Number(today.slice(0, 4)) - 5}${today.slice(4)}`;
    const fiveYearsAgo = isIsoDate(sameDay) ? sameDay : `${Number(today.slice(0, 4)) - 5}-03-01`;
    const lastKeptDay = addMonths(fiveYearsAgo, 60);
    const expired: string[] = [];
    for (let i = 0; i < 7; i++) expired.push(await personRecord(t.db, citizenId(100 + i), addCalendarDays(fiveYearsAgo, -1 - i)));
    const kept = await personRecord(t.db, citizenId(200), fiveYearsAgo);

    const first = await env.client.workflow.execute(retentionSweepWorkflow, {
      taskQueue,
      workflowId: 'retention-test-1',
      args: [{ batchSize: 3 }],
    });
    expect(first).toMatchObject({ asOf: today, recordKeys: 7, rows: 7, batches: 3 });
    for (const k of expired) expect(await remaining(t.db, k)).toBe(0);
    expect(await remaining(t.db, kept)).toBe(1);
    const audit = await t.db('audit_log').where({ action: 'retention.purge', entity_id: first.runId });
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toMatchObject({ as_of: today, record_keys: 7, rows_deleted: 7, batches: 3, article: 'P19' });
    expect(await t.db('retention_runs').where('run_id', first.runId).first()).toMatchObject({ record_keys: 7, rows_deleted: 7 });

    const again = await env.client.workflow.execute(retentionSweepWorkflow, { taskQueue, workflowId: 'retention-test-2', args: [{}] });
    expect(again).toMatchObject({ recordKeys: 0, rows: 0, batches: 0 });
    expect(await remaining(t.db, kept)).toBe(1);
    // recording a run twice (a retried activity) writes it once
    const acts = createActivities({ db: t.db, publicationWorkingDays: 5, temporal: env.client, taskQueue });
    expect(await acts.retentionRecordRun({ runId: first.runId, asOf: today, recordKeys: 7, rows: 7, persons: 7, batches: 3 })).toBe(false);
    expect(await t.db('audit_log').where({ action: 'retention.purge' }).count({ n: '*' })).toEqual([{ n: 2 }]);
    // a late run (a day missed) catches up with what is due on its own day
    const late = await env.client.workflow.execute(retentionSweepWorkflow, {
      taskQueue,
      workflowId: 'retention-test-3',
      args: [{ asOf: addCalendarDays(lastKeptDay, 1) }],
    });
    expect(late).toMatchObject({ recordKeys: 1 });
    expect(await remaining(t.db, kept)).toBe(0);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });
});

describe('the daily retention Schedule (durable, Asia/Shanghai)', () => {
  let t: TestDb;
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    t = await freshDatabase();
    env = await devServerEnv();
  }, 120000);
  afterAll(async () => {
    await env?.teardown();
    await t?.close();
  });

  test('the worker creates it; triggered, it runs the sweep', async () => {
    const taskQueue = uniqueTaskQueue('retention-schedule');
    const defs = SCHEDULES.filter((s) => s.scheduleId === 'retention-sweep');
    expect(defs).toHaveLength(1);
    expect(await ensureSchedules(env.client, taskQueue, defs)).toEqual(['retention-sweep']);
    expect(await ensureSchedules(env.client, taskQueue, defs)).toEqual(['retention-sweep']); // safe to run again
    const handle = env.client.schedule.getHandle('retention-sweep');
    const desc = await handle.describe();
    expect(desc.spec.timezone).toBe('Asia/Shanghai');
    expect(desc.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionSweepWorkflow', taskQueue });

    const old = await personRecord(t.db, citizenId(300), '2015-06-30');
    const worker = await realWorker(env, t.db, taskQueue);
    await worker.runUntil(async () => {
      await handle.trigger();
      const end = Date.now() + 30000;
      while (!(await t.db('retention_runs').first()) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    });
    expect(await remaining(t.db, old)).toBe(0);
    expect(await t.db('retention_runs').first()).toMatchObject({ record_keys: 1, rows_deleted: 1 });
    await handle.delete();
  }, 90000);
});
