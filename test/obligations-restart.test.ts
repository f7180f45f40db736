/**
 * The worker stops while obligations wait (timers running, a case open) and starts again: nothing is lost and
 * nothing is done twice. A reminder falls due and a batch arrives while no worker runs; the new worker catches up.
 */
import request from 'supertest';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';
import { shanghaiDate } from '../domain/calendar';
import { periodContaining, reminderPlan } from '../domain/obligations';
import { parsePeriod } from '../domain/periods';
import { loadCalendar } from '../db/calendar';
import { obligationOpenerWorkflow } from '../workflows';
import { freshDatabase, type TestDb } from './support/db';
import { timeSkippingEnv, uniqueTaskQueue, realWorker, stopAll } from './support/temporal';
import { coverYearsAround } from './support/calendar';
import type { Worker } from '@temporalio/worker';
import { principalWithKey } from './support/principals';
import { penaltyRow } from './support/fixtures';
import { eventually } from './support/wait';

let t: TestDb;
let env: TestWorkflowEnvironment;
let plain: Client;
const taskQueue = uniqueTaskQueue('restart');
// Today is the platform's own clock: these tests run the whole platform (API, worker, PostgreSQL, the Temporal test
// server) and check behaviour relative to the present (the period in progress, a validity that includes today), so
// the scenario is built from the same clock the platform reads, and every date under test is derived from it. The
// clock is controlled for all of them at once with `npm run test:at -- YYYY-MM-DD` (README, "Tests on any day").
const TODAY = shanghaiDate(new Date());

/** Every worker started here, stopped in afterAll whatever happened to the test. */
const workers: Array<{ worker: Worker; running: Promise<void> }> = [];

beforeAll(async () => {
  t = await freshDatabase();
  env = await timeSkippingEnv();
  await coverYearsAround(t.db, await env.currentTimeMs());
  plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
}, 120000);
afterAll(() => stopAll(workers, env, t), 90000);

const newWorker = () =>
  // No sticky cache: the test server never hands a stopped worker's sticky tasks back to the normal queue (a
  // real cluster does after a few seconds); every task then goes through the shared queue, as after a crash.
  realWorker(env, t.db, taskQueue, { maxCachedWorkflows: 0 });

const obligation = (code: string, period: string) =>
  t.db('obligations as o').join('providers as p', 'p.id', 'o.provider_id').where({ 'p.code': code, 'o.period': period }).first('o.*');

test('a worker stopped while obligations wait, then started again: reminders, fulfilment and case all caught up, once', async () => {
  const app = createApp({ db: t.db, temporal: env.client, config: { ...loadConfig(), taskQueue } });
  const kjj = (await principalWithKey(t.db, { name: '科技局报送员', role: 'provider', providerCode: 'QZ-KJJ' })).auth;
  const current = periodContaining(TODAY, 'monthly').code;

  // Worker 1 opens the obligations: QZ-GTJ's current month (reminders ahead), QZ-KJJ's October (overdue at once).
  const first = await newWorker();
  const run1 = first.run();
  workers.push({ worker: first, running: run1 });
  await plain.workflow.execute(obligationOpenerWorkflow, {
    taskQueue,
    workflowId: 'open-now',
    args: [{ asOf: TODAY, providerCodes: ['QZ-GTJ'] }],
  });
  await plain.workflow.execute(obligationOpenerWorkflow, {
    taskQueue,
    workflowId: 'open-oct',
    args: [{ asOf: '2026-10-15', providerCodes: ['QZ-KJJ'] }],
  });
  const overdue = await eventually(async () => {
    const o = await obligation('QZ-KJJ', '2026-10');
    return o?.state === 'overdue' ? o : null;
  }, 'QZ-KJJ overdue');
  await eventually(
    async () => (await t.db('compliance_cases').where('id', overdue.case_id).first('workflow_started_at'))?.workflow_started_at,
    'case workflow started',
  );
  const gtj = await eventually(() => obligation('QZ-GTJ', current), 'QZ-GTJ opened');

  // Every workflow idle (waiting on a timer or a signal, nothing in flight) before the worker stops.
  const idle = async (workflowId: string) => {
    const d = await env.client.workflow.getHandle(workflowId).describe();
    const raw = d.raw.pendingActivities ?? [];
    return d.status.name === 'RUNNING' && raw.length === 0 && !d.raw.pendingWorkflowTask;
  };
  const caseWorkflowId = (await t.db('compliance_cases').where('id', overdue.case_id).first('workflow_id')).workflow_id;
  await eventually(
    async () => (await env.client.workflow.getHandle(overdue.workflow_id).query<{ stage: string }>('obligationState')).stage === 'overdue',
    'QZ-KJJ workflow overdue',
  );
  await eventually(
    async () => (await env.client.workflow.getHandle(gtj.workflow_id).query<{ stage: string }>('obligationState')).stage === 'waiting',
    'QZ-GTJ waiting',
  );
  for (const id of [overdue.workflow_id, gtj.workflow_id, caseWorkflowId]) await eventually(() => idle(id), `${id} idle`);

  // The worker stops.
  first.shutdown();
  await run1;

  // While no worker runs, the day of the first reminder comes (its timer fires with nobody to run it) and a batch
  // arrives (the API signals the waiting workflow). The test server skips time only while no task is pending, so
  // the clock is moved to just before the reminder and the last second passes in real time.
  const plan = reminderPlan(await loadCalendar(t.db), parsePeriod(current)!, gtj.due_date, [3, 1], 9);
  const now = await env.currentTimeMs();
  const next = plan.filter((r) => Date.parse(r.at) > now);
  expect(next.length).toBeGreaterThan(0);
  await env.sleep(Date.parse(next[0].at) - now - 1000);
  await new Promise((r) => setTimeout(r, 2500));
  const res = await request(app)
    .post('/submissions')
    .set('Authorization', kjj)
    .set('Idempotency-Key', 'restart-1')
    .send({ period: '2026-10', records: [penaltyRow(1)] });
  expect(res.status).toBe(202);
  await new Promise((r) => setTimeout(r, 500));
  expect(await t.db('notifications').where({ kind: 'obligation.reminder', entity_id: String(gtj.id) })).toHaveLength(0);
  expect((await obligation('QZ-KJJ', '2026-10')).state).toBe('overdue');

  // A new worker: everything that fell due is done.
  const second = await newWorker();
  await second.runUntil(async () => {
    expect(await plain.workflow.getHandle(overdue.workflow_id).result()).toMatchObject({ stage: 'fulfilled', onTime: false });
    await eventually(
      async () => (await t.db('notifications').where({ kind: 'obligation.reminder', entity_id: String(gtj.id) })).length === 1,
      'the reminder',
    );
    await eventually(
      async () => (await t.db('compliance_cases').where('id', overdue.case_id).first('state'))?.state === 'resolved',
      'case resolved',
    );
    const status = await env.client.workflow.getHandle(gtj.workflow_id).query<{ remindersSent: string[] }>('obligationState');
    expect(status.remindersSent).toEqual([next[0].date]);
  });

  // Once each: one fulfilment, one reminder per day, one resolution.
  expect(await obligation('QZ-KJJ', '2026-10')).toMatchObject({
    state: 'fulfilled',
    on_time: false,
    fulfilled_submission_id: res.body.submission.id,
  });
  expect(await t.db('obligation_events').where({ obligation_id: overdue.id }).orderBy('id').pluck('kind')).toEqual([
    'opened',
    'overdue',
    'fulfilled_late',
  ]);
  const reminders = await t
    .db('notifications')
    .where({ kind: 'obligation.reminder', entity_id: String(gtj.id) })
    .select('data');
  expect(reminders.map((r) => r.data.date)).toEqual([next[0].date]);
  expect(await t.db('compliance_case_events').where('case_id', overdue.case_id).orderBy('id').pluck('kind')).toEqual([
    'opened',
    'resolved',
  ]);
  expect((await obligation('QZ-GTJ', current)).state).toBe('open');
}, 120000);
