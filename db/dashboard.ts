import type { Db } from './knex';
import { calendarWarnings, type CalendarWarning } from './calendar-gaps';

/** The administrators' dashboard: what needs attention now, in counts; details behind the board and the lists. */
export interface DashboardSummary {
  today: string;
  warnings: CalendarWarning[];
  calendar: { known_years: number[]; this_year_loaded: boolean; next_year_loaded: boolean };
  obligations: { open: number; awaiting_calendar: number; overdue: number };
  cases: { overdue: number; ordered: number; escalation_due: number; escalated: number };
  publication: { held: number; pending: number };
  objections: { open: number; overdue: number };
  judicial_requests: { pending: number };
}

export async function dashboardSummary(db: Db, today: string): Promise<DashboardSummary> {
  const year = Number(today.slice(0, 4));
  const [warnings, years, counts] = await Promise.all([
    calendarWarnings(db, today),
    db('calendar_years').orderBy('year').pluck('year') as Promise<number[]>,
    db.raw(`SELECT
        (SELECT count(*) FROM obligations WHERE state = 'open')::int AS obligations_open,
        (SELECT count(*) FROM obligations WHERE state = 'open' AND calendar_pending_year IS NOT NULL)::int AS awaiting_calendar,
        (SELECT count(*) FROM obligations WHERE state = 'overdue')::int AS obligations_overdue,
        (SELECT count(*) FILTER (WHERE state = 'overdue') FROM compliance_cases)::int AS cases_overdue,
        (SELECT count(*) FILTER (WHERE state = 'ordered') FROM compliance_cases)::int AS cases_ordered,
        (SELECT count(*) FILTER (WHERE state = 'escalation_due') FROM compliance_cases)::int AS cases_escalation_due,
        (SELECT count(*) FILTER (WHERE state = 'escalated') FROM compliance_cases)::int AS cases_escalated,
        (SELECT count(*) FROM publications WHERE state = 'held')::int AS held,
        (SELECT count(*) FROM publications WHERE state = 'pending')::int AS pending,
        (SELECT count(*) FROM objections WHERE state IN ('submitted', 'accepted', 'verifying', 'overdue', 'answered'))::int AS objections_open,
        (SELECT count(*) FROM objections WHERE state = 'overdue')::int AS objections_overdue,
        (SELECT count(*) FROM judicial_requests WHERE status = 'pending')::int AS judicial_pending`),
  ]);
  const c = counts.rows[0];
  return {
    today,
    warnings,
    calendar: { known_years: years, this_year_loaded: years.includes(year), next_year_loaded: years.includes(year + 1) },
    obligations: { open: c.obligations_open, awaiting_calendar: c.awaiting_calendar, overdue: c.obligations_overdue },
    cases: { overdue: c.cases_overdue, ordered: c.cases_ordered, escalation_due: c.cases_escalation_due, escalated: c.cases_escalated },
    publication: { held: c.held, pending: c.pending },
    objections: { open: c.objections_open, overdue: c.objections_overdue },
    judicial_requests: { pending: c.judicial_pending },
  };
}
