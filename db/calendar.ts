import { isoSql } from './time';
import type { Db } from './knex';
import { liveFeed } from './changes';
import { recordAudit } from './audit';
import { WorkingCalendar, type CalendarYear } from '../domain/calendar';

/**
 * The articles whose deadlines count working days (SPEC "Working days"): publication within 5 (E12), objection
 * verification within 10 (E18, P22), judicial answers within 3 (E14(4), P13). A change of the calendar is made
 * under them.
 */
export const WORKING_DAY_ARTICLES = 'E12, E14(4), E18, P13, P22';

/**
 * The working-day calendar as the database holds it. Cached per process and reloaded when any year changes, so a
 * year an admin loads is in force at once for the API and every worker: while the process hears changes
 * (db/changes.ts) the cache is used as long as no change of the calendar tables was heard; otherwise one cheap
 * query per use compares a stamp of the years.
 */
const cache = new WeakMap<Db, { stamp: string; epoch: string | null; calendar: WorkingCalendar }>();

const calendarEpoch = (db: Db): string | null => {
  const feed = liveFeed(db);
  return feed ? `${feed.epoch('calendar_years')}|${feed.epoch('calendar_days')}` : null;
};

/** The calendar; `fresh`: read from the database whatever the cache holds (a year may have been loaded a moment ago). */
export async function loadCalendar(db: Db, opts: { fresh?: boolean } = {}): Promise<WorkingCalendar> {
  // Read before the stamp: a change heard while this runs makes what it stores stale at once.
  const epoch = calendarEpoch(db);
  const known = opts.fresh ? undefined : cache.get(db);
  if (epoch !== null && known && known.epoch === epoch) return known.calendar;
  const [{ stamp }] = (await db.raw(`SELECT coalesce(max(loaded_at)::text, '') || ':' || count(*) AS stamp FROM calendar_years`)).rows as {
    stamp: string;
  }[];
  // Without a feed, an unchanged stamp means an unchanged calendar; with one, a change was heard: reload.
  if (epoch === null && known && known.stamp === stamp) return known.calendar;
  const years = await db('calendar_years').select('year').orderBy('year');
  const days = await db('calendar_days').select('day', 'kind', 'name').orderBy('day');
  const byYear = new Map<number, CalendarYear>(years.map((y: { year: number }) => [y.year, { year: y.year, holidays: [], workdays: [] }]));
  for (const d of days as { day: string; kind: string; name: string }[]) {
    const y = byYear.get(Number(d.day.slice(0, 4)));
    if (!y) continue;
    (d.kind === 'holiday' ? y.holidays : y.workdays).push({ date: d.day, name: d.name });
  }
  const calendar = new WorkingCalendar([...byYear.values()]);
  cache.set(db, { stamp, epoch, calendar });
  return calendar;
}

export interface YearSource {
  source: string;
  loadedAt: string;
}

/** `loadedAt` with the offset of the server's time zone (`2026-11-27T10:00:00+08`), as the API has always answered it. */
export async function calendarYearSources(db: Db): Promise<Map<number, YearSource>> {
  const rows = await db('calendar_years').select('year', 'source', db.raw(`${isoSql('loaded_at')} as loaded_at`));
  return new Map(
    rows.map((r: { year: number; source: string; loaded_at: string }) => [r.year, { source: r.source, loadedAt: r.loaded_at }]),
  );
}

/** When a year was last loaded, to the microsecond (UTC digits): one settling of what waited on it per load. */
export async function calendarYearStamp(db: Db, year: number): Promise<string> {
  const row = await db('calendar_years')
    .where('year', year)
    .first(db.raw(`to_char(loaded_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS') AS stamp`));
  return row?.stamp ?? '';
}

/** Replaces one year's calendar (an admin loading the State Council's schedule), in one transaction. */
export async function replaceCalendarYear(
  db: Db,
  year: CalendarYear,
  principalId: string | null,
  actor: string,
  source = 'admin',
): Promise<void> {
  await db.transaction(async (trx) => {
    // One loader at a time (readers are not blocked): two concurrent loads of a year would otherwise both delete
    // the old days and the second would collide on the first one's new days.
    await trx.raw('LOCK TABLE calendar_years IN SHARE ROW EXCLUSIVE MODE');
    await trx('calendar_days').where('year', year.year).delete();
    await trx('calendar_years')
      // clock_timestamp(), taken under the lock, not now() (the transaction's start): loads then stamp in commit
      // order, so loadCalendar's max(loaded_at) always moves forward and no process keeps a stale calendar.
      .insert({ year: year.year, source, loaded_at: trx.raw('clock_timestamp()'), loaded_by: principalId })
      .onConflict('year')
      .merge();
    const rows = [
      ...year.holidays.map((d) => ({ day: d.date, year: year.year, kind: 'holiday', name: d.name })),
      ...year.workdays.map((d) => ({ day: d.date, year: year.year, kind: 'workday', name: d.name })),
    ];
    if (rows.length) await trx('calendar_days').insert(rows);
    await recordAudit(trx, {
      principalId,
      actor,
      action: 'calendar.load_year',
      entity: 'calendar_year',
      id: String(year.year),
      article: WORKING_DAY_ARTICLES,
      detail: { holidays: year.holidays.length, workdays: year.workdays.length },
    });
  });
  // In force in this process at once (other processes hear the table's notice).
  liveFeed(db)?.touch('calendar_years');
}
