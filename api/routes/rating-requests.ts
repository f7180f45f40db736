import { errorField, logger } from '../../ops/log';
import { Router } from 'express';
import { z } from '../../domain/z';
import { ENTERPRISE_RESTRICTED_CATEGORIES } from '../../domain/catalog';
import { querierOf } from '../../domain/querier';
import type { Principal } from '../../domain/roles';
import type { Db } from '../../db/knex';
import { RATING_REQUEST_STATUSES, createRatingRequest, getRatingRequest, listRatingRequests } from '../../db/rating-requests';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, registry, WorkflowStart } from '../openapi';
import { decideRatingRequestUpdate } from '../../processes/messages';
import { IdParam, Purpose, Reason, StatusQuery, checkSubjectId, json, jsonBody, tags, type Endpoint } from './query-common';
import { runUpdate } from '../../processes/client';
import { ensureRequestWorkflow } from '../../processes/starts';
import { orRefusal, requestRefusals } from '../../processes/errors';

/**
 * A rating agency's request to query an enterprise's restricted information (E14(3)): filed by the agency, approved
 * or rejected by staff by a deadline (the request's workflow keeps it), after which the agency queries with the
 * basis `{ kind: 'rating_approval', request_id }`.
 */

const RatingRequestSchema = registry.register(
  'RatingRequest',
  z.object({
    id: z.string().uuid(),
    agency_principal_id: z.string(),
    agency_name: z.string(),
    organization: z.string().nullable(),
    subject_uscc: z.string(),
    categories: z.array(z.string()),
    purpose: z.string(),
    status: z.enum(['requested', 'approved', 'rejected', 'lapsed']),
    requested_at: z.string(),
    decision_deadline: z.string().nullable(),
    decision_due_at: z.string().nullable(),
    decision_deadline_provisional: z.boolean().openapi({
      description:
        '暂定：其间有年份的工作日历尚未载入；申请不因暂定期限届满而失效 / provisional: a year on the way has no calendar; the request does not lapse on it',
    }),
    decided_at: z.string().nullable(),
    decision_reason: z.string().nullable(),
    valid_until: z.string().nullable(),
    workflow_id: z.string(),
  }),
);

/** A request the principal may see (an agency its own); 404 otherwise. */
async function oneRating(db: Db, p: Principal, id: string) {
  const row = await getRatingRequest(db, id, p.role === 'rating_agency' ? p.id : undefined);
  if (!row) throw notFound(`查询申请 ${id}`);
  return row;
}

// ─── POST /rating-requests ───────────────────────────────────────────────────────────────────────────────────

const RatingRequestBody = z
  .object({
    subject_uscc: z.string().max(18),
    categories: z.array(z.enum(ENTERPRISE_RESTRICTED_CATEGORIES)).min(1).max(4),
    purpose: Purpose,
  })
  .strict();
const RATING_REQUEST_ID = 'd5a9e3c7-2b61-4f84-8e0d-9a4c7b2f1e63';
const ratingRequestNotFound = errorAnswer(
  '申请不存在或非本机构 / no such request, or not yours',
  notFound(`查询申请 ${RATING_REQUEST_ID}`),
);
document({
  method: 'post',
  path: '/rating-requests',
  operationId: 'fileRatingRequest',
  tags,
  summary: '信用评级机构申请查询企业限制公开信息（E14(3)）/ a rating agency asks to query an enterprise',
  secured: true,
  request: {
    body: jsonRequest(
      RatingRequestBody,
      {
        subject_uscc: EXAMPLE.enterprise3.uscc,
        categories: ['tax', 'financial', 'credit'],
        purpose: '受灵山县荔乡食品有限公司委托开展 2026 年度主体信用评级',
      },
      { required: true },
    ),
  },
  responses: {
    202: {
      description: 'filed; staff decide by the deadline (workflow `pending`: Temporal was away, the deadline is set when it is back)',
      ...json(z.object({ rating_request: RatingRequestSchema, workflow: WorkflowStart })),
    },
    400: errorAnswer(
      '请求无效：统一社会信用代码或信息类别 / bad request: the credit code or the categories',
      badRequest('统一社会信用代码无效 / invalid unified social credit code', [
        { field: 'subject_uscc', reason: EXAMPLE.mistypedUscc.reason, article: 'GB 32100-2015' },
      ]),
    ),
  },
});
const fileRatingRequest: Endpoint = ({ db, temporal, config }) => [
  requireRole('rating_agency'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const b = RatingRequestBody.parse(req.body);
    checkSubjectId('enterprise', b.subject_uscc, 'subject_uscc');
    const { id, workflowId } = await createRatingRequest(db, querierOf(p), {
      subjectUscc: b.subject_uscc,
      categories: [...new Set(b.categories)],
      purpose: b.purpose,
    });
    let workflow: 'started' | 'pending' = 'started';
    try {
      await ensureRequestWorkflow(db, temporal, config.taskQueue, 'rating', id, workflowId);
    } catch (e) {
      // Filed and stored: the reconciler starts its workflow (and so its deadline) when Temporal is back.
      workflow = 'pending';
      logger('api').warn({ err: errorField(e) }, `workflow start for rating request ${id} deferred`);
    }
    res
      .status(202)
      .location(`/rating-requests/${id}`)
      .json({ rating_request: await oneRating(db, p, id), workflow });
  },
];

// ─── GET /rating-requests ────────────────────────────────────────────────────────────────────────────────────

const ListQuery = StatusQuery(RATING_REQUEST_STATUSES);
document({
  method: 'get',
  path: '/rating-requests',
  operationId: 'listRatingRequests',
  tags,
  summary: '评级查询申请（机构：本机构的；工作人员：全部）/ rating requests',
  secured: true,
  request: { query: ListQuery },
  responses: { 200: { description: 'list', ...json(z.object({ rating_requests: z.array(RatingRequestSchema) })) } },
});
const listRatingRequestsEndpoint: Endpoint = ({ db }) => [
  requireRole('rating_agency', 'staff', 'admin', 'supervisor'),
  async (req, res) => {
    const p = principalOf(req);
    const q = ListQuery.parse(req.query);
    const rows = await listRatingRequests(db, {
      agencyPrincipalId: p.role === 'rating_agency' ? p.id : undefined,
      status: q.status,
      limit: q.limit,
      offset: q.offset,
    });
    res.json({ rating_requests: rows });
  },
];

// ─── GET /rating-requests/{id} ───────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/rating-requests/{id}',
  operationId: 'getRatingRequest',
  tags,
  summary: '一项评级查询申请 / one rating request',
  secured: true,
  request: { params: IdParam },
  responses: { 200: { description: 'it', ...json(z.object({ rating_request: RatingRequestSchema })) }, 404: ratingRequestNotFound },
});
const getRatingRequestEndpoint: Endpoint = ({ db }) => [
  requireRole('rating_agency', 'staff', 'admin', 'supervisor'),
  async (req, res) => {
    const { id } = IdParam.parse(req.params);
    res.json({ rating_request: await oneRating(db, principalOf(req), id) });
  },
];

// ─── POST /rating-requests/{id}/decision ─────────────────────────────────────────────────────────────────────

const DecisionBody = z.object({ approve: z.boolean(), reason: Reason }).strict();
document({
  method: 'post',
  path: '/rating-requests/{id}/decision',
  operationId: 'decideRatingRequest',
  tags,
  summary: '审批评级查询申请（工作人员，期限内）/ approve or reject (staff, before the deadline)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(DecisionBody, { approve: true, reason: '评级委托书及评级协议齐全，所查类别与评级用途相符' }, { required: true }),
  },
  responses: {
    200: { description: 'decided', ...json(z.object({ rating_request: RatingRequestSchema })) },
    404: ratingRequestNotFound,
    409: errorAnswer(
      '已审批、已失效或已过审批期限 / decided, lapsed or past its deadline',
      new HttpError(409, 'CONFLICT', '申请状态为 lapsed，不能再审批 / the request is lapsed', [
        { field: 'id', reason: '状态 / status: lapsed', article: 'E14(3)' },
      ]),
      new HttpError(409, 'CONFLICT', '不能审批 / cannot decide：流程已结束 / the process has ended', [
        { field: '(request)', reason: '流程已结束 / the process has ended' },
      ]),
    ),
  },
});
const decideRatingRequest: Endpoint = ({ db, temporal, config }) => [
  requireRole('staff'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = DecisionBody.parse(req.body);
    const cur = await oneRating(db, p, id);
    if (cur.status !== 'requested')
      throw new HttpError(409, 'CONFLICT', `申请状态为 ${cur.status}，不能再审批 / the request is ${cur.status}`, [
        { field: 'id', reason: `状态 / status: ${cur.status}`, article: 'E14(3)' },
      ]);
    // Not started yet (filed while Temporal was away): started now, or 503 and nothing done.
    await ensureRequestWorkflow(db, temporal, config.taskQueue, 'rating', id, cur.workflow_id);
    const decision = { approve: b.approve, reason: b.reason, staffPrincipalId: p.id, staffActor: actorLabel(p) };
    await orRefusal(
      () => runUpdate(temporal, cur.workflow_id, decideRatingRequestUpdate, [decision]),
      requestRefusals('不能审批 / cannot decide'),
    );
    res.json({ rating_request: await oneRating(db, p, id) });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function ratingRequestsRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/rating-requests', ...fileRatingRequest(deps));
  r.get('/rating-requests', ...listRatingRequestsEndpoint(deps));
  r.get('/rating-requests/:id', ...getRatingRequestEndpoint(deps));
  r.post('/rating-requests/:id/decision', ...decideRatingRequest(deps));
  return r;
}
