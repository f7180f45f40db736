/**
 * Mainland-China working days (工作日): weekends and statutory holidays are off, make-up working days (调休上班)
 * are on. Pure: the days come from the database (admin-loaded years) or, for the years it knows, from the npm
 * package chinese-days. A date in a year that no loaded calendar covers is an error, never a weekend-only guess.
 */

export interface CalendarDay {
  date: string;
  name: string;
}

export interface CalendarYear {
  year: number;
  /** Days off: statutory holidays and the weekend days swapped into them. */
  holidays: CalendarDay[];
  /** Make-up working days (调休上班), usually a Saturday or Sunday. */
  workdays: CalendarDay[];
}

/** A day counted in working days; provisional when a year on the way has no calendar (see addWorkingDaysOrEarliest). */
export interface CountedDay {
  date: string;
  provisional: boolean;
  /** The first year counted without a calendar. */
  missingYear: number | null;
}

/** Administrators are reminded to load next year's schedule from this day of each year (the State Council publishes it in November). */
export const NEXT_YEAR_REMINDER_FROM = '11-01';

export class UnknownCalendarYearError extends Error {
  readonly code = 'CALENDAR_YEAR_UNKNOWN';
  constructor(readonly year: number) {
    super(`${year} 年的工作日历尚未载入，无法计算工作日 / no working-day calendar is loaded for ${year}`);
    this.name = 'UnknownCalendarYearError';
  }
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  // Arithmetic, not a Date: intake checks several dates on every row. Years 0000–0099 are refused (as Date.UTC
  // would read them as 19xx).
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 100 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1]);
}

/** The date `n` calendar days after `date` (both YYYY-MM-DD), without any time zone. */
export function addCalendarDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

const SHANGHAI_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar date in Asia/Shanghai of an instant. */
export function shanghaiDate(instant: Date): string {
  return SHANGHAI_DATE.format(instant);
}

/** The instant a Shanghai calendar date begins (China keeps UTC+8 all year). */
export function shanghaiStartOfDay(date: string): Date {
  return new Date(`${date}T00:00:00+08:00`);
}

export class WorkingCalendar {
  private readonly known = new Set<number>();
  private readonly holidays = new Map<string, string>();
  private readonly workdays = new Map<string, string>();

  constructor(years: CalendarYear[]) {
    for (const y of years) {
      this.known.add(y.year);
      for (const d of y.holidays) this.holidays.set(d.date, d.name);
      for (const d of y.workdays) this.workdays.set(d.date, d.name);
    }
  }

  knownYears(): number[] {
    return [...this.known].sort((a, b) => a - b);
  }

  knows(year: number): boolean {
    return this.known.has(year);
  }

  private require(date: string): void {
    const year = Number(date.slice(0, 4));
    if (!this.known.has(year)) throw new UnknownCalendarYearError(year);
  }

  /** What kind of day a date is, and why. */
  describe(date: string): { date: string; working: boolean; kind: 'workday' | 'weekend' | 'holiday' | 'makeup_workday'; name?: string } {
    this.require(date);
    const makeup = this.workdays.get(date);
    if (makeup !== undefined) return { date, working: true, kind: 'makeup_workday', name: makeup };
    const holiday = this.holidays.get(date);
    if (holiday !== undefined) return { date, working: false, kind: 'holiday', name: holiday };
    const wd = weekday(date);
    if (wd === 0 || wd === 6) return { date, working: false, kind: 'weekend' };
    return { date, working: true, kind: 'workday' };
  }

  isWorkingDay(date: string): boolean {
    return this.describe(date).working;
  }

  /** The n-th working day after `date` (the date itself is not counted); n = 0 gives `date`. */
  addWorkingDays(date: string, n: number): string {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('n must be a whole number ≥ 0');
    this.require(date);
    let d = date;
    let left = n;
    while (left > 0) {
      d = addCalendarDays(d, 1);
      if (this.isWorkingDay(d)) left--;
    }
    return d;
  }

  /**
   * The n-th working day after `date`, or, when the count runs into a year no calendar covers, the earliest that
   * day can be: every day of such a year is counted as a working day (`provisional`, with the first such year).
   * Counting only weekends as days off would not do: a make-up working day (调休上班) on a weekend whose holiday lies
   * outside the count makes the true day earlier — from Saturday 3 January 2026 (a holiday), with Sunday 4 January
   * a make-up day, 5 working days end on 8 January, not on the 9th. For a deadline that binds the platform, acting
   * by the earliest possible day never breaks the law; the true day is known once the year is loaded.
   */
  addWorkingDaysOrEarliest(date: string, n: number): CountedDay {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('n must be a whole number ≥ 0');
    let d = date;
    let left = n;
    let missingYear: number | null = null;
    while (left > 0) {
      d = addCalendarDays(d, 1);
      const year = Number(d.slice(0, 4));
      if (!this.known.has(year)) {
        missingYear ??= year;
        left--;
      } else if (this.isWorkingDay(d)) left--;
    }
    return { date: d, provisional: missingYear !== null, missingYear };
  }

  /** The first year from `from` to `to` (inclusive, by date) that no calendar covers, or null. */
  firstMissingYear(from: string, to: string): number | null {
    for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) if (!this.known.has(y)) return y;
    return null;
  }

  /** Working days after `from` up to and including `to` (negative when `to` is before `from`). */
  workingDaysBetween(from: string, to: string): number {
    if (to === from) return 0;
    if (to < from) return -this.workingDaysBetween(to, from);
    this.require(from);
    this.require(to);
    let count = 0;
    for (let d = addCalendarDays(from, 1); d <= to; d = addCalendarDays(d, 1)) if (this.isWorkingDay(d)) count++;
    return count;
  }

  /** The days off and make-up working days of a year. */
  year(year: number): CalendarYear {
    if (!this.known.has(year)) throw new UnknownCalendarYearError(year);
    const prefix = `${year}-`;
    const pick = (m: Map<string, string>) =>
      [...m.entries()]
        .filter(([d]) => d.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([date, name]) => ({ date, name }));
    return { year, holidays: pick(this.holidays), workdays: pick(this.workdays) };
  }
}

/** The years the chinese-days package carries, as calendar years (its data only: its functions read local time). */
export function builtInCalendarYears(): CalendarYear[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const data = require('chinese-days/dist/chinese-days.json') as { holidays: Record<string, string>; workdays: Record<string, string> };
  const years = new Map<number, CalendarYear>();
  const yearOf = (date: string) => {
    const y = Number(date.slice(0, 4));
    let entry = years.get(y);
    if (!entry) years.set(y, (entry = { year: y, holidays: [], workdays: [] }));
    return entry;
  };
  const label = (raw: string) => {
    const [en, zh] = raw.split(',');
    return zh ? `${zh} ${en}` : raw;
  };
  for (const [date, name] of Object.entries(data.holidays)) yearOf(date).holidays.push({ date, name: label(name) });
  for (const [date, name] of Object.entries(data.workdays)) yearOf(date).workdays.push({ date, name: label(name) });
  return [...years.values()].sort((a, b) => a.year - b.year);
}

/** A deadline counted in working days: its last day, the instant that day ends, and whether it is provisional. */
export interface WorkingDayDeadline extends CountedDay {
  /** The instant the last day ends (midnight Asia/Shanghai), ISO. */
  endsAt: string;
}

/**
 * The end of the n-th working day after `start` (the start itself not counted). Provisional, the earliest it can
 * be, when a year on the way has no calendar: only for deadlines that bind the platform (see domain/calendar-gaps).
 */
export function workingDayDeadline(calendar: WorkingCalendar, start: string, n: number): WorkingDayDeadline {
  const d = calendar.addWorkingDaysOrEarliest(start, n);
  return { ...d, endsAt: shanghaiStartOfDay(addCalendarDays(d.date, 1)).toISOString() };
}
