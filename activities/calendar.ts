/**
 * A year no working-day calendar covers, as the activities meet it: recorded once and announced to the
 * administrators (db/calendar-gaps), logged once per year and process at WARN without a stack trace, never retried
 * in a loop. What waits on the year is settled, and its workflows woken, when it is loaded.
 */
import { logger } from '../ops/log';
import { loadCalendar } from '../db/calendar';
import { closeCalendarGap, loadedUnsettledGaps, noteCalendarGap, remindNextYear, waitingOn } from '../db/calendar-gaps';
import { settleYear } from '../db/deadlines';
import { shanghaiDate, NEXT_YEAR_REMINDER_FROM, type WorkingCalendar } from '../domain/calendar';
import { tellCalendarLoaded } from '../processes/client';
import { waitingTotal, yearsExpected, type Waiting } from '../domain/calendar-gaps';
import { querySettings } from '../domain/config';
import type { Db } from '../db/knex';
import type { ActivityDeps } from './deps';
import { JUDICIAL_ALERT_WORKING_DAYS_BEFORE, JUDICIAL_ANSWER_WORKING_DAYS } from '../domain/access';

const warned = new Set<number>();

/** One line per missing year and process; the administrators' notice says the rest. */
export function warnMissingYearOnce(year: number, what: string): void {
  if (warned.has(year)) return;
  warned.add(year);
  logger('worker').warn(
    `${year} 年工作日历尚未载入 / no working-day calendar for ${year}: ${what} waits on it, and so will whatever else needs ${year} (said once per process; load it with PUT /calendar/years/${year})`,
  );
}

/**
 * Runs `settle` with the calendar; when what it settled waits on a year the calendar lacks, the gap is recorded
 * (and announced the first time). Should the year have been loaded a moment ago, it runs again with a fresh
 * calendar, so nothing waits on a year that is there.
 */
export async function settleWithCalendar<T extends { pendingYear?: number | null }>(
  db: Db,
  what: string,
  settle: (calendar: WorkingCalendar) => Promise<T | null>,
): Promise<T | null> {
  let calendar = await loadCalendar(db);
  for (let attempt = 0; ; attempt++) {
    const r = await settle(calendar);
    const year = r?.pendingYear ?? null;
    if (year === null) return r;
    const gap = await noteCalendarGap(db, year, what);
    if (!gap.loaded || attempt >= 2) {
      if (!gap.loaded) warnMissingYearOnce(year, what);
      return r;
    }
    calendar = await loadCalendar(db, { fresh: true });
  }
}

export interface CoverageResult {
  today: string;
  /** Years needed and not loaded (this year included when it is missing). */
  missing: number[];
  /** Next year, reminded today (from 1 November while it is not loaded). */
  reminded: number | null;
  /** Years loaded whose waiters had not been settled (the load's workflow could not start): settled now. */
  settled: number[];
}

export interface SettleYearResult {
  year: number;
  loaded: boolean;
  settled: Waiting;
  woken: number;
}

async function settleLoadedYear(deps: ActivityDeps, year: number): Promise<SettleYearResult> {
  const calendar = await loadCalendar(deps.db, { fresh: true });
  if (!calendar.knows(year)) return { year, loaded: false, settled: await waitingOn(deps.db, year), woken: 0 };
  const r = await settleYear(deps.db, calendar, year, {
    publicationWorkingDays: deps.publicationWorkingDays,
    ratingWorkingDays: querySettings().ratingDecisionWorkingDays,
    judicialDays: JUDICIAL_ANSWER_WORKING_DAYS,
    judicialAlertBefore: JUDICIAL_ALERT_WORKING_DAYS_BEFORE,
  });
  let woken = 0;
  for (const workflowId of r.workflows) {
    if (await tellCalendarLoaded(deps.temporal, workflowId, year)) woken++;
  }
  await closeCalendarGap(deps.db, year, r.settled);
  if (waitingTotal(r.settled) || woken)
    logger('worker').info(`calendar ${year} loaded: ${waitingTotal(r.settled)} deadline(s) settled, ${woken} workflow(s) woken`);
  return { year, loaded: true, settled: r.settled, woken };
}

export const calendarActivities = (deps: ActivityDeps) => ({
  /**
   * A year was loaded (PUT /calendar/years/{year}): every deadline that waited on it is settled, the workflows
   * that wait are woken, the notices about the year are closed. Idempotent.
   */
  async settleCalendarYear(input: { year: number }): Promise<SettleYearResult> {
    return settleLoadedYear(deps, input.year);
  },

  /**
   * The daily check (a Schedule, and at every worker start): this year missing is recorded and announced; from
   * 1 November the administrators are reminded, once a day, while next year is not loaded; a year loaded whose
   * waiters were not woken (Temporal unreachable at the load) is settled now.
   */
  async checkCalendarCoverage(input: { asOf: string }): Promise<CoverageResult> {
    const today = shanghaiDate(new Date(input.asOf));
    const calendar = await loadCalendar(deps.db, { fresh: true });
    const { current, next } = yearsExpected(today, NEXT_YEAR_REMINDER_FROM);
    const missing: number[] = [];
    if (!calendar.knows(current)) {
      const gap = await noteCalendarGap(deps.db, current, `今日 ${today} / today, ${today}`);
      if (!gap.loaded) {
        missing.push(current);
        warnMissingYearOnce(current, `today (${today})`);
      }
    }
    let reminded: number | null = null;
    if (next !== null && !calendar.knows(next) && (await remindNextYear(deps.db, next, today))) reminded = next;
    const settled: number[] = [];
    for (const year of await loadedUnsettledGaps(deps.db)) {
      await settleLoadedYear(deps, year);
      settled.push(year);
    }
    return { today, missing, reminded, settled };
  },
});
