/**
 * The overdue board and the dashboard counts of the reporting obligations (E7, E20, P9, P24): who is overdue, by how
 * many working days, with the order and escalation state of each case; the counts per period.
 */
import type { Db } from './knex';
import { isoSql } from './time';
import { loadCalendar } from './calendar';
import type { Cadence } from '../domain/catalog';
import { UnknownCalendarYearError, addCalendarDays, type WorkingCalendar } from '../domain/calendar';
import { CASE_STATE_ZH, workingDaysOverdue, type BoardState } from '../domain/obligations';

export const BOARD_SORTS = ['working_days_overdue', 'due_date', 'provider', 'period', 'state'] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];

export interface BoardFilter {
  providers?: string[];
  kind?: string;
  period?: string;
  state?: BoardState;
  sort: BoardSort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/**
 * The overdue board as one SQL statement (the API runs it; the benchmark runs it bare): each obligation still
 * overdue with its provider, due date and its case's order and escalation state; the total in the same pass.
 */
export function boardQuery(f: BoardFilter): { sql: string; bindings: unknown[] } {
  const where = [`o.state = 'overdue'`];
  const bindings: unknown[] = [];
  if (f.providers?.length) {
    where.push('p.code = ANY(?)');
    bindings.push(f.providers);
  }
  if (f.kind) {
    where.push('p.kind = ?');
    bindings.push(f.kind);
  }
  if (f.period) {
    where.push('o.period = ?');
    bindings.push(f.period);
  }
  if (f.state) {
    where.push('c.state = ?');
    bindings.push(f.state);
  }
  const dir = f.order === 'asc' ? 'ASC' : 'DESC';
  // More working days overdue = an earlier due date.
  const orderBy = {
    working_days_overdue: `o.due_date ${f.order === 'asc' ? 'DESC' : 'ASC'}, p.code, o.id`,
    due_date: `o.due_date ${dir}, p.code, o.id`,
    provider: `p.code ${dir}, o.period_start, o.id`,
    period: `o.period_start ${dir}, p.code, o.id`,
    state: `c.state ${dir}, o.due_date, o.id`,
  }[f.sort];
  bindings.push(f.limit, f.offset);
  return {
    sql: `SELECT o.id, p.code AS provider, p.name_zh AS provider_name, p.kind AS provider_kind, o.period, o.cadence,
                 o.due_date, ${isoSql('o.overdue_at')} AS overdue_at,
                 c.id AS case_id, c.state, c.order_deadline,
                 ${isoSql('c.ordered_at')} AS ordered_at,
                 ${isoSql('c.escalation_due_at')} AS escalation_due_at,
                 ${isoSql('c.escalated_at')} AS escalated_at,
                 c.referred_to, count(*) OVER () AS total
            FROM obligations o
            JOIN providers p ON p.id = o.provider_id
            JOIN compliance_cases c ON c.id = o.case_id
           WHERE ${where.join(' AND ')}
           ORDER BY ${orderBy}
           LIMIT ? OFFSET ?`,
    bindings,
  };
}

/** A row of `boardQuery`. */
export interface BoardSqlRow {
  id: number;
  provider: string;
  provider_name: string;
  provider_kind: string;
  period: string;
  cadence: Cadence;
  due_date: string;
  overdue_at: string | null;
  case_id: string;
  state: BoardState;
  order_deadline: string | null;
  ordered_at: string | null;
  escalation_due_at: string | null;
  escalated_at: string | null;
  referred_to: string | null;
  total: number;
}

/** A row of the board as answered: with the working days overdue from the calendar. */
export type BoardRow = Omit<BoardSqlRow, 'total'> & {
  working_days_overdue: number | null;
  working_days_pending_year: number | null;
  state_zh: string;
};

/** A board row as answered: fields named one by one (a copy by spread is many times slower on this hot path). */
const boardRow = (r: BoardSqlRow, workingDaysOverdue: number | null, pendingYear: number | null): BoardRow => ({
  id: r.id,
  provider: r.provider,
  provider_name: r.provider_name,
  provider_kind: r.provider_kind,
  period: r.period,
  cadence: r.cadence,
  due_date: r.due_date,
  overdue_at: r.overdue_at,
  case_id: r.case_id,
  state: r.state,
  order_deadline: r.order_deadline,
  ordered_at: r.ordered_at,
  escalation_due_at: r.escalation_due_at,
  escalated_at: r.escalated_at,
  referred_to: r.referred_to,
  working_days_overdue: workingDaysOverdue,
  working_days_pending_year: workingDaysOverdue === null ? pendingYear : null,
  state_zh: CASE_STATE_ZH[r.state],
});

/**
 * The overdue board on the day `on`: a page of rows with their working days overdue (null while a year in between
 * has no calendar, with that year), the total, and the obligations whose due date waits on a calendar year.
 */
export async function overdueBoard(db: Db, f: BoardFilter, on: string) {
  const { sql, bindings } = boardQuery(f);
  const [rows, calendar, awaiting, nilReturns] = await Promise.all([
    db.raw(sql, bindings as never[]),
    loadCalendar(db),
    obligationsAwaitingCalendar(db, f.providers),
    nilReturnCount(db, f),
  ]);
  const found = rows.rows as BoardSqlRow[];
  const days = overdueDaysMany(
    calendar,
    found.map((r) => r.due_date),
    on,
  );
  return {
    total: found[0]?.total ?? 0,
    rows: found.map((r) => {
      const d = days.get(r.due_date) ?? null;
      return boardRow(r, d, d === null ? calendar.firstMissingYear(r.due_date, on) : null);
    }),
    awaiting,
    nilReturns,
  };
}

/**
 * The obligations fulfilled by a declaration that there was nothing to report (零报送, E7, P9) among the providers,
 * kind and period of the board's filter: never overdue, so never rows of the board, but counted beside it.
 */
export async function nilReturnCount(db: Db, f: Pick<BoardFilter, 'providers' | 'kind' | 'period'>): Promise<number> {
  const [{ n }] = await db('nil_returns as n')
    .join('providers as p', 'p.id', 'n.provider_id')
    .modify((b) => {
      if (f.providers?.length) b.whereIn('p.code', f.providers);
      if (f.kind) b.where('p.kind', f.kind);
      if (f.period) b.where('n.period', f.period);
    })
    .count({ n: '*' });
  return Number(n);
}

/** Working days overdue from the calendar; null when the calendar of a year involved is not loaded. */
function overdueDays(calendar: WorkingCalendar, dueDate: string, on: string): number | null {
  try {
    return workingDaysOverdue(calendar, dueDate, on);
  } catch (e) {
    if (e instanceof UnknownCalendarYearError) return null;
    throw e;
  }
}

/**
 * Working days overdue of many due dates on one day: one walk over the calendar from the earliest due date to
 * today, kept per calendar (a newly loaded year is a new calendar) and day, so the board pays for it once a day.
 */
const overdueMemo = new WeakMap<WorkingCalendar, { on: string; days: Map<string, number | null> }>();
function overdueDaysMany(calendar: WorkingCalendar, dues: string[], on: string): Map<string, number | null> {
  let memo = overdueMemo.get(calendar);
  if (!memo || memo.on !== on) overdueMemo.set(calendar, (memo = { on, days: new Map() }));
  const missing = [...new Set(dues)].filter((d) => !memo.days.has(d)).sort();
  if (missing.length) {
    try {
      // W(x): working days in (first, x]; the answer for d is W(on) − W(d) (0 when d is on or after today).
      const at = new Map<string, number>();
      let w = 0;
      let x = missing[0];
      at.set(x, 0);
      while (x < on) {
        x = addCalendarDays(x, 1);
        if (calendar.isWorkingDay(x)) w++;
        at.set(x, w);
      }
      for (const d of missing) memo.days.set(d, d >= on ? 0 : w - at.get(d)!);
    } catch (e) {
      if (!(e instanceof UnknownCalendarYearError)) throw e;
      for (const d of missing) memo.days.set(d, overdueDays(calendar, d, on));
    }
  }
  return memo.days;
}

/** Open obligations whose due date waits on a calendar year, per year (optionally for some providers). */
export async function obligationsAwaitingCalendar(db: Db, providerCodes?: string[]): Promise<Array<{ year: number; obligations: number }>> {
  const rows = await db('obligations as o')
    .where('o.state', 'open')
    .whereNotNull('o.calendar_pending_year')
    .modify((b) => {
      if (providerCodes) b.whereIn('o.provider_id', db('providers').whereIn('code', providerCodes).select('id'));
    })
    .groupBy('o.calendar_pending_year')
    .orderBy('o.calendar_pending_year')
    .select('o.calendar_pending_year as year', db.raw('count(*)::int AS obligations'));
  return rows as Array<{ year: number; obligations: number }>;
}

/** Counts per period for the dashboard: open (not due yet), on time, late (of which nil returns), overdue, escalated. */
export async function obligationStats(db: Db, f: { from?: string; to?: string; providers?: string[] }) {
  const rows = await db.raw(
    `SELECT o.period, o.cadence, min(o.period_start) AS period_start,
            count(*) AS total,
            count(*) FILTER (WHERE o.state = 'open') AS open,
            count(*) FILTER (WHERE o.state = 'fulfilled' AND o.on_time) AS on_time,
            count(*) FILTER (WHERE o.state = 'fulfilled' AND NOT o.on_time) AS late,
            count(*) FILTER (WHERE o.state = 'fulfilled' AND n.obligation_id IS NOT NULL AND o.fulfilled_submission_id IS NULL) AS nil_returns,
            count(*) FILTER (WHERE o.state = 'overdue') AS overdue,
            count(*) FILTER (WHERE o.state = 'waived') AS waived,
            count(*) FILTER (WHERE c.state = 'ordered') AS ordered,
            count(*) FILTER (WHERE c.state = 'escalation_due') AS escalation_due,
            count(*) FILTER (WHERE c.state = 'escalated') AS escalated
       FROM obligations o
       JOIN providers p ON p.id = o.provider_id
       LEFT JOIN compliance_cases c ON c.id = o.case_id
       LEFT JOIN nil_returns n ON n.obligation_id = o.id
      WHERE (?::date IS NULL OR o.period_start >= ?::date) AND (?::date IS NULL OR o.period_start <= ?::date)
        AND (?::text[] IS NULL OR p.code = ANY(?::text[]))
      GROUP BY o.period, o.cadence
      ORDER BY min(o.period_start), o.cadence`,
    [f.from ?? null, f.from ?? null, f.to ?? null, f.to ?? null, f.providers ?? null, f.providers ?? null],
  );
  return rows.rows as Array<Record<string, number | string>>;
}
