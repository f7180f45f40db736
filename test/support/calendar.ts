import { addCalendarDays, builtInCalendarYears, type CalendarYear } from '../../domain/calendar';
import { replaceCalendarYear } from '../../db/calendar';
import type { Db } from '../../db/knex';

/**
 * TEST DATA — NOT THE STATE COUNCIL'S SCHEDULE. The platform ships the calendars of the npm package chinese-days
 * and learns every later year from an administrator. A test that acts "now" (the Temporal test server starts at
 * the machine's clock) may need a year nobody has published yet; it gets this synthetic one, stored with source
 * `test-fixture` and every day named as test data, so that the suite counts the same kinds of days whatever date
 * it runs on. Tests of a year that is missing remove it explicitly (`removeCalendarYears`).
 */
export const TEST_CALENDAR_SOURCE = 'test-fixture';

const pad = (n: number) => String(n).padStart(2, '0');
const day = (year: number, m: number, d: number, name: string) => ({
  date: `${year}-${pad(m)}-${pad(d)}`,
  name: `${name}（测试数据，非国务院安排 / test data）`,
});

/** A synthetic year: weekends off, New Year's Day, Labour Day and 1–3 October off, no make-up working days. */
export function testCalendarYear(year: number): CalendarYear {
  return {
    year,
    holidays: [
      day(year, 1, 1, '元旦'),
      day(year, 5, 1, '劳动节'),
      day(year, 10, 1, '国庆节'),
      day(year, 10, 2, '国庆节'),
      day(year, 10, 3, '国庆节'),
    ],
    workdays: [],
  };
}

/** The last year the shipped calendar covers. */
export const LAST_SHIPPED_YEAR = Math.max(...builtInCalendarYears().map((y) => y.year));

/** Loads the synthetic calendar of each year given that the database does not have. */
export async function loadTestCalendarYears(db: Db, years: number[]): Promise<number[]> {
  const known = new Set<number>((await db('calendar_years').pluck('year')) as number[]);
  const loaded: number[] = [];
  for (const year of years) {
    if (known.has(year)) continue;
    await replaceCalendarYear(db, testCalendarYear(year), null, 'test', TEST_CALENDAR_SOURCE);
    loaded.push(year);
  }
  return loaded;
}

/**
 * Every year from the first one not shipped to the year after `atMs` gets the synthetic calendar if missing, so
 * that deadlines counted from "now" (and a few weeks of skipped time) never run into a year nobody loaded.
 */
export async function coverYearsAround(db: Db, atMs: number): Promise<number[]> {
  const until = new Date(atMs).getUTCFullYear() + 1;
  const years: number[] = [];
  for (let y = LAST_SHIPPED_YEAR + 1; y <= until; y++) years.push(y);
  return loadTestCalendarYears(db, years);
}

/** Removes years from a test database: the platform then meets them as a year nobody has loaded. */
export async function removeCalendarYears(db: Db, years: number[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('calendar_days').whereIn('year', years).delete();
    await trx('calendar_years').whereIn('year', years).delete();
  });
}

/** The years from `fromYear` on that the database holds (to remove them all). */
export async function yearsFrom(db: Db, fromYear: number): Promise<number[]> {
  return (await db('calendar_years').where('year', '>=', fromYear).orderBy('year').pluck('year')) as number[];
}

/**
 * A scenario written for fixed dates (say a request on Thursday 31 December 2026 and its deadline in January 2027),
 * moved on by whole weeks so that it starts within a week ahead of the Temporal test server's clock, on whatever
 * day the suite runs: every date keeps its weekday. The test gives the days off it relies on as test data on the
 * moved dates. (Moving by whole years would keep the holidays but can jump more than ten years, past the test
 * server's longest workflow run.) `first` is the scenario's first instant.
 */
export function weeksAhead(first: string, nowMs: number): { days: number; at: (iso: string) => string } {
  const WEEK = 7 * 86_400_000;
  const weeks = Math.max(0, Math.ceil((nowMs + 3_600_000 - Date.parse(first)) / WEEK));
  const days = weeks * 7;
  const at = (iso: string) => {
    const date = addCalendarDays(iso.slice(0, 10), days);
    return date + iso.slice(10);
  };
  return { days, at };
}
