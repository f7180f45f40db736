/**
 * The whole platform meeting a year nobody has loaded: the API, a worker with the real activities on PostgreSQL and
 * the Temporal time-skipping test server. Every year from the current one (on the server's clock) is removed from
 * the test database, so this runs the same on any day: a batch gets a provisional publication deadline, the
 * current period's obligation no due date (never overdue meanwhile), the administrators one notice, readiness and
 * the dashboard a warning, the board a mark; loading the years (TEST DATA, test/support/calendar.ts) through
 * PUT /calendar/years/{year} settles it all within a minute.
 */
import { logger } from '../ops/log';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { temporal } from '@temporalio/proto';
import { Client } from '@temporalio/client';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow } from './support/fixtures';
import { eventually } from './support/wait';
import { removeCalendarYears, testCalendarYear, yearsFrom } from './support/calendar';
import { obligationOpenerWorkflow } from '../workflows';
import { obligationStateQuery } from '../processes/messages';
import { WorkingCalendar, addCalendarDays, shanghaiDate } from '../domain/calendar';
import { dueDateOf, endOfShanghaiDay, periodContaining } from '../domain/obligations';

let p: TestPlatform;
let plain: Client;
let admin: string;
let gsj: string;
let today: string;
let Y: number;
const warnings: string[] = [];
let warnSpy: jest.SpyInstance;

beforeAll(async () => {
  warnSpy = jest.spyOn(logger('worker'), 'warn').mockImplementation((...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  });
  p = await startTestPlatform({ coverCalendarAroundNow: false });
  plain = new Client({ connection: p.env.connection, namespace: p.env.namespace ?? 'default' });
  today = shanghaiDate(new Date(await p.env.currentTimeMs()));
  Y = Number(today.slice(0, 4));
  await removeCalendarYears(p.db, await yearsFrom(p.db, Y));
  admin = (await principalWithKey(p.db, { name: '管理机构', role: 'admin' })).auth;
  gsj = (await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
}, 120000);
afterAll(async () => {
  warnSpy?.mockRestore();
  await p?.stop();
}, 90000);

const period = () => periodContaining(today, 'monthly').code;
let submissionId: string;
/** The year the batch's provisional deadline waits on: the year of the first day counted (on 31 December, the next one). */
let batchYear: number;
const waitingIn = (year: number) => ({ obligations: year === Y ? 1 : 0, batches: year === batchYear ? 1 : 0 });

test('a batch received while its year has no calendar: a provisional publication deadline, marked so (E12)', async () => {
  const res = await request(p.app)
    .post('/submissions')
    .set('Authorization', gsj)
    .set('Idempotency-Key', 'year-missing-1')
    .send({ period: period(), records: [penaltyRow(1, { event_date: '2026-10-12' })] });
  expect(res.status).toBe(202);
  submissionId = res.body.submission.id;
  const sub = await eventually(async () => {
    const r = await request(p.app).get(`/submissions/${submissionId}`).set('Authorization', gsj);
    return r.body.submission?.publication_deadline ? r.body.submission : null;
  }, 'the provisional deadline');
  const receipt = shanghaiDate(new Date(sub.received_at));
  batchYear = Number(addCalendarDays(receipt, 1).slice(0, 4));
  expect(sub).toMatchObject({ publication_deadline_provisional: true, calendar_pending_year: batchYear });
  // Every day of the missing year counted: the 5th day after receipt, the earliest the true deadline can be.
  expect(sub.publication_deadline).toBe(addCalendarDays(receipt, 5));
});

test("the current period's obligation gets no due date and is never overdue while the year is missing (E7, P9, E20)", async () => {
  await plain.workflow.execute(obligationOpenerWorkflow, {
    taskQueue: p.taskQueue,
    workflowId: 'opener-year-missing',
    args: [{ asOf: today, providerCodes: ['QZ-KJJ'] }],
  });
  const workflowId = `obligation-QZ-KJJ-${period()}`;
  await eventually(
    async () => (await plain.workflow.getHandle(workflowId).query(obligationStateQuery)).stage === 'awaiting_calendar',
    'awaiting the calendar',
  );
  const list = await request(p.app).get(`/obligations?provider=QZ-KJJ`).set('Authorization', admin);
  expect(list.body.obligations).toEqual([
    expect.objectContaining({ period: period(), due_date: null, state: 'open', calendar_pending_year: Y }),
  ]);
  const board = await request(p.app).get('/obligations/board').set('Authorization', admin);
  expect(board.status).toBe(200);
  expect(board.body.rows).toEqual([]);
  expect(board.body.awaiting_calendar).toEqual([
    { year: Y, obligations: 1, message: expect.stringContaining(`${Y} 年工作日历载入后确定`) },
  ]);
  // Forty days later (well past any due date it could have): still open, no case, no reminder.
  await p.env.sleep('40 days');
  const o = await p
    .db('obligations as o')
    .join('providers as pr', 'pr.id', 'o.provider_id')
    .where({ 'pr.code': 'QZ-KJJ', 'o.period': period() })
    .first('o.*');
  expect(o).toMatchObject({ state: 'open', due_date: null, case_id: null, calendar_pending_year: Y });
  expect(await p.db('notifications').where({ kind: 'obligation.reminder', entity_id: String(o.id) })).toHaveLength(0);
  expect(await p.db('compliance_cases').where('reference_id', String(o.id))).toHaveLength(0);
});

test('the administrators are told once, the dashboard and readiness warn (200: the platform works), the log says it once', async () => {
  const notes = await p.db('notifications').where({ kind: 'calendar.year_missing', entity_id: String(Y) });
  expect(notes).toHaveLength(1);
  expect(await p.db('notifications').where({ kind: 'calendar.year_missing', entity_id: String(batchYear) })).toHaveLength(1);
  expect(notes[0]).toMatchObject({ recipient_role: 'admin' });
  expect(notes[0].title).toContain(`${Y} 年工作日历尚未载入`);
  expect(notes[0].body).toContain(`PUT /calendar/years/${Y}`);
  const mine = await request(p.app).get('/notifications').set('Authorization', admin);
  expect(mine.body.notifications.some((n: { kind: string }) => n.kind === 'calendar.year_missing')).toBe(true);

  const ready = await request(p.app).get('/health/ready');
  expect(ready.status).toBe(200);
  expect(ready.body.status).toBe('ready');
  // This year missing; next year too when the batch's deadline counts into it (31 December), else from 1 November
  // next year is reminded (the order: by year).
  const expected = [{ code: 'CALENDAR_YEAR_MISSING', year: Y, title: expect.stringContaining(String(Y)) }];
  if (batchYear !== Y) expected.push({ code: 'CALENDAR_YEAR_MISSING', year: batchYear, title: expect.stringContaining(String(batchYear)) });
  else if (today.slice(5) >= '11-01')
    expected.push({ code: 'CALENDAR_NEXT_YEAR_NOT_LOADED', year: Y + 1, title: expect.stringContaining(String(Y + 1)) });
  expect(ready.body.warnings).toEqual(expected);
  expect(ready.body.warnings[0].waiting).toBeUndefined(); // what waits is for administrators only

  const dash = await request(p.app).get('/admin/dashboard').set('Authorization', admin);
  expect(dash.status).toBe(200);
  expect(dash.body.warnings[0]).toMatchObject({ code: 'CALENDAR_YEAR_MISSING', year: Y, waiting: waitingIn(Y) });
  expect(dash.body.calendar).toMatchObject({ this_year_loaded: false });
  expect(dash.body.obligations).toMatchObject({ awaiting_calendar: 1 });
  expect((await request(p.app).get('/admin/dashboard').set('Authorization', gsj)).status).toBe(403);

  const lines = warnings.filter((l) => l.includes(`${Y} 年工作日历尚未载入`));
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\n\s+at /); // no stack trace
});

test('loading the years wakes what waits within a minute: the due date is set, the provisional deadline settled, the notices closed', async () => {
  const years = [Y, Y + 1];
  const put = await request(p.app)
    .put(`/calendar/years/${Y}`)
    .set('Authorization', admin)
    .send({ holidays: testCalendarYear(Y).holidays, workdays: [] });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ year: Y, waiting: waitingIn(Y), settling: { workflow_id: expect.stringMatching(/^calendar-loaded-/) } });
  // Once this year is settled, an obligation whose due date counts into next year (a December period) waits on it.
  await p.env.client.workflow.getHandle(put.body.settling.workflow_id).result();
  const calendar = new WorkingCalendar(years.map(testCalendarYear));
  const due = dueDateOf(calendar, periodContaining(today, 'monthly'), 5);
  const next = await request(p.app)
    .put(`/calendar/years/${Y + 1}`)
    .set('Authorization', admin)
    .send({ holidays: testCalendarYear(Y + 1).holidays, workdays: [] });
  expect(next.status).toBe(200);
  expect(next.body.waiting).toMatchObject({ ...waitingIn(Y + 1), obligations: due.startsWith(String(Y + 1)) ? 1 : 0 });

  const started = Date.now();
  const o = await eventually(
    async () => {
      const row = await p
        .db('obligations as o')
        .join('providers as pr', 'pr.id', 'o.provider_id')
        .where({ 'pr.code': 'QZ-KJJ', 'o.period': period() })
        .first('o.*');
      return row?.due_date ? row : null;
    },
    'the due date',
    60000,
  );
  expect(Date.now() - started).toBeLessThan(60000);
  expect(o).toMatchObject({ due_date: due, calendar_pending_year: null });
  // The workflow plans with it: past the due date on the server's clock it is overdue (on the true date), else it waits.
  const pastDue = (await p.env.currentTimeMs()) >= Date.parse(endOfShanghaiDay(due));
  await eventually(async () => {
    const s = (await plain.workflow.getHandle(o.workflow_id).query(obligationStateQuery)).stage;
    return pastDue ? s === 'overdue' : s === 'waiting';
  }, 'the obligation planned');
  if (process.env.RECORD_HISTORIES === '1') {
    // The awaiting-calendar path, for the determinism guard (test/obligations-replay.test.ts).
    const history = await plain.workflow.getHandle(o.workflow_id).fetchHistory();
    const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), {
      longs: String,
      enums: String,
      bytes: String,
    });
    fs.writeFileSync(path.join(__dirname, 'histories', 'obligation-awaiting-calendar.json'), JSON.stringify(json, null, 1));
  }

  const sub = await eventually(async () => {
    const r = await request(p.app).get(`/submissions/${submissionId}`).set('Authorization', gsj);
    return r.body.submission.publication_deadline_provisional === false ? r.body.submission : null;
  }, 'the settled deadline');
  expect(sub).toMatchObject({
    publication_deadline: calendar.addWorkingDays(shanghaiDate(new Date(sub.received_at)), 5),
    calendar_pending_year: null,
  });

  const missing = await p
    .db('notifications')
    .where({ kind: 'calendar.year_missing', entity_id: String(Y) })
    .first();
  await eventually(async () => (await p.db('notifications').where('id', missing.id).first('resolved_at')).resolved_at, 'the notice closed');
  expect(await p.db('notifications').where({ kind: 'calendar.year_loaded', entity_id: String(Y) })).toHaveLength(1);
  await eventually(async () => (await request(p.app).get('/health/ready')).body.warnings.length === 0, 'no warning', 15000);
  const dash = await request(p.app).get('/admin/dashboard').set('Authorization', admin);
  expect(dash.body).toMatchObject({ warnings: [], obligations: { awaiting_calendar: 0 } });
});
