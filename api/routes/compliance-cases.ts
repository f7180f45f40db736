/**
 * Compliance cases (E20, P24) over HTTP: the cases (admin, supervisor; a provider its own, another's answer 404),
 * rectification orders (admin: of a case, or of an overdue obligation's case), the cases due for escalation, the
 * escalation to the supervision department and the escalations (supervisor). Orders and escalations are Updates of
 * the case's workflow, whose validator decides.
 */
import crypto from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from '../../domain/z';
import { shanghaiDate } from '../../domain/calendar';
import { CASE_KINDS, CASE_STATES, CASE_STATE_ZH } from '../../domain/obligations';
import { caseById, caseEvents, listCases, visibleCase } from '../../db/compliance-cases';
import { obligationCaseOf } from '../../db/obligations';
import type { Db } from '../../db/knex';
import type { Principal } from '../../domain/roles';
import { escalateCaseUpdate, orderRectificationUpdate, type EscalationRequest, type OrderRequest } from '../../processes/messages';
import { runUpdate } from '../../processes/client';
import { caseRefusals, orRefusal } from '../../processes/errors';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, notFound } from '../errors';
import { document, errorAnswer, jsonRequest } from '../openapi';
import {
  CaseSchema,
  EventSchema,
  ObligationIdParam,
  Paging,
  date,
  json,
  jsonBody,
  providerList,
  tagC,
  tagO,
  type Endpoint,
} from './obligation-common';

const CaseIdParam = z.object({ id: z.string().uuid({ message: '案件编号应为 UUID / case id must be a UUID' }) });

/** A case the caller may see: admin and supervisor all, a provider its own; another's is 404. */
async function seenCase(db: Db, p: Principal, id: string) {
  const kase = await visibleCase(db, p, id);
  if (!kase) throw notFound(`督办案件 ${id}`);
  return kase;
}

// ─── Rectification orders ────────────────────────────────────────────────────────────────────────────────────

const OrderBody = z
  .object({
    deadline: date.openapi({ description: '改正期限（含当日）/ rectify by this date (inclusive)', example: '2026-12-15' }),
    note: z.string().trim().max(2000).optional().openapi({ description: '改正要求 / what is required' }),
  })
  .strict();

/** 责令限期改正: the API checks what it can for a clear answer; the workflow's Update validator decides. */
async function order(deps: AppDeps, req: Request, caseId: string) {
  const { db } = deps;
  const admin = principalOf(req);
  const b = OrderBody.parse(req.body ?? {});
  const c = await caseById(db, caseId);
  if (!c) throw notFound(`督办案件 ${caseId}`);
  if (c.state !== 'overdue') {
    throw new HttpError(
      409,
      'CASE_NOT_OVERDUE',
      `案件当前状态为"${CASE_STATE_ZH[c.state]}"，只能对逾期未改正的单位责令限期改正 / only an overdue case can be ordered`,
      [{ field: 'state', reason: `${c.state}`, article: c.article }],
    );
  }
  if (b.deadline <= shanghaiDate(new Date())) {
    throw new HttpError(
      422,
      'DEADLINE_NOT_IN_FUTURE',
      `改正期限 ${b.deadline} 已过或为今日，应晚于今日 / the deadline must be after today`,
      [{ field: 'deadline', reason: '期限已过 / the deadline has passed (must be after today)', article: 'E20, P24' }],
    );
  }
  const request: OrderRequest = {
    deadline: b.deadline,
    note: b.note || null,
    principalId: admin.id,
    actor: actorLabel(admin),
    requestId: crypto.randomUUID(),
  };
  await orRefusal(
    () => runUpdate(deps.temporal, c.workflow_id, orderRectificationUpdate, [request], request.requestId),
    caseRefusals(c.article),
  );
  return seenCase(db, admin, caseId);
}

// ─── OpenAPI: what an order and an escalation answer ─────────────────────────────────────────────────────────

const ARTICLE = 'E7, E20, P9, P24';
const ORDER_EXAMPLE = { deadline: '2026-12-15', note: '请于期限内补报 2026 年 10 月的行政处罚信息，逾期将提请监察部门追究责任' };
const caseNotFound = errorAnswer(
  '督办案件不存在或非本单位 / no such case, or not yours',
  notFound('督办案件 6f2b8d14-93c7-4e5a-b1d0-2a7c9e4f8b63'),
);
const caseNotRunning = new HttpError(
  409,
  'CASE_NOT_RUNNING',
  "该案件的督办流程未在运行，请稍后再试 / the case's process is not running; try again shortly",
  [{ field: 'id', reason: '流程未运行 / process not running', article: ARTICLE }],
);
const caseNotOverdue = new HttpError(
  409,
  'CASE_NOT_OVERDUE',
  `案件当前状态为"${CASE_STATE_ZH.ordered}"，只能对逾期未改正的单位责令限期改正 / only an overdue case can be ordered`,
  [{ field: 'state', reason: 'ordered', article: ARTICLE }],
);
const badDeadline = errorAnswer(
  '期限无效：须为晚于今日的日期 / bad deadline: a date after today',
  new HttpError(422, 'DEADLINE_NOT_IN_FUTURE', '改正期限 2026-11-02 已过或为今日，应晚于今日 / the deadline must be after today', [
    { field: 'deadline', reason: '期限已过 / the deadline has passed (must be after today)', article: 'E20, P24' },
  ]),
);

// ─── POST /obligations/{id}/rectification-order ──────────────────────────────────────────────────────────────

document({
  method: 'post',
  path: '/obligations/{id}/rectification-order',
  operationId: 'orderObligationRectification',
  tags: tagO,
  summary: '责令限期改正（管理机构，E20、P24）/ order an overdue provider to rectify by a date (admin)',
  secured: true,
  request: { params: ObligationIdParam, body: jsonRequest(OrderBody, ORDER_EXAMPLE, { required: true }) },
  responses: {
    200: json(z.object({ case: CaseSchema })),
    404: errorAnswer('报送义务不存在 / no such obligation', notFound('报送义务 1024')),
    409: errorAnswer(
      '该报送义务未逾期，或其案件不在可责令的状态 / the obligation is not overdue, or its case cannot be ordered',
      new HttpError(409, 'OBLIGATION_NOT_OVERDUE', '该报送义务尚未逾期，不能责令限期改正 / the obligation is not overdue', [
        { field: 'state', reason: 'open', article: 'E20, P24' },
      ]),
      caseNotOverdue,
      caseNotRunning,
    ),
    422: badDeadline,
  },
});
const orderObligation: Endpoint = (deps) => [
  requireRole('admin'),
  jsonBody(),
  async (req, res) => {
    const { id } = ObligationIdParam.parse(req.params);
    const o = await obligationCaseOf(deps.db, id);
    if (!o) throw notFound(`报送义务 ${id}`);
    if (o.state !== 'overdue' || !o.case_id) {
      throw new HttpError(
        409,
        'OBLIGATION_NOT_OVERDUE',
        `该报送义务${o.state === 'fulfilled' ? '已履行' : '尚未逾期'}，不能责令限期改正 / the obligation is not overdue`,
        [{ field: 'state', reason: o.state, article: 'E20, P24' }],
      );
    }
    res.json({ case: await order(deps, req, o.case_id) });
  },
];

// ─── GET /compliance-cases ───────────────────────────────────────────────────────────────────────────────────

const CaseListQuery = z
  .object({
    state: z.enum(CASE_STATES).optional(),
    kind: z.enum(CASE_KINDS).optional(),
    provider: providerList.optional(),
    ...Paging,
  })
  .strict();
const CaseList = z.object({ total: z.number().int(), cases: z.array(CaseSchema) });
document({
  method: 'get',
  path: '/compliance-cases',
  operationId: 'listComplianceCases',
  tags: tagC,
  summary: '督办案件（逾期报送、未按时配合异议核实）/ compliance cases (admin, supervisor; a provider sees its own)',
  secured: true,
  request: { query: CaseListQuery },
  responses: { 200: json(CaseList) },
});
const getCases: Endpoint = ({ db }) => [
  requireRole('provider', 'admin', 'supervisor'),
  async (req, res) => {
    const p = principalOf(req);
    const q = CaseListQuery.parse(req.query);
    res.json(await listCases(db, p, q));
  },
];

// ─── GET /compliance-cases/{id} ──────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/compliance-cases/{id}',
  operationId: 'getComplianceCase',
  tags: tagC,
  summary: '一个督办案件及其每一步 / one case with its steps',
  secured: true,
  request: { params: CaseIdParam },
  responses: { 200: json(z.object({ case: CaseSchema, events: z.array(EventSchema) })), 404: caseNotFound },
});
const getCase: Endpoint = ({ db }) => [
  requireRole('provider', 'admin', 'supervisor'),
  async (req, res) => {
    const { id } = CaseIdParam.parse(req.params);
    const kase = await seenCase(db, principalOf(req), id);
    res.json({ case: kase, events: await caseEvents(db, id) });
  },
];

// ─── POST /compliance-cases/{id}/rectification-order ─────────────────────────────────────────────────────────

document({
  method: 'post',
  path: '/compliance-cases/{id}/rectification-order',
  operationId: 'orderCaseRectification',
  tags: tagC,
  summary: '责令限期改正（管理机构，E20、P24）/ order a provider to rectify by a date (admin)',
  secured: true,
  request: { params: CaseIdParam, body: jsonRequest(OrderBody, ORDER_EXAMPLE, { required: true }) },
  responses: {
    200: json(z.object({ case: CaseSchema })),
    404: caseNotFound,
    409: errorAnswer('案件不在可责令的状态 / the case cannot be ordered now', caseNotOverdue, caseNotRunning),
    422: badDeadline,
  },
});
const orderCase: Endpoint = (deps) => [
  requireRole('admin'),
  jsonBody(),
  async (req, res) => {
    const { id } = CaseIdParam.parse(req.params);
    res.json({ case: await order(deps, req, id) });
  },
];

// ─── POST /compliance-cases/{id}/escalation ──────────────────────────────────────────────────────────────────

const EscalationBody = z
  .object({
    responsible_unit: z
      .string()
      .trim()
      .min(1, { message: '请写明责任单位 / name the responsible unit' })
      .max(200)
      .openapi({ example: '钦州市税务局办公室' }),
    note: z.string().trim().min(2, { message: '请写明提请理由 / give the reason' }).max(4000),
    referred_to: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .default('钦州市监察部门')
      .openapi({ description: '移送部门 / the department referred to (E20: 监察部门; P24: 有关部门)' }),
  })
  .strict();
document({
  method: 'post',
  path: '/compliance-cases/{id}/escalation',
  operationId: 'escalateComplianceCase',
  tags: tagC,
  summary: '提请监察部门追究直接责任人的行政责任（E20、P24）/ escalate an ignored order to the supervision department (supervisor)',
  secured: true,
  request: {
    params: CaseIdParam,
    body: jsonRequest(
      EscalationBody,
      {
        responsible_unit: '钦州市税务局办公室',
        note: '责令限期改正期限（2026-12-15）届满仍未报送 2026 年 10 月的信用信息，提请追究直接责任人的行政责任',
        referred_to: '钦州市监察部门',
      },
      { required: true },
    ),
  },
  responses: {
    200: json(z.object({ case: CaseSchema })),
    404: caseNotFound,
    409: errorAnswer(
      '案件尚不能提请监察 / the case cannot be escalated now',
      new HttpError(
        409,
        'CASE_NOT_ESCALATION_DUE',
        `案件当前状态为"${CASE_STATE_ZH.ordered}"，只有责令改正期限已过仍未改正的案件可提请监察 / only a case whose order was ignored can be escalated`,
        [{ field: 'state', reason: 'ordered', article: ARTICLE }],
      ),
      caseNotRunning,
    ),
  },
});
const escalateCase: Endpoint = (deps) => [
  requireRole('supervisor'),
  jsonBody(),
  async (req, res) => {
    const { db } = deps;
    const sup = principalOf(req);
    const { id } = CaseIdParam.parse(req.params);
    const b = EscalationBody.parse(req.body ?? {});
    const c = await caseById(db, id);
    if (!c) throw notFound(`督办案件 ${id}`);
    if (c.state !== 'escalation_due') {
      throw new HttpError(
        409,
        'CASE_NOT_ESCALATION_DUE',
        `案件当前状态为"${CASE_STATE_ZH[c.state]}"，只有责令改正期限已过仍未改正的案件可提请监察 / only a case whose order was ignored can be escalated`,
        [{ field: 'state', reason: c.state, article: c.article }],
      );
    }
    const request: EscalationRequest = {
      responsibleUnit: b.responsible_unit,
      referredTo: b.referred_to,
      note: b.note,
      principalId: sup.id,
      actor: actorLabel(sup),
      requestId: crypto.randomUUID(),
    };
    await orRefusal(
      () => runUpdate(deps.temporal, c.workflow_id, escalateCaseUpdate, [request], request.requestId),
      caseRefusals(c.article),
    );
    res.json({ case: await seenCase(db, sup, id) });
  },
];

// ─── GET /supervision/escalation-due, GET /supervision/escalations ───────────────────────────────────────────

const SupervisionQuery = z.object(Paging);
document({
  method: 'get',
  path: '/supervision/escalation-due',
  operationId: 'listCasesDueForEscalation',
  tags: tagC,
  summary: '逾期未改正、待提请监察的案件 / cases whose order was ignored, due for escalation (supervisor, admin)',
  secured: true,
  request: { query: SupervisionQuery },
  responses: { 200: json(CaseList) },
});
document({
  method: 'get',
  path: '/supervision/escalations',
  operationId: 'listEscalatedCases',
  tags: tagC,
  summary: '已提请监察的案件 / escalated cases (supervisor, admin)',
  secured: true,
  request: { query: SupervisionQuery },
  responses: { 200: json(CaseList) },
});
const getCasesInState =
  (state: 'escalation_due' | 'escalated'): Endpoint =>
  ({ db }) => [
    requireRole('supervisor', 'admin'),
    async (req, res) => {
      const q = SupervisionQuery.strict().parse(req.query);
      res.json(await listCases(db, principalOf(req), { ...q, state }));
    },
  ];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function complianceCasesRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/obligations/:id/rectification-order', ...orderObligation(deps));
  r.get('/compliance-cases', ...getCases(deps));
  r.get('/supervision/escalation-due', ...getCasesInState('escalation_due')(deps));
  r.get('/supervision/escalations', ...getCasesInState('escalated')(deps));
  r.get('/compliance-cases/:id', ...getCase(deps));
  r.post('/compliance-cases/:id/rectification-order', ...orderCase(deps));
  r.post('/compliance-cases/:id/escalation', ...escalateCase(deps));
  return r;
}
