/**
 * Staff control of publication (E11, E12, E15.5): a batch's publication read by staff and its provider, records
 * held, released or rejected before publication, publication now, the held records, and the law-specific periods
 * of catalog items. The public pages are api/routes/public-enterprises.ts, voluntary disclosures
 * api/routes/voluntary-disclosures.ts.
 */
import express, { Router, type Request, type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { PUBLICATION_STATES } from '../../domain/publication';
import {
  batchForReview,
  batchPublications,
  batchState,
  heldPublications,
  notePublishNow,
  reviewRecords,
  type ReviewAction,
  type ReviewedBatch,
} from '../../db/publication';
import { listPeriodOverrides, periodItem, periodOverride, setPeriodOverride } from '../../db/publication-periods';
import { deliverQueuedSignals } from '../../processes/outbox';
import type { AppDeps } from '../app';
import type { Db } from '../../db/knex';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, registry } from '../openapi';

const reviewTags = ['发布 Publication'];

/** A reason staff give (also for voluntary disclosures, api/routes/voluntary-disclosures.ts). */
export const Reason = z.string().trim().min(2, { message: '请说明理由 / give the reason' }).max(2000);

interface Ctx {
  db: Db;
  json: RequestHandler;
  /** The batch of `req.params.id`; 404 for a provider's request about another provider's batch. */
  batchOf: (req: Request) => Promise<ReviewedBatch>;
  /** Tells the batch workflow (best effort: the database holds the decision). */
  /** Delivers the signals a request committed (what Temporal does not take now, the reconciler delivers later). */
  deliver: (ids: string[]) => Promise<void>;
}

const SubmissionId = z.object({ id: z.string().uuid({ message: '批次编号应为 UUID / submission id must be a UUID' }) });
const BatchStateSchema = registry.register(
  'BatchPublicationState',
  z.object({
    total: z.number().int(),
    pending: z.number().int(),
    held: z.number().int(),
    published: z.number().int(),
    rejected: z.number().int(),
    cancelled: z.number().int(),
    archived: z.number().int(),
  }),
);
const PublicationRowSchema = registry.register(
  'Publication',
  z.object({
    record_key: z.string().uuid(),
    submission_id: z.string().uuid().nullable(),
    item_code: z.string(),
    subject_id: z.string(),
    category: z.string(),
    state: z.enum(PUBLICATION_STATES),
    due_date: z.string(),
    hold_reason: z.string().nullable(),
    decision: z.string().nullable(),
    decision_reason: z.string().nullable(),
    published_at: z.string().nullable(),
    period_end: z.string().nullable(),
    period_basis: z.string().nullable(),
    archived_on: z.string().nullable(),
    archive_reason: z.string().nullable(),
  }),
);

// ─── GET /publication/submissions/{id} ───────────────────────────────────────────────────────────────────────

const batchNotFound = errorAnswer('无此批次（或非本单位批次）/ no such batch, or not yours', notFound(`批次 ${EXAMPLE.submissionId}`));
const BatchQuery = z.object({
  state: z.enum(PUBLICATION_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
document({
  method: 'get',
  path: '/publication/submissions/{id}',
  operationId: 'getBatchPublication',
  tags: reviewTags,
  summary: "批次的发布情况（工作人员；报送单位限本单位）/ a batch's publication: states and records (staff; provider: own)",
  secured: true,
  request: { params: SubmissionId, query: BatchQuery },
  responses: {
    200: {
      description: 'the batch',
      content: {
        'application/json': {
          schema: z.object({
            submission_id: z.string(),
            deadline: z.string().nullable(),
            state: BatchStateSchema,
            records: z.array(PublicationRowSchema),
          }),
        },
      },
    },
    404: batchNotFound,
  },
});
const batchRoute = (r: Router, { db, batchOf }: Ctx) =>
  r.get('/publication/submissions/:id', requireRole('staff', 'provider'), async (req, res) => {
    const sub = await batchOf(req);
    const q = BatchQuery.parse(req.query);
    const records = await batchPublications(db, sub.id, q);
    res.json({ submission_id: sub.id, deadline: sub.publication_deadline, state: await batchState(db, sub.id), records });
  });

// ─── POST /publication/submissions/{id}/holds | releases | rejections ────────────────────────────────────────

const RecordKeys = z
  .array(z.string().uuid({ message: '记录编号应为 UUID / record keys are UUIDs' }))
  .min(1, { message: '至少一条记录 / at least one record' })
  .max(1000, { message: '一次最多1000条 / at most 1000 records at a time' })
  .refine((a) => new Set(a).size === a.length, { message: '记录编号重复 / duplicate record keys' });
const HoldBody = z.object({ record_keys: RecordKeys, reason: Reason }).strict();
const ReleaseBody = z.object({ record_keys: RecordKeys, reason: Reason.optional() }).strict();
const RejectBody = z
  .object({ record_keys: RecordKeys, reason: Reason.openapi({ description: '不予发布的理由（如涉及国家机密、商业秘密、个人隐私，E11）' }) })
  .strict();
/** A second record of the batch example. */
const SECOND_KEY = '0192c4e1-5b7b-7a20-8c3d-1e9f4a6b2d70';
const reviewResponses = (verb: string, state: string) => ({
  200: {
    description: 'done',
    content: { 'application/json': { schema: z.object({ changed: z.number().int(), state: BatchStateSchema }) } },
  },
  404: batchNotFound,
  409: errorAnswer(
    '记录状态不允许此操作，未作任何改变 / a record is not in a state that allows it; nothing changed',
    new HttpError(
      409,
      'PUBLICATION_STATE_CONFLICT',
      '部分记录的状态不允许此操作，未作任何改变 / some records do not allow this; nothing changed',
      [
        { field: 'record_keys', reason: `${EXAMPLE.recordKey}：当前状态为 ${state}，不能${verb} / is ${state}`, article: 'E12' },
        {
          field: 'record_keys',
          reason: `${SECOND_KEY}：不是本批次需公开发布的记录（限制公开信息和个人信息不发布）/ not a public record of this batch`,
          article: 'E12',
        },
      ],
    ),
  ),
});

/** Each review's operation, the verb and the state of its conflict example, and its example body. */
const REVIEW_DOCS = {
  holds: {
    operationId: 'holdRecords',
    conflict: ['暂缓', 'published'],
    body: jsonRequest(
      HoldBody,
      { record_keys: [EXAMPLE.recordKey, SECOND_KEY], reason: '处罚决定书文号与原件不一致，待信息提供单位核实' },
      { required: true },
    ),
  },
  releases: {
    operationId: 'releaseRecords',
    conflict: ['放行', 'pending'],
    body: jsonRequest(ReleaseBody, { record_keys: [EXAMPLE.recordKey], reason: '经核实与原件一致' }, { required: true }),
  },
  rejections: {
    operationId: 'rejectRecords',
    conflict: ['不予发布', 'published'],
    body: jsonRequest(
      RejectBody,
      { record_keys: [SECOND_KEY], reason: '处罚内容载有自然人的住址和联系电话，涉及个人隐私，不予发布（E11）' },
      { required: true },
    ),
  },
} as const;
const REVIEWS = [
  ['holds', 'hold', HoldBody, '暂缓发布（审核），须说明理由 / hold records for review, with a reason (staff)'],
  [
    'releases',
    'release',
    ReleaseBody,
    '放行暂缓的记录，随即发布 / release held records: published at once after the review window (staff)',
  ],
  ['rejections', 'reject', RejectBody, '不予发布（E11），须说明理由 / reject records for publication, with a reason (staff)'],
] as const;
for (const [path, , , summary] of REVIEWS) {
  const { operationId, conflict, body } = REVIEW_DOCS[path];
  document({
    method: 'post',
    path: `/publication/submissions/{id}/${path}`,
    operationId,
    tags: reviewTags,
    summary,
    secured: true,
    request: { params: SubmissionId, body },
    responses: reviewResponses(conflict[0], conflict[1]),
  });
}
const conflictOf = (problems: { recordKey: string; state: string | null }[], action: ReviewAction) =>
  new HttpError(
    409,
    'PUBLICATION_STATE_CONFLICT',
    `部分记录的状态不允许此操作，未作任何改变 / some records do not allow this; nothing changed`,
    problems.map((p) => ({
      field: `record_keys`,
      reason:
        p.state === null
          ? `${p.recordKey}：不是本批次需公开发布的记录（限制公开信息和个人信息不发布）/ not a public record of this batch`
          : `${p.recordKey}：当前状态为 ${p.state}，不能${action === 'hold' ? '暂缓' : action === 'release' ? '放行' : '不予发布'} / is ${p.state}`,
      article: 'E12',
    })),
  );
const reviewRoutes = (r: Router, { db, json, batchOf, deliver }: Ctx) => {
  const review = (action: ReviewAction, schema: typeof HoldBody | typeof ReleaseBody | typeof RejectBody) =>
    [
      requireRole('staff'),
      json,
      async (req: Request, res: express.Response) => {
        const principal = principalOf(req);
        const sub = await batchOf(req);
        const body = schema.parse(req.body);
        const outcome = await reviewRecords(db, {
          submissionId: sub.id,
          recordKeys: body.record_keys,
          action,
          reason: body.reason ?? null,
          principalId: principal.id,
          actor: actorLabel(principal),
          signals: action === 'hold' ? [] : [{ workflowId: sub.workflow_id, signal: 'publicationChanged' }],
        });
        if (outcome.kind === 'not_found') throw notFound(`批次 ${sub.id}`);
        if (outcome.kind === 'conflict') throw conflictOf(outcome.problems, action);
        await deliver(outcome.signalIds);
        res.json({ changed: outcome.changed, state: outcome.state });
      },
    ] as const;
  for (const [path, action, body] of REVIEWS) r.post(`/publication/submissions/:id/${path}`, ...review(action, body));
};

// ─── POST /publication/submissions/{id}/publish ──────────────────────────────────────────────────────────────

document({
  method: 'post',
  path: '/publication/submissions/{id}/publish',
  operationId: 'publishBatchNow',
  tags: reviewTags,
  summary: '审核完毕，立即发布未暂缓的记录 / review done: publish what is not held now (staff)',
  secured: true,
  request: { params: SubmissionId },
  responses: {
    202: {
      description: '已记录；批次流程立即或在 Temporal 恢复后收到通知 / recorded: the batch workflow is told now, or when Temporal is back',
      content: { 'application/json': { schema: z.object({ state: BatchStateSchema }) } },
    },
    404: batchNotFound,
  },
});
const publishRoute = (r: Router, { db, batchOf, deliver }: Ctx) =>
  r.post('/publication/submissions/:id/publish', requireRole('staff'), async (req, res) => {
    const principal = principalOf(req);
    const sub = await batchOf(req);
    const ids = await notePublishNow(db, {
      submissionId: sub.id,
      principalId: principal.id,
      actor: actorLabel(principal),
      workflowId: sub.workflow_id,
    });
    await deliver(ids);
    res.status(202).json({ state: await batchState(db, sub.id) });
  });

// ─── GET /publication/held ───────────────────────────────────────────────────────────────────────────────────

const HeldQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
document({
  method: 'get',
  path: '/publication/held',
  operationId: 'listHeldRecords',
  tags: reviewTags,
  summary: '暂缓发布的记录（按发布期限排序）/ held records, earliest deadline first (staff)',
  secured: true,
  request: { query: HeldQuery },
  responses: {
    200: { description: 'held records', content: { 'application/json': { schema: z.object({ records: z.array(PublicationRowSchema) }) } } },
  },
});
const heldRoute = (r: Router, { db }: Ctx) =>
  r.get('/publication/held', requireRole('staff'), async (req, res) => {
    const q = HeldQuery.parse(req.query);
    res.json({ records: await heldPublications(db, q) });
  });

// ─── Law-specific periods (E15.5): GET, PUT, DELETE /publication/period-overrides ───────────────────────────

const ItemCode = z.object({ item_code: z.string().max(64).openapi({ example: 'E-DISHONEST' }) });
const itemNotFound = notFound('目录项 E-DISHONST');
const notPublishedItem = errorAnswer(
  '该目录项不公开发布，无发布期限 / the item is never published',
  new HttpError(422, 'NOT_PUBLISHED_ITEM', '目录项 E-TAX 不公开发布，无发布期限（E13）/ the item is never published', [
    { field: 'item_code', reason: '限制公开或个人信息不公开发布 / restricted and personal items are never published', article: 'E13' },
  ]),
);
const OverrideSchema = registry.register(
  'PublicationPeriodOverride',
  z.object({ item_code: z.string(), period_months: z.number().int(), legal_basis: z.string(), set_at: z.string() }),
);
/** 404 for an unknown item, 422 for one never published (E13). */
const publicItem = async (db: Db, code: string) => {
  const item = await periodItem(db, code);
  if (!item) throw notFound(`目录项 ${code}`);
  if (item.disclosure !== 'public' || item.subject_type !== 'enterprise') {
    throw new HttpError(422, 'NOT_PUBLISHED_ITEM', `目录项 ${code} 不公开发布，无发布期限（E13）/ the item is never published`, [
      { field: 'item_code', reason: '限制公开或个人信息不公开发布 / restricted and personal items are never published', article: 'E13' },
    ]);
  }
};

document({
  method: 'get',
  path: '/publication/period-overrides',
  operationId: 'listPublicationPeriodOverrides',
  tags: reviewTags,
  summary: '法律、法规另行规定的发布期限（E15.5）/ law-specific publication periods (staff, admin)',
  secured: true,
  responses: {
    200: { description: 'overrides', content: { 'application/json': { schema: z.object({ overrides: z.array(OverrideSchema) }) } } },
  },
});
const listOverridesRoute = (r: Router, { db }: Ctx) =>
  r.get('/publication/period-overrides', requireRole('staff', 'admin'), async (_req, res) => {
    res.json({ overrides: await listPeriodOverrides(db) });
  });

const OverrideBody = z
  .object({
    period_months: z.number().int().min(1, { message: '至少1个月 / at least one month' }).max(1200),
    legal_basis: z.string().trim().min(2, { message: '请写明法律、法规依据 / name the law' }).max(500),
  })
  .strict();
document({
  method: 'put',
  path: '/publication/period-overrides/{item_code}',
  operationId: 'setPublicationPeriodOverride',
  tags: reviewTags,
  summary: '设定某目录项的法定发布期限（E15.5），对已发布记录次日起生效 / set a law-specific period for a catalog item (admin)',
  secured: true,
  request: {
    params: ItemCode,
    body: jsonRequest(
      OverrideBody,
      { period_months: 24, legal_basis: '《最高人民法院关于公布失信被执行人名单信息的若干规定》第六条' },
      { required: true },
    ),
  },
  responses: {
    200: { description: 'set', content: { 'application/json': { schema: z.object({ override: OverrideSchema }) } } },
    404: errorAnswer('目录中没有该信息项 / no such catalog item', itemNotFound),
    422: notPublishedItem,
  },
});
const setOverrideRoute = (r: Router, { db, json }: Ctx) =>
  r.put('/publication/period-overrides/:item_code', requireRole('admin'), json, async (req, res) => {
    const principal = principalOf(req);
    const { item_code } = ItemCode.parse(req.params);
    const body = OverrideBody.parse(req.body);
    await publicItem(db, item_code);
    await setPeriodOverride(db, {
      itemCode: item_code,
      months: body.period_months,
      legalBasis: body.legal_basis,
      principalId: principal.id,
      actor: actorLabel(principal),
    });
    res.json({ override: await periodOverride(db, item_code) });
  });

document({
  method: 'delete',
  path: '/publication/period-overrides/{item_code}',
  operationId: 'removePublicationPeriodOverride',
  tags: reviewTags,
  summary: '取消法定发布期限 / remove a law-specific period (admin)',
  secured: true,
  request: { params: ItemCode },
  responses: {
    204: { description: 'removed' },
    404: errorAnswer(
      '目录中没有该信息项，或该项没有法定发布期限 / no such item, or it has no law-specific period',
      itemNotFound,
      notFound('目录项 E-DISHONEST 的法定发布期限'),
    ),
    422: notPublishedItem,
  },
});
const removeOverrideRoute = (r: Router, { db }: Ctx) =>
  r.delete('/publication/period-overrides/:item_code', requireRole('admin'), async (req, res) => {
    const principal = principalOf(req);
    const { item_code } = ItemCode.parse(req.params);
    await publicItem(db, item_code);
    const removed = await setPeriodOverride(db, {
      itemCode: item_code,
      months: null,
      legalBasis: null,
      principalId: principal.id,
      actor: actorLabel(principal),
    });
    if (!removed) throw notFound(`目录项 ${item_code} 的法定发布期限`);
    res.status(204).end();
  });

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function publicationRouter({ db, temporal }: AppDeps): Router {
  const r = Router();
  const json = express.json({ limit: '1mb' });

  // Staff review of a batch before publication (E12).
  const batchOf = async (req: Request) => {
    const principal = principalOf(req);
    const { id } = SubmissionId.parse(req.params);
    const sub = await batchForReview(db, id);
    if (!sub || (principal.role === 'provider' && sub.provider_id !== principal.providerId)) throw notFound(`批次 ${id}`);
    return sub;
  };
  // The decision and its signal are committed together; the signal goes now, or with the reconciler once Temporal is back.
  const deliver = async (ids: string[]) => void (await deliverQueuedSignals(db, temporal, ids));

  const ctx: Ctx = { db, json, batchOf, deliver };
  for (const route of [batchRoute, reviewRoutes, publishRoute, heldRoute, listOverridesRoute, setOverrideRoute, removeOverrideRoute])
    route(r, ctx);
  return r;
}
