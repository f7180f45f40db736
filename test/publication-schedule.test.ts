/**
 * The daily publication sweep is a Temporal Schedule (never one workflow per record): created by ensureSchedules
 * at 00:30 Asia/Shanghai, and a triggered run sweeps with the real activities on PostgreSQL. Schedules exist only
 * on the CLI dev server, not on the time-skipping test server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerEnv, uniqueTaskQueue, realWorker } from './support/temporal';
import { eventually } from './support/wait';
import { freshDatabase, type TestDb } from './support/db';
import { SCHEDULES, ensureSchedules } from '../worker/schedules';
import { CALENDAR_WATCH_SCHEDULE_ID } from '../domain/workflow-ids';

let env: TestWorkflowEnvironment;
let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
  env = await devServerEnv();
}, 120000);
afterAll(async () => {
  await env?.teardown();
  await t?.close();
});

test('the publication-expiry Schedule runs the sweep daily at 00:30 Shanghai; a triggered run sweeps', async () => {
  const def = SCHEDULES.find((s) => s.scheduleId === 'publication-expiry');
  expect(def).toMatchObject({ workflowType: 'publicationSweepWorkflow', at: { hour: 0, minute: 30 } });
  const taskQueue = uniqueTaskQueue('sched');
  expect(await ensureSchedules(env.client, taskQueue, [def!])).toEqual(['publication-expiry']);
  // Safe to run again (every worker start does).
  expect(await ensureSchedules(env.client, taskQueue, [def!])).toEqual(['publication-expiry']);
  const handle = env.client.schedule.getHandle('publication-expiry');
  const desc = await handle.describe();
  expect(desc.spec.timezone).toBe('Asia/Shanghai');
  expect(desc.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 0, end: 0, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
  expect(desc.action).toMatchObject({ type: 'startWorkflow', workflowType: 'publicationSweepWorkflow' });

  // A record whose period ended long ago is archived by the triggered run (whatever day the dev server's clock says).
  const rec = await t.db.raw(`
    WITH s AS (
      INSERT INTO submissions (provider_id, period, idempotency_key, request_hash, format, row_count, received_at, workflow_id, created_by)
      SELECT id, '2026-10', 'sched', '', 'json', 1, now(), 'sched-wf', gen_random_uuid() FROM providers WHERE code = 'QZ-GSJ' RETURNING id, provider_id
    ), r AS (
      INSERT INTO records (submission_id, provider_id, item_code, subject_type, subject_id, payload, event_date, created_by)
      SELECT s.id, s.provider_id, 'E-PENALTY', 'enterprise', '91450700MA0000001X', '{}', DATE '2023-01-01', gen_random_uuid() FROM s RETURNING *
    )
    INSERT INTO publications (record_key, record_id, submission_id, provider_id, subject_id, item_code, category, state, due_date, published_at, publication_date, period_end, period_basis)
    SELECT record_key, id, submission_id, provider_id, subject_id, item_code, 'warning', 'published', DATE '2023-01-09', now(), DATE '2023-01-09', DATE '2024-01-08', 'default_years' FROM r
    RETURNING record_key`);
  const key = rec.rows[0].record_key;

  const worker = await realWorker(env, t.db, taskQueue);
  await worker.runUntil(async () => {
    await handle.trigger();
    const until = Date.now() + 30000;
    while (!(await t.db('publication_sweeps').whereNotNull('finished_at').first())) {
      if (Date.now() > until) throw new Error('the scheduled sweep did not run');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  expect(await t.db('publications').where('record_key', key).first('state', 'archive_reason')).toEqual({
    state: 'archived',
    archive_reason: 'period_ended',
  });
  await handle.delete();
}, 90000);

test('the name-search-statistics Schedule recounts name fragments daily at 03:00 Shanghai and when a worker starts', async () => {
  const def = SCHEDULES.find((s) => s.scheduleId === 'name-search-statistics');
  expect(def).toMatchObject({ workflowType: 'nameSearchStatisticsWorkflow', at: { hour: 3, minute: 0 }, runAtStart: true });
  await t.db('enterprises').insert(
    Array.from({ length: 25 }, (_, i) => ({
      uscc: `91450700MA${String(9000 + i).padStart(7, '0')}X`,
      name: `钦州市统计片段企业${i}号`,
      status: '存续',
    })),
  );
  const taskQueue = uniqueTaskQueue('sched-names');
  const worker = await realWorker(env, t.db, taskQueue);
  await worker.runUntil(async () => {
    // ensureSchedules triggers it at once (runAtStart): no need to wait for 03:00.
    expect(await ensureSchedules(env.client, taskQueue, [def!])).toEqual(['name-search-statistics']);
    await eventually(() => t.db('enterprise_name_grams').where('gram', '统计片').first(), 'the scheduled recount');
  });
  expect(await t.db('enterprise_name_grams').where('gram', '统计片').first('names')).toEqual({ names: 25 });
  const desc = await env.client.schedule.getHandle('name-search-statistics').describe();
  expect(desc.spec.timezone).toBe('Asia/Shanghai');
  expect(desc.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
  await env.client.schedule.getHandle('name-search-statistics').delete();
}, 90000);

test('the calendar-watch Schedule checks the calendar daily at 08:30 Shanghai and when a worker starts', async () => {
  const def = SCHEDULES.find((s) => s.scheduleId === CALENDAR_WATCH_SCHEDULE_ID);
  expect(def).toMatchObject({ workflowType: 'calendarWatchWorkflow', at: { hour: 8, minute: 30 }, runAtStart: true });
  const taskQueue = uniqueTaskQueue('sched-calendar');
  const worker = await realWorker(env, t.db, taskQueue);
  await worker.runUntil(async () => {
    expect(await ensureSchedules(env.client, taskQueue, [def!])).toEqual([CALENDAR_WATCH_SCHEDULE_ID]);
    const handle = env.client.schedule.getHandle(CALENDAR_WATCH_SCHEDULE_ID);
    await eventually(async () => (await handle.describe()).info.recentActions.length >= 1, 'the run at start');
    const run = (await handle.describe()).info.recentActions[0].action.workflow.workflowId;
    const result = await env.client.workflow.getHandle(run).result();
    expect(result).toMatchObject({ today: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), settled: [] });
  });
  const desc = await env.client.schedule.getHandle(CALENDAR_WATCH_SCHEDULE_ID).describe();
  expect(desc.spec.timezone).toBe('Asia/Shanghai');
  expect(desc.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 8, end: 8, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
  await env.client.schedule.getHandle(CALENDAR_WATCH_SCHEDULE_ID).delete();
}, 90000);
