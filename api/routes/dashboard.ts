import { Router } from 'express';
import { z } from '../../domain/z';
import { shanghaiDate } from '../../domain/calendar';
import { dashboardSummary } from '../../db/dashboard';
import type { AppDeps } from '../app';
import { requireRole } from '../auth';
import { document, registry } from '../openapi';

const count = z.number().int();
const Waiting = z.object({ obligations: count, batches: count, objections: count, judicial_requests: count, rating_requests: count });
export const CalendarWarningSchema = registry.register(
  'CalendarWarning',
  z.object({
    code: z
      .enum(['CALENDAR_YEAR_MISSING', 'CALENDAR_NEXT_YEAR_NOT_LOADED'])
      .openapi({ description: 'CALENDAR_YEAR_MISSING：所需年份未载入；CALENDAR_NEXT_YEAR_NOT_LOADED：11 月 1 日起次年尚未载入' }),
    year: z.number().int().openapi({ example: 2027 }),
    title: z.string(),
    message: z.string().openapi({ description: '等待的事项与载入方法 / what waits and how to load the year' }),
    waiting: Waiting.optional(),
    since: z.string().optional(),
  }),
);
const Dashboard = registry.register(
  'AdminDashboard',
  z.object({
    today: z.string().openapi({ example: '2026-12-28' }),
    warnings: z.array(CalendarWarningSchema),
    calendar: z.object({ known_years: z.array(count), this_year_loaded: z.boolean(), next_year_loaded: z.boolean() }),
    obligations: z.object({
      open: count,
      awaiting_calendar: count.openapi({ description: '截止日期待工作日历载入 / due date waiting on a calendar year' }),
      overdue: count,
    }),
    cases: z.object({ overdue: count, ordered: count, escalation_due: count, escalated: count }),
    publication: z.object({ held: count, pending: count }),
    objections: z.object({ open: count, overdue: count }),
    judicial_requests: z.object({ pending: count }),
  }),
);

document({
  method: 'get',
  path: '/admin/dashboard',
  operationId: 'getAdminDashboard',
  tags: ['管理 Administration'],
  summary:
    '管理首页：须处理的事项（工作日历未载入等）与各项计数（管理机构、督办）/ the dashboard: warnings (a calendar year missing) and counts (admin, supervisor)',
  secured: true,
  responses: { 200: { description: 'the dashboard', content: { 'application/json': { schema: Dashboard } } } },
});

export function dashboardRouter({ db }: AppDeps): Router {
  const r = Router();
  r.get('/admin/dashboard', requireRole('admin', 'supervisor'), async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await dashboardSummary(db, shanghaiDate(new Date())));
  });
  return r;
}
