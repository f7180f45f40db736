import express, { Router } from 'express';
import { z } from '../../domain/z';
import {
  UnknownCalendarYearError,
  addCalendarDays,
  isIsoDate,
  weekday,
  type CalendarDay,
  type CalendarYear,
  type WorkingCalendar,
} from '../../domain/calendar';
import { calendarYearSources, calendarYearStamp, loadCalendar, replaceCalendarYear } from '../../db/calendar';
import type { Db } from '../../db/knex';
import { waitingOn } from '../../db/calendar-gaps';
import { startCalendarYearLoaded } from '../../processes/starts';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError } from '../errors';
import { document, errorAnswer, jsonRequest, registry, validationError } from '../openapi';

/**
 * The working-day calendar (SPEC "Working days"): public look-ups of working days, and the admin's yearly load of
 * the State Council's schedule (published each November) without a release.
 *
 * A little over 400 lines: the yearly load's schema checks every day of the schedule, and its answer says what waited on
 * the year; both sit beside the handler.
 */

const TAG = '日历 Calendar';
const MAX_N = 366;
const MIN_YEAR = 2000;
const MAX_YEAR = 2100;

const WEEKDAYS_EN = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const WEEKDAYS_ZH = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'] as const;

/** A zod error message for a missing or mistyped value. */
const presence =
  (what: string, en: string, typeZh = '字符串', typeEn = 'a string') =>
  (iss: { input?: unknown }) =>
    iss.input === undefined ? `${what}必填 / ${en} is required` : `${what}须为${typeZh} / ${en} must be ${typeEn}`;

/** A strict object's message: unknown keys are named, anything but an object is refused. */
const objectError = (what: string) => (iss: { code?: string; keys?: string[]; input?: unknown }) =>
  iss.code === 'unrecognized_keys'
    ? `未知字段 ${(iss.keys ?? []).join('、')} / unknown field(s) ${(iss.keys ?? []).join(', ')}`
    : iss.input === undefined
      ? `${what}必填，须为 JSON 对象 / required: a JSON object`
      : `${what}须为 JSON 对象 / must be a JSON object`;

const isoDate = (what: string, en: string) =>
  z
    .string({ error: presence(what, en) })
    .refine(isIsoDate, { error: `${what}须为真实的日期，格式 YYYY-MM-DD / ${en} must be a real date written YYYY-MM-DD` })
    .openapi({ type: 'string', format: 'date', example: '2026-09-29' });

const yearParam = z
  .string({ error: presence('年份', 'year') })
  .regex(/^\d{4}$/, { error: '年份须为四位数字，如 2027 / year must be four digits, e.g. 2027' })
  .transform(Number)
  .pipe(
    z
      .number()
      .int()
      .min(MIN_YEAR, { error: `年份须在 ${MIN_YEAR}–${MAX_YEAR} 之间 / year must be between ${MIN_YEAR} and ${MAX_YEAR}` })
      .max(MAX_YEAR, { error: `年份须在 ${MIN_YEAR}–${MAX_YEAR} 之间 / year must be between ${MIN_YEAR} and ${MAX_YEAR}` }),
  )
  .openapi({ type: 'integer', example: 2027 });

const WorkingDaysQuery = z.object({
  date: isoDate('起算日期', 'date'),
  n: z
    .string({ error: presence('工作日数', 'n') })
    .regex(/^\d{1,3}$/, { error: `工作日数须为 0–${MAX_N} 的整数 / n must be a whole number from 0 to ${MAX_N}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .max(MAX_N, { error: `工作日数须为 0–${MAX_N} 的整数 / n must be a whole number from 0 to ${MAX_N}` }),
    )
    .openapi({ type: 'integer', minimum: 0, maximum: MAX_N, example: 5 }),
});
const DateParams = z.object({ date: isoDate('日期', 'date') });
const YearParams = z.object({ year: yearParam });

const DAY_KINDS = ['workday', 'weekend', 'holiday', 'makeup_workday'] as const;

const DayOffSchema = z.object({ date: z.string(), kind: z.enum(['weekend', 'holiday']), name: z.string().optional() });

const WorkingDaysAnswer = registry.register(
  'WorkingDaysAnswer',
  z.object({
    date: z.string().openapi({ example: '2026-09-29' }),
    n: z.number().int().openapi({ example: 5 }),
    result: z.string().openapi({
      example: '2026-10-12',
      description: '起算日后第 n 个工作日（起算日本身不计）/ the n-th working day after date (date itself not counted)',
    }),
    result_weekday: z.string().openapi({ example: 'Monday' }),
    calendar_days: z.number().int().openapi({ example: 13 }),
    days_off: z.array(DayOffSchema).openapi({ description: '其间跳过的休息日 / the days off skipped between date and result' }),
  }),
);

const DayAnswer = registry.register(
  'CalendarDayAnswer',
  z.object({
    date: z.string().openapi({ example: '2026-10-10' }),
    weekday: z.string().openapi({ example: 'Saturday' }),
    weekday_zh: z.string().openapi({ example: '星期六' }),
    working: z.boolean(),
    kind: z.enum(DAY_KINDS),
    name: z.string().optional().openapi({ example: '国庆节 National Day' }),
    reason: z.string().openapi({ example: '调休上班（国庆节 National Day）/ make-up working day' }),
  }),
);

const YearSummary = z.object({
  year: z.number().int(),
  source: z.string().openapi({ example: 'chinese-days', description: "'chinese-days'（内置）或 'admin'（管理员载入）" }),
  loaded_at: z.string().openapi({ example: '2026-11-27T09:00:00+08' }),
  holidays: z.number().int(),
  workdays: z.number().int(),
});

const DayName = z.object({ date: z.string(), name: z.string() });

const YearAnswer = registry.register(
  'CalendarYear',
  z.object({
    year: z.number().int().openapi({ example: 2027 }),
    source: z.string(),
    loaded_at: z.string(),
    holidays: z.array(DayName),
    workdays: z.array(DayName),
  }),
);

const WaitingSchema = z
  .object({
    obligations: z.number().int(),
    batches: z.number().int(),
    objections: z.number().int(),
    judicial_requests: z.number().int(),
    rating_requests: z.number().int(),
  })
  .openapi({ description: '等待该年日历的事项数 / how many deadlines waited on the year' });

const YearLoadAnswer = registry.register(
  'CalendarYearLoaded',
  YearAnswer.extend({
    waiting: WaitingSchema,
    settling: z
      .object({
        workflow_id: z.string().nullable().openapi({
          description:
            '确定期限、唤醒等待流程的工作流；null：Temporal 暂不可达，由每日日历检查补做 / the workflow that settles them; null: Temporal unreachable, the daily check will',
        }),
      })
      .openapi({ description: '等待该年的期限随即确定（暂定期限重算，报送义务取得截止日期）/ what waited on the year is settled at once' }),
  }),
);

const DayEntry = z.strictObject(
  {
    date: isoDate('日期', 'date'),
    name: z
      .string({ error: presence('名称', 'name') })
      .trim()
      .min(1, { error: '名称不能为空 / name must not be empty' })
      .max(100, { error: '名称不超过 100 字 / name must be at most 100 characters' })
      .openapi({ example: '元旦 New Year’s Day' }),
  },
  { error: objectError('每一天') },
);

/** The body of PUT /calendar/years/:year as the State Council publishes it; the year-dependent checks follow. */
const YearBody = registry.register(
  'CalendarYearInput',
  z.strictObject(
    {
      holidays: z
        .array(DayEntry, { error: presence('放假日列表', 'holidays', '数组', 'an array') })
        .min(1, { error: '放假日不能为空：每年都有法定节假日 / holidays must not be empty: every year has statutory holidays' })
        .max(366, { error: '放假日不超过 366 天 / at most 366 holidays' })
        .openapi({ description: '放假日（含调休休息的周末）/ days off, including the weekend days swapped into a holiday' }),
      workdays: z
        .array(DayEntry, { error: presence('调休上班日列表', 'workdays', '数组', 'an array') })
        .max(366, { error: '调休上班日不超过 366 天 / at most 366 make-up working days' })
        .openapi({ description: '调休上班日（周六或周日）/ make-up working days (a Saturday or Sunday)' }),
    },
    { error: objectError('请求体') },
  ),
);

/** The checks that need the year from the path: dates inside the year, no duplicates, no date in both lists, make-up days on weekends. */
function yearBodyFor(year: number) {
  return YearBody.superRefine((body, ctx) => {
    const seen = new Map<string, string>();
    const check = (list: 'holidays' | 'workdays', days: CalendarDay[] | undefined) => {
      if (!Array.isArray(days)) return;
      days.forEach((d, i) => {
        // A date that is not a real YYYY-MM-DD already has its issue.
        if (typeof d?.date !== 'string' || !isIsoDate(d.date)) return;
        const path = [list, i, 'date'];
        if (!d.date.startsWith(`${year}-`)) {
          ctx.addIssue({ code: 'custom', path, message: `${d.date} 不在 ${year} 年内 / ${d.date} is not inside ${year}` });
          return;
        }
        const first = seen.get(d.date);
        if (first !== undefined) {
          const message = first.startsWith(list)
            ? `日期 ${d.date} 重复（已见于 ${first}）/ duplicate date ${d.date} (already at ${first})`
            : `日期 ${d.date} 不能同时是放假日和调休上班日（见 ${first}）/ ${d.date} cannot be both a holiday and a make-up working day (see ${first})`;
          ctx.addIssue({ code: 'custom', path, message });
          return;
        }
        seen.set(d.date, `${list}.${i}`);
        const wd = weekday(d.date);
        if (list === 'workdays' && wd !== 0 && wd !== 6) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `调休上班日须为周六或周日，${d.date} 是${WEEKDAYS_ZH[wd]} / a make-up working day must be a Saturday or Sunday; ${d.date} is a ${WEEKDAYS_EN[wd]}`,
          });
        }
      });
    };
    check('holidays', body.holidays);
    check('workdays', body.workdays);
  });
}

/** A year's schedule as the State Council publishes it (an excerpt): days off, and the weekend days worked instead. */
const YEAR_EXAMPLE = {
  holidays: [
    { date: '2027-01-01', name: '元旦 New Year’s Day' },
    { date: '2027-01-02', name: '元旦 New Year’s Day' },
    { date: '2027-01-03', name: '元旦 New Year’s Day' },
    ...['05', '06', '07', '08', '09', '10', '11', '12'].map((d) => ({ date: `2027-02-${d}`, name: '春节 Spring Festival' })),
    ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({ date: `2027-10-${d}`, name: '国庆节 National Day' })),
  ],
  workdays: [
    { date: '2027-02-20', name: '春节 Spring Festival' },
    { date: '2027-09-26', name: '国庆节 National Day' },
    { date: '2027-10-09', name: '国庆节 National Day' },
  ],
};
const unknownYearDescription = '该年份的工作日历尚未载入 / no calendar is loaded for that year (CALENDAR_YEAR_UNKNOWN)';
const unknownYear = errorAnswer(unknownYearDescription, unknownYearError(new UnknownCalendarYearError(2031), 'date'));

document({
  method: 'get',
  path: '/calendar/working-days',
  operationId: 'getWorkingDayAfter',
  tags: [TAG],
  publicLimit: true,
  outage: true,
  summary: '起算日后第 n 个工作日（公开）/ the n-th working day after a date',
  description: '工作日按国务院办公厅公布的放假安排计算：周末、法定节假日休息，调休上班日上班。未载入日历的年份返回 422，绝不按仅周末推算。',
  request: { query: WorkingDaysQuery },
  responses: {
    200: { description: 'the n-th working day', content: { 'application/json': { schema: WorkingDaysAnswer } } },
    422: errorAnswer(
      unknownYearDescription,
      unknownYearError(new UnknownCalendarYearError(2031), 'date'),
      unknownYearError(
        new UnknownCalendarYearError(2027),
        'n',
        '从 2026-12-20 起数 30 个工作日会进入尚未载入日历的 2027 年 / counting 30 working days from 2026-12-20 runs into 2027, for which no calendar is loaded',
      ),
    ),
  },
});
document({
  method: 'get',
  path: '/calendar/days/{date}',
  operationId: 'getCalendarDay',
  tags: [TAG],
  publicLimit: true,
  outage: true,
  summary: '某日是否为工作日及原因（公开）/ whether a date is a working day, and why',
  request: { params: DateParams },
  responses: {
    200: { description: 'the day', content: { 'application/json': { schema: DayAnswer } } },
    422: unknownYear,
  },
});
document({
  method: 'get',
  path: '/calendar/years',
  operationId: 'listCalendarYears',
  tags: [TAG],
  publicLimit: true,
  outage: true,
  summary: '已载入的年份及来源（公开）/ the known years, their source and load time',
  responses: {
    200: { description: 'known years', content: { 'application/json': { schema: z.object({ years: z.array(YearSummary) }) } } },
  },
});
document({
  method: 'get',
  path: '/calendar/years/{year}',
  operationId: 'getCalendarYear',
  tags: [TAG],
  publicLimit: true,
  outage: true,
  summary: '某年的放假日与调休上班日（公开）/ a year’s days off and make-up working days',
  request: { params: YearParams },
  responses: {
    200: { description: 'the year', content: { 'application/json': { schema: YearAnswer } } },
    404: errorAnswer(
      '该年份尚未载入 / the year is not loaded',
      new HttpError(404, 'NOT_FOUND', '2031 年的工作日历尚未载入 / no working-day calendar is loaded for 2031', [
        { field: 'year', reason: '2031 年未载入 / 2031 is not loaded' },
      ]),
    ),
  },
});
document({
  method: 'put',
  path: '/calendar/years/{year}',
  operationId: 'replaceCalendarYear',
  tags: [TAG],
  summary: '载入或替换某年的放假安排（管理机构）/ load or replace a year’s schedule as the State Council publishes it (admin)',
  description: '在一个事务中替换该年的全部放假日与调休上班日，并写入审计日志；立即对 API 与全部 worker 生效。',
  secured: true,
  request: {
    params: YearParams,
    body: jsonRequest(YearBody, YEAR_EXAMPLE, { required: true, description: '例（节选）/ an example (an excerpt)' }),
  },
  responses: {
    200: { description: 'the stored year', content: { 'application/json': { schema: YearLoadAnswer } } },
    400: errorAnswer(
      '请求无效：日期不在该年内、重复、调休上班日不是周末等 / bad request: a date outside the year, twice, a make-up day on a weekday…',
      validationError(yearBodyFor(2027), {
        holidays: [
          { date: '2027-01-01', name: '元旦 New Year’s Day' },
          { date: '2027-01-01', name: '元旦 New Year’s Day' },
        ],
        workdays: [{ date: '2027-02-22', name: '春节 Spring Festival' }],
      }),
    ),
  },
});

/** Turns an unknown year into a 422 that names the input it came from. */
function unknownYearError(err: UnknownCalendarYearError, field: string, reason = err.message): HttpError {
  return new HttpError(422, err.code, err.message, [{ field, reason }], { year: err.year });
}

function reasonOf(d: ReturnType<WorkingCalendar['describe']>): string {
  switch (d.kind) {
    case 'makeup_workday':
      return `调休上班（${d.name}）/ make-up working day (${d.name})`;
    case 'holiday':
      return `法定节假日放假（${d.name}）/ statutory holiday (${d.name})`;
    case 'weekend':
      return '周末休息 / weekend';
    default:
      return '工作日 / working day';
  }
}

async function yearAnswer(db: Db, year: number) {
  const [calendar, sources] = await Promise.all([loadCalendar(db), calendarYearSources(db)]);
  const source = sources.get(year);
  if (!calendar.knows(year) || !source) {
    throw new HttpError(404, 'NOT_FOUND', `${year} 年的工作日历尚未载入 / no working-day calendar is loaded for ${year}`, [
      { field: 'year', reason: `${year} 年未载入 / ${year} is not loaded` },
    ]);
  }
  const y: CalendarYear = calendar.year(year);
  return { year, source: source.source, loaded_at: source.loadedAt, holidays: y.holidays, workdays: y.workdays };
}

export function calendarRouter({ db, config, temporal }: AppDeps): Router {
  const r = Router();

  r.get('/calendar/working-days', async (req, res) => {
    const { date, n } = WorkingDaysQuery.parse(req.query);
    const calendar = await loadCalendar(db);
    if (!calendar.knows(Number(date.slice(0, 4)))) throw unknownYearError(new UnknownCalendarYearError(Number(date.slice(0, 4))), 'date');
    let result: string;
    try {
      result = calendar.addWorkingDays(date, n);
    } catch (err) {
      // The start is known, so the count ran into a year nobody has loaded yet.
      if (err instanceof UnknownCalendarYearError) {
        throw unknownYearError(
          err,
          'n',
          `从 ${date} 起数 ${n} 个工作日会进入尚未载入日历的 ${err.year} 年 / counting ${n} working days from ${date} runs into ${err.year}, for which no calendar is loaded`,
        );
      }
      throw err;
    }
    const daysOff: Array<{ date: string; kind: 'weekend' | 'holiday'; name?: string }> = [];
    let calendarDays = 0;
    for (let d = addCalendarDays(date, 1); d <= result; d = addCalendarDays(d, 1)) {
      calendarDays++;
      const day = calendar.describe(d);
      if (day.kind === 'weekend' || day.kind === 'holiday')
        daysOff.push({ date: d, kind: day.kind, ...(day.name ? { name: day.name } : {}) });
    }
    res.json({ date, n, result, result_weekday: WEEKDAYS_EN[weekday(result)], calendar_days: calendarDays, days_off: daysOff });
  });

  r.get('/calendar/days/:date', async (req, res) => {
    const { date } = DateParams.parse(req.params);
    const calendar = await loadCalendar(db);
    let day: ReturnType<WorkingCalendar['describe']>;
    try {
      day = calendar.describe(date);
    } catch (err) {
      if (err instanceof UnknownCalendarYearError) throw unknownYearError(err, 'date');
      throw err;
    }
    const wd = weekday(date);
    res.json({
      date,
      weekday: WEEKDAYS_EN[wd],
      weekday_zh: WEEKDAYS_ZH[wd],
      working: day.working,
      kind: day.kind,
      ...(day.name ? { name: day.name } : {}),
      reason: reasonOf(day),
    });
  });

  r.get('/calendar/years', async (_req, res) => {
    const [calendar, sources] = await Promise.all([loadCalendar(db), calendarYearSources(db)]);
    res.json({
      years: calendar.knownYears().map((year) => {
        const y = calendar.year(year);
        const s = sources.get(year);
        return {
          year,
          source: s?.source ?? 'unknown',
          loaded_at: s?.loadedAt ?? '',
          holidays: y.holidays.length,
          workdays: y.workdays.length,
        };
      }),
    });
  });

  r.get('/calendar/years/:year', async (req, res) => {
    const { year } = YearParams.parse(req.params);
    res.json(await yearAnswer(db, year));
  });

  r.put('/calendar/years/:year', requireRole('admin'), express.json({ limit: config.jsonBodyLimit }), async (req, res) => {
    const principal = principalOf(req);
    const { year } = YearParams.parse(req.params);
    const body = await yearBodyFor(year).parseAsync(req.body);
    await replaceCalendarYear(db, { year, holidays: body.holidays, workdays: body.workdays }, principal.id, actorLabel(principal));
    const answer = await yearAnswer(db, year);
    const waiting = await waitingOn(db, year);
    // One settling per load: the load's stamp, to the microsecond.
    const workflowId = await startCalendarYearLoaded(temporal, config.taskQueue, year, await calendarYearStamp(db, year));
    res.json({ ...answer, waiting, settling: { workflow_id: workflowId } });
  });

  return r;
}
