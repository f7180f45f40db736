/**
 * The processes alone, while a deadline waits on a year nobody has loaded (stubbed activities, the Temporal
 * time-skipping test server; the real activities on PostgreSQL: calendar-year-end.test.ts and
 * calendar-platform.test.ts):
 *
 * - an obligation with no due date sleeps (no reminder, never overdue however long) until the year is loaded or
 *   the periodic re-check finds it, then plans as usual;
 * - a provisional platform deadline is acted on (staff told) but nobody is declared overdue on it; once the year
 *   is loaded the true deadline counts;
 * - a rating request does not lapse on a provisional deadline.
 *
 * Instants are counted from the test server's clock, so nothing depends on the day it runs.
 */
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { judicialRequestWorkflow, objectionWorkflow, obligationWorkflow, ratingRequestWorkflow } from '../workflows';
import {
  calendarLoadedSignal,
  judicialRequestStateQuery,
  objectionStateQuery,
  obligationStateQuery,
  ratingRequestStateQuery,
} from '../processes/messages';
import type { ObligationPlan } from '../activities/obligations';
import type { JudicialSchedule } from '../activities/judicial-requests';
import type { RatingDeadline } from '../activities/rating-requests';
import type { ObjectionDeadline } from '../domain/objections';
import { timeSkippingEnv, uniqueTaskQueue, stopAll, TEST_WORKER_SHUTDOWN } from './support/temporal';
import { eventually } from './support/wait';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
}, 120000);
afterAll(() => stopAll([], env), 60000);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const dateOf = (ms: number) => iso(ms).slice(0, 10);

/** Runs `body` with a worker whose activities are `stubs` (only the workflows' side is tested). */
async function withWorker(
  stubs: Record<string, (...args: never[]) => Promise<unknown>>,
  body: (taskQueue: string) => Promise<void>,
): Promise<void> {
  const taskQueue = uniqueTaskQueue('calendar-wf');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: stubs,
    ...TEST_WORKER_SHUTDOWN,
  });
  await worker.runUntil(body(taskQueue));
}

test('an obligation whose due date waits on a year: no reminder, never overdue, planned when the year is loaded', async () => {
  const start = await env.currentTimeMs();
  let loaded = false;
  const calls = { plan: 0, overdue: 0, reminder: 0 };
  const due = start + 30 * DAY;
  await withWorker(
    {
      planObligation: async (): Promise<ObligationPlan> => {
        calls.plan++;
        const base = {
          obligationId: 1,
          providerCode: 'QZ-GSJ',
          period: '2026-12',
          state: 'open' as const,
          onTime: null,
          caseWorkflowId: null,
        };
        if (!loaded) return { ...base, dueDate: '', dueEndsAt: '', reminders: [], awaitingCalendarYear: 2027 };
        return { ...base, dueDate: dateOf(due), dueEndsAt: iso(due), reminders: [], awaitingCalendarYear: null };
      },
      checkObligationFulfilment: async () => ({ fulfilled: false, onTime: null, waived: false }),
      sendObligationReminder: async () => {
        calls.reminder++;
        return { fulfilled: false, onTime: null, sent: true, waived: false };
      },
      declareObligationOverdue: async () => {
        calls.overdue++;
        return { state: 'overdue' as const, onTime: null, caseWorkflowId: null };
      },
    },
    async (taskQueue) => {
      const h = await env.client.workflow.start(obligationWorkflow, {
        taskQueue,
        workflowId: 'obligation-awaiting-calendar',
        args: [{ obligationId: 1 }],
      });
      await eventually(async () => (await h.query(obligationStateQuery)).stage === 'awaiting_calendar', 'awaiting_calendar');
      expect(await h.query(obligationStateQuery)).toMatchObject({
        stage: 'awaiting_calendar',
        awaitingCalendarYear: 2027,
        period: '2026-12',
        remindersSent: [],
      });
      // Ten days go by without the year: it looks again once a day, sends no reminder and is never overdue. (The
      // half day more keeps the signal below away from a daily re-check: the test server mishandles a signal that
      // lands in the same instant as a timer firing.)
      await env.sleep(10 * DAY + 12 * HOUR);
      expect(calls.overdue).toBe(0);
      expect(calls.reminder).toBe(0);
      expect(calls.plan).toBeGreaterThanOrEqual(10); // a re-check a day: 10 in 10 days, plus the first
      expect((await h.query(obligationStateQuery)).stage).toBe('awaiting_calendar');
      // The year is loaded: the signal wakes it at once, it plans with its due date and waits for it.
      loaded = true;
      const before = calls.plan;
      await h.signal(calendarLoadedSignal, 2027);
      await eventually(async () => (await h.query(obligationStateQuery)).stage === 'waiting', 'waiting');
      expect(calls.plan).toBe(before + 1);
      expect(await h.query(obligationStateQuery)).toMatchObject({ stage: 'waiting', dueDate: dateOf(due), awaitingCalendarYear: null });
      await h.terminate('test done');
    },
  );
}, 120000);

test('an objection with a provisional deadline: staff are told when it comes, the provider is not declared overdue until the settled one passes', async () => {
  const start = await env.currentTimeMs();
  let settled = false;
  const calls = { open: 0, provisional: 0, passed: 0 };
  const provisional = start + 2 * DAY;
  const real = start + 5 * DAY;
  await withWorker(
    {
      objectionOpen: async (): Promise<ObjectionDeadline> => {
        calls.open++;
        return settled
          ? { acceptanceDate: dateOf(start), deadline: dateOf(real), dueAt: iso(real), provisional: false, pendingYear: null }
          : { acceptanceDate: dateOf(start), deadline: dateOf(provisional), dueAt: iso(provisional), provisional: true, pendingYear: 2027 };
      },
      objectionProvisionalDeadline: async () => {
        calls.provisional++;
      },
      objectionDeadlinePassed: async () => {
        calls.passed++;
        return {
          overdue: true,
          providerId: 1,
          deadline: dateOf(real),
          subjectType: 'person' as const,
          subjectId: 'x',
          complianceCaseId: null,
        };
      },
    },
    async (taskQueue) => {
      const h = await env.client.workflow.start(objectionWorkflow, {
        taskQueue,
        workflowId: 'objection-provisional',
        args: [{ objectionId: 'o1' }],
      });
      await eventually(async () => (await h.query(objectionStateQuery)).stage === 'verifying', 'verifying');
      expect((await h.query(objectionStateQuery)).deadline).toMatchObject({ provisional: true, pendingYear: 2027 });
      await env.sleep(3 * DAY); // past the provisional deadline
      await eventually(async () => calls.provisional === 1, 'the staff notice');
      expect(calls.passed).toBe(0);
      expect((await h.query(objectionStateQuery)).stage).toBe('verifying');
      // loaded: the settled deadline (later) counts from now on
      settled = true;
      await h.signal(calendarLoadedSignal, 2027);
      await eventually(async () => (await h.query(objectionStateQuery)).deadline?.provisional === false, 'settled');
      expect(calls.passed).toBe(0);
      await env.sleep(3 * DAY); // past the settled deadline
      await eventually(async () => calls.passed === 1, 'the deadline passed');
      expect(await h.query(objectionStateQuery)).toMatchObject({ stage: 'overdue', overdue: true });
      await h.terminate('test done');
    },
  );
}, 120000);

test('a judicial request with a provisional deadline: staff and administrators told when it comes, recorded as missed only after the settled one', async () => {
  const start = await env.currentTimeMs();
  let settled = false;
  const calls = { alert: 0, provisional: 0, overdue: 0 };
  const schedule = (dueMs: number, provisional: boolean): JudicialSchedule => ({
    requestId: 'j1',
    receiptDate: dateOf(start),
    answerDue: dateOf(dueMs),
    dueAt: iso(dueMs),
    alertDate: dateOf(dueMs - DAY),
    alertAt: iso(dueMs - DAY),
    provisional,
  });
  await withWorker(
    {
      judicialRequestOpen: async () => (settled ? schedule(start + 5 * DAY, false) : schedule(start + 2 * DAY, true)),
      judicialRequestAlert: async () => {
        calls.alert++;
      },
      judicialRequestProvisionalDue: async () => {
        calls.provisional++;
      },
      judicialRequestOverdue: async () => {
        calls.overdue++;
      },
    },
    async (taskQueue) => {
      const h = await env.client.workflow.start(judicialRequestWorkflow, {
        taskQueue,
        workflowId: 'judicial-provisional',
        args: [{ requestId: 'j1' }],
      });
      await eventually(async () => (await h.query(judicialRequestStateQuery)).stage !== 'opening', 'opened');
      await env.sleep(3 * DAY);
      await eventually(async () => calls.provisional === 1, 'the provisional due notice');
      expect(calls.alert).toBe(1); // acted on: the alert went out by the provisional schedule
      expect(calls.overdue).toBe(0);
      expect(await h.query(judicialRequestStateQuery)).toMatchObject({ overdue: false });
      settled = true;
      await h.signal(calendarLoadedSignal, 2027);
      await eventually(async () => (await h.query(judicialRequestStateQuery)).schedule?.provisional === false, 'settled');
      await env.sleep(3 * DAY);
      await eventually(async () => calls.overdue === 1, 'missed');
      expect(await h.query(judicialRequestStateQuery)).toMatchObject({ stage: 'overdue', overdue: true });
      await h.terminate('test done');
    },
  );
}, 120000);

test('a rating request does not lapse on a provisional deadline; it lapses on the settled one', async () => {
  const start = await env.currentTimeMs();
  let settled = false;
  let lapsed = 0;
  const deadline = (ms: number, provisional: boolean): RatingDeadline => ({
    requestId: 'r1',
    decisionDeadline: dateOf(ms),
    dueAt: iso(ms),
    provisional,
  });
  await withWorker(
    {
      ratingRequestOpen: async () => (settled ? deadline(start + 6 * DAY, false) : deadline(start + 2 * DAY, true)),
      ratingRequestLapse: async () => {
        lapsed++;
        return { requestId: 'r1', status: 'lapsed' as const, decidedAt: null, validUntil: null };
      },
    },
    async (taskQueue) => {
      const h = await env.client.workflow.start(ratingRequestWorkflow, {
        taskQueue,
        workflowId: 'rating-provisional',
        args: [{ requestId: 'r1' }],
      });
      await eventually(async () => (await h.query(ratingRequestStateQuery)).stage === 'awaiting_decision', 'awaiting');
      await env.sleep(4 * DAY);
      expect(lapsed).toBe(0);
      expect((await h.query(ratingRequestStateQuery)).stage).toBe('awaiting_decision');
      settled = true;
      await h.signal(calendarLoadedSignal, 2027);
      await eventually(async () => (await h.query(ratingRequestStateQuery)).deadline?.provisional === false, 'settled');
      await env.sleep(3 * DAY);
      await eventually(async () => lapsed === 1, 'lapsed');
      expect((await h.query(ratingRequestStateQuery)).stage).toBe('lapsed');
    },
  );
}, 120000);
