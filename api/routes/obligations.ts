/**
 * Reporting obligations (E7, P9) over HTTP: the overdue board and the dashboard counts (admin, supervisor), the
 * obligations (a provider its own; another's answer 404), a provider's reminders. Rectification orders are in
 * compliance-cases.ts, the providers' cadences and registration in providers.ts. A provider with nothing to report
 * for a period declares so (零报送, `POST /obligations/{id}/nil-return`), which fulfils its obligation like a batch.
 * Longer than 400 lines: the obligation endpoints share their schemas here, and the nil return is one of them.
 */
import { Router } from 'express';
import { z } from '../../domain/z';
import { CADENCES } from '../../domain/catalog';
import { shanghaiDate } from '../../domain/calendar';
import { parsePeriod } from '../../domain/periods';
import { BOARD_STATES, OBLIGATION_STATES } from '../../domain/obligations';
import { BOARD_SORTS, obligationStats, overdueBoard } from '../../db/obligation-board';
import { listObligations, obligationEvents, providerReminders, visibleObligation } from '../../db/obligations';
import { declareNilReturn, listNilReturns, type NilReturnOutcome } from '../../db/nil-returns';
import { deliverQueuedSignals } from '../../processes/outbox';
import { caseEvents, visibleCase } from '../../db/compliance-cases';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { document, errorAnswer, jsonRequest, registry, validationError } from '../openapi';
import {
  CaseSchema,
  EventSchema,
  Iso,
  ObligationIdParam,
  ObligationView,
  PROVIDER_KINDS,
  Paging,
  json,
  jsonBody,
  periodCode,
  providerList,
  tagO,
  type Endpoint,
} from './obligation-common';

// ─── GET /obligations/board ──────────────────────────────────────────────────────────────────────────────────

const BoardQuery = z
  .object({
    provider: providerList
      .optional()
      .openapi({ description: '单位代码，逗号分隔 / provider codes, comma-separated', example: 'QZ-TAX,QZ-GSJ' }),
    kind: z.enum(PROVIDER_KINDS).optional().openapi({ description: '单位类别 / kind of provider' }),
    period: periodCode.optional().openapi({ example: '2026-10' }),
    state: z.enum(BOARD_STATES).optional().openapi({ description: '案件状态 / order and escalation state' }),
    sort: z.enum(BOARD_SORTS).default('working_days_overdue'),
    order: z.enum(['asc', 'desc']).default('desc'),
    ...Paging,
  })
  .strict();
const BoardRow = registry.register(
  'OverdueBoardRow',
  z.object({
    id: z.number().int(),
    provider: z.string(),
    provider_name: z.string(),
    provider_kind: z.string(),
    period: z.string(),
    cadence: z.enum(CADENCES),
    due_date: z.string(),
    working_days_overdue: z.number().int().nullable().openapi({
      description: '逾期工作日数；null：其间有年份的工作日历未载入 / working days overdue; null while a year in between has no calendar',
    }),
    working_days_pending_year: z
      .number()
      .int()
      .nullable()
      .openapi({ description: '逾期工作日数待该年日历载入 / the year whose calendar the count waits for' }),
    overdue_at: Iso,
    case_id: z.string().uuid(),
    state: z.enum(BOARD_STATES),
    state_zh: z.string(),
    order_deadline: z.string().nullable(),
    ordered_at: Iso,
    escalation_due_at: Iso,
    escalated_at: Iso,
    referred_to: z.string().nullable(),
  }),
);
document({
  method: 'get',
  path: '/obligations/board',
  operationId: 'getOverdueBoard',
  tags: tagO,
  summary:
    '逾期未报送看板（管理机构）/ the overdue board: providers overdue, working days overdue, order and escalation state (admin, supervisor)',
  secured: true,
  request: { query: BoardQuery },
  responses: {
    200: json(
      z.object({
        total: z.number().int(),
        today: z.string(),
        rows: z.array(BoardRow),
        nil_returns: z.number().int().openapi({
          description:
            '筛选范围内以零报送履行的报送义务数（不逾期，不在看板行内）/ obligations of the filter fulfilled by a nil return (never overdue, not rows)',
        }),
        awaiting_calendar: z.array(z.object({ year: z.number().int(), obligations: z.number().int(), message: z.string() })).openapi({
          description:
            '截止日期待工作日历载入的报送义务（尚未逾期，不在看板行内）/ obligations whose due date waits on a year (not overdue, not rows of the board)',
        }),
      }),
    ),
  },
});
const getBoard: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const q = BoardQuery.parse(req.query);
    const on = shanghaiDate(new Date());
    const board = await overdueBoard(
      db,
      {
        providers: q.provider,
        kind: q.kind,
        period: q.period,
        state: q.state,
        sort: q.sort,
        order: q.order,
        limit: q.limit,
        offset: q.offset,
      },
      on,
    );
    res.json({
      total: board.total,
      today: on,
      rows: board.rows,
      nil_returns: board.nilReturns,
      awaiting_calendar: board.awaiting.map((a) => ({
        ...a,
        message: `${a.obligations} 项报送义务的截止日期待 ${a.year} 年工作日历载入后确定，载入前不认定逾期 / ${a.obligations} obligation(s) get their due date once ${a.year}'s calendar is loaded; none is overdue meanwhile`,
      })),
    });
  },
];

// ─── GET /obligations/stats ──────────────────────────────────────────────────────────────────────────────────

const StatsQuery = z
  .object({
    from: periodCode.optional().openapi({ description: '起始报送期 / first period', example: '2026-01' }),
    to: periodCode.optional().openapi({ description: '截止报送期 / last period', example: '2026-12' }),
    provider: providerList.optional(),
  })
  .strict();
const StatsRow = registry.register(
  'ObligationStats',
  z.object({
    period: z.string(),
    cadence: z.enum(CADENCES),
    total: z.number().int(),
    open: z.number().int(),
    on_time: z.number().int(),
    late: z.number().int(),
    overdue: z.number().int(),
    ordered: z.number().int(),
    escalation_due: z.number().int(),
    waived: z.number().int().openapi({ description: '单位停用，免于报送 / waived: the provider was deactivated' }),
    nil_returns: z.number().int().openapi({
      description: '其中以零报送履行（已计入按时或逾期后报送）/ of the fulfilled, those by a nil return (counted in on_time or late too)',
    }),
    escalated: z.number().int(),
  }),
);
document({
  method: 'get',
  path: '/obligations/stats',
  operationId: 'getObligationStats',
  tags: tagO,
  summary: '按报送期统计：按时、逾期后报送、逾期、已提请监察 / counts per period for the dashboard (admin, supervisor)',
  secured: true,
  request: { query: StatsQuery },
  responses: {
    200: json(z.object({ periods: z.array(StatsRow) })),
    400: errorAnswer(
      '请求无效 / bad request',
      validationError(StatsQuery, { from: '2026-13' }),
      badRequest('起始报送期晚于截止报送期 / from is after to', [{ field: 'from', reason: '应不晚于 to / must not be after to' }]),
    ),
  },
});
const getStats: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const q = StatsQuery.parse(req.query);
    const from = q.from ? parsePeriod(q.from)!.start : undefined;
    const to = q.to ? parsePeriod(q.to)!.start : undefined;
    if (from && to && from > to)
      throw badRequest('起始报送期晚于截止报送期 / from is after to', [{ field: 'from', reason: '应不晚于 to / must not be after to' }]);
    const rows = await obligationStats(db, { from, to, providers: q.provider });
    res.json({ periods: rows.map(({ period_start: _s, ...row }) => row) });
  },
];

// ─── GET /obligations ────────────────────────────────────────────────────────────────────────────────────────

const ListQuery = z
  .object({
    provider: providerList.optional(),
    period: periodCode.optional(),
    state: z.enum(OBLIGATION_STATES).optional(),
    ...Paging,
  })
  .strict();
document({
  method: 'get',
  path: '/obligations',
  operationId: 'listObligations',
  tags: tagO,
  summary: '报送义务列表：信息提供单位只见本单位 / obligations: a provider sees its own, admin/supervisor/staff all',
  secured: true,
  request: { query: ListQuery },
  responses: { 200: json(z.object({ total: z.number().int(), obligations: z.array(ObligationView) })) },
});
const getObligations: Endpoint = ({ db }) => [
  requireRole('provider', 'admin', 'supervisor', 'staff'),
  async (req, res) => {
    const q = ListQuery.parse(req.query);
    res.json(await listObligations(db, principalOf(req), q));
  },
];

// ─── GET /obligations/reminders ──────────────────────────────────────────────────────────────────────────────

const RemindersQuery = z.object(Paging);
document({
  method: 'get',
  path: '/obligations/reminders',
  operationId: 'listProviderReminders',
  tags: tagO,
  summary: '本单位的报送提醒 / the reminders sent to the calling provider',
  secured: true,
  request: { query: RemindersQuery },
  responses: {
    200: json(
      z.object({
        reminders: z.array(
          z.object({
            id: z.number(),
            title: z.string(),
            body: z.string(),
            data: z.record(z.string(), z.unknown()),
            created_at: z.string(),
            read_at: Iso,
          }),
        ),
      }),
    ),
  },
});
const getReminders: Endpoint = ({ db }) => [
  requireRole('provider'),
  async (req, res) => {
    const p = principalOf(req);
    const q = RemindersQuery.strict().parse(req.query);
    res.json({ reminders: await providerReminders(db, p.providerId, q) });
  },
];

// ─── POST /obligations/{id}/nil-return ───────────────────────────────────────────────────────────────────────

const NilReturnBody = z
  .object({
    note: z
      .string()
      .trim()
      .max(2000, { message: '说明不超过 2000 字 / the note is at most 2000 characters' })
      .optional()
      .openapi({ description: '说明 / a note, e.g. why there was nothing new', example: '本月无新增行政处罚信息' }),
  })
  .strict();
const NilReturnAnswer = z.object({
  obligation: ObligationView,
  nil_return: z.object({ at: z.string(), note: z.string().nullable() }),
});
document({
  method: 'post',
  path: '/obligations/{id}/nil-return',
  operationId: 'declareNilReturn',
  tags: tagO,
  summary:
    '零报送：本单位本期无新增信用信息，履行报送义务（E7、P9）/ declare nothing to report for the period: fulfils the own obligation (provider)',
  secured: true,
  request: { params: ObligationIdParam, body: jsonRequest(NilReturnBody, { note: '本月无新增行政处罚信息' }) },
  responses: {
    200: json(NilReturnAnswer),
    404: errorAnswer('报送义务不存在或非本单位 / not found or not yours', notFound('报送义务 1024')),
    409: errorAnswer(
      '不能声明零报送：已免除、报送期未开始、已声明或已报送批次 / cannot be declared: waived, not begun, declared already, or a batch accepted',
      new HttpError(409, 'OBLIGATION_WAIVED', '该报送义务已免除（单位停用），无需零报送 / the obligation is waived: nothing is owed', [
        { field: 'state', reason: '已免除 / waived', article: 'E7, P9' },
      ]),
      new HttpError(
        409,
        'PERIOD_NOT_BEGUN',
        '报送期自 2026-12-01 起，尚未开始，不能声明零报送 / the period begins on 2026-12-01: it cannot be declared yet',
        [{ field: 'period', reason: '尚未开始 / not begun (2026-12-01)', article: 'E7, P9' }],
      ),
      new HttpError(
        409,
        'NIL_RETURN_EXISTS',
        '本期已于 2026-11-03T09:12:40.218+08:00 声明零报送，每期只能声明一次 / a nil return was declared for this period at 2026-11-03T09:12:40.218+08:00',
        [{ field: 'id', reason: '每期一次 / once per period', article: 'E7, P9' }],
      ),
      new HttpError(
        409,
        'BATCH_ALREADY_ACCEPTED',
        '本期已报送批次 0192c4e0-3f1a-7b6d-8e25-4a9c1d7f0b38，不能再声明零报送 / a batch (0192c4e0-3f1a-7b6d-8e25-4a9c1d7f0b38) was accepted for this period: nothing to declare',
        [{ field: 'id', reason: '已报送 / batch 0192c4e0-3f1a-7b6d-8e25-4a9c1d7f0b38 accepted', article: 'E7, P9' }],
      ),
    ),
  },
});

const NIL_ARTICLE = 'E7, P9';
/** The refusals of a nil return, as HTTP answers (Chinese first). */
function nilReturnRefusal(id: number, r: Exclude<NilReturnOutcome, { kind: 'declared' }>): HttpError {
  switch (r.kind) {
    case 'not_found':
      return notFound(`报送义务 ${id}`);
    case 'waived':
      return new HttpError(
        409,
        'OBLIGATION_WAIVED',
        '该报送义务已免除（单位停用），无需零报送 / the obligation is waived: nothing is owed',
        [{ field: 'state', reason: '已免除 / waived', article: NIL_ARTICLE }],
      );
    case 'not_begun':
      return new HttpError(
        409,
        'PERIOD_NOT_BEGUN',
        `报送期自 ${r.periodStart} 起，尚未开始，不能声明零报送 / the period begins on ${r.periodStart}: it cannot be declared yet`,
        [{ field: 'period', reason: `尚未开始 / not begun (${r.periodStart})`, article: NIL_ARTICLE }],
      );
    case 'already_declared':
      return new HttpError(
        409,
        'NIL_RETURN_EXISTS',
        `本期已于 ${r.declaredAt} 声明零报送，每期只能声明一次 / a nil return was declared for this period at ${r.declaredAt}`,
        [{ field: 'id', reason: '每期一次 / once per period', article: NIL_ARTICLE }],
      );
    case 'batch_accepted':
      return new HttpError(
        409,
        'BATCH_ALREADY_ACCEPTED',
        `本期已报送批次 ${r.submissionId}，不能再声明零报送 / a batch (${r.submissionId}) was accepted for this period: nothing to declare`,
        [{ field: 'id', reason: `已报送 / batch ${r.submissionId} accepted`, article: NIL_ARTICLE }],
      );
  }
}

const postNilReturn: Endpoint = ({ db, temporal }) => [
  requireRole('provider'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = ObligationIdParam.parse(req.params);
    const b = NilReturnBody.parse(req.body ?? {});
    const r = await declareNilReturn(db, {
      obligationId: id,
      principalId: p.id,
      actor: actorLabel(p),
      providerId: p.providerId!,
      note: b.note || null,
      today: shanghaiDate(new Date()),
    });
    if (r.kind !== 'declared') throw nilReturnRefusal(id, r);
    // The declaration and its signals were committed together: told now, or by the reconciler once Temporal is back.
    await deliverQueuedSignals(db, temporal, r.signalIds);
    const obligation = await visibleObligation(db, p, id);
    res.json({ obligation, nil_return: { at: r.declaredAt, note: b.note || null } });
  },
];

// ─── GET /obligations/nil-returns ────────────────────────────────────────────────────────────────────────────

const NilReturnsQuery = z
  .object({
    period: periodCode.optional().openapi({ example: '2026-10' }),
    provider: providerList.optional().openapi({ description: '单位代码，逗号分隔 / provider codes, comma-separated' }),
    ...Paging,
  })
  .strict();
const NilReturnRow = registry.register(
  'NilReturn',
  z.object({
    obligation_id: z.number().int(),
    provider: z.string(),
    provider_name: z.string(),
    period: z.string(),
    due_date: z.string().nullable(),
    declared_at: z.string(),
    declared_by: z.string(),
    note: z.string().nullable(),
    on_time: z.boolean().nullable(),
  }),
);
document({
  method: 'get',
  path: '/obligations/nil-returns',
  operationId: 'listNilReturns',
  tags: tagO,
  summary: '零报送声明列表（管理机构、督办）/ the nil returns declared, by period and provider (admin, supervisor)',
  secured: true,
  request: { query: NilReturnsQuery },
  responses: { 200: json(z.object({ total: z.number().int(), nil_returns: z.array(NilReturnRow) })) },
});
const getNilReturns: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const q = NilReturnsQuery.parse(req.query);
    res.json(await listNilReturns(db, { period: q.period, providers: q.provider, limit: q.limit, offset: q.offset }));
  },
];

// ─── GET /obligations/{id} ───────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/obligations/{id}',
  operationId: 'getObligation',
  tags: tagO,
  summary: '一项报送义务：每一步及其时间、操作人；提醒；督办案件 / one obligation with its steps, reminders and case',
  secured: true,
  request: { params: ObligationIdParam },
  responses: {
    200: json(
      z.object({
        obligation: ObligationView,
        events: z.array(EventSchema),
        case: CaseSchema.nullable(),
        case_events: z.array(EventSchema),
      }),
    ),
    404: errorAnswer('报送义务不存在或非本单位 / not found or not yours', notFound('报送义务 1024')),
  },
});
const getObligation: Endpoint = ({ db }) => [
  requireRole('provider', 'admin', 'supervisor', 'staff'),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = ObligationIdParam.parse(req.params);
    const obligation = await visibleObligation(db, p, id);
    if (!obligation) throw notFound(`报送义务 ${id}`);
    const events = await obligationEvents(db, id);
    let kase = null;
    let kaseEvents: unknown[] = [];
    if (obligation.case_id) {
      kase = await visibleCase(db, p, obligation.case_id);
      if (!kase) throw notFound(`督办案件 ${obligation.case_id}`);
      kaseEvents = await caseEvents(db, obligation.case_id);
    }
    res.json({ obligation, events, case: kase, case_events: kaseEvents });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function obligationsRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/obligations/board', ...getBoard(deps));
  r.get('/obligations/stats', ...getStats(deps));
  r.get('/obligations', ...getObligations(deps));
  r.get('/obligations/reminders', ...getReminders(deps));
  r.get('/obligations/nil-returns', ...getNilReturns(deps));
  r.post('/obligations/:id/nil-return', ...postNilReturn(deps));
  r.get('/obligations/:id', ...getObligation(deps));
  return r;
}
