/**
 * The year turning with next year's calendar not loaded (SPEC "Working days"). Fixed dates at the end of 2026, with
 * every year from 2027 on removed from the test database and 2027 then loaded as TEST DATA (test/support/calendar.ts:
 * weekends, 1 January, 1 May, 1–3 October off; not the State Council's schedule):
 *
 * - platform deadlines (E12 publication, E14(4) judicial answer, E18/P22 verification, E14(3) rating decision) are
 *   provisional, the earliest they can be, and are recomputed when the year is loaded;
 * - provider deadlines (an obligation's due date, E7, P9) are never provisional: unset until the year is loaded,
 *   and nothing is "late" meanwhile;
 * - one notice per missing year; the daily reminder from 1 November; warnings for the dashboard and readiness.
 *
 * Pure rules, then the repositories and the real activities on PostgreSQL (the workflows' part:
 * calendar-workflows.test.ts; the whole platform: calendar-platform.test.ts).
 */
import { logger } from '../ops/log';
import { WorkingCalendar, builtInCalendarYears, addCalendarDays, weekday, workingDayDeadline } from '../domain/calendar';
import { describeWaiting, missingYearNotice, noWaiting, yearsExpected } from '../domain/calendar-gaps';
import { objectionDeadline } from '../domain/objections';
import { loadCalendar } from '../db/calendar';
import { calendarWarnings, closeCalendarGap, noteCalendarGap, openCalendarGaps, waitingOn } from '../db/calendar-gaps';
import {
  settleJudicialSchedule,
  settleObjectionDeadline,
  settleObligationDueDate,
  settleRatingDeadline,
  settleSubmissionDeadline,
  settleYear,
} from '../db/deadlines';
import { markDeadlinePassed, openVerification, recordProviderAnswer } from '../db/objection-verification';
import { fulfilObligation, obligationById } from '../db/obligations';
import { createActivities } from '../activities';
import { settleWithCalendar } from '../activities/calendar';
import type { Client } from '@temporalio/client';
import { freshDatabase, type TestDb } from './support/db';
import { principalWithKey } from './support/principals';
import { uscc } from './support/fixtures';
import { loadTestCalendarYears, removeCalendarYears, testCalendarYear, yearsFrom } from './support/calendar';

const full = new WorkingCalendar(builtInCalendarYears());
const without = (year: number) => new WorkingCalendar(builtInCalendarYears().filter((y) => y.year !== year));
/** 2027 as the test data loads it. */
const with2027 = new WorkingCalendar([...builtInCalendarYears(), testCalendarYear(2027)]);

describe('the earliest day a deadline can be, when a year has no calendar (pure)', () => {
  test('with every year known it is the working-day count itself, never provisional', () => {
    for (let d = '2025-01-01'; d <= '2026-11-30'; d = addCalendarDays(d, 7)) {
      for (const n of [0, 1, 3, 5, 10]) {
        expect(full.addWorkingDaysOrEarliest(d, n)).toEqual({ date: full.addWorkingDays(d, n), provisional: false, missingYear: null });
      }
    }
  });

  test('it is never later than the true day, across every holiday and make-up day of 2026 (so acting by it keeps the law)', () => {
    const no2026 = without(2026);
    let checked = 0;
    // Every start from 31 December 2025 (its count runs through 2026) to 10 December 2026 (it stays inside 2026).
    for (let d = '2025-12-31'; d <= '2026-12-10'; d = addCalendarDays(d, 1)) {
      for (const n of [1, 3, 5, 10]) {
        const earliest = no2026.addWorkingDaysOrEarliest(d, n);
        expect(earliest.provisional).toBe(true);
        expect(earliest.missingYear).toBe(2026);
        expect(earliest.date <= full.addWorkingDays(d, n)).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  test('counting only weekends as days off would not be safe: a make-up working day makes the true day earlier', () => {
    // Saturday 3 January 2026 is a holiday and Sunday 4 January a make-up working day (调休上班).
    expect(full.describe('2026-01-04')).toMatchObject({ working: true, kind: 'makeup_workday' });
    expect(full.addWorkingDays('2026-01-03', 5)).toBe('2026-01-08');
    let d = '2026-01-03';
    for (let left = 5; left > 0;) {
      d = addCalendarDays(d, 1);
      if (weekday(d) !== 0 && weekday(d) !== 6) left--;
    }
    expect(d).toBe('2026-01-09'); // weekends only: a day too late
    expect(without(2026).addWorkingDaysOrEarliest('2026-01-03', 5)).toEqual({ date: '2026-01-08', provisional: true, missingYear: 2026 });
  });

  test('a deadline across the end of 2026 with 2027 unknown, and with 2027 loaded', () => {
    // Monday 28 December 2026, 5 working days (E12): every day of 2027 counted → Saturday 2 January.
    expect(workingDayDeadline(full, '2026-12-28', 5)).toEqual({
      date: '2027-01-02',
      provisional: true,
      missingYear: 2027,
      endsAt: '2027-01-02T16:00:00.000Z',
    });
    // with 2027's test calendar: 29, 30, 31 December, 1 January off, the weekend, then 4 and 5 January.
    expect(workingDayDeadline(with2027, '2026-12-28', 5)).toEqual({
      date: '2027-01-05',
      provisional: false,
      missingYear: null,
      endsAt: '2027-01-05T16:00:00.000Z',
    });
    expect(objectionDeadline(full, new Date('2026-12-24T10:00:00+08:00'))).toMatchObject({
      acceptanceDate: '2026-12-24',
      deadline: '2027-01-05',
      provisional: true,
      pendingYear: 2027,
    });
    expect(objectionDeadline(with2027, new Date('2026-12-24T10:00:00+08:00'))).toMatchObject({
      deadline: '2027-01-08',
      provisional: false,
      pendingYear: null,
    });
    expect(full.firstMissingYear('2026-12-01', '2027-01-04')).toBe(2027);
    expect(with2027.firstMissingYear('2026-12-01', '2027-01-04')).toBeNull();
  });

  test('which years the daily check asks for: this year, and next year from 1 November (29 February and 31 December too)', () => {
    expect(yearsExpected('2026-10-31')).toEqual({ current: 2026, next: null });
    expect(yearsExpected('2026-11-01')).toEqual({ current: 2026, next: 2027 });
    expect(yearsExpected('2026-12-31')).toEqual({ current: 2026, next: 2027 });
    expect(yearsExpected('2027-01-04')).toEqual({ current: 2027, next: null });
    expect(yearsExpected('2028-02-29')).toEqual({ current: 2028, next: null });
  });

  test('the notice says which year, what waits on it and how to load it, in Chinese and English', () => {
    const n = missingYearNotice(2027, { ...noWaiting(), obligations: 3, batches: 2 });
    expect(n.title).toBe('2027 年工作日历尚未载入，相关期限无法确定 / no working-day calendar is loaded for 2027');
    expect(n.body).toContain('3 项报送义务的截止日期');
    expect(n.body).toContain('2 批报送的公开期限');
    expect(n.body).toContain('PUT /calendar/years/2027');
    expect(n.body).toContain('3 obligations without a due date');
    expect(describeWaiting(noWaiting()).zh).toBe('目前尚无事项等待');
  });
});

describe('deadlines stored while 2027 has no calendar, settled when it is loaded (PostgreSQL)', () => {
  let t: TestDb;
  let staff: { id: string };
  let enterprise: { id: string };
  let agency: { id: string };
  let judicial: { id: string };
  let providerId: number;

  beforeAll(async () => {
    t = await freshDatabase();
    // Every year from 2027 on is absent, whatever the shipped calendar holds.
    await removeCalendarYears(t.db, await yearsFrom(t.db, 2027));
    staff = await principalWithKey(t.db, { name: '平台工作人员', role: 'staff' });
    enterprise = await principalWithKey(t.db, { name: '异议企业', role: 'enterprise', enterpriseUscc: uscc(1) });
    agency = await principalWithKey(t.db, { name: '评级机构', role: 'rating_agency', organization: '某信用评级公司' });
    judicial = await principalWithKey(t.db, { name: '钦州市中级人民法院', role: 'judicial', organization: '钦州市中级人民法院' });
    providerId = (await t.db('providers').where('code', 'QZ-GSJ').first('id')).id;
  }, 120000);
  afterAll(async () => {
    await t?.close();
  });

  let seq = 0;
  async function submission(receivedAt: string, period = '2026-12'): Promise<string> {
    const [row] = await t
      .db('submissions')
      .insert({
        provider_id: providerId,
        period,
        idempotency_key: `year-end-${++seq}`,
        request_hash: 'x',
        format: 'json',
        row_count: 0,
        received_at: receivedAt,
        workflow_id: `submission-year-end-${seq}`,
        created_by: staff.id,
      })
      .returning('id');
    return row.id;
  }

  test('a batch received on 28 December 2026: publication deadline provisional (2 January), then 5 January once 2027 is loaded (E12)', async () => {
    const id = await submission('2026-12-28T10:00:00+08:00');
    const first = await settleSubmissionDeadline(t.db, await loadCalendar(t.db), id, 5);
    expect(first).toMatchObject({ receiptDate: '2026-12-28', deadline: '2027-01-02', provisional: true, pendingYear: 2027 });
    expect(await t.db('submissions').where('id', id).first('publication_deadline', 'calendar_pending_year')).toEqual({
      publication_deadline: '2027-01-02',
      calendar_pending_year: 2027,
    });
    // Again with the same calendar: nothing changes, nothing is written twice.
    await settleSubmissionDeadline(t.db, await loadCalendar(t.db), id, 5);
    expect(await t.db('audit_log').where({ entity: 'submission', entity_id: id })).toHaveLength(1);
    // With 2027's test calendar: settled, later, not provisional.
    const settled = await settleSubmissionDeadline(t.db, with2027, id, 5);
    expect(settled).toMatchObject({ deadline: '2027-01-05', provisional: false, pendingYear: null });
    expect(await t.db('submissions').where('id', id).first('publication_deadline', 'calendar_pending_year')).toEqual({
      publication_deadline: '2027-01-05',
      calendar_pending_year: null,
    });
    expect(await t.db('audit_log').where({ entity: 'submission', entity_id: id }).orderBy('id').pluck('action')).toEqual([
      'submission.receipt_recorded',
      'submission.deadline_settled',
    ]);
  });

  test('a judicial request received on 30 December: answer provisional by 2 January; answered on 3 January it is not "missed" until settled, then met (E14(4), P13)', async () => {
    const doc = await t
      .db('documents')
      .insert({
        kind: 'duty_proof',
        file_name: 'proof.pdf',
        content_type: 'application/pdf',
        size_bytes: 4,
        sha256: 'x',
        content: Buffer.from('%PDF'),
        uploaded_by: judicial.id,
      })
      .returning('id');
    const [j] = await t
      .db('judicial_requests')
      .insert({
        requester_principal_id: judicial.id,
        subject_type: 'enterprise',
        subject_id: uscc(1),
        case_no: '(2026)桂07执1号',
        purpose: '执行',
        document_id: doc[0].id,
        received_at: '2026-12-30T15:00:00+08:00',
        workflow_id: 'judicial-year-end-1',
      })
      .returning('id');
    const first = await settleJudicialSchedule(t.db, await loadCalendar(t.db), j.id, 3, 1);
    expect(first).toMatchObject({
      receiptDate: '2026-12-30',
      answerDue: '2027-01-02',
      alertDate: '2027-01-01',
      provisional: true,
      pendingYear: 2027,
      first: true,
    });
    // Answered on 3 January, after the provisional deadline: met or not is decided with the true one.
    await t.db('judicial_requests').where('id', j.id).update({ status: 'answered', answered_at: '2027-01-03T10:00:00+08:00', met: null });
    const settled = await settleJudicialSchedule(t.db, with2027, j.id, 3, 1);
    expect(settled).toMatchObject({ answerDue: '2027-01-05', alertDate: '2027-01-04', provisional: false, first: false });
    expect(await t.db('judicial_requests').where('id', j.id).first('answer_due', 'met', 'calendar_pending_year')).toEqual({
      answer_due: '2027-01-05',
      met: true,
      calendar_pending_year: null,
    });
    expect(await t.db('notifications').where({ kind: 'judicial_request.deadline_settled', entity_id: j.id })).toHaveLength(1);
  });

  test('an objection accepted on 24 December: verification provisional to 5 January; the provider answering on 6 January is not late, nor declared overdue; settled 8 January (E18, P22)', async () => {
    const [o] = await t
      .db('objections')
      .insert({
        applicant_principal_id: enterprise.id,
        applicant_role: 'enterprise',
        applicant_name: '异议企业',
        subject_type: 'enterprise',
        subject_id: uscc(1),
        provider_id: providerId,
        claim: '信息有误',
        evidence_summary: '判决书',
        state: 'accepted',
        accepted_at: '2026-12-24T10:00:00+08:00',
        workflow_id: 'objection-year-end-1',
      })
      .returning('id');
    const d = await openVerification(t.db, o.id, objectionDeadline(await loadCalendar(t.db), new Date('2026-12-24T10:00:00+08:00')));
    expect(d).toMatchObject({ deadline: '2027-01-05', provisional: true, pendingYear: 2027 });
    const ask = await t.db('notifications').where({ kind: 'objection.verification_requested', entity_id: o.id }).first('title', 'body');
    expect(ask.title).toContain('2027-01-05（暂定）');
    expect(ask.body).toContain('2027 年工作日历尚未载入');
    // The provisional deadline passes: nothing is declared overdue on it.
    expect(await markDeadlinePassed(t.db, o.id, '2027-01-05T16:00:01Z')).toMatchObject({ overdue: false });
    expect(await t.db('objections').where('id', o.id).first('state', 'verification_overdue_at')).toEqual({
      state: 'verifying',
      verification_overdue_at: null,
    });
    const a = await recordProviderAnswer(t.db, o.id, {
      verdict: 'confirmed_right',
      reason: '核实无误',
      corrections: null,
      by: { id: staff.id, actor: 'provider:工商局' },
      at: '2027-01-06T02:00:00.000Z',
    });
    expect(a.inTime).toBeNull();
    const settled = await settleObjectionDeadline(t.db, with2027, o.id);
    expect(settled).toMatchObject({ deadline: '2027-01-08', provisional: false });
    expect(await t.db('objections').where('id', o.id).first('deadline', 'answered_in_time', 'calendar_pending_year')).toEqual({
      deadline: '2027-01-08',
      answered_in_time: true,
      calendar_pending_year: null,
    });
    const told = await t
      .db('notifications')
      .where({ kind: 'objection.deadline_settled', entity_id: o.id })
      .orderBy('id')
      .pluck('recipient_provider_id');
    expect(told).toHaveLength(2);
  });

  test('a rating request of 29 December: decision deadline provisional (3 January), settled 6 January (E14(3))', async () => {
    const [r] = await t
      .db('rating_requests')
      .insert({
        agency_principal_id: agency.id,
        subject_uscc: uscc(1),
        categories: ['tax'],
        purpose: '信用评级',
        requested_at: '2026-12-29T10:00:00+08:00',
        workflow_id: 'rating-year-end-1',
      })
      .returning('id');
    expect(await settleRatingDeadline(t.db, await loadCalendar(t.db), r.id, 5)).toMatchObject({
      decisionDeadline: '2027-01-03',
      provisional: true,
      pendingYear: 2027,
    });
    expect(await settleRatingDeadline(t.db, with2027, r.id, 5)).toMatchObject({
      decisionDeadline: '2027-01-06',
      provisional: false,
      pendingYear: null,
    });
  });

  test("December's obligation: no due date while 2027 is unknown (it binds the provider); batches on 4 January are on time, on 7 January decided when it is loaded", async () => {
    const insert = async (code: string) => {
      const p = await t.db('providers').where('code', code).first('id');
      const [o] = await t
        .db('obligations')
        .insert({
          provider_id: p.id,
          period: '2026-12',
          cadence: 'monthly',
          period_start: '2026-12-01',
          period_end: '2026-12-31',
          due_working_days: 5,
          workflow_id: `obligation-${code}-2026-12`,
          opened_by: 'test',
        })
        .returning('id');
      return { id: Number(o.id), providerId: p.id as number };
    };
    const early = await insert('QZ-KJJ');
    const later = await insert('QZ-MZJ');
    const late = await insert('QZ-RSJ');
    for (const o of [early, later, late]) {
      expect(await settleObligationDueDate(t.db, await loadCalendar(t.db), o.id, 'test')).toEqual({ dueDate: null, pendingYear: 2027 });
    }
    const receive = async (o: { id: number; providerId: number }, at: string) => {
      await t.db('submissions').insert({
        provider_id: o.providerId,
        period: '2026-12',
        idempotency_key: `obl-${o.id}`,
        request_hash: 'x',
        format: 'json',
        row_count: 0,
        received_at: at,
        workflow_id: `submission-obl-${o.id}`,
        created_by: staff.id,
      });
      return t.db.transaction(async (trx) => fulfilObligation(trx, (await obligationById(trx, o.id, true))!));
    };
    // The due date can be no earlier than 5 January (every day of 2027 counted): 4 January is on time whatever 2027 holds.
    expect(await receive(early, '2027-01-04T10:00:00+08:00')).toMatchObject({ fulfilled: true, onTime: true });
    // 7 January may or may not be late: never "late" on a guess.
    expect(await receive(later, '2027-01-07T10:00:00+08:00')).toMatchObject({ fulfilled: true, onTime: null });
    expect(await receive(late, '2027-01-11T10:00:00+08:00')).toMatchObject({ fulfilled: true, onTime: null });
    expect(await waitingOn(t.db, 2027)).toMatchObject({ obligations: 3 });
    // 2027 loaded: due 8 January (4–8 January); 7 January on time, 11 January late.
    for (const o of [early, later, late])
      expect(await settleObligationDueDate(t.db, with2027, o.id, 'test')).toEqual({ dueDate: '2027-01-08', pendingYear: null });
    const rows = await t
      .db('obligations')
      .whereIn('id', [early.id, later.id, late.id])
      .orderBy('id')
      .select('due_date', 'on_time', 'calendar_pending_year');
    expect(rows).toEqual([
      { due_date: '2027-01-08', on_time: true, calendar_pending_year: null },
      { due_date: '2027-01-08', on_time: true, calendar_pending_year: null },
      { due_date: '2027-01-08', on_time: false, calendar_pending_year: null },
    ]);
    expect(await t.db('obligation_events').where('obligation_id', late.id).orderBy('id').pluck('kind')).toEqual([
      'fulfilled',
      'due_date_set',
      'decided_late',
    ]);
  });

  test('one notice per missing year, however many ask at once; what waits on it; warnings for the dashboard', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => noteCalendarGap(t.db, 2027, `test ${i}`)));
    expect(await t.db('notifications').where({ kind: 'calendar.year_missing', entity_id: '2027' })).toHaveLength(1);
    const note = await t.db('notifications').where({ kind: 'calendar.year_missing' }).first();
    expect(note).toMatchObject({
      recipient_role: 'admin',
      title: '2027 年工作日历尚未载入，相关期限无法确定 / no working-day calendar is loaded for 2027',
    });
    expect((await openCalendarGaps(t.db)).map((g) => g.year)).toEqual([2027]);
    // The test rows above that still wait: a batch? no (settled); the rest settled too. A fresh provisional batch:
    const id = await submission('2026-12-31T09:00:00+08:00');
    await settleSubmissionDeadline(t.db, await loadCalendar(t.db), id, 5);
    expect(await waitingOn(t.db, 2027)).toEqual({ ...noWaiting(), batches: 1 });

    const oct31 = await calendarWarnings(t.db, '2026-10-31');
    expect(oct31.map((w) => [w.code, w.year])).toEqual([['CALENDAR_YEAR_MISSING', 2027]]);
    expect(oct31[0].waiting).toEqual({ ...noWaiting(), batches: 1 });
    // On 4 January 2027 this year itself is missing: one warning for it, not two.
    expect((await calendarWarnings(t.db, '2027-01-04')).map((w) => [w.code, w.year])).toEqual([['CALENDAR_YEAR_MISSING', 2027]]);
    // On 1 November 2027, with 2028 absent too: the reminder for next year.
    expect((await calendarWarnings(t.db, '2027-11-01')).map((w) => [w.code, w.year])).toEqual([
      ['CALENDAR_YEAR_MISSING', 2027],
      ['CALENDAR_NEXT_YEAR_NOT_LOADED', 2028],
    ]);
  });

  test('the daily check reminds from 1 November, once a day, while next year is not loaded', async () => {
    const acts = createActivities({ db: t.db, publicationWorkingDays: 5, temporal: {} as Client, taskQueue: 'unused' });
    expect(await acts.checkCalendarCoverage({ asOf: '2026-10-31T01:00:00Z' })).toMatchObject({
      today: '2026-10-31',
      missing: [],
      reminded: null,
    });
    expect(await acts.checkCalendarCoverage({ asOf: '2026-11-01T01:00:00Z' })).toMatchObject({ today: '2026-11-01', reminded: 2027 });
    expect(await acts.checkCalendarCoverage({ asOf: '2026-11-01T09:00:00Z' })).toMatchObject({ reminded: null }); // the same day
    expect(await acts.checkCalendarCoverage({ asOf: '2026-12-31T15:59:00Z' })).toMatchObject({ today: '2026-12-31', reminded: 2027 });
    // 29 February 2028 (2028 missing as well): this year is recorded as missing.
    const leap = await acts.checkCalendarCoverage({ asOf: '2028-02-29T02:00:00Z' });
    expect(leap).toMatchObject({ today: '2028-02-29', missing: [2028], reminded: null });
    const reminders = await t
      .db('notifications')
      .where({ kind: 'calendar.year_upcoming' })
      .orderBy('id')
      .select('recipient_role', 'data', 'title');
    expect(reminders.map((r) => r.data)).toEqual([
      { year: 2027, date: '2026-11-01' },
      { year: 2027, date: '2026-12-31' },
    ]);
    expect(reminders[0]).toMatchObject({
      recipient_role: 'admin',
      title: '请载入 2027 年工作日历 / load the working-day calendar of 2027',
    });
  });

  test('loaded: what waited is settled, the notices about the year closed, the administrators told once', async () => {
    await loadTestCalendarYears(t.db, [2027]);
    const calendar = await loadCalendar(t.db, { fresh: true });
    const r = await settleYear(t.db, calendar, 2027, {
      publicationWorkingDays: 5,
      ratingWorkingDays: 5,
      judicialDays: 3,
      judicialAlertBefore: 1,
    });
    expect(r.settled.batches).toBe(1);
    expect(await waitingOn(t.db, 2027)).toEqual(noWaiting());
    expect(await closeCalendarGap(t.db, 2027, r.settled)).toBe(true);
    expect(await closeCalendarGap(t.db, 2027, r.settled)).toBe(false);
    const about2027 = await t
      .db('notifications')
      .whereIn('kind', ['calendar.year_missing', 'calendar.year_upcoming'])
      .where('entity_id', '2027');
    expect(about2027.length).toBe(3);
    expect(about2027.every((n) => n.resolved_at !== null)).toBe(true);
    expect(await t.db('notifications').where({ kind: 'calendar.year_loaded', entity_id: '2027' })).toHaveLength(1);
    // Only 2028 is still missing (the daily check of 29 February 2028 above recorded it).
    expect((await openCalendarGaps(t.db)).map((g) => g.year)).toEqual([2028]);
    expect((await calendarWarnings(t.db, '2027-01-04')).map((w) => w.year)).toEqual([2028]);
    // A year asked for once it is there: nothing recorded, the caller computes again.
    expect(await noteCalendarGap(t.db, 2027, 'late caller')).toEqual({ loaded: true, first: false });
  });

  test('a missing year is logged once per process, at WARN, without a stack trace', async () => {
    const warn = jest.spyOn(logger('worker'), 'warn').mockImplementation(() => undefined);
    try {
      const pending = { pendingYear: 2035 };
      for (let i = 0; i < 5; i++) await settleWithCalendar(t.db, `test ${i}`, async () => pending);
      const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('2035'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^2035 年工作日历尚未载入/);
      expect(lines[0]).not.toContain('\n');
      expect(await t.db('notifications').where({ kind: 'calendar.year_missing', entity_id: '2035' })).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});
