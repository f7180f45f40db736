import {
  UnknownCalendarYearError,
  WorkingCalendar,
  addCalendarDays,
  builtInCalendarYears,
  isIsoDate,
  shanghaiDate,
  shanghaiStartOfDay,
  weekday,
} from '../domain/calendar';

/**
 * Vectors from the State Council's published schedules (国务院办公厅关于2025年 / 2026年部分节假日安排的通知),
 * checked against the calendar built from chinese-days' data, as the database is seeded.
 */
const calendar = new WorkingCalendar(builtInCalendarYears());

/** Every date from `from` to `to`, both included. */
function range(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addCalendarDays(d, 1)) out.push(d);
  return out;
}

describe('built-in years', () => {
  test('chinese-days covers 2004 to 2026 and nothing else', () => {
    const years = builtInCalendarYears().map((y) => y.year);
    expect(years[0]).toBe(2004);
    expect(years[years.length - 1]).toBe(2026);
    expect(years).toHaveLength(23);
    expect(calendar.knows(2026)).toBe(true);
    expect(calendar.knows(2027)).toBe(false);
    expect(calendar.knows(2003)).toBe(false);
  });

  test('2026 lists exactly the published days off and make-up working days', () => {
    const y = calendar.year(2026);
    expect(y.workdays.map((d) => d.date)).toEqual(['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']);
    expect(y.holidays.map((d) => d.date)).toEqual([
      ...range('2026-01-01', '2026-01-03'), // 元旦
      ...range('2026-02-15', '2026-02-23'), // 春节, 9 days
      ...range('2026-04-04', '2026-04-06'), // 清明
      ...range('2026-05-01', '2026-05-05'), // 劳动节
      ...range('2026-06-19', '2026-06-21'), // 端午
      ...range('2026-09-25', '2026-09-27'), // 中秋
      ...range('2026-10-01', '2026-10-07'), // 国庆
    ]);
    expect(y.holidays.find((d) => d.date === '2026-02-17')?.name).toBe('春节 Spring Festival');
  });

  test('2025 lists exactly the published days off and make-up working days', () => {
    const y = calendar.year(2025);
    expect(y.workdays.map((d) => d.date)).toEqual(['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11']);
    expect(y.holidays.map((d) => d.date)).toEqual([
      '2025-01-01',
      ...range('2025-01-28', '2025-02-04'),
      ...range('2025-04-04', '2025-04-06'),
      ...range('2025-05-01', '2025-05-05'),
      ...range('2025-05-31', '2025-06-02'),
      ...range('2025-10-01', '2025-10-08'),
    ]);
  });

  test('both years have 248 working days (365 − 104 weekend days − 13 statutory holidays)', () => {
    expect(calendar.workingDaysBetween('2024-12-31', '2025-12-31')).toBe(248);
    expect(calendar.workingDaysBetween('2025-12-31', '2026-12-31')).toBe(248);
  });
});

describe('2026 (国办发明电〔2025〕7号)', () => {
  test.each([
    ['2026-10-10', true, 'makeup_workday'], // Saturday, make-up day for National Day
    ['2026-09-20', true, 'makeup_workday'], // Sunday, make-up day for National Day
    ['2026-02-14', true, 'makeup_workday'], // Saturday, make-up day for the Spring Festival
    ['2026-02-28', true, 'makeup_workday'], // Saturday, make-up day for the Spring Festival
    ['2026-01-04', true, 'makeup_workday'], // Sunday, make-up day for New Year
    ['2026-05-09', true, 'makeup_workday'], // Saturday, make-up day for Labour Day
    ['2026-10-01', false, 'holiday'],
    ['2026-10-03', false, 'holiday'], // a Saturday inside the holiday
    ['2026-10-07', false, 'holiday'],
    ['2026-02-15', false, 'holiday'],
    ['2026-02-23', false, 'holiday'], // Monday, last day of the Spring Festival
    ['2026-10-11', false, 'weekend'], // Sunday right after the make-up Saturday
    ['2026-09-19', false, 'weekend'],
    ['2026-10-08', true, 'workday'],
    ['2026-02-24', true, 'workday'],
    ['2026-09-29', true, 'workday'],
  ])('%s working=%s (%s)', (date, working, kind) => {
    expect(calendar.describe(date)).toMatchObject({ date, working, kind });
    expect(calendar.isWorkingDay(date)).toBe(working);
  });

  test('describe names the holiday a day belongs to', () => {
    expect(calendar.describe('2026-10-10')).toEqual({
      date: '2026-10-10',
      working: true,
      kind: 'makeup_workday',
      name: '国庆节 National Day',
    });
    expect(calendar.describe('2026-09-26')).toEqual({
      date: '2026-09-26',
      working: false,
      kind: 'holiday',
      name: '中秋 Mid-autumn Festival',
    });
    expect(calendar.describe('2026-10-12')).toEqual({ date: '2026-10-12', working: true, kind: 'workday' });
    expect(calendar.describe('2026-10-11')).toEqual({ date: '2026-10-11', working: false, kind: 'weekend' });
  });

  test('5 working days after 2026-09-29 is 2026-10-12 (Saturday 10-10 counts, the National Day week does not)', () => {
    expect(calendar.addWorkingDays('2026-09-29', 5)).toBe('2026-10-12');
    expect(calendar.addWorkingDays('2026-09-29', 1)).toBe('2026-09-30');
    expect(calendar.addWorkingDays('2026-09-29', 2)).toBe('2026-10-08');
    expect(calendar.addWorkingDays('2026-09-29', 4)).toBe('2026-10-10');
    expect(calendar.workingDaysBetween('2026-09-29', '2026-10-12')).toBe(5);
  });

  test('the Sunday make-up day before Mid-Autumn counts', () => {
    // Fri 09-18 → Sun 09-20 (make-up) → Mon 09-21.
    expect(calendar.addWorkingDays('2026-09-18', 1)).toBe('2026-09-20');
    expect(calendar.addWorkingDays('2026-09-18', 2)).toBe('2026-09-21');
    // Thu 09-24 → the Mid-Autumn weekend is off → Mon 09-28.
    expect(calendar.addWorkingDays('2026-09-24', 1)).toBe('2026-09-28');
  });

  test('across the Spring Festival 2026', () => {
    // Thu 02-12: Fri 02-13 (1), Sat 02-14 make-up (2), 02-15..23 off, Tue 02-24 (3), 02-25 (4), 02-26 (5).
    expect(calendar.addWorkingDays('2026-02-12', 5)).toBe('2026-02-26');
    expect(calendar.addWorkingDays('2026-02-13', 2)).toBe('2026-02-24');
    // 10 working days (an objection, P24) from Fri 02-13: 02-14, 24, 25, 26, 27, 28 (make-up Sat), 03-02, 03, 04, 05.
    expect(calendar.addWorkingDays('2026-02-13', 10)).toBe('2026-03-05');
    expect(calendar.workingDaysBetween('2026-02-13', '2026-02-27')).toBe(5);
    expect(calendar.workingDaysBetween('2026-02-14', '2026-02-23')).toBe(0);
    // Starting on a holiday counts from the next working day.
    expect(calendar.addWorkingDays('2026-02-18', 1)).toBe('2026-02-24');
  });

  test('New Year: 2025-12-31 + 1 working day is Sunday 2026-01-04 (make-up)', () => {
    expect(calendar.addWorkingDays('2025-12-31', 1)).toBe('2026-01-04');
    expect(calendar.addWorkingDays('2025-12-31', 2)).toBe('2026-01-05');
  });

  test('n = 0 gives the date itself, even a day off', () => {
    expect(calendar.addWorkingDays('2026-10-01', 0)).toBe('2026-10-01');
    expect(calendar.addWorkingDays('2026-09-29', 0)).toBe('2026-09-29');
  });

  test('n must be a whole number ≥ 0', () => {
    expect(() => calendar.addWorkingDays('2026-09-29', -1)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2026-09-29', 1.5)).toThrow(RangeError);
  });
});

describe('2025 (国办发明电〔2024〕12号)', () => {
  test('National Day + Mid-Autumn: 10-01..10-08 off, Sun 09-28 and Sat 10-11 working', () => {
    for (const d of range('2025-10-01', '2025-10-08')) expect(calendar.isWorkingDay(d)).toBe(false);
    expect(calendar.describe('2025-10-06')).toMatchObject({ kind: 'holiday', name: '中秋 Mid-autumn Festival' });
    expect(calendar.describe('2025-09-28')).toMatchObject({ working: true, kind: 'makeup_workday' });
    expect(weekday('2025-09-28')).toBe(0);
    expect(calendar.describe('2025-10-11')).toMatchObject({ working: true, kind: 'makeup_workday' });
    expect(weekday('2025-10-11')).toBe(6);
    expect(calendar.isWorkingDay('2025-10-09')).toBe(true);
    expect(calendar.isWorkingDay('2025-10-12')).toBe(false);
    expect(calendar.addWorkingDays('2025-09-30', 1)).toBe('2025-10-09');
    expect(calendar.addWorkingDays('2025-09-26', 5)).toBe('2025-10-10');
    // 09-28, 09-29, 09-30, 10-09, 10-10, 10-11.
    expect(calendar.workingDaysBetween('2025-09-26', '2025-10-12')).toBe(6);
    expect(calendar.workingDaysBetween('2025-10-12', '2025-09-26')).toBe(-6);
  });

  test('Spring Festival: 01-28..02-04 off, Sun 01-26 and Sat 02-08 working', () => {
    for (const d of range('2025-01-28', '2025-02-04')) expect(calendar.describe(d)).toMatchObject({ working: false, kind: 'holiday' });
    expect(calendar.describe('2025-01-26')).toMatchObject({ working: true, kind: 'makeup_workday', name: '春节 Spring Festival' });
    expect(calendar.describe('2025-02-08')).toMatchObject({ working: true, kind: 'makeup_workday', name: '春节 Spring Festival' });
    expect(calendar.isWorkingDay('2025-01-27')).toBe(true);
    expect(calendar.isWorkingDay('2025-02-09')).toBe(false);
    expect(calendar.addWorkingDays('2025-01-24', 1)).toBe('2025-01-26');
    expect(calendar.addWorkingDays('2025-01-27', 1)).toBe('2025-02-05');
    expect(calendar.addWorkingDays('2025-01-27', 4)).toBe('2025-02-08');
    // 01-26, 01-27, 02-05, 02-06, 02-07, 02-08.
    expect(calendar.workingDaysBetween('2025-01-25', '2025-02-09')).toBe(6);
  });

  test('workingDaysBetween: same day is 0, the end is counted, the start is not', () => {
    expect(calendar.workingDaysBetween('2025-03-03', '2025-03-03')).toBe(0);
    expect(calendar.workingDaysBetween('2025-03-03', '2025-03-04')).toBe(1);
    expect(calendar.workingDaysBetween('2025-03-07', '2025-03-09')).toBe(0);
    expect(calendar.workingDaysBetween('2025-03-07', '2025-03-10')).toBe(1);
    // 3 working days (a judicial query) round-trips through workingDaysBetween.
    const due = calendar.addWorkingDays('2025-04-30', 3);
    expect(due).toBe('2025-05-08');
    expect(calendar.workingDaysBetween('2025-04-30', due)).toBe(3);
  });
});

describe('years no calendar covers', () => {
  test('a date in 2027 is an error, never a weekend-only guess', () => {
    expect(() => calendar.describe('2027-01-04')).toThrow(UnknownCalendarYearError);
    expect(() => calendar.isWorkingDay('2027-01-04')).toThrow(UnknownCalendarYearError);
    expect(() => calendar.addWorkingDays('2027-01-04', 0)).toThrow(UnknownCalendarYearError);
    expect(() => calendar.year(2027)).toThrow(UnknownCalendarYearError);
    expect(() => calendar.describe('2003-12-31')).toThrow(UnknownCalendarYearError);
  });

  test('the error carries the year and the code', () => {
    let caught: unknown;
    try {
      calendar.addWorkingDays('2026-12-28', 5);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnknownCalendarYearError);
    const e = caught as UnknownCalendarYearError;
    expect(e.year).toBe(2027);
    expect(e.code).toBe('CALENDAR_YEAR_UNKNOWN');
    expect(e.message).toMatch(/2027 年/);
    expect(e.message).toMatch(/no working-day calendar is loaded for 2027/);
  });

  test('counting from late December 2026 works until it has to enter 2027', () => {
    expect(calendar.addWorkingDays('2026-12-28', 3)).toBe('2026-12-31');
    expect(() => calendar.addWorkingDays('2026-12-28', 4)).toThrow(UnknownCalendarYearError);
    expect(() => calendar.addWorkingDays('2026-12-28', 5)).toThrow(UnknownCalendarYearError);
    expect(() => calendar.addWorkingDays('2026-12-31', 1)).toThrow(UnknownCalendarYearError);
    expect(() => calendar.workingDaysBetween('2026-12-30', '2027-01-05')).toThrow(UnknownCalendarYearError);
    expect(() => calendar.workingDaysBetween('2027-01-05', '2026-12-30')).toThrow(UnknownCalendarYearError);
  });

  test('a gap year in the middle is an error too', () => {
    const gappy = new WorkingCalendar(builtInCalendarYears().filter((y) => y.year !== 2025));
    expect(gappy.knows(2025)).toBe(false);
    expect(() => gappy.workingDaysBetween('2024-12-30', '2026-01-05')).toThrow(UnknownCalendarYearError);
    expect(() => gappy.addWorkingDays('2024-12-30', 5)).toThrow(UnknownCalendarYearError);
  });

  test('a loaded year takes effect: 2027 with 元旦 on Friday 01-01', () => {
    const withNext = new WorkingCalendar([
      ...builtInCalendarYears(),
      { year: 2027, holidays: [{ date: '2027-01-01', name: '元旦' }], workdays: [] },
    ]);
    expect(withNext.knownYears().slice(-2)).toEqual([2026, 2027]);
    // 12-31 (1), 01-01 off, weekend, 01-04 (2) … 01-07 (5).
    expect(withNext.addWorkingDays('2026-12-30', 5)).toBe('2027-01-07');
    expect(withNext.describe('2027-01-01')).toEqual({ date: '2027-01-01', working: false, kind: 'holiday', name: '元旦' });
    expect(withNext.year(2027)).toEqual({ year: 2027, holidays: [{ date: '2027-01-01', name: '元旦' }], workdays: [] });
  });
});

describe('dates', () => {
  test.each([
    ['2026-10-10', true],
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-02-30', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-1-01', false],
    ['20261010', false],
    ['2026-10-10T00:00:00Z', false],
    ['', false],
  ])('isIsoDate(%j) = %s', (s, ok) => {
    expect(isIsoDate(s)).toBe(ok);
  });

  test('isIsoDate agrees with the Gregorian calendar on every day of 1896–2104 and on every impossible day', () => {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    let real = 0;
    const wrong: string[] = [];
    for (let y = 1896; y <= 2104; y++)
      for (let m = 0; m <= 13; m++)
        for (let d = 0; d <= 32; d++) {
          const s = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
          const t = new Date(Date.UTC(y, m - 1, d));
          const expected = m >= 1 && m <= 12 && d >= 1 && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
          if (isIsoDate(s) !== expected) wrong.push(s);
          if (expected) real++;
        }
    expect(wrong).toEqual([]);
    expect(real).toBe(76336); // 209 years of 365 days, and 51 leap days (1900 and 2100 are not leap years)
  });

  test('Shanghai dates (UTC+8)', () => {
    expect(shanghaiDate(new Date('2026-09-29T15:59:59Z'))).toBe('2026-09-29');
    expect(shanghaiDate(new Date('2026-09-29T16:00:00Z'))).toBe('2026-09-30');
    expect(shanghaiStartOfDay('2026-10-12').toISOString()).toBe('2026-10-11T16:00:00.000Z');
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
  });
});
