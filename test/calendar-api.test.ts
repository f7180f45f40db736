import request from 'supertest';
import type { Express } from 'express';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../api/app';
import { freshDatabase, type TestDb } from './support/db';
import { principalWithKey } from './support/principals';
import { timeSkippingEnv } from './support/temporal';
import { removeCalendarYears, yearsFrom } from './support/calendar';

let env: TestWorkflowEnvironment;
let tdb: TestDb;
let app: Express;
let admin: { id: string; auth: string };
let staff: { auth: string };

beforeAll(async () => {
  env = await timeSkippingEnv();
  tdb = await freshDatabase();
  app = createApp({
    db: tdb.db,
    temporal: env.client,
    config: { taskQueue: 'calendar-api-test', jsonBodyLimit: '1mb', maxReportedErrors: 100 },
  });
  // Whatever the shipped calendar holds, 2027 and later are the years nobody has loaded here.
  await removeCalendarYears(tdb.db, await yearsFrom(tdb.db, 2027));
  admin = await principalWithKey(tdb.db, { name: '日历管理员', role: 'admin' });
  staff = await principalWithKey(tdb.db, { name: '征集服务机构职员', role: 'staff' });
}, 120000);

afterAll(async () => {
  await tdb?.close();
  await env?.teardown();
});

const HAS_CHINESE = /[\u4e00-\u9fff]/;
const HAS_ENGLISH = /[A-Za-z]{3,}/;

/** The error details of a 400 answer, checking every reason is written in Chinese with English beside it. */
function fieldsOf(body: { error: { code: string; details: Array<{ field: string; reason: string }> } }): string[] {
  expect(body.error.code).toBe('BAD_REQUEST');
  for (const d of body.error.details) {
    expect(d.reason).toMatch(HAS_CHINESE);
    expect(d.reason).toMatch(HAS_ENGLISH);
  }
  return body.error.details.map((d) => d.field);
}

async function state() {
  const db = tdb.db;
  const [{ days }] = await db('calendar_days').count({ days: '*' });
  const [{ years }] = await db('calendar_years').count({ years: '*' });
  const [{ audits }] = await db('audit_log').where('action', 'calendar.load_year').count({ audits: '*' });
  const y2027 = await db('calendar_years').where('year', 2027).first();
  return { days: Number(days), years: Number(years), audits: Number(audits), has2027: !!y2027 };
}

/** A 2027 schedule for the tests (the State Council publishes the real one in November 2026). */
const SCHEDULE_2027 = {
  holidays: [
    { date: '2027-01-01', name: '元旦 New Year’s Day' },
    { date: '2027-01-02', name: '元旦 New Year’s Day' },
    { date: '2027-01-03', name: '元旦 New Year’s Day' },
    { date: '2027-02-06', name: ' 春节 Spring Festival ' },
    { date: '2027-02-07', name: '春节 Spring Festival' },
    { date: '2027-02-08', name: '春节 Spring Festival' },
    { date: '2027-02-09', name: '春节 Spring Festival' },
    { date: '2027-02-10', name: '春节 Spring Festival' },
    { date: '2027-02-11', name: '春节 Spring Festival' },
    { date: '2027-02-12', name: '春节 Spring Festival' },
  ],
  workdays: [{ date: '2027-02-20', name: '春节 Spring Festival' }],
};

describe('GET /calendar/working-days', () => {
  test('5 working days after 2026-09-29 is 2026-10-12, with the days off it skipped', async () => {
    const res = await request(app).get('/calendar/working-days').query({ date: '2026-09-29', n: '5' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ date: '2026-09-29', n: 5, result: '2026-10-12', result_weekday: 'Monday', calendar_days: 13 });
    expect(res.body.days_off).toEqual([
      ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({ date: `2026-10-${d}`, kind: 'holiday', name: '国庆节 National Day' })),
      { date: '2026-10-11', kind: 'weekend' },
    ]);
  });

  test('across the Spring Festival 2026 and the 2025 National Day', async () => {
    const a = await request(app).get('/calendar/working-days?date=2026-02-12&n=5');
    expect(a.status).toBe(200);
    expect(a.body.result).toBe('2026-02-26');
    const b = await request(app).get('/calendar/working-days?date=2025-09-30&n=1');
    expect(b.body.result).toBe('2025-10-09');
    const c = await request(app).get('/calendar/working-days?date=2026-09-18&n=1');
    expect(c.body).toMatchObject({ result: '2026-09-20', result_weekday: 'Sunday', days_off: [{ date: '2026-09-19', kind: 'weekend' }] });
  });

  test('n = 0 answers the date itself; n = 366 is allowed', async () => {
    const zero = await request(app).get('/calendar/working-days?date=2026-10-01&n=0');
    expect(zero.status).toBe(200);
    expect(zero.body).toMatchObject({ date: '2026-10-01', n: 0, result: '2026-10-01', calendar_days: 0, days_off: [] });
    const big = await request(app).get('/calendar/working-days?date=2024-01-02&n=366');
    expect(big.status).toBe(200);
    expect(big.body.result.slice(0, 4)).toBe('2025');
  });

  test.each([
    ['n=5', 'date'],
    ['date=&n=5', 'date'],
    ['date=2026-02-30&n=5', 'date'],
    ['date=2026/09/29&n=5', 'date'],
    ['date=2026-09-29', 'n'],
    ['date=2026-09-29&n=', 'n'],
    ['date=2026-09-29&n=abc', 'n'],
    ['date=2026-09-29&n=-1', 'n'],
    ['date=2026-09-29&n=1.5', 'n'],
    ['date=2026-09-29&n=367', 'n'],
    ['date=2026-09-29&n=1000', 'n'],
    ['date=2026-09-29&n=5&n=6', 'n'],
  ])('?%s → 400 naming %s', async (qs, field) => {
    const res = await request(app).get(`/calendar/working-days?${qs}`);
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual([field]);
  });

  test('both fields wrong → both named', async () => {
    const res = await request(app).get('/calendar/working-days?date=tomorrow&n=many');
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body).sort()).toEqual(['date', 'n']);
  });

  test('a date in a year no calendar covers → 422 CALENDAR_YEAR_UNKNOWN', async () => {
    for (const date of ['2027-01-04', '2003-06-02']) {
      const res = await request(app).get(`/calendar/working-days?date=${date}&n=1`);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'CALENDAR_YEAR_UNKNOWN', year: Number(date.slice(0, 4)) });
      expect(res.body.error.details[0].field).toBe('date');
    }
  });

  test('a result that would fall in an unknown year → 422, not a weekend-only guess', async () => {
    const ok = await request(app).get('/calendar/working-days?date=2026-12-28&n=3');
    expect(ok.status).toBe(200);
    expect(ok.body.result).toBe('2026-12-31');
    const res = await request(app).get('/calendar/working-days?date=2026-12-28&n=5');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'CALENDAR_YEAR_UNKNOWN', year: 2027, details: [{ field: 'n' }] });
    expect(res.body.error.message).toMatch(/2027/);
    expect(res.body.error.details[0].reason).toBe(
      '从 2026-12-28 起数 5 个工作日会进入尚未载入日历的 2027 年 / counting 5 working days from 2026-12-28 runs into 2027, for which no calendar is loaded',
    );
  });
});

describe('GET /calendar/days/:date', () => {
  test.each([
    ['2026-10-10', { working: true, kind: 'makeup_workday', name: '国庆节 National Day', weekday: 'Saturday', weekday_zh: '星期六' }],
    ['2026-09-20', { working: true, kind: 'makeup_workday', name: '国庆节 National Day', weekday: 'Sunday' }],
    ['2026-02-14', { working: true, kind: 'makeup_workday', name: '春节 Spring Festival' }],
    ['2026-10-01', { working: false, kind: 'holiday', name: '国庆节 National Day', weekday: 'Thursday' }],
    ['2025-10-06', { working: false, kind: 'holiday', name: '中秋 Mid-autumn Festival' }],
    ['2026-10-11', { working: false, kind: 'weekend', weekday: 'Sunday' }],
    ['2026-10-12', { working: true, kind: 'workday', weekday: 'Monday', weekday_zh: '星期一' }],
  ])('%s', async (date, expected) => {
    const res = await request(app).get(`/calendar/days/${date}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ date, ...expected });
    expect(res.body.reason).toMatch(HAS_CHINESE);
    if (expected.kind === 'weekend' || expected.kind === 'workday') expect(res.body).not.toHaveProperty('name');
  });

  test('the reason says why', async () => {
    const res = await request(app).get('/calendar/days/2026-10-10');
    expect(res.body.reason).toBe('调休上班（国庆节 National Day）/ make-up working day (国庆节 National Day)');
  });

  test('a bad date → 400 naming date; an unknown year → 422', async () => {
    for (const bad of ['2026-02-30', '2026-1-1', 'today']) {
      const res = await request(app).get(`/calendar/days/${bad}`);
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['date']);
    }
    const res = await request(app).get('/calendar/days/2027-01-01');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'CALENDAR_YEAR_UNKNOWN', year: 2027 });
  });
});

describe('GET /calendar/years and /calendar/years/:year', () => {
  test('the known years, their source and load time', async () => {
    const res = await request(app).get('/calendar/years');
    expect(res.status).toBe(200);
    const years = res.body.years as Array<{ year: number; source: string; loaded_at: string; holidays: number; workdays: number }>;
    expect(years.map((y) => y.year)).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
    for (const y of years) {
      expect(y.source).toBe('chinese-days');
      // Beijing time with its offset, which a browser parses as it is.
      expect(y.loaded_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/);
      expect(Number.isNaN(Date.parse(y.loaded_at))).toBe(false);
    }
    expect(years.find((y) => y.year === 2026)).toMatchObject({ holidays: 33, workdays: 6 });
    expect(years.find((y) => y.year === 2025)).toMatchObject({ holidays: 28, workdays: 5 });
  });

  test("a year's days off and make-up working days", async () => {
    const res = await request(app).get('/calendar/years/2026');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ year: 2026, source: 'chinese-days' });
    expect(res.body.workdays).toEqual([
      { date: '2026-01-04', name: "元旦 New Year's Day" },
      { date: '2026-02-14', name: '春节 Spring Festival' },
      { date: '2026-02-28', name: '春节 Spring Festival' },
      { date: '2026-05-09', name: '劳动节 Labour Day' },
      { date: '2026-09-20', name: '国庆节 National Day' },
      { date: '2026-10-10', name: '国庆节 National Day' },
    ]);
    expect(res.body.holidays).toHaveLength(33);
    expect(res.body.holidays[0]).toEqual({ date: '2026-01-01', name: "元旦 New Year's Day" });
    expect(res.body.holidays[32]).toEqual({ date: '2026-10-07', name: '国庆节 National Day' });
  });

  test('an unknown year → 404; a malformed year → 400 naming year', async () => {
    const missing = await request(app).get('/calendar/years/2027');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect(missing.body.error.message).toMatch(/2027/);
    for (const bad of ['abc', '27', '20270', '1999', '2101']) {
      const res = await request(app).get(`/calendar/years/${bad}`);
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['year']);
    }
  });
});

describe('PUT /calendar/years/:year', () => {
  test('no key → 401, non-admin → 403, and nothing changes', async () => {
    const before = await state();
    expect(before.has2027).toBe(false);
    const anon = await request(app).put('/calendar/years/2027').send(SCHEDULE_2027);
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('UNAUTHORIZED');
    const bad = await request(app).put('/calendar/years/2027').set('Authorization', 'Bearer qzk_nonsense').send(SCHEDULE_2027);
    expect(bad.status).toBe(401);
    const res = await request(app).put('/calendar/years/2027').set('Authorization', staff.auth).send(SCHEDULE_2027);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    // A non-admin cannot overwrite a seeded year either.
    const over = await request(app).put('/calendar/years/2026').set('Authorization', staff.auth).send(SCHEDULE_2027);
    expect(over.status).toBe(403);
    expect(await state()).toEqual(before);
    expect((await request(app).get('/calendar/years/2027')).status).toBe(404);
  });

  const with2027 = (patch: Partial<typeof SCHEDULE_2027>) => ({ ...SCHEDULE_2027, ...patch });
  test.each<[string, unknown, string[], RegExp]>([
    [
      'a date outside the year',
      with2027({ holidays: [...SCHEDULE_2027.holidays, { date: '2026-12-31', name: '元旦' }] }),
      ['holidays.10.date'],
      /不在 2027 年内.*not inside 2027/,
    ],
    [
      'a make-up day on a weekday',
      with2027({ workdays: [{ date: '2027-01-05', name: '元旦' }] }),
      ['workdays.0.date'],
      /周六或周日.*星期二.*Saturday or Sunday.*Tuesday/,
    ],
    [
      'a duplicate holiday',
      with2027({ holidays: [...SCHEDULE_2027.holidays, { date: '2027-01-02', name: '元旦' }] }),
      ['holidays.10.date'],
      /重复.*holidays\.1.*duplicate/,
    ],
    [
      'a duplicate make-up day',
      with2027({ workdays: [...SCHEDULE_2027.workdays, { date: '2027-02-20', name: '春节' }] }),
      ['workdays.1.date'],
      /重复.*duplicate/,
    ],
    [
      'a date in both lists',
      with2027({ workdays: [{ date: '2027-01-02', name: '元旦' }] }),
      ['workdays.0.date'],
      /同时.*both a holiday and a make-up working day/,
    ],
    ['a date that does not exist', with2027({ holidays: [{ date: '2027-02-29', name: '春节' }] }), ['holidays.0.date'], /YYYY-MM-DD/],
    ['a date in another format', with2027({ holidays: [{ date: '2027/01/01', name: '元旦' }] }), ['holidays.0.date'], /YYYY-MM-DD/],
    ['an empty name', with2027({ holidays: [{ date: '2027-01-01', name: '   ' }] }), ['holidays.0.name'], /不能为空.*must not be empty/],
    ['a missing name', with2027({ workdays: [{ date: '2027-02-20' } as never] }), ['workdays.0.name'], /必填.*required/],
    ['no holidays at all', with2027({ holidays: [] }), ['holidays'], /不能为空.*must not be empty/],
    ['a missing list', { holidays: SCHEDULE_2027.holidays }, ['workdays'], /必填.*required/],
    ['an unknown key', { ...SCHEDULE_2027, holiday: [] }, ['(body)'], /未知字段 holiday.*unknown field/],
    [
      'an unknown key in a day',
      with2027({ workdays: [{ date: '2027-02-20', name: '春节', kind: 'x' } as never] }),
      ['workdays.0'],
      /未知字段 kind/,
    ],
    ['a list that is not an array', with2027({ workdays: '2027-02-20' as never }), ['workdays'], /数组.*an array/],
    [
      'a date that is not a string',
      with2027({ holidays: [{ date: 20270101, name: '元旦' } as never] }),
      ['holidays.0.date'],
      /字符串.*a string/,
    ],
    ['not an object', [SCHEDULE_2027], ['(body)'], /JSON 对象.*a JSON object/],
  ])('%s → 400 and nothing changes', async (_what, body, fields, reason) => {
    const before = await state();
    const res = await request(app)
      .put('/calendar/years/2027')
      .set('Authorization', admin.auth)
      .send(body as object);
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(fields);
    expect(res.body.error.details.map((d: { reason: string }) => d.reason).join('\n')).toMatch(reason);
    expect(await state()).toEqual(before);
    expect(before.has2027).toBe(false);
  });

  test('malformed JSON, no body, or a bad year → 400 and nothing changes', async () => {
    const before = await state();
    const json = await request(app)
      .put('/calendar/years/2027')
      .set('Authorization', admin.auth)
      .set('Content-Type', 'application/json')
      .send('{"holidays": [');
    expect(json.status).toBe(400);
    const none = await request(app).put('/calendar/years/2027').set('Authorization', admin.auth);
    expect(none.status).toBe(400);
    expect(fieldsOf(none.body)).toEqual(['(body)']);
    const year = await request(app).put('/calendar/years/27').set('Authorization', admin.auth).send(SCHEDULE_2027);
    expect(year.status).toBe(400);
    expect(fieldsOf(year.body)).toEqual(['year']);
    expect(await state()).toEqual(before);
  });

  test('all the problems of a body are named at once', async () => {
    const res = await request(app)
      .put('/calendar/years/2027')
      .set('Authorization', admin.auth)
      .send({
        holidays: [
          { date: '2027-01-01', name: '元旦' },
          { date: '2028-01-01', name: '元旦' },
          { date: '2027-01-01', name: '元旦' },
        ],
        workdays: [
          { date: '2027-01-04', name: '元旦' },
          { date: '2027-01-01', name: '元旦' },
        ],
      });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['holidays.1.date', 'holidays.2.date', 'workdays.0.date', 'workdays.1.date']);
  });

  test('an admin loads 2027 and it is in force at once', async () => {
    const before = await state();
    // Before: the count from 2026-12-30 runs into 2027, which nobody has loaded.
    expect((await request(app).get('/calendar/working-days?date=2026-12-30&n=5')).status).toBe(422);

    const res = await request(app).put('/calendar/years/2027').set('Authorization', admin.auth).send(SCHEDULE_2027);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ year: 2027, source: 'admin' });
    expect(res.body.loaded_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(res.body.holidays).toHaveLength(10);
    expect(res.body.holidays[3]).toEqual({ date: '2027-02-06', name: '春节 Spring Festival' }); // trimmed
    expect(res.body.workdays).toEqual([{ date: '2027-02-20', name: '春节 Spring Festival' }]);

    const after = await state();
    expect(after).toEqual({ days: before.days + 11, years: before.years + 1, audits: before.audits + 1, has2027: true });
    const audit = await tdb.db('audit_log').where({ action: 'calendar.load_year', entity_id: '2027' }).first();
    expect(audit).toMatchObject({
      principal_id: admin.id,
      actor: 'admin:日历管理员',
      entity: 'calendar_year',
      detail: { holidays: 10, workdays: 1 },
    });

    // 12-31 (1); 01-01..03 元旦; 01-04 (2), 01-05 (3), 01-06 (4), 01-07 (5). A weekend-only guess would say 01-06.
    const wd = await request(app).get('/calendar/working-days?date=2026-12-30&n=5');
    expect(wd.status).toBe(200);
    expect(wd.body).toMatchObject({ date: '2026-12-30', n: 5, result: '2027-01-07', result_weekday: 'Thursday' });
    expect(wd.body.days_off).toEqual([
      { date: '2027-01-01', kind: 'holiday', name: '元旦 New Year’s Day' },
      { date: '2027-01-02', kind: 'holiday', name: '元旦 New Year’s Day' },
      { date: '2027-01-03', kind: 'holiday', name: '元旦 New Year’s Day' },
    ]);
    expect((await request(app).get('/calendar/days/2027-02-20')).body).toMatchObject({
      working: true,
      kind: 'makeup_workday',
      weekday: 'Saturday',
    });
    expect((await request(app).get('/calendar/days/2027-02-08')).body).toMatchObject({
      working: false,
      kind: 'holiday',
      weekday: 'Monday',
    });

    const years = (await request(app).get('/calendar/years')).body.years as Array<{ year: number; source: string }>;
    expect(years[years.length - 1]).toMatchObject({ year: 2027, source: 'admin', holidays: 10, workdays: 1 });
    expect(years.find((y) => y.year === 2026)?.source).toBe('chinese-days');
    const y = await request(app).get('/calendar/years/2027');
    expect(y.status).toBe(200);
    const { waiting, settling, ...stored } = res.body;
    expect(y.body).toEqual(stored);
    // What waited on 2027 (nothing here) and the workflow that settles it, one per load.
    expect(waiting).toEqual({ obligations: 0, batches: 0, objections: 0, judicial_requests: 0, rating_requests: 0 });
    expect(settling.workflow_id).toMatch(/^calendar-loaded-2027-\d{20}$/);
    const started = await env.client.workflow.getHandle(settling.workflow_id).describe();
    expect(started.type).toBe('calendarYearLoadedWorkflow');
  });

  test('loading a year again replaces it entirely', async () => {
    const res = await request(app)
      .put('/calendar/years/2027')
      .set('Authorization', admin.auth)
      .send({ holidays: [{ date: '2027-01-01', name: '元旦' }], workdays: [] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ year: 2027, source: 'admin', holidays: [{ date: '2027-01-01', name: '元旦' }], workdays: [] });
    const [{ n }] = await tdb.db('calendar_days').where('year', 2027).count({ n: '*' });
    expect(Number(n)).toBe(1);
    // The old make-up Saturday is an ordinary weekend now, the old Spring Festival Monday a working day.
    expect((await request(app).get('/calendar/days/2027-02-20')).body).toMatchObject({ working: false, kind: 'weekend' });
    expect((await request(app).get('/calendar/days/2027-02-08')).body).toMatchObject({ working: true, kind: 'workday' });
    expect((await request(app).get('/calendar/working-days?date=2026-12-30&n=5')).body.result).toBe('2027-01-07');
    const audits = await tdb.db('audit_log').where({ action: 'calendar.load_year', entity_id: '2027' }).count({ n: '*' });
    expect(Number(audits[0].n)).toBe(2);
  });

  test('an admin may correct a built-in year; it then shows as source admin', async () => {
    const current = (await request(app).get('/calendar/years/2026')).body;
    const res = await request(app)
      .put('/calendar/years/2026')
      .set('Authorization', admin.auth)
      .send({ holidays: current.holidays, workdays: current.workdays });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ year: 2026, source: 'admin', holidays: current.holidays, workdays: current.workdays });
    expect((await request(app).get('/calendar/working-days?date=2026-09-29&n=5')).body.result).toBe('2026-10-12');
  });

  test('two admins loading the same year at once both succeed, and one schedule wins whole', async () => {
    const a = { holidays: [{ date: '2028-01-01', name: '元旦 A' }], workdays: [] };
    const b = {
      holidays: [
        { date: '2028-01-01', name: '元旦 B' },
        { date: '2028-01-03', name: '元旦 B' },
      ],
      workdays: [{ date: '2028-01-08', name: '元旦 B' }],
    };
    const results = await Promise.all(
      [a, b, a, b].map((body) => request(app).put('/calendar/years/2028').set('Authorization', admin.auth).send(body)),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const stored = (await request(app).get('/calendar/years/2028')).body;
    const names = new Set([...stored.holidays, ...stored.workdays].map((d: { name: string }) => d.name));
    expect(names.size).toBe(1);
    expect(stored.holidays).toHaveLength(names.has('元旦 A') ? 1 : 2);
  });
});

test('the OpenAPI document lists the calendar routes under 日历 Calendar', async () => {
  const res = await request(app).get('/openapi.json');
  expect(res.status).toBe(200);
  const paths = res.body.paths;
  expect(
    Object.keys(paths)
      .filter((p) => p.startsWith('/calendar'))
      .sort(),
  ).toEqual(['/calendar/days/{date}', '/calendar/working-days', '/calendar/years', '/calendar/years/{year}']);
  expect(paths['/calendar/working-days'].get.tags).toEqual(['日历 Calendar']);
  expect(paths['/calendar/working-days'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual([
    'query:date',
    'query:n',
  ]);
  expect(paths['/calendar/working-days'].get.responses).toHaveProperty('422');
  expect(paths['/calendar/years/{year}'].put.security).toEqual([{ apiKey: [] }]);
  expect(paths['/calendar/years/{year}'].put.responses).toHaveProperty('403');
  expect(paths['/calendar/years/{year}'].get.security).toEqual([]);
  expect(paths['/calendar/years/{year}'].put.requestBody.content['application/json'].schema).toEqual({
    $ref: '#/components/schemas/CalendarYearInput',
  });
});
