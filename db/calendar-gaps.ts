import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit, systemActor } from './audit';
import { WORKING_DAY_ARTICLES } from './calendar';
import { isoColumn } from './time';
import { NEXT_YEAR_REMINDER_FROM } from '../domain/calendar';
import {
  CALENDAR_WAITERS,
  loadedYearNotice,
  missingYearNotice,
  noWaiting,
  upcomingYearNotice,
  yearsExpected,
  type CalendarWaiter,
  type Waiting,
} from '../domain/calendar-gaps';

/**
 * The years the platform needed and had no calendar for (migration 0013): recorded once per year, the
 * administrators told once, closed when the year is loaded. The rows that wait carry `calendar_pending_year`.
 */

const WAITER_TABLES: Record<CalendarWaiter, string> = {
  obligations: 'obligations',
  batches: 'submissions',
  objections: 'objections',
  judicial_requests: 'judicial_requests',
  rating_requests: 'rating_requests',
};

/** How many rows of each kind wait on `year` (their deadline unset or provisional). */
export async function waitingOn(db: Knex | Knex.Transaction, year: number): Promise<Waiting> {
  const parts = CALENDAR_WAITERS.map(
    (k) => `SELECT '${k}' AS kind, count(*)::int AS n FROM ${WAITER_TABLES[k]} WHERE calendar_pending_year = :year`,
  );
  const rows = (await db.raw(parts.join(' UNION ALL '), { year })).rows as { kind: CalendarWaiter; n: number }[];
  const w = noWaiting();
  for (const r of rows) w[r.kind] = r.n;
  return w;
}

const gapKey = (year: number, since: string) => `calendar-missing:${year}:${since}`;

/**
 * Something (`neededBy`, e.g. "obligation 12 (2026-12)") needs `year` and the calendar it was given did not have
 * it. Records the gap (once; reopened if the year was removed after being loaded) and, the first time, tells the
 * administrators what waits on it. Answers `loaded: true` when the database does hold the year (it was loaded
 * a moment ago): the caller computes again with a fresh calendar.
 */
export async function noteCalendarGap(db: Db, year: number, neededBy: string): Promise<{ loaded: boolean; first: boolean }> {
  return db.transaction(async (trx) => {
    const loaded = await trx('calendar_years').where('year', year).first('year');
    if (loaded) return { loaded: true, first: false };
    const [gap] = (
      await trx.raw(
        `INSERT INTO calendar_gaps (year, first_needed_by) VALUES (:year, :by)
         ON CONFLICT (year) DO UPDATE SET
           last_needed_at = now(),
           first_needed_at = CASE WHEN calendar_gaps.resolved_at IS NULL THEN calendar_gaps.first_needed_at ELSE now() END,
           first_needed_by = CASE WHEN calendar_gaps.resolved_at IS NULL THEN calendar_gaps.first_needed_by ELSE EXCLUDED.first_needed_by END,
           notified_at = CASE WHEN calendar_gaps.resolved_at IS NULL THEN calendar_gaps.notified_at ELSE NULL END,
           resolved_at = NULL
         RETURNING notified_at, to_char(first_needed_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS') AS since`,
        { year, by: neededBy },
      )
    ).rows as { notified_at: Date | null; since: string }[];
    if (gap.notified_at) return { loaded: false, first: false };
    // One notice per gap, whoever gets here first (the row is locked by the upsert until commit).
    const claimed = await trx('calendar_gaps')
      .where('year', year)
      .whereNull('notified_at')
      .update({ notified_at: trx.fn.now() })
      .returning('year');
    if (!claimed.length) return { loaded: false, first: false };
    const n = missingYearNotice(year, await waitingOn(trx, year));
    await notify(trx, {
      to: { role: 'admin' },
      kind: 'calendar.year_missing',
      ...n,
      entity: 'calendar_year',
      entityId: String(year),
      data: { year, needed_by: neededBy },
      dedupeKey: gapKey(year, gap.since),
    });
    await recordAudit(trx, {
      actor: systemActor('calendar'),
      action: 'calendar.year_missing',
      entity: 'calendar_year',
      id: String(year),
      article: WORKING_DAY_ARTICLES,
      detail: { needed_by: neededBy },
    });
    return { loaded: false, first: true };
  });
}

export interface CalendarGap {
  year: number;
  first_needed_at: string;
  first_needed_by: string;
  waiting: Waiting;
}

/** The gaps still open: needed, and not loaded. */
export async function openCalendarGaps(db: Db): Promise<CalendarGap[]> {
  const rows = await db('calendar_gaps as g')
    .whereNull('g.resolved_at')
    .whereNotExists(db('calendar_years as y').whereRaw('y.year = g.year').select(db.raw('1')))
    .orderBy('g.year')
    .select('g.year', isoColumn(db, 'g.first_needed_at'), 'g.first_needed_by');
  const out: CalendarGap[] = [];
  for (const r of rows) out.push({ ...r, waiting: await waitingOn(db, r.year) });
  return out;
}

/** Gaps whose year has been loaded but whose waiters were not settled yet (the load's workflow could not start). */
export async function loadedUnsettledGaps(db: Db): Promise<number[]> {
  const rows = await db('calendar_gaps as g')
    .whereNull('g.resolved_at')
    .whereExists(db('calendar_years as y').whereRaw('y.year = g.year').select(db.raw('1')))
    .orderBy('g.year')
    .pluck('g.year');
  return rows as number[];
}

export interface CalendarWarning {
  code: 'CALENDAR_YEAR_MISSING' | 'CALENDAR_NEXT_YEAR_NOT_LOADED';
  year: number;
  /** One line, Chinese and English. */
  title: string;
  /** What it means and what to do. */
  message: string;
  /** What waits on the year (missing years only). */
  waiting?: Waiting;
  since?: string;
}

/**
 * What the administrators must know about the calendar on `today` (Shanghai date): each year needed and missing,
 * this year if it is missing, and from 1 November next year while it is not loaded.
 */
export async function calendarWarnings(db: Db, today: string): Promise<CalendarWarning[]> {
  const known = new Set<number>((await db('calendar_years').pluck('year')) as number[]);
  const warnings: CalendarWarning[] = [];
  for (const g of await openCalendarGaps(db)) {
    const n = missingYearNotice(g.year, g.waiting);
    warnings.push({
      code: 'CALENDAR_YEAR_MISSING',
      year: g.year,
      title: n.title,
      message: n.body,
      waiting: g.waiting,
      since: g.first_needed_at,
    });
  }
  const { current, next } = yearsExpected(today, NEXT_YEAR_REMINDER_FROM);
  if (!known.has(current) && !warnings.some((w) => w.year === current)) {
    const waiting = await waitingOn(db, current);
    const n = missingYearNotice(current, waiting);
    warnings.push({ code: 'CALENDAR_YEAR_MISSING', year: current, title: n.title, message: n.body, waiting });
  }
  if (next !== null && !known.has(next) && !warnings.some((w) => w.year === next)) {
    const n = upcomingYearNotice(next, today);
    warnings.push({ code: 'CALENDAR_NEXT_YEAR_NOT_LOADED', year: next, title: n.title, message: n.body });
  }
  return warnings.sort((a, b) => a.year - b.year);
}

/** The daily reminder to load next year (once a day per year); answers true when it was new. */
export async function remindNextYear(db: Db, year: number, today: string): Promise<boolean> {
  const n = upcomingYearNotice(year, today);
  return notify(db, {
    to: { role: 'admin' },
    kind: 'calendar.year_upcoming',
    ...n,
    entity: 'calendar_year',
    entityId: String(year),
    data: { year, date: today },
    dedupeKey: `calendar-upcoming:${year}:${today}`,
  });
}

/**
 * The year is loaded and what waited on it is settled: the gap is closed, the notices about the year are closed
 * (`resolved_at`) and the administrators told what was settled. Idempotent (one notice per gap).
 */
export async function closeCalendarGap(db: Db, year: number, settled: Waiting): Promise<boolean> {
  return db.transaction(async (trx) => {
    const rows = await trx('calendar_gaps')
      .where('year', year)
      .whereNull('resolved_at')
      .update({ resolved_at: trx.fn.now() })
      .returning([trx.raw(`to_char(first_needed_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS') AS since`)]);
    await trx('notifications')
      .whereIn('kind', ['calendar.year_missing', 'calendar.year_upcoming'])
      .where('entity', 'calendar_year')
      .where('entity_id', String(year))
      .whereNull('resolved_at')
      .update({ resolved_at: trx.fn.now() });
    if (!rows.length) return false;
    const n = loadedYearNotice(year, settled);
    await notify(trx, {
      to: { role: 'admin' },
      kind: 'calendar.year_loaded',
      ...n,
      entity: 'calendar_year',
      entityId: String(year),
      data: { year, settled },
      dedupeKey: `calendar-loaded:${year}:${rows[0].since}`,
    });
    await recordAudit(trx, {
      actor: systemActor('calendar'),
      action: 'calendar.year_settled',
      entity: 'calendar_year',
      id: String(year),
      article: WORKING_DAY_ARTICLES,
      detail: { settled },
    });
    return true;
  });
}
