/**
 * Reporting obligations (E7, P9) and compliance cases (E20, P24) over HTTP.
 *
 * - admin: the overdue board, the dashboard counts, a provider's compliance history, rectification orders,
 *   cadence agreements and providers registered mid-year;
 * - supervisor: the cases due for escalation, escalation to the supervision department, the escalations;
 * - provider: its own obligations, cases and reminders (another's answer 404).
 */
import crypto from 'node:crypto';
import express, { Router, type Request } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, ApplicationFailure } from '@temporalio/client';
import { z } from '../../domain/z';
import { CADENCES, CATALOG_BY_CODE, type Cadence } from '../../domain/catalog';
import { addCalendarDays, isIsoDate, shanghaiDate, UnknownCalendarYearError, type WorkingCalendar } from '../../domain/calendar';
import { parsePeriod } from '../../domain/periods';
import { obligationSettings } from '../../domain/config';
import {
  BOARD_STATES,
  CASE_KINDS,
  CASE_STATES,
  CASE_STATE_ZH,
  OBLIGATION_STATES,
  periodContaining,
  workingDaysOverdue,
  type CaseState,
} from '../../domain/obligations';
import { loadCalendar } from '../../db/calendar';
import {
  BOARD_SORTS,
  CadenceChangeError,
  ProviderStateError,
  boardQuery,
  deactivateProvider,
  reactivateProvider,
  type ProviderDeactivation,
  cadenceState,
  caseById,
  obligationStats,
  obligationsAwaitingCalendar,
  openMissingObligations,
  recordCadenceChange,
} from '../../db/obligations';
import { startPendingObligationWorkflows, type EscalationRequest, type OrderRequest } from '../../activities/obligations';
import { escalateCaseUpdate, orderRectificationUpdate, submissionReceivedSignal } from '../../workflows/obligation';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { document, registry, ErrorBody } from '../openapi';
import type { Principal } from '../../domain/roles';
import type { Db } from '../../db/knex';

const PROVIDER_KINDS = ['administrative', 'judicial', 'vertical', 'industry_association', 'intermediary', 'utility'] as const;

// ─── Schemas ─────────────────────────────────────────────────────────────────────────────────────────────────

const periodCode = z.string().max(16).refine((v) => parsePeriod(v) !== null, { message: '报送期格式应为 YYYY-MM、YYYY-Qn 或 YYYY-Hn / period must be YYYY-MM, YYYY-Qn or YYYY-Hn' });
const date = z.string().refine(isIsoDate, { message: '日期格式应为 YYYY-MM-DD / date must be a real date written YYYY-MM-DD' });
const providerList = z
  .string()
  .max(2000)
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((l) => l.length > 0 && l.length <= 100, { message: '单位代码列表，以逗号分隔 / comma-separated provider codes' });
const IdParam = z.object({ id: z.coerce.number().int().positive({ message: '报送义务编号应为正整数 / obligation id must be a positive integer' }) });
const CaseIdParam = z.object({ id: z.string().uuid({ message: '案件编号应为 UUID / case id must be a UUID' }) });
const CodeParam = z.object({ code: z.string().max(64) });
const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

const BoardQuery = z
  .object({
    provider: providerList.optional().openapi({ description: '单位代码，逗号分隔 / provider codes, comma-separated', example: 'QZ-TAX,QZ-GSJ' }),
    kind: z.enum(PROVIDER_KINDS).optional().openapi({ description: '单位类别 / kind of provider' }),
    period: periodCode.optional().openapi({ example: '2026-10' }),
    state: z.enum(BOARD_STATES).optional().openapi({ description: '案件状态 / order and escalation state' }),
    sort: z.enum(BOARD_SORTS).default('working_days_overdue'),
    order: z.enum(['asc', 'desc']).default('desc'),
    ...Paging,
  })
  .strict();
const ListQuery = z
  .object({
    provider: providerList.optional(),
    period: periodCode.optional(),
    state: z.enum(OBLIGATION_STATES).optional(),
    ...Paging,
  })
  .strict();
const StatsQuery = z
  .object({
    from: periodCode.optional().openapi({ description: '起始报送期 / first period', example: '2026-01' }),
    to: periodCode.optional().openapi({ description: '截止报送期 / last period', example: '2026-12' }),
    provider: providerList.optional(),
  })
  .strict();
const CaseListQuery = z
  .object({
    state: z.enum(CASE_STATES).optional(),
    kind: z.enum(CASE_KINDS).optional(),
    provider: providerList.optional(),
    ...Paging,
  })
  .strict();
const OrderBody = z
  .object({
    deadline: date.openapi({ description: '改正期限（含当日）/ rectify by this date (inclusive)', example: '2026-12-15' }),
    note: z.string().trim().max(2000).optional().openapi({ description: '改正要求 / what is required' }),
  })
  .strict();
const EscalationBody = z
  .object({
    responsible_unit: z.string().trim().min(1, { message: '请写明责任单位 / name the responsible unit' }).max(200).openapi({ example: '钦州市税务局办公室' }),
    note: z.string().trim().min(2, { message: '请写明提请理由 / give the reason' }).max(4000),
    referred_to: z.string().trim().min(1).max(200).default('钦州市监察部门').openapi({ description: '移送部门 / the department referred to (E20: 监察部门; P24: 有关部门)' }),
  })
  .strict();
const CadenceBody = z
  .object({
    cadence: z.enum(CADENCES),
    agreed_on: date.openapi({ description: '协商同意日期 / the day the agreement was made', example: '2026-11-20' }),
    note: z.string().trim().max(2000).optional(),
  })
  .strict();
const NewProviderBody = z
  .object({
    code: z.string().regex(/^[A-Z][A-Z0-9-]{1,63}$/, { message: '单位代码：大写字母、数字、连字符 / code: capital letters, digits, hyphens' }).openapi({ example: 'QZ-YJJ' }),
    name_zh: z.string().trim().min(2).max(200).openapi({ example: '钦州市应急管理局' }),
    name_en: z.string().trim().min(2).max(200).openapi({ example: 'Emergency Management Bureau' }),
    kind: z.enum(PROVIDER_KINDS),
    legal_basis: z.string().trim().min(1).max(200).openapi({ example: 'E7(23)' }),
    items: z
      .array(z.string().max(64))
      .min(1)
      .max(100)
      .refine((l) => l.every((c) => CATALOG_BY_CODE.has(c)), { message: '含目录中不存在的信息项 / an item is not in the catalog (P6)' })
      .openapi({ example: ['E-HONOR', 'E-PENALTY'] }),
    cadence: z.enum(CADENCES).default('monthly'),
  })
  .strict();

const Iso = z.string().nullable();
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
    working_days_overdue: z.number().int().nullable().openapi({ description: '逾期工作日数；null：其间有年份的工作日历未载入 / working days overdue; null while a year in between has no calendar' }),
    working_days_pending_year: z.number().int().nullable().openapi({ description: '逾期工作日数待该年日历载入 / the year whose calendar the count waits for' }),
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
type BoardRowOut = z.infer<typeof BoardRow>;
type BoardSqlRow = Omit<BoardRowOut, 'working_days_overdue' | 'working_days_pending_year' | 'state_zh'> & { total: number };

/** A board row as answered: fields named one by one (a copy by spread is many times slower on this hot path). */
const boardRow = (r: BoardSqlRow, workingDaysOverdue: number | null, pendingYear: number | null): BoardRowOut => ({
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

const ObligationSchema = registry.register(
  'Obligation',
  z.object({
    id: z.number().int(),
    provider: z.string(),
    provider_name: z.string(),
    period: z.string(),
    cadence: z.enum(CADENCES),
    period_start: z.string(),
    period_end: z.string(),
    due_date: z.string().nullable(),
    state: z.enum(OBLIGATION_STATES),
    on_time: z.boolean().nullable(),
    fulfilled_at: Iso,
    fulfilled_submission_id: z.string().nullable(),
    overdue_at: Iso,
    case_id: z.string().nullable(),
    case_state: z.enum(CASE_STATES).nullable(),
    opened_at: z.string(),
    waived_at: Iso,
    waived_reason: z.string().nullable(),
    calendar_pending_year: z
      .number()
      .int()
      .nullable()
      .openapi({ description: '截止日期待该年工作日历载入后确定（不据此认定逾期）/ the due date waits for this year\'s calendar (nobody is overdue meanwhile)', example: 2027 }),
  }),
);
const EventSchema = z.object({ at: z.string(), kind: z.string(), actor: z.string(), detail: z.record(z.string(), z.unknown()) });
const CaseSchema = registry.register(
  'ComplianceCase',
  z.object({
    id: z.string().uuid(),
    provider: z.string(),
    provider_name: z.string(),
    kind: z.enum(CASE_KINDS),
    reference_id: z.string(),
    state: z.enum(CASE_STATES),
    state_zh: z.string(),
    article: z.string(),
    summary: z.string(),
    missed_deadline: z.string().nullable(),
    opened_at: z.string(),
    order_deadline: z.string().nullable(),
    order_note: z.string().nullable(),
    ordered_at: Iso,
    ordered_by: z.string().nullable(),
    escalation_due_at: Iso,
    escalated_at: Iso,
    escalated_by: z.string().nullable(),
    referred_to: z.string().nullable(),
    responsible_unit: z.string().nullable(),
    escalation_note: z.string().nullable(),
    resolved_at: Iso,
    resolution: z.string().nullable(),
  }),
);
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
    escalated: z.number().int(),
  }),
);
const CadenceChangeSchema = registry.register(
  'CadenceChange',
  z.object({
    id: z.number().int(),
    kind: z.enum(['initial', 'agreement']),
    cadence: z.enum(CADENCES),
    previous_cadence: z.enum(CADENCES).nullable(),
    effective_from: z.string(),
    agreed_on: z.string().nullable(),
    note: z.string().nullable(),
    actor: z.string(),
    created_at: z.string(),
    superseded_at: Iso,
  }),
);

// ─── OpenAPI ─────────────────────────────────────────────────────────────────────────────────────────────────

const tagO = ['报送义务 Reporting obligations'];
const tagC = ['督办 Compliance cases'];
const json = (schema: z.ZodTypeAny, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const conflict = { 409: json(ErrorBody, '状态不允许 / the case or obligation is not in a state that allows it') };
document({
  method: 'get',
  path: '/obligations/board',
  tags: tagO,
  summary: '逾期未报送看板（管理机构）/ the overdue board: providers overdue, working days overdue, order and escalation state (admin, supervisor)',
  secured: true,
  request: { query: BoardQuery },
  responses: {
    200: json(
      z.object({
        total: z.number().int(),
        today: z.string(),
        rows: z.array(BoardRow),
        awaiting_calendar: z
          .array(z.object({ year: z.number().int(), obligations: z.number().int(), message: z.string() }))
          .openapi({ description: '截止日期待工作日历载入的报送义务（尚未逾期，不在看板行内）/ obligations whose due date waits on a year (not overdue, not rows of the board)' }),
      }),
    ),
  },
});
document({
  method: 'get',
  path: '/obligations/stats',
  tags: tagO,
  summary: '按报送期统计：按时、逾期后报送、逾期、已提请监察 / counts per period for the dashboard (admin, supervisor)',
  secured: true,
  request: { query: StatsQuery },
  responses: { 200: json(z.object({ periods: z.array(StatsRow) })) },
});
document({
  method: 'get',
  path: '/obligations',
  tags: tagO,
  summary: '报送义务列表：信息提供单位只见本单位 / obligations: a provider sees its own, admin/supervisor/staff all',
  secured: true,
  request: { query: ListQuery },
  responses: { 200: json(z.object({ total: z.number().int(), obligations: z.array(ObligationSchema) })) },
});
document({
  method: 'get',
  path: '/obligations/reminders',
  tags: tagO,
  summary: '本单位的报送提醒 / the reminders sent to the calling provider',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: json(z.object({ reminders: z.array(z.object({ id: z.number(), title: z.string(), body: z.string(), data: z.record(z.string(), z.unknown()), created_at: z.string(), read_at: Iso })) })) },
});
document({
  method: 'get',
  path: '/obligations/{id}',
  tags: tagO,
  summary: '一项报送义务：每一步及其时间、操作人；提醒；督办案件 / one obligation with its steps, reminders and case',
  secured: true,
  request: { params: IdParam },
  responses: { 200: json(z.object({ obligation: ObligationSchema, events: z.array(EventSchema), case: CaseSchema.nullable(), case_events: z.array(EventSchema) })) },
});
document({
  method: 'post',
  path: '/obligations/{id}/rectification-order',
  tags: tagO,
  summary: '责令限期改正（管理机构，E20、P24）/ order an overdue provider to rectify by a date (admin)',
  secured: true,
  request: { params: IdParam, body: { content: { 'application/json': { schema: OrderBody } } } },
  responses: { 200: json(z.object({ case: CaseSchema })), 422: json(ErrorBody, '期限无效 / bad deadline'), ...conflict },
});
document({
  method: 'get',
  path: '/compliance-cases',
  tags: tagC,
  summary: '督办案件（逾期报送、未按时配合异议核实）/ compliance cases (admin, supervisor; a provider sees its own)',
  secured: true,
  request: { query: CaseListQuery },
  responses: { 200: json(z.object({ total: z.number().int(), cases: z.array(CaseSchema) })) },
});
document({
  method: 'get',
  path: '/compliance-cases/{id}',
  tags: tagC,
  summary: '一个督办案件及其每一步 / one case with its steps',
  secured: true,
  request: { params: CaseIdParam },
  responses: { 200: json(z.object({ case: CaseSchema, events: z.array(EventSchema) })) },
});
document({
  method: 'post',
  path: '/compliance-cases/{id}/rectification-order',
  tags: tagC,
  summary: '责令限期改正（管理机构，E20、P24）/ order a provider to rectify by a date (admin)',
  secured: true,
  request: { params: CaseIdParam, body: { content: { 'application/json': { schema: OrderBody } } } },
  responses: { 200: json(z.object({ case: CaseSchema })), 422: json(ErrorBody, '期限无效 / bad deadline'), ...conflict },
});
document({
  method: 'post',
  path: '/compliance-cases/{id}/escalation',
  tags: tagC,
  summary: '提请监察部门追究直接责任人的行政责任（E20、P24）/ escalate an ignored order to the supervision department (supervisor)',
  secured: true,
  request: { params: CaseIdParam, body: { content: { 'application/json': { schema: EscalationBody } } } },
  responses: { 200: json(z.object({ case: CaseSchema })), ...conflict },
});
document({
  method: 'get',
  path: '/supervision/escalation-due',
  tags: tagC,
  summary: '逾期未改正、待提请监察的案件 / cases whose order was ignored, due for escalation (supervisor, admin)',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: json(z.object({ total: z.number().int(), cases: z.array(CaseSchema) })) },
});
document({
  method: 'get',
  path: '/supervision/escalations',
  tags: tagC,
  summary: '已提请监察的案件 / escalated cases (supervisor, admin)',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: json(z.object({ total: z.number().int(), cases: z.array(CaseSchema) })) },
});
document({
  method: 'get',
  path: '/admin/providers/{code}/compliance',
  tags: tagO,
  summary: '信息提供单位的报送履约记录 / a provider\'s compliance history: cadences, obligations, cases (admin, supervisor)',
  secured: true,
  request: { params: CodeParam },
  responses: {
    200: json(
      z.object({
        provider: z.object({ code: z.string(), name_zh: z.string(), kind: z.string(), cadence: z.enum(CADENCES), active: z.boolean(), deactivated_at: z.string().nullable(), deactivation_reason: z.string().nullable() }),
        cadence: z.object({ in_force: z.enum(CADENCES), pending: z.object({ cadence: z.enum(CADENCES), effective_from: z.string() }).nullable() }),
        cadence_changes: z.array(CadenceChangeSchema),
        summary: z.object({ total: z.number(), on_time: z.number(), late: z.number(), overdue: z.number(), open: z.number(), waived: z.number(), escalated: z.number() }),
        obligations: z.array(ObligationSchema),
        cases: z.array(CaseSchema),
      }),
    ),
  },
});
document({
  method: 'post',
  path: '/admin/providers/{code}/cadence',
  tags: tagO,
  summary: '报送周期变更（经协商同意，自下一报送期起生效，E7、P9）/ record an agreed cadence, effective from the next period (admin)',
  secured: true,
  request: { params: CodeParam, body: { content: { 'application/json': { schema: CadenceBody } } } },
  responses: {
    201: json(z.object({ change: z.object({ id: z.number(), previous_cadence: z.enum(CADENCES), cadence: z.enum(CADENCES), effective_from: z.string(), first_period: z.string(), agreed_on: z.string(), superseded: z.array(z.number()) }) })),
    ...conflict,
  },
});
const DeactivateProviderBody = z
  .object({ reason: z.string().trim().min(2, { message: '请说明理由（至少 2 个字）/ give a reason (2 characters or more)' }).max(500).openapi({ example: '机构改革，职责并入市市场监督管理局' }) })
  .strict();
const ActivateProviderBody = z.object({ reason: z.string().trim().min(2).max(500).optional() }).strict();
document({
  method: 'post',
  path: '/admin/providers/{code}/deactivation',
  tags: tagO,
  summary: '停用信息提供单位：不再开立报送义务、不得报送；未到期且未报送的义务免于报送，已逾期的照旧督办 / deactivate a provider (admin)',
  secured: true,
  request: { params: CodeParam, body: { content: { 'application/json': { schema: DeactivateProviderBody } } } },
  responses: {
    200: json(
      z.object({
        provider: z.object({ code: z.string(), active: z.boolean(), deactivated_at: z.string().nullable(), deactivation_reason: z.string().nullable() }),
        waived: z.array(z.string()).openapi({ description: '免于报送的报送期 / periods no longer owed' }),
        overdue_kept: z.array(z.string()).openapi({ description: '已逾期、照旧督办的报送期 / overdue periods whose cases go on' }),
        submitted_kept: z.array(z.string()).openapi({ description: '已收到报送、照常认定的报送期 / periods with a batch received' }),
      }),
    ),
    ...conflict,
  },
});
document({
  method: 'post',
  path: '/admin/providers/{code}/activation',
  tags: tagO,
  summary: '重新启用信息提供单位：停用期间的报送期免于报送，当前报送期起恢复报送义务 / reactivate a provider (admin)',
  secured: true,
  request: { params: CodeParam, body: { content: { 'application/json': { schema: ActivateProviderBody } } } },
  responses: {
    200: json(
      z.object({
        provider: z.object({ code: z.string(), active: z.boolean(), deactivated_at: z.string().nullable(), deactivation_reason: z.string().nullable() }),
        waived_while_inactive: z.array(z.string()),
        obligations: z.array(z.object({ id: z.number(), period: z.string() })),
      }),
    ),
    ...conflict,
  },
});
document({
  method: 'post',
  path: '/admin/providers',
  tags: tagO,
  summary: '登记信息提供单位（年中登记即开立当期报送义务）/ register a provider; its current period is opened at once (admin)',
  secured: true,
  request: { body: { content: { 'application/json': { schema: NewProviderBody } } } },
  responses: { 201: json(z.object({ provider: z.object({ code: z.string(), cadence: z.enum(CADENCES) }), obligations: z.array(z.object({ id: z.number(), period: z.string() })) })), ...conflict },
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

const isoCol = (db: Db, col: string, as: string) => db.raw(`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${as}`);

function obligationColumns(db: Db) {
  return [
    'o.id',
    'p.code as provider',
    'p.name_zh as provider_name',
    'o.period',
    'o.cadence',
    'o.period_start',
    'o.period_end',
    'o.due_date',
    'o.state',
    'o.on_time',
    isoCol(db, 'o.fulfilled_at', 'fulfilled_at'),
    'o.fulfilled_submission_id',
    isoCol(db, 'o.overdue_at', 'overdue_at'),
    'o.case_id',
    'c.state as case_state',
    isoCol(db, 'o.opened_at', 'opened_at'),
    isoCol(db, 'o.waived_at', 'waived_at'),
    'o.waived_reason',
    'o.calendar_pending_year',
  ];
}

function caseColumns(db: Db) {
  return [
    'c.id',
    'p.code as provider',
    'p.name_zh as provider_name',
    'c.kind',
    'c.reference_id',
    'c.state',
    'c.article',
    'c.summary',
    'c.missed_deadline',
    isoCol(db, 'c.opened_at', 'opened_at'),
    'c.order_deadline',
    'c.order_note',
    isoCol(db, 'c.ordered_at', 'ordered_at'),
    'c.ordered_by',
    isoCol(db, 'c.escalation_due_at', 'escalation_due_at'),
    isoCol(db, 'c.escalated_at', 'escalated_at'),
    'c.escalated_by',
    'c.referred_to',
    'c.responsible_unit',
    'c.escalation_note',
    isoCol(db, 'c.resolved_at', 'resolved_at'),
    'c.resolution',
  ];
}

const withStateZh = <T extends { state: CaseState }>(c: T) => ({ ...c, state_zh: CASE_STATE_ZH[c.state] });

function eventsOf(db: Db, table: 'obligation_events' | 'compliance_case_events', key: string, id: string | number) {
  return db(table).where(key, id).orderBy([{ column: 'at' }, { column: 'id' }]).select(isoCol(db, 'at', 'at'), 'kind', 'actor', 'detail');
}

function today(): string {
  return shanghaiDate(new Date());
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

/** A case the caller may see: admin and supervisor all, a provider its own; another's is 404. */
async function visibleCase(db: Db, p: Principal, id: string) {
  const row = await db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .where('c.id', id)
    .modify((b) => {
      if (p.role === 'provider') b.where('c.provider_id', p.providerId);
    })
    .first(caseColumns(db));
  if (!row) throw notFound(`督办案件 ${id}`);
  return withStateZh(row);
}

const UPDATE_ERRORS: Record<string, { status: number; code: string; field: string }> = {
  DeadlineNotInFuture: { status: 422, code: 'DEADLINE_NOT_IN_FUTURE', field: 'deadline' },
  BadDeadline: { status: 422, code: 'BAD_DEADLINE', field: 'deadline' },
  CaseNotOverdue: { status: 409, code: 'CASE_NOT_OVERDUE', field: 'state' },
  CaseNotEscalationDue: { status: 409, code: 'CASE_NOT_ESCALATION_DUE', field: 'state' },
  CaseStateConflict: { status: 409, code: 'CASE_STATE_CONFLICT', field: 'state' },
  BadRequest: { status: 400, code: 'BAD_REQUEST', field: '(body)' },
};

/** Runs a case Update; a refusal of its validator (or of the database guard) is the caller's 4xx, never a 500. */
async function runCaseUpdate<R>(deps: AppDeps, workflowId: string, run: (h: ReturnType<AppDeps['temporal']['workflow']['getHandle']>) => Promise<R>, article: string): Promise<R> {
  try {
    return await run(deps.temporal.workflow.getHandle(workflowId));
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      const cause = e.cause;
      const type = cause instanceof ApplicationFailure ? (cause.type ?? '') : '';
      const known = UPDATE_ERRORS[type] ?? { status: 409, code: 'CASE_STATE_CONFLICT', field: 'state' };
      const message = cause?.message ?? e.message;
      throw new HttpError(known.status, known.code, message, [{ field: known.field, reason: message, article }]);
    }
    if (e instanceof WorkflowNotFoundError) {
      throw new HttpError(409, 'CASE_NOT_RUNNING', '该案件的督办流程未在运行，请稍后再试 / the case\'s process is not running; try again shortly', [
        { field: 'id', reason: '流程未运行 / process not running', article },
      ]);
    }
    throw e;
  }
}

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function obligationsRouter(deps: AppDeps): Router {
  const { db } = deps;
  const r = Router();
  const body = express.json({ limit: '100kb' });

  r.get('/obligations/board', requireRole('admin', 'supervisor'), async (req, res) => {
    const q = BoardQuery.parse(req.query);
    const { sql, bindings } = boardQuery({ providers: q.provider, kind: q.kind, period: q.period, state: q.state, sort: q.sort, order: q.order, limit: q.limit, offset: q.offset });
    const [rows, calendar, awaiting] = await Promise.all([db.raw(sql, bindings as never[]), loadCalendar(db), obligationsAwaitingCalendar(db, q.provider)]);
    const on = today();
    const found = rows.rows as BoardSqlRow[];
    const days = overdueDaysMany(calendar, found.map((r) => r.due_date), on);
    res.json({
      total: found[0]?.total ?? 0,
      today: on,
      rows: found.map((r) => {
        const d = days.get(r.due_date) ?? null;
        return boardRow(r, d, d === null ? calendar.firstMissingYear(r.due_date, on) : null);
      }),
      awaiting_calendar: awaiting.map((a) => ({
        ...a,
        message: `${a.obligations} 项报送义务的截止日期待 ${a.year} 年工作日历载入后确定，载入前不认定逾期 / ${a.obligations} obligation(s) get their due date once ${a.year}'s calendar is loaded; none is overdue meanwhile`,
      })),
    });
  });

  r.get('/obligations/stats', requireRole('admin', 'supervisor'), async (req, res) => {
    const q = StatsQuery.parse(req.query);
    const from = q.from ? parsePeriod(q.from)!.start : undefined;
    const to = q.to ? parsePeriod(q.to)!.start : undefined;
    if (from && to && from > to) throw badRequest('起始报送期晚于截止报送期 / from is after to', [{ field: 'from', reason: '应不晚于 to / must not be after to' }]);
    const rows = await obligationStats(db, { from, to, providers: q.provider });
    res.json({ periods: rows.map(({ period_start: _s, ...row }) => row) });
  });

  r.get('/obligations', requireRole('provider', 'admin', 'supervisor', 'staff'), async (req, res) => {
    const p = principalOf(req);
    const q = ListQuery.parse(req.query);
    const base = db('obligations as o')
      .join('providers as p', 'p.id', 'o.provider_id')
      .leftJoin('compliance_cases as c', 'c.id', 'o.case_id')
      .modify((b) => {
        // A provider sees only its own obligations (E10, E23).
        if (p.role === 'provider') b.where('o.provider_id', p.providerId);
        else if (q.provider) b.whereIn('p.code', q.provider);
        if (q.period) b.where('o.period', q.period);
        if (q.state) b.where('o.state', q.state);
      });
    const [{ n }] = await base.clone().count({ n: '*' });
    const rows = await base.orderBy([{ column: 'o.period_start', order: 'desc' }, { column: 'p.code' }]).limit(q.limit).offset(q.offset).select(obligationColumns(db));
    res.json({ total: Number(n), obligations: rows });
  });

  r.get('/obligations/reminders', requireRole('provider'), async (req, res) => {
    const p = principalOf(req);
    const q = z.object(Paging).strict().parse(req.query);
    const rows = await db('notifications')
      .where({ recipient_provider_id: p.providerId, kind: 'obligation.reminder' })
      .orderBy('id', 'desc')
      .limit(q.limit)
      .offset(q.offset)
      .select('id', 'title', 'body', 'entity_id', 'data', isoCol(db, 'created_at', 'created_at'), isoCol(db, 'read_at', 'read_at'));
    res.json({ reminders: rows });
  });

  r.get('/obligations/:id', requireRole('provider', 'admin', 'supervisor', 'staff'), async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const obligation = await db('obligations as o')
      .join('providers as p', 'p.id', 'o.provider_id')
      .leftJoin('compliance_cases as c', 'c.id', 'o.case_id')
      .where('o.id', id)
      .modify((b) => {
        if (p.role === 'provider') b.where('o.provider_id', p.providerId);
      })
      .first(obligationColumns(db));
    if (!obligation) throw notFound(`报送义务 ${id}`);
    const events = await eventsOf(db, 'obligation_events', 'obligation_id', id);
    let kase = null;
    let caseEvents: unknown[] = [];
    if (obligation.case_id) {
      kase = await visibleCase(db, p, obligation.case_id);
      caseEvents = await eventsOf(db, 'compliance_case_events', 'case_id', obligation.case_id);
    }
    res.json({ obligation, events, case: kase, case_events: caseEvents });
  });

  /** 责令限期改正: the API checks what it can for a clear answer; the workflow's Update validator decides. */
  async function order(req: Request, caseId: string) {
    const admin = principalOf(req);
    const b = OrderBody.parse(req.body ?? {});
    const c = await caseById(db, caseId);
    if (!c) throw notFound(`督办案件 ${caseId}`);
    if (c.state !== 'overdue') {
      throw new HttpError(409, 'CASE_NOT_OVERDUE', `案件当前状态为"${CASE_STATE_ZH[c.state]}"，只能对逾期未改正的单位责令限期改正 / only an overdue case can be ordered`, [
        { field: 'state', reason: `${c.state}`, article: c.article },
      ]);
    }
    if (b.deadline <= today()) {
      throw new HttpError(422, 'DEADLINE_NOT_IN_FUTURE', `改正期限 ${b.deadline} 已过或为今日，应晚于今日 / the deadline must be after today`, [
        { field: 'deadline', reason: '期限已过 / the deadline has passed (must be after today)', article: 'E20, P24' },
      ]);
    }
    const request: OrderRequest = { deadline: b.deadline, note: b.note || null, principalId: admin.id, actor: actorLabel(admin), requestId: crypto.randomUUID() };
    await runCaseUpdate(deps, c.workflow_id, (h) => h.executeUpdate(orderRectificationUpdate, { args: [request], updateId: request.requestId }), c.article);
    return visibleCase(db, admin, caseId);
  }

  r.post('/obligations/:id/rectification-order', requireRole('admin'), body, async (req, res) => {
    const { id } = IdParam.parse(req.params);
    const o = await db('obligations').where('id', id).first('state', 'case_id');
    if (!o) throw notFound(`报送义务 ${id}`);
    if (o.state !== 'overdue' || !o.case_id) {
      throw new HttpError(409, 'OBLIGATION_NOT_OVERDUE', `该报送义务${o.state === 'fulfilled' ? '已履行' : '尚未逾期'}，不能责令限期改正 / the obligation is not overdue`, [
        { field: 'state', reason: o.state, article: 'E20, P24' },
      ]);
    }
    res.json({ case: await order(req, o.case_id) });
  });

  r.get('/compliance-cases', requireRole('provider', 'admin', 'supervisor'), async (req, res) => {
    const p = principalOf(req);
    const q = CaseListQuery.parse(req.query);
    res.json(await listCases(db, p, q));
  });

  r.get('/supervision/escalation-due', requireRole('supervisor', 'admin'), async (req, res) => {
    const q = z.object(Paging).strict().parse(req.query);
    res.json(await listCases(db, principalOf(req), { ...q, state: 'escalation_due' }));
  });

  r.get('/supervision/escalations', requireRole('supervisor', 'admin'), async (req, res) => {
    const q = z.object(Paging).strict().parse(req.query);
    res.json(await listCases(db, principalOf(req), { ...q, state: 'escalated' }));
  });

  r.get('/compliance-cases/:id', requireRole('provider', 'admin', 'supervisor'), async (req, res) => {
    const { id } = CaseIdParam.parse(req.params);
    const kase = await visibleCase(db, principalOf(req), id);
    res.json({ case: kase, events: await eventsOf(db, 'compliance_case_events', 'case_id', id) });
  });

  r.post('/compliance-cases/:id/rectification-order', requireRole('admin'), body, async (req, res) => {
    const { id } = CaseIdParam.parse(req.params);
    res.json({ case: await order(req, id) });
  });

  r.post('/compliance-cases/:id/escalation', requireRole('supervisor'), body, async (req, res) => {
    const sup = principalOf(req);
    const { id } = CaseIdParam.parse(req.params);
    const b = EscalationBody.parse(req.body ?? {});
    const c = await caseById(db, id);
    if (!c) throw notFound(`督办案件 ${id}`);
    if (c.state !== 'escalation_due') {
      throw new HttpError(409, 'CASE_NOT_ESCALATION_DUE', `案件当前状态为"${CASE_STATE_ZH[c.state]}"，只有责令改正期限已过仍未改正的案件可提请监察 / only a case whose order was ignored can be escalated`, [
        { field: 'state', reason: c.state, article: c.article },
      ]);
    }
    const request: EscalationRequest = {
      responsibleUnit: b.responsible_unit,
      referredTo: b.referred_to,
      note: b.note,
      principalId: sup.id,
      actor: actorLabel(sup),
      requestId: crypto.randomUUID(),
    };
    await runCaseUpdate(deps, c.workflow_id, (h) => h.executeUpdate(escalateCaseUpdate, { args: [request], updateId: request.requestId }), c.article);
    res.json({ case: await visibleCase(db, sup, id) });
  });

  r.get('/admin/providers/:code/compliance', requireRole('admin', 'supervisor'), async (req, res) => {
    const { code } = CodeParam.parse(req.params);
    const provider = await db('providers')
      .where('code', code)
      .first('id', 'code', 'name_zh', 'kind', 'cadence', 'active', isoCol(db, 'deactivated_at', 'deactivated_at'), 'deactivation_reason');
    if (!provider) throw notFound(`信息提供单位 ${code}`);
    const state = await cadenceState(db, provider.id, today());
    const changes = await db('provider_cadence_changes')
      .where('provider_id', provider.id)
      .orderBy('id')
      .select('id', 'kind', 'cadence', 'previous_cadence', 'effective_from', 'agreed_on', 'note', 'actor', isoCol(db, 'created_at', 'created_at'), isoCol(db, 'superseded_at', 'superseded_at'));
    const obligations = await db('obligations as o')
      .join('providers as p', 'p.id', 'o.provider_id')
      .leftJoin('compliance_cases as c', 'c.id', 'o.case_id')
      .where('o.provider_id', provider.id)
      .orderBy('o.period_start', 'desc')
      .select(obligationColumns(db));
    const cases = (await db('compliance_cases as c').join('providers as p', 'p.id', 'c.provider_id').where('c.provider_id', provider.id).orderBy('c.opened_at', 'desc').select(caseColumns(db))).map(withStateZh);
    const count = (f: (o: (typeof obligations)[number]) => boolean) => obligations.filter(f).length;
    res.json({
      provider: {
        code: provider.code,
        name_zh: provider.name_zh,
        kind: provider.kind,
        cadence: provider.cadence,
        active: provider.active,
        deactivated_at: provider.deactivated_at,
        deactivation_reason: provider.deactivation_reason,
      },
      cadence: { in_force: state.inForce, pending: state.pending ? { cadence: state.pending.cadence, effective_from: state.pending.effectiveFrom } : null },
      cadence_changes: changes.map((c) => ({ ...c, id: Number(c.id) })),
      summary: {
        total: obligations.length,
        on_time: count((o) => o.state === 'fulfilled' && o.on_time === true),
        late: count((o) => o.state === 'fulfilled' && o.on_time === false),
        overdue: count((o) => o.state === 'overdue'),
        open: count((o) => o.state === 'open'),
        waived: count((o) => o.state === 'waived'),
        escalated: cases.filter((c) => c.state === 'escalated').length,
      },
      obligations,
      cases,
    });
  });

  r.post('/admin/providers/:code/cadence', requireRole('admin'), body, async (req, res) => {
    const admin = principalOf(req);
    const { code } = CodeParam.parse(req.params);
    const b = CadenceBody.parse(req.body ?? {});
    const on = today();
    if (b.agreed_on > on) throw badRequest('协商同意日期不能晚于今日 / the agreement date cannot be in the future', [{ field: 'agreed_on', reason: '日期在未来 / in the future', article: 'E7, P9' }]);
    const provider = await db('providers').where('code', code).first('id');
    if (!provider) throw notFound(`信息提供单位 ${code}`);
    try {
      const change = await recordCadenceChange(db, { providerId: provider.id, cadence: b.cadence as Cadence, agreedOn: b.agreed_on, note: b.note, today: on, principalId: admin.id, actor: actorLabel(admin) });
      res.status(201).json({
        change: {
          id: change.id,
          previous_cadence: change.previousCadence,
          cadence: change.cadence,
          effective_from: change.effectiveFrom,
          first_period: change.firstPeriod,
          agreed_on: change.agreedOn,
          superseded: change.superseded,
        },
      });
    } catch (e) {
      if (e instanceof CadenceChangeError) throw new HttpError(409, e.code, e.message, [{ field: 'cadence', reason: e.message, article: 'E7, P9' }]);
      throw e;
    }
  });

  const providerState = (code: string) =>
    db('providers').where('code', code).first('code', 'active', db.raw(`to_char(deactivated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS deactivated_at`), 'deactivation_reason');

  r.post('/admin/providers/:code/deactivation', requireRole('admin'), body, async (req, res) => {
    const admin = principalOf(req);
    const { code } = CodeParam.parse(req.params);
    const b = DeactivateProviderBody.parse(req.body ?? {});
    const provider = await db('providers').where('code', code).first('id');
    if (!provider) throw notFound(`信息提供单位 ${code}`);
    let out: ProviderDeactivation;
    try {
      out = await deactivateProvider(db, { providerId: provider.id, reason: b.reason, principalId: admin.id, actor: actorLabel(admin) });
    } catch (e) {
      if (e instanceof ProviderStateError) throw new HttpError(409, e.code, e.message, [{ field: 'code', reason: e.message }]);
      throw e;
    }
    // Wake the waived obligations' workflows so they end now (each reads the database; if one is not reached, it
    // ends at its next reminder or due date all the same).
    await Promise.all(
      out.waived.map(async (w) => {
        try {
          await deps.temporal.workflow.getHandle(w.workflowId).signal(submissionReceivedSignal, 'provider-deactivated');
        } catch (e) {
          if (!(e instanceof WorkflowNotFoundError)) console.error(`[api] could not wake ${w.workflowId}:`, (e as Error).message);
        }
      }),
    );
    res.json({ provider: await providerState(code), waived: out.waived.map((w) => w.period), overdue_kept: out.overdueKept, submitted_kept: out.submittedKept });
  });

  r.post('/admin/providers/:code/activation', requireRole('admin'), body, async (req, res) => {
    const admin = principalOf(req);
    const { code } = CodeParam.parse(req.params);
    const b = ActivateProviderBody.parse(req.body ?? {});
    const provider = await db('providers').where('code', code).first('id');
    if (!provider) throw notFound(`信息提供单位 ${code}`);
    const on = today();
    let waivedWhileInactive: string[];
    try {
      ({ waivedWhileInactive } = await reactivateProvider(db, { providerId: provider.id, today: on, reason: b.reason ?? null, principalId: admin.id, actor: actorLabel(admin) }));
    } catch (e) {
      if (e instanceof ProviderStateError) throw new HttpError(409, e.code, e.message, [{ field: 'code', reason: e.message }]);
      throw e;
    }
    // The period in progress is owed again, as at registration; its workflow starts now or with the daily opener.
    const calendar = await loadCalendar(db);
    const opened = await openMissingObligations(db, { today: on, dueWorkingDays: obligationSettings().obligationDueWorkingDays, calendar, providerIds: [provider.id], actor: actorLabel(admin) });
    try {
      await startPendingObligationWorkflows({ db, temporal: deps.temporal, taskQueue: deps.config.taskQueue });
    } catch (e) {
      console.error(`[api] obligation workflows of ${code} deferred to the daily opener:`, (e as Error).message);
    }
    res.json({ provider: await providerState(code), waived_while_inactive: waivedWhileInactive, obligations: opened.map((o) => ({ id: o.id, period: o.period })) });
  });

  r.post('/admin/providers', requireRole('admin'), body, async (req, res) => {
    const admin = principalOf(req);
    const b = NewProviderBody.parse(req.body ?? {});
    const on = today();
    const providerId = await db.transaction(async (trx) => {
      const [row] = await trx('providers')
        .insert({ code: b.code, name_zh: b.name_zh, name_en: b.name_en, kind: b.kind, legal_basis: b.legal_basis, cadence: b.cadence })
        .onConflict('code')
        .ignore()
        .returning('id');
      if (!row) throw new HttpError(409, 'PROVIDER_EXISTS', `单位代码 ${b.code} 已存在 / a provider with this code exists`, [{ field: 'code', reason: '已存在 / exists' }]);
      await trx('provider_items').insert([...new Set(b.items)].map((item_code) => ({ provider_id: row.id, item_code })));
      await trx('provider_cadence_changes').insert({
        provider_id: row.id,
        kind: 'initial',
        cadence: b.cadence,
        effective_from: periodContaining(on, b.cadence as Cadence).start,
        agreed_on: b.cadence === 'monthly' ? null : on,
        note: '登记时开始跟踪报送义务 / tracking begins at registration',
        principal_id: admin.id,
        actor: actorLabel(admin),
      });
      await trx('audit_log').insert({
        principal_id: admin.id,
        actor: actorLabel(admin),
        action: 'provider.register',
        entity: 'provider',
        entity_id: b.code,
        detail: { name_zh: b.name_zh, kind: b.kind, legal_basis: b.legal_basis, items: b.items, cadence: b.cadence, article: 'E7, E8, E9, P8' },
      });
      return row.id as number;
    });
    // Its current period is owed (registered mid-year: not the earlier ones); its workflow starts now, or with
    // the daily opener if Temporal cannot be reached.
    const calendar = await loadCalendar(db);
    const opened = await openMissingObligations(db, { today: on, dueWorkingDays: obligationSettings().obligationDueWorkingDays, calendar, providerIds: [providerId], actor: actorLabel(admin) });
    try {
      await startPendingObligationWorkflows({ db, temporal: deps.temporal, taskQueue: deps.config.taskQueue });
    } catch (e) {
      // eslint-disable-next-line no-console
      console.error(`[api] obligation workflows of ${b.code} deferred to the daily opener:`, (e as Error).message);
    }
    res.status(201).json({ provider: { code: b.code, cadence: b.cadence }, obligations: opened.map((o) => ({ id: o.id, period: o.period })) });
  });

  return r;
}

async function listCases(db: Db, p: Principal, q: { state?: CaseState; kind?: string; provider?: string[]; limit: number; offset: number }) {
  const base = db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .modify((b) => {
      if (p.role === 'provider') b.where('c.provider_id', p.providerId);
      else if (q.provider) b.whereIn('p.code', q.provider);
      if (q.state) b.where('c.state', q.state);
      if (q.kind) b.where('c.kind', q.kind);
    });
  const [{ n }] = await base.clone().count({ n: '*' });
  const rows = await base.orderBy([{ column: 'c.opened_at', order: 'desc' }, { column: 'c.id' }]).limit(q.limit).offset(q.offset).select(caseColumns(db));
  return { total: Number(n), cases: rows.map(withStateZh) };
}
