/**
 * A year no working-day calendar covers (SPEC "Working days"): what waits on it, and what the administrators are
 * told. Pure. The State Council publishes each year's schedule in November; until an administrator loads it:
 *
 * - a deadline that binds a provider (an obligation's due date, E7, P9) is not set, so nobody is declared overdue
 *   or escalated on a guess (E20, P24);
 * - a deadline that binds the platform (publication by the 5th working day, E12; the judicial answer in 3, E14.4,
 *   P13; verification in 10, E18, P22; the staff's decision on a rating request) is provisional: the earliest day
 *   it can be (WorkingCalendar.addWorkingDaysOrEarliest). The platform acts by it, which never breaks the law, and
 *   recomputes it when the year is loaded; nobody else is held to it.
 */

export const CALENDAR_WAITERS = ['obligations', 'batches', 'objections', 'judicial_requests', 'rating_requests'] as const;
export type CalendarWaiter = (typeof CALENDAR_WAITERS)[number];
export type Waiting = Record<CalendarWaiter, number>;

const WAITER_TEXT: Record<CalendarWaiter, { zh: string; en: string }> = {
  obligations: {
    zh: '项报送义务的截止日期（载入前不确定截止日期，不认定逾期）',
    en: 'obligations without a due date (nobody is declared overdue until it is loaded)',
  },
  batches: { zh: '批报送的公开期限（暂按最早可能的日期执行，E12）', en: 'batches with a provisional publication deadline (E12)' },
  objections: { zh: '件异议的核实期限（暂定，E18、P22）', en: 'objections with a provisional verification deadline (E18, P22)' },
  judicial_requests: {
    zh: '件司法查询申请的答复期限（暂定，E14(4)、P13）',
    en: 'judicial requests with a provisional answer deadline (E14(4), P13)',
  },
  rating_requests: {
    zh: '件评级机构查询申请的审批期限（暂定，E14(3)）',
    en: 'rating requests with a provisional decision deadline (E14(3))',
  },
};

export const noWaiting = (): Waiting => ({ obligations: 0, batches: 0, objections: 0, judicial_requests: 0, rating_requests: 0 });

export function waitingTotal(w: Waiting): number {
  return CALENDAR_WAITERS.reduce((n, k) => n + w[k], 0);
}

/** "3 项报送义务的截止日期…；1 批报送的公开期限…" and its English, only the kinds that wait. */
export function describeWaiting(w: Waiting): { zh: string; en: string } {
  const kinds = CALENDAR_WAITERS.filter((k) => w[k] > 0);
  if (!kinds.length) return { zh: '目前尚无事项等待', en: 'nothing waits on it yet' };
  return {
    zh: kinds.map((k) => `${w[k]} ${WAITER_TEXT[k].zh}`).join('；'),
    en: kinds.map((k) => `${w[k]} ${WAITER_TEXT[k].en}`).join('; '),
  };
}

const howToLoad = (year: number) => ({
  zh: `请在国务院办公厅公布 ${year} 年部分节假日安排后，由管理员通过 PUT /calendar/years/${year} 载入（放假日与调休上班日）。`,
  en: `Load it with PUT /calendar/years/${year} (days off and make-up working days) once the State Council publishes ${year}'s schedule.`,
});

export interface Notice {
  title: string;
  body: string;
}

/** The administrators' notice when something first needs a year nobody has loaded (once per year). */
export function missingYearNotice(year: number, waiting: Waiting): Notice {
  const w = describeWaiting(waiting);
  const how = howToLoad(year);
  return {
    title: `${year} 年工作日历尚未载入，相关期限无法确定 / no working-day calendar is loaded for ${year}`,
    body: `以下事项的期限取决于 ${year} 年的放假安排：${w.zh}。${how.zh} / These wait on ${year}'s calendar: ${w.en}. ${how.en}`,
  };
}

/** The daily reminder from 1 November while next year is not loaded. */
export function upcomingYearNotice(year: number, today: string): Notice {
  const how = howToLoad(year);
  return {
    title: `请载入 ${year} 年工作日历 / load the working-day calendar of ${year}`,
    body: `${today}：${year} 年的放假安排尚未载入。自 ${year - 1} 年 12 月下旬起，截止日期将落入 ${year} 年，届时报送义务的截止日期无法确定，公开、答复和核实期限只能暂定。${how.zh} / ${today}: ${year}'s schedule is not loaded. From late December deadlines fall in ${year}; without it obligations get no due date and the platform's own deadlines are only provisional. ${how.en}`,
  };
}

/** Told when the year is loaded: what was settled. */
export function loadedYearNotice(year: number, settled: Waiting): Notice {
  const w = describeWaiting(settled);
  return {
    title: `${year} 年工作日历已载入，相关期限已确定 / the calendar of ${year} is loaded`,
    body: `已按 ${year} 年放假安排确定：${w.zh}。/ Settled with ${year}'s calendar: ${w.en}.`,
  };
}

/** The years the daily check asks for on `today` (Shanghai): this year, and next year from 1 November. */
export function yearsExpected(today: string, fromMonthDay = '11-01'): { current: number; next: number | null } {
  const year = Number(today.slice(0, 4));
  return { current: year, next: today.slice(5) >= fromMonthDay ? year + 1 : null };
}
