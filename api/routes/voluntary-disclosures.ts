/**
 * Voluntary disclosures (E12.4, E15.4): an enterprise submits information of its own, staff approve it (审定, then
 * it is published at once) or reject it, the enterprise withdraws it. An enterprise sees only its own.
 */
import express, { Router, type Request, type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { VOLUNTARY_STATES } from '../../domain/publication';
import { decideVoluntary, listVoluntary, submitVoluntary, voluntaryById, type VoluntaryOutcome } from '../../db/voluntary-disclosures';
import type { AppDeps } from '../app';
import type { Db } from '../../db/knex';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, notFound } from '../errors';
import { document, errorAnswer, jsonRequest, registry } from '../openapi';
import { Reason } from './publication';

const tags = ['发布 Publication'];

interface Ctx {
  db: Db;
  json: RequestHandler;
}

const VoluntarySchema = registry.register(
  'VoluntaryDisclosure',
  z.object({
    id: z.string().uuid(),
    enterprise_uscc: z.string(),
    title: z.string(),
    content: z.string(),
    state: z.enum(VOLUNTARY_STATES),
    submitted_at: z.string(),
    reviewed_at: z.string().nullable(),
    review_reason: z.string().nullable(),
    published_at: z.string().nullable(),
    publication_date: z.string().nullable(),
    withdrawn_at: z.string().nullable(),
    withdraw_reason: z.string().nullable(),
  }),
);
const VoluntaryId = z.object({ id: z.string().uuid({ message: '自愿公示编号应为 UUID / disclosure id must be a UUID' }) });
const notYours = errorAnswer(
  '无此自愿公示（或非本企业）/ no such disclosure of yours',
  notFound('自愿公示 3b7d2e91-6c04-4f8a-9e15-a2c8d4f6b013'),
);

// ─── POST /voluntary-disclosures ─────────────────────────────────────────────────────────────────────────────

const VoluntaryBody = z
  .object({
    title: z.string().trim().min(2, { message: '标题至少2个字 / title of at least 2 characters' }).max(200),
    content: z.string().trim().min(2, { message: '内容至少2个字 / content of at least 2 characters' }).max(10000),
  })
  .strict();
document({
  method: 'post',
  path: '/voluntary-disclosures',
  operationId: 'submitVoluntaryDisclosure',
  tags,
  summary: '企业提交自愿公示信息（E12.4）/ an enterprise submits a voluntary disclosure',
  secured: true,
  request: {
    body: jsonRequest(
      VoluntaryBody,
      {
        title: '2026 年度社会责任报告',
        content: '本公司 2026 年度依法纳税 386 万元，吸纳钦南区农村劳动力就业 52 人，通过 ISO 9001 质量管理体系认证复审，无安全生产事故。',
      },
      { required: true },
    ),
  },
  responses: { 201: { description: 'submitted', content: { 'application/json': { schema: z.object({ disclosure: VoluntarySchema }) } } } },
});
const submitRoute = (r: Router, { db, json }: Ctx) =>
  r.post('/voluntary-disclosures', requireRole('enterprise'), json, async (req, res) => {
    const principal = principalOf(req);
    const body = VoluntaryBody.parse(req.body);
    const row = await submitVoluntary(db, {
      uscc: principal.enterpriseUscc!,
      title: body.title,
      content: body.content,
      principalId: principal.id,
      actor: actorLabel(principal),
    });
    res.status(201).location(`/voluntary-disclosures/${row.id}`).json({ disclosure: row });
  });

// ─── GET /voluntary-disclosures ──────────────────────────────────────────────────────────────────────────────

const VoluntaryList = z.object({
  state: z.enum(VOLUNTARY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
document({
  method: 'get',
  path: '/voluntary-disclosures',
  operationId: 'listVoluntaryDisclosures',
  tags,
  summary: '自愿公示信息列表（企业：本企业；工作人员：全部）/ voluntary disclosures (enterprise: own; staff: all)',
  secured: true,
  request: { query: VoluntaryList },
  responses: {
    200: { description: 'list', content: { 'application/json': { schema: z.object({ disclosures: z.array(VoluntarySchema) }) } } },
  },
});
const listRoute = (r: Router, { db }: Ctx) =>
  r.get('/voluntary-disclosures', requireRole('enterprise', 'staff'), async (req, res) => {
    const principal = principalOf(req);
    const q = VoluntaryList.parse(req.query);
    const rows = await listVoluntary(db, {
      uscc: principal.role === 'enterprise' ? principal.enterpriseUscc : undefined,
      state: q.state,
      limit: q.limit,
      offset: q.offset,
    });
    res.json({ disclosures: rows });
  });

// ─── GET /voluntary-disclosures/{id} ─────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/voluntary-disclosures/{id}',
  operationId: 'getVoluntaryDisclosure',
  tags,
  summary: '一项自愿公示信息（企业：本企业的；工作人员：全部）/ one voluntary disclosure (enterprise: own; staff: any)',
  secured: true,
  request: { params: VoluntaryId },
  responses: {
    200: { description: 'the disclosure', content: { 'application/json': { schema: z.object({ disclosure: VoluntarySchema }) } } },
    404: notYours,
  },
});
const oneRoute = (r: Router, { db }: Ctx) =>
  r.get('/voluntary-disclosures/:id', requireRole('enterprise', 'staff'), async (req, res) => {
    const principal = principalOf(req);
    const { id } = VoluntaryId.parse(req.params);
    const row = await voluntaryById(db, id);
    if (!row || (principal.role === 'enterprise' && row.enterprise_uscc !== principal.enterpriseUscc)) throw notFound(`自愿公示 ${id}`);
    res.json({ disclosure: row });
  });

// ─── POST /voluntary-disclosures/{id}/approval | rejection | withdrawal ──────────────────────────────────────

const OptionalReason = z.object({ reason: Reason.optional() }).strict();
const RequiredReason = z.object({ reason: Reason }).strict();
for (const [path, body, summary, operationId, reason, state] of [
  [
    'approval',
    OptionalReason,
    '审定通过并发布（E12.4）/ approve and publish (staff)',
    'approveVoluntaryDisclosure',
    '内容属实，予以公示',
    'approved',
  ],
  [
    'rejection',
    RequiredReason,
    '审定不通过，须说明理由 / reject, with a reason (staff)',
    'rejectVoluntaryDisclosure',
    '所称“纳税信用 A 级”与税务机关评定结果不符，请更正后重新提交',
    'approved',
  ],
  [
    'withdrawal',
    OptionalReason,
    '企业要求终止公示（E15.4）/ the enterprise stops its disclosure',
    'withdrawVoluntaryDisclosure',
    '报告已有新版本，终止公示旧版',
    'withdrawn',
  ],
] as const) {
  document({
    method: 'post',
    path: `/voluntary-disclosures/{id}/${path}`,
    operationId,
    tags,
    summary,
    secured: true,
    request: { params: VoluntaryId, body: jsonRequest(body, { reason }) },
    responses: {
      200: { description: 'done', content: { 'application/json': { schema: z.object({ disclosure: VoluntarySchema }) } } },
      404: notYours,
      409: errorAnswer(
        '当前状态不允许此操作 / not allowed in its current state',
        new HttpError(409, 'VOLUNTARY_STATE_CONFLICT', `该自愿公示当前状态为 ${state}，不能执行此操作 / the disclosure is ${state}`, [
          { field: 'state', reason: `当前状态 ${state} / current state ${state}`, article: 'E12(4), E15(4)' },
        ]),
      ),
    },
  });
}
function voluntaryAnswer(o: VoluntaryOutcome, id: string) {
  if (o.kind === 'not_found') throw notFound(`自愿公示 ${id}`);
  if (o.kind === 'conflict') {
    throw new HttpError(409, 'VOLUNTARY_STATE_CONFLICT', `该自愿公示当前状态为 ${o.state}，不能执行此操作 / the disclosure is ${o.state}`, [
      { field: 'state', reason: `当前状态 ${o.state} / current state ${o.state}`, article: 'E12(4), E15(4)' },
    ]);
  }
  return { disclosure: o.row };
}
const decideRoutes = (r: Router, { db, json }: Ctx) => {
  const decide =
    (action: 'approve' | 'reject' | 'withdraw', schema: typeof OptionalReason | typeof RequiredReason) =>
    async (req: Request, res: express.Response) => {
      const principal = principalOf(req);
      const { id } = VoluntaryId.parse(req.params);
      const body = schema.parse(req.body ?? {});
      const outcome = await decideVoluntary(db, {
        id,
        action,
        reason: body.reason ?? null,
        principalId: principal.id,
        actor: actorLabel(principal),
        ownUscc: action === 'withdraw' ? principal.enterpriseUscc! : undefined,
        asOf: new Date(),
      });
      res.json(voluntaryAnswer(outcome, id));
    };
  r.post('/voluntary-disclosures/:id/approval', requireRole('staff'), json, decide('approve', OptionalReason));
  r.post('/voluntary-disclosures/:id/rejection', requireRole('staff'), json, decide('reject', RequiredReason));
  r.post('/voluntary-disclosures/:id/withdrawal', requireRole('enterprise'), json, decide('withdraw', OptionalReason));
};

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function voluntaryDisclosuresRouter({ db }: AppDeps): Router {
  const r = Router();
  const ctx: Ctx = { db, json: express.json({ limit: '1mb' }) };
  for (const route of [submitRoute, listRoute, oneRoute, decideRoutes]) route(r, ctx);
  return r;
}
