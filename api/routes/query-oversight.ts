import { Router } from 'express';
import { z } from '../../domain/z';
import { isoDate } from '../../domain/records';
import { queryLog } from '../../db/query-log';
import { accessMonitoring, feeReport } from '../../db/query-oversight';
import type { AppDeps } from '../app';
import { requireRole } from '../auth';
import { document } from '../openapi';
import { Paging, QueryLogEntry, SubjectType, Uuid, adminTags, json, type Endpoint } from './query-common';

/** The platform's oversight of queries: the query log (P20), chargeable queries (E16), access monitoring (P11, E19). */

const PeriodQuery = z
  .object({ from: isoDate, to: isoDate })
  .refine((q) => q.to >= q.from, { message: '结束日期不能早于开始日期 / to must not be before from', path: ['to'] });

// ─── GET /admin/query-log ────────────────────────────────────────────────────────────────────────────────────

const LogQuery = z.object({
  subject_type: SubjectType.optional(),
  subject_id: z.string().max(18).optional(),
  principal_id: Uuid('账号编号').optional(),
  outcome: z.enum(['answered', 'refused']).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  ...Paging,
});
document({
  method: 'get',
  path: '/admin/query-log',
  operationId: 'listQueryLog',
  tags: adminTags,
  summary: '查询日志（至少保存 5 年，不可修改，P20）/ the query log (staff, admin, supervisor)',
  secured: true,
  request: { query: LogQuery },
  responses: { 200: { description: 'newest first', ...json(z.object({ queries: z.array(QueryLogEntry) })) } },
});
const adminQueryLog: Endpoint = ({ db }) => [
  requireRole('staff', 'admin', 'supervisor'),
  async (req, res) => {
    const q = LogQuery.parse(req.query);
    res.json({
      queries: await queryLog(db, {
        subjectType: q.subject_type,
        subjectId: q.subject_id,
        principalId: q.principal_id,
        outcome: q.outcome,
        from: q.from,
        to: q.to,
        limit: q.limit,
        offset: q.offset,
      }),
    });
  },
];

// ─── GET /admin/query-fees ───────────────────────────────────────────────────────────────────────────────────

const FeeReport = z.object({
  from: z.string(),
  to: z.string(),
  rows: z.array(z.record(z.string(), z.unknown())),
  totals: z.object({ chargeable: z.number(), free: z.number(), refused: z.number() }),
});
document({
  method: 'get',
  path: '/admin/query-fees',
  operationId: 'getQueryFees',
  tags: adminTags,
  summary: '收费查询统计（E16）/ chargeable queries of a period (staff, admin)',
  secured: true,
  request: { query: PeriodQuery },
  responses: { 200: { description: 'per month and querier, with totals', ...json(FeeReport) } },
});
const queryFees: Endpoint = ({ db }) => [
  requireRole('staff', 'admin'),
  async (req, res) => {
    const q = PeriodQuery.parse(req.query);
    res.json(await feeReport(db, q.from, q.to));
  },
];

// ─── GET /admin/access-monitoring ────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/admin/access-monitoring',
  operationId: 'getAccessMonitoring',
  tags: adminTags,
  summary: '访问监控：认证失败、拒绝查询、异常查询量（P11、E19）/ access monitoring (admin, supervisor)',
  secured: true,
  request: { query: PeriodQuery },
  responses: { 200: { description: 'per principal', ...json(z.record(z.string(), z.unknown())) } },
});
const monitoring: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const q = PeriodQuery.parse(req.query);
    res.json(await accessMonitoring(db, q.from, q.to));
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function queryOversightRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/admin/query-log', ...adminQueryLog(deps));
  r.get('/admin/query-fees', ...queryFees(deps));
  r.get('/admin/access-monitoring', ...monitoring(deps));
  return r;
}
