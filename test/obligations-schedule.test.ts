/**
 * The opener's Temporal Schedule, on the Temporal CLI dev server (the time-skipping server has no Schedules):
 * registered by `ensureSchedules` (again and again without harm), daily at 00:15 Asia/Shanghai, and each firing
 * opens the current period of the active providers once.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SCHEDULES, ensureSchedules } from '../worker/schedules';
import { periodContaining } from '../domain/obligations';
import { OBLIGATION_OPENER_SCHEDULE_ID } from '../domain/workflow-ids';
import { shanghaiDate } from '../domain/calendar';
import { freshDatabase, type TestDb } from './support/db';
import { devServerEnv, uniqueTaskQueue, realWorker } from './support/temporal';
import { eventually } from './support/wait';

let t: TestDb;
let env: TestWorkflowEnvironment;
const taskQueue = uniqueTaskQueue('schedule');

beforeAll(async () => {
  t = await freshDatabase();
  env = await devServerEnv();
}, 180000);
afterAll(async () => {
  await env?.teardown();
  await t?.close();
});

test('the obligation-opener Schedule is registered daily at 00:15 Shanghai and each firing opens nothing twice', async () => {
  const def = SCHEDULES.find((s) => s.scheduleId === OBLIGATION_OPENER_SCHEDULE_ID);
  expect(def).toMatchObject({ workflowType: 'obligationOpenerWorkflow', at: { hour: 0, minute: 15 } });
  expect(def!.runAtStart).toBe(true);
  // Registration alone first (the run at start is checked at the end).
  const quiet = { ...def!, runAtStart: false };
  expect(await ensureSchedules(env.client, taskQueue, [quiet])).toEqual([OBLIGATION_OPENER_SCHEDULE_ID]);
  expect(await ensureSchedules(env.client, taskQueue, [quiet])).toEqual([OBLIGATION_OPENER_SCHEDULE_ID]); // the update path
  const handle = env.client.schedule.getHandle(OBLIGATION_OPENER_SCHEDULE_ID);
  const d = await handle.describe();
  expect(d.spec.timezone).toBe('Asia/Shanghai');
  expect(d.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 0, end: 0, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] });
  expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'obligationOpenerWorkflow', taskQueue });
  const nextRun = d.info.nextActionTimes[0];
  expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit' }).format(nextRun)).toBe('00:15');

  // Two active providers only, so the run is small.
  await t.db('providers').whereNotIn('code', ['QZ-GXJ', 'QZ-TAX']).update({ active: false });
  const worker = await realWorker(env, t.db, taskQueue);
  await worker.runUntil(async () => {
    await handle.trigger();
    await eventually(async () => (await handle.describe()).info.recentActions.length >= 1, 'first firing');
    const firstRun = (await handle.describe()).info.recentActions[0].action.workflow.workflowId;
    const result = await env.client.workflow.getHandle(firstRun).result();
    const period = periodContaining(shanghaiDate(new Date()), 'monthly').code;
    expect(result).toMatchObject({ opened: 2, started: 2 });
    await handle.trigger();
    await eventually(async () => (await handle.describe()).info.recentActions.length >= 2, 'second firing');
    const secondRun = (await handle.describe()).info.recentActions[1].action.workflow.workflowId;
    expect(await env.client.workflow.getHandle(secondRun).result()).toMatchObject({ opened: 0, started: 0 });
    // A worker starting (ensureSchedules as worker/main.ts calls it) runs the opener once more: nothing new.
    await ensureSchedules(env.client, taskQueue, [def!]);
    await eventually(async () => (await handle.describe()).info.recentActions.length >= 3, 'run at start');
    const atStart = (await handle.describe()).info.recentActions[2].action.workflow.workflowId;
    expect(await env.client.workflow.getHandle(atStart).result()).toMatchObject({ opened: 0, started: 0 });
    const rows = await t
      .db('obligations as o')
      .join('providers as p', 'p.id', 'o.provider_id')
      .orderBy('p.code')
      .select('p.code', 'o.period');
    expect(rows).toEqual([
      { code: 'QZ-GXJ', period },
      { code: 'QZ-TAX', period },
    ]);
  });
  await handle.delete();
}, 120000);
