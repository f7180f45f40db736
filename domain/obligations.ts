/**
 * Reporting obligations (E7, P9) and compliance cases (E20, P24): pure rules. Each provider owes one submission per
 * period of its cadence — a month by default, a quarter or a half-year by agreement with the platform — due a
 * configurable number of working days after the period ends. A provider late with it is overdue; the management
 * office orders it to rectify by a date (责令限期改正); ignored, a supervisor refers it to the supervision department
 * (提请监察部门追究直接责任人的行政责任).
 */
import type { Cadence } from './catalog';
import { addCalendarDays, shanghaiStartOfDay, type WorkingCalendar } from './calendar';
import { parsePeriod, type Period } from './periods';

/** `waived`: the provider was deactivated before the obligation was due and nothing had been submitted for it. */
export const OBLIGATION_STATES = ['open', 'fulfilled', 'overdue', 'waived'] as const;
export type ObligationState = (typeof OBLIGATION_STATES)[number];

export const OBLIGATION_STATE_ZH: Record<ObligationState, string> = {
  open: '待报送',
  fulfilled: '已报送',
  overdue: '逾期未报送',
  waived: '单位停用，免于报送',
};

export const CASE_KINDS = ['reporting', 'objection_verification'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export const CASE_STATES = ['overdue', 'ordered', 'escalation_due', 'escalated', 'resolved'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** The states a case can be in on the overdue board. */
export const BOARD_STATES = ['overdue', 'ordered', 'escalation_due', 'escalated'] as const;
export type BoardState = (typeof BOARD_STATES)[number];

export const CASE_STATE_ZH: Record<CaseState, string> = {
  overdue: '逾期未报送',
  ordered: '已责令限期改正',
  escalation_due: '逾期未改正，待提请监察',
  escalated: '已提请监察部门追究责任',
  resolved: '已改正',
};

export const CASE_KIND_ZH: Record<CaseKind, string> = {
  reporting: '拖延报送信用信息',
  objection_verification: '未按时配合异议核实',
};

/** The articles a case rests on: E20 for enterprise information, P24 for personal information. */
export const CASE_ARTICLE: Record<CaseKind, string> = {
  reporting: 'E7, E20, P9, P24',
  objection_verification: 'E18, E20, P22, P24',
};

export const CADENCE_ZH: Record<Cadence, string> = { monthly: '按月', quarterly: '按季', half_yearly: '按半年' };

const MONTHS: Record<Cadence, number> = { monthly: 1, quarterly: 3, half_yearly: 6 };
const pad = (n: number) => String(n).padStart(2, '0');

/** The code of the period of `cadence` that contains `date` (YYYY-MM-DD). */
export function periodCodeContaining(date: string, cadence: Cadence): string {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  if (cadence === 'monthly') return `${y}-${pad(m)}`;
  if (cadence === 'quarterly') return `${y}-Q${Math.floor((m - 1) / 3) + 1}`;
  return `${y}-H${m <= 6 ? 1 : 2}`;
}

export function periodContaining(date: string, cadence: Cadence): Period {
  return parsePeriod(periodCodeContaining(date, cadence))!;
}

/** The period of the same cadence that follows `period`. */
export function periodAfter(period: Period): Period {
  return periodContaining(addCalendarDays(period.end, 1), period.cadence);
}

/** The first period of `cadence` that starts on or after `date`. */
export function periodStartingOnOrAfter(date: string, cadence: Cadence): Period {
  const p = periodContaining(date, cadence);
  return p.start === date ? p : periodAfter(p);
}

/** True when `date` is the first day of a period of `cadence`. */
export function isPeriodStart(date: string, cadence: Cadence): boolean {
  return periodContaining(date, cadence).start === date;
}

/** Months in one period of a cadence. */
export function cadenceMonths(cadence: Cadence): number {
  return MONTHS[cadence];
}

/**
 * A change of cadence agreed on `today` takes effect from the next period (E7, P9): the first period of the new
 * cadence that begins after the period of the old cadence in progress ends. Monthly → quarterly agreed in October
 * 2026: November and December stay monthly, the first quarter reported is 2027-Q1.
 */
export function cadenceChangeEffectiveFrom(current: Cadence, next: Cadence, today: string): string {
  const running = periodContaining(today, current);
  return periodStartingOnOrAfter(addCalendarDays(running.end, 1), next).start;
}

/** The due date: `workingDays` working days after the period's last day (mainland China, Asia/Shanghai). */
export function dueDateOf(calendar: WorkingCalendar, period: Period, workingDays: number): string {
  return calendar.addWorkingDays(period.end, workingDays);
}

/** The working day `n` working days before `date` (n ≥ 1). */
export function workingDaysBefore(calendar: WorkingCalendar, date: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a whole number ≥ 1');
  let d = date;
  let left = n;
  while (left > 0) {
    d = addCalendarDays(d, -1);
    if (calendar.isWorkingDay(d)) left--;
  }
  return d;
}

export interface ReminderPlan {
  /** Working days before the due date. */
  workingDaysBefore: number;
  date: string;
  /** The instant the reminder is sent (the morning of that date, Asia/Shanghai), ISO. */
  at: string;
}

/**
 * Reminders before the due date, e.g. 3 and 1 working days before, sent at `hour` o'clock Shanghai time. A
 * reminder that would fall before the period begins is dropped; two on the same day are sent once.
 */
export function reminderPlan(calendar: WorkingCalendar, period: Period, dueDate: string, days: number[], hour: number): ReminderPlan[] {
  const seen = new Set<string>();
  const out: ReminderPlan[] = [];
  for (const n of [...days].sort((a, b) => b - a)) {
    const date = workingDaysBefore(calendar, dueDate, n);
    if (date < period.start || seen.has(date)) continue;
    seen.add(date);
    out.push({ workingDaysBefore: n, date, at: new Date(`${date}T${pad(hour)}:00:00+08:00`).toISOString() });
  }
  return out;
}

/** The instant a date's last day ends (the next day begins in Shanghai): after it, the deadline has passed. */
export function endOfShanghaiDay(date: string): string {
  return shanghaiStartOfDay(addCalendarDays(date, 1)).toISOString();
}

/** Working days past the due date on `today` (0 on the due date or before it). */
export function workingDaysOverdue(calendar: WorkingCalendar, dueDate: string, today: string): number {
  if (today <= dueDate) return 0;
  return calendar.workingDaysBetween(dueDate, today);
}

/** The period in Chinese: 2026年10月, 2026年第3季度, 2026年下半年. */
export function periodLabelZh(code: string): string {
  const p = parsePeriod(code);
  if (!p) return code;
  const y = code.slice(0, 4);
  if (p.cadence === 'monthly') return `${y}年${Number(code.slice(5, 7))}月`;
  if (p.cadence === 'quarterly') return `${y}年第${code.slice(6)}季度`;
  return `${y}年${code.endsWith('1') ? '上' : '下'}半年`;
}
