import crypto from 'node:crypto';
import express, { Router, type Request, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from '../../domain/z';
import { checkUscc } from '../../domain/identifiers';
import { shanghaiDate } from '../../domain/calendar';
import { publicationSettings } from '../../domain/config';
import { PUBLICATION_STATES, PERIOD_BASES } from '../../domain/publication';
import {
  batchState,
  decideVoluntary,
  enterprisePage,
  reviewRecords,
  searchEnterprises,
  setPeriodOverride,
  submitVoluntary,
  voluntaryById,
  VOLUNTARY_COLUMNS,
  type ReviewAction,
  type VoluntaryOutcome,
} from '../../db/publication';
import { publicationChangedSignal, publishNowSignal } from '../../workflows/submission';
import type { AppDeps } from '../app';
import type { Db } from '../../db/knex';
import { SharedRateStore } from '../rate-store';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { document, registry, ErrorBody } from '../openapi';

// ─── Schemas ─────────────────────────────────────────────────────────────────────────────────────────────────

const PublicRecordSchema = registry.register(
  'PublicRecord',
  z.object({
    record_key: z.string().uuid(),
    item_code: z.string(),
    item_name: z.string().openapi({ example: '企业行政处罚记录' }),
    provider: z.string().openapi({ description: '信息提供单位 / provider', example: '钦州市工商行政管理局' }),
    event_date: z.string(),
    valid_until: z.string().nullable(),
    lifted_date: z.string().nullable(),
    published_at: z.string(),
    publication_date: z.string().openapi({ description: '发布日期 / publication date (Asia/Shanghai)' }),
    period_end: z.string().nullable().openapi({ description: '公开发布截止日（含）；null：至企业终止 / last public day; null: until the enterprise is terminated' }),
    period_basis: z.enum(PERIOD_BASES),
    content: z.record(z.string(), z.unknown()),
  }),
);
const PublicVoluntarySchema = registry.register(
  'PublicVoluntaryDisclosure',
  z.object({
    id: z.string().uuid(),
    title: z.string(),
    content: z.string(),
    published_at: z.string(),
    publication_date: z.string(),
    period_end: z.null(),
    period_basis: z.literal('until_withdrawn'),
  }),
);
const EnterprisePageSchema = registry.register(
  'PublicEnterprisePage',
  z.object({
    enterprise: z.object({ uscc: z.string(), name: z.string().nullable() }),
    basic: z.array(PublicRecordSchema).openapi({ description: '基本信息（E12.1）' }),
    honors: z.array(PublicRecordSchema).openapi({ description: '诚信信息（E12.2）' }),
    warnings: z.array(PublicRecordSchema).openapi({ description: '警示信息（E12.3）' }),
    voluntary: z.array(PublicVoluntarySchema).openapi({ description: '自愿公示信息（E12.4）' }),
  }),
);

const SearchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1, { message: '请输入企业名称或统一社会信用代码 / give a name or a unified social credit code' })
    .max(50, { message: '查询内容不超过50个字符 / at most 50 characters' })
    .openapi({ description: '企业名称（可部分，3个字及以上匹配任意位置，1–2个字匹配开头）或18位统一社会信用代码', example: '测试企业' }),
  page: z.coerce.number().int().min(1).max(50).default(1),
  page_size: z.coerce.number().int().min(1).max(50).default(20),
});
const UsccParam = z.object({ uscc: z.string().openapi({ example: '91450700MA0000001X' }) });

const RecordKeys = z
  .array(z.string().uuid({ message: '记录编号应为 UUID / record keys are UUIDs' }))
  .min(1, { message: '至少一条记录 / at least one record' })
  .max(1000, { message: '一次最多1000条 / at most 1000 records at a time' })
  .refine((a) => new Set(a).size === a.length, { message: '记录编号重复 / duplicate record keys' });
const Reason = z.string().trim().min(2, { message: '请说明理由 / give the reason' }).max(2000);
const HoldBody = z.object({ record_keys: RecordKeys, reason: Reason }).strict();
const ReleaseBody = z.object({ record_keys: RecordKeys, reason: Reason.optional() }).strict();
const RejectBody = z.object({ record_keys: RecordKeys, reason: Reason.openapi({ description: '不予发布的理由（如涉及国家机密、商业秘密、个人隐私，E11）' }) }).strict();
const SubmissionId = z.object({ id: z.string().uuid({ message: '批次编号应为 UUID / submission id must be a UUID' }) });
const BatchQuery = z.object({
  state: z.enum(PUBLICATION_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const HeldQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).default(0) });

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

const VoluntaryBody = z
  .object({
    title: z.string().trim().min(2, { message: '标题至少2个字 / title of at least 2 characters' }).max(200),
    content: z.string().trim().min(2, { message: '内容至少2个字 / content of at least 2 characters' }).max(10000),
  })
  .strict();
const VoluntarySchema = registry.register(
  'VoluntaryDisclosure',
  z.object({
    id: z.string().uuid(),
    enterprise_uscc: z.string(),
    title: z.string(),
    content: z.string(),
    state: z.enum(['submitted', 'approved', 'rejected', 'withdrawn']),
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
const VoluntaryList = z.object({
  state: z.enum(['submitted', 'approved', 'rejected', 'withdrawn']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const OptionalReason = z.object({ reason: Reason.optional() }).strict();
const RequiredReason = z.object({ reason: Reason }).strict();

const ItemCode = z.object({ item_code: z.string().max(64) });
const OverrideBody = z
  .object({
    period_months: z.number().int().min(1, { message: '至少1个月 / at least one month' }).max(1200),
    legal_basis: z.string().trim().min(2, { message: '请写明法律、法规依据 / name the law' }).max(500),
  })
  .strict();
const OverrideSchema = registry.register(
  'PublicationPeriodOverride',
  z.object({ item_code: z.string(), period_months: z.number().int(), legal_basis: z.string(), set_at: z.string() }),
);

// ─── Documentation ───────────────────────────────────────────────────────────────────────────────────────────

const publicTags = ['公开 Public'];
const reviewTags = ['发布 Publication'];
const cacheHeaders = {
  ETag: { schema: { type: 'string' as const }, description: '内容标识；以 If-None-Match 重新验证，未变化时返回 304 / revalidate with If-None-Match' },
};
document({
  method: 'get',
  path: '/public/enterprises',
  tags: publicTags,
  summary: '查询企业（名称或统一社会信用代码），无需登录 / search enterprises by name or code, no login',
  description: '只列出有公开发布信息的企业。每个 IP 每分钟限 PUBLIC_RATE_LIMIT 次（超出返回 429）。',
  request: { query: SearchQuery },
  responses: {
    200: {
      description: 'a page of enterprises',
      headers: cacheHeaders,
      content: {
        'application/json': {
          schema: z.object({ items: z.array(z.object({ uscc: z.string(), name: z.string().nullable() })), page: z.number(), page_size: z.number(), has_more: z.boolean() }),
        },
      },
    },
    304: { description: '未变化 / not modified' },
    429: { description: '请求过于频繁 / too many requests', content: { 'application/json': { schema: ErrorBody } } },
  },
});
document({
  method: 'get',
  path: '/public/enterprises/{uscc}',
  tags: publicTags,
  summary: '企业公开信用信息（按类别），无需登录 / an enterprise\'s published records by category, no login',
  description: '只含公开发布期内的基本信息、诚信信息、警示信息和经审定的自愿公示信息（E12、E15）；限制公开信息（E13）和个人信息从不出现。',
  request: { params: UsccParam },
  responses: {
    200: { description: 'the page', headers: cacheHeaders, content: { 'application/json': { schema: EnterprisePageSchema } } },
    304: { description: '未变化 / not modified' },
    404: { description: '无公开信息 / nothing published', content: { 'application/json': { schema: ErrorBody } } },
    429: { description: '请求过于频繁 / too many requests', content: { 'application/json': { schema: ErrorBody } } },
  },
});
document({
  method: 'get',
  path: '/publication/submissions/{id}',
  tags: reviewTags,
  summary: '批次的发布情况（工作人员；报送单位限本单位）/ a batch\'s publication: states and records (staff; provider: own)',
  secured: true,
  request: { params: SubmissionId, query: BatchQuery },
  responses: {
    200: {
      description: 'the batch',
      content: { 'application/json': { schema: z.object({ submission_id: z.string(), deadline: z.string().nullable(), state: BatchStateSchema, records: z.array(PublicationRowSchema) }) } },
    },
    404: { description: '无此批次 / no such batch', content: { 'application/json': { schema: ErrorBody } } },
  },
});
const reviewResponses = {
  200: { description: 'done', content: { 'application/json': { schema: z.object({ changed: z.number().int(), state: BatchStateSchema }) } } },
  404: { description: '无此批次 / no such batch', content: { 'application/json': { schema: ErrorBody } } },
  409: { description: '记录状态不允许此操作，未作任何改变 / a record is not in a state that allows it; nothing changed', content: { 'application/json': { schema: ErrorBody } } },
};
for (const [path, body, summary] of [
  ['holds', HoldBody, '暂缓发布（审核），须说明理由 / hold records for review, with a reason (staff)'],
  ['releases', ReleaseBody, '放行暂缓的记录，随即发布 / release held records: published at once after the review window (staff)'],
  ['rejections', RejectBody, '不予发布（E11），须说明理由 / reject records for publication, with a reason (staff)'],
] as const) {
  document({
    method: 'post',
    path: `/publication/submissions/{id}/${path}`,
    tags: reviewTags,
    summary,
    secured: true,
    request: { params: SubmissionId, body: { content: { 'application/json': { schema: body } } } },
    responses: reviewResponses,
  });
}
document({
  method: 'post',
  path: '/publication/submissions/{id}/publish',
  tags: reviewTags,
  summary: '审核完毕，立即发布未暂缓的记录 / review done: publish what is not held now (staff)',
  secured: true,
  request: { params: SubmissionId },
  responses: { 202: { description: 'the batch workflow was told', content: { 'application/json': { schema: z.object({ state: BatchStateSchema }) } } } },
});
document({
  method: 'get',
  path: '/publication/held',
  tags: reviewTags,
  summary: '暂缓发布的记录（按发布期限排序）/ held records, earliest deadline first (staff)',
  secured: true,
  request: { query: HeldQuery },
  responses: { 200: { description: 'held records', content: { 'application/json': { schema: z.object({ records: z.array(PublicationRowSchema) }) } } } },
});
document({
  method: 'post',
  path: '/voluntary-disclosures',
  tags: reviewTags,
  summary: '企业提交自愿公示信息（E12.4）/ an enterprise submits a voluntary disclosure',
  secured: true,
  request: { body: { content: { 'application/json': { schema: VoluntaryBody } } } },
  responses: { 201: { description: 'submitted', content: { 'application/json': { schema: z.object({ disclosure: VoluntarySchema }) } } } },
});
document({
  method: 'get',
  path: '/voluntary-disclosures',
  tags: reviewTags,
  summary: '自愿公示信息列表（企业：本企业；工作人员：全部）/ voluntary disclosures (enterprise: own; staff: all)',
  secured: true,
  request: { query: VoluntaryList },
  responses: { 200: { description: 'list', content: { 'application/json': { schema: z.object({ disclosures: z.array(VoluntarySchema) }) } } } },
});
document({
  method: 'get',
  path: '/voluntary-disclosures/{id}',
  tags: reviewTags,
  summary: '一项自愿公示信息（企业：本企业的；工作人员：全部）/ one voluntary disclosure (enterprise: own; staff: any)',
  secured: true,
  request: { params: VoluntaryId },
  responses: { 200: { description: 'the disclosure', content: { 'application/json': { schema: z.object({ disclosure: VoluntarySchema }) } } }, 404: { description: 'not found, or another enterprise\'s' } },
});
for (const [path, body, summary] of [
  ['approval', OptionalReason, '审定通过并发布（E12.4）/ approve and publish (staff)'],
  ['rejection', RequiredReason, '审定不通过，须说明理由 / reject, with a reason (staff)'],
  ['withdrawal', OptionalReason, '企业要求终止公示（E15.4）/ the enterprise stops its disclosure'],
] as const) {
  document({
    method: 'post',
    path: `/voluntary-disclosures/{id}/${path}`,
    tags: reviewTags,
    summary,
    secured: true,
    request: { params: VoluntaryId, body: { content: { 'application/json': { schema: body } } } },
    responses: {
      200: { description: 'done', content: { 'application/json': { schema: z.object({ disclosure: VoluntarySchema }) } } },
      404: { description: '无此自愿公示（或非本企业）/ no such disclosure of yours', content: { 'application/json': { schema: ErrorBody } } },
      409: { description: '当前状态不允许此操作 / not allowed in its current state', content: { 'application/json': { schema: ErrorBody } } },
    },
  });
}
document({
  method: 'get',
  path: '/publication/period-overrides',
  tags: reviewTags,
  summary: '法律、法规另行规定的发布期限（E15.5）/ law-specific publication periods (staff, admin)',
  secured: true,
  responses: { 200: { description: 'overrides', content: { 'application/json': { schema: z.object({ overrides: z.array(OverrideSchema) }) } } } },
});
document({
  method: 'put',
  path: '/publication/period-overrides/{item_code}',
  tags: reviewTags,
  summary: '设定某目录项的法定发布期限（E15.5），对已发布记录次日起生效 / set a law-specific period for a catalog item (admin)',
  secured: true,
  request: { params: ItemCode, body: { content: { 'application/json': { schema: OverrideBody } } } },
  responses: { 200: { description: 'set', content: { 'application/json': { schema: z.object({ override: OverrideSchema }) } } } },
});
document({
  method: 'delete',
  path: '/publication/period-overrides/{item_code}',
  tags: reviewTags,
  summary: '取消法定发布期限 / remove a law-specific period (admin)',
  secured: true,
  request: { params: ItemCode },
  responses: { 204: { description: 'removed' } },
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

/** Answers JSON with a strong ETag; a matching If-None-Match gets 304 and no body. */
function sendCached(req: Request, res: express.Response, body: unknown, maxAge: number): void {
  const json = JSON.stringify(body);
  const etag = `"${crypto.createHash('sha1').update(json).digest('base64url')}"`;
  res.set('ETag', etag);
  res.set('Cache-Control', `public, max-age=${maxAge}`);
  res.set('Vary', 'Accept-Encoding');
  const inm = req.get('if-none-match');
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}` || t.trim() === '*')) {
    res.status(304).end();
    return;
  }
  res.type('application/json').send(json);
}

/** Per client IP and minute, counted across every API process (api/rate-store.ts). */
function publicLimiter(db: Db, perMinute: number, syncMs: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    store: new SharedRateStore(db, syncMs),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json({
        error: {
          code: 'TOO_MANY_REQUESTS',
          message: `请求过于频繁，请稍后再试（每分钟最多 ${perMinute} 次）/ too many requests: at most ${perMinute} a minute, try again later`,
          details: [{ field: '(request)', reason: '超出访问频率限制 / rate limit exceeded' }],
        },
      });
    },
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

function voluntaryAnswer(o: VoluntaryOutcome, id: string) {
  if (o.kind === 'not_found') throw notFound(`自愿公示 ${id}`);
  if (o.kind === 'conflict') {
    throw new HttpError(409, 'VOLUNTARY_STATE_CONFLICT', `该自愿公示当前状态为 ${o.state}，不能执行此操作 / the disclosure is ${o.state}`, [
      { field: 'state', reason: `当前状态 ${o.state} / current state ${o.state}`, article: 'E12(4), E15(4)' },
    ]);
  }
  return { disclosure: o.row };
}

// ─── Routes ──────────────────────────────────────────────────────────────────────────────────────────────────

export function publicationRouter({ db, temporal }: AppDeps): Router {
  const r = Router();
  const json = express.json({ limit: '1mb' });
  const settings = publicationSettings();
  const limiter = publicLimiter(db, settings.publicRateLimit, settings.publicRateSyncMs);
  const pubCols = [
    'record_key',
    'submission_id',
    'item_code',
    'subject_id',
    'category',
    'state',
    'due_date',
    'hold_reason',
    'decision',
    'decision_reason',
    db.raw(`to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS published_at`),
    'period_end',
    'period_basis',
    'archived_on',
    'archive_reason',
  ];

  // Public: no login (E11, E12).
  r.get('/public/enterprises', limiter, async (req, res) => {
    const q = SearchQuery.parse(req.query);
    const offset = (q.page - 1) * q.page_size;
    let code: string | undefined;
    if (/^[0-9A-Za-z]{18}$/.test(q.q)) {
      const upper = q.q.toUpperCase();
      const check = checkUscc(upper);
      if (!check.ok) throw badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'q', reason: check.reason }]);
      code = upper;
    }
    const found = await searchEnterprises(db, { code, name: code ? undefined : q.q, limit: q.page_size, offset });
    sendCached(req, res, { items: found.items, page: q.page, page_size: q.page_size, has_more: found.hasMore }, settings.publicCacheSeconds);
  });

  r.get('/public/enterprises/:uscc', limiter, async (req, res) => {
    const { uscc } = UsccParam.parse(req.params);
    const check = checkUscc(uscc);
    if (!check.ok) throw badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'uscc', reason: check.reason }]);
    const page = await enterprisePage(db, uscc, shanghaiDate(new Date()));
    if (!page) throw notFound(`企业 ${uscc} 的公开信息`);
    sendCached(req, res, page, settings.publicCacheSeconds);
  });

  // Staff review of a batch before publication (E12).
  const batchOf = async (req: Request) => {
    const principal = principalOf(req);
    const { id } = SubmissionId.parse(req.params);
    const sub = await db('submissions').where('id', id).first('id', 'provider_id', 'workflow_id', 'publication_deadline');
    if (!sub || (principal.role === 'provider' && sub.provider_id !== principal.providerId)) throw notFound(`批次 ${id}`);
    return sub as { id: string; provider_id: number; workflow_id: string; publication_deadline: string | null };
  };
  const tell = async (workflowId: string, signal: typeof publishNowSignal | typeof publicationChangedSignal) => {
    try {
      await temporal.workflow.getHandle(workflowId).signal(signal);
    } catch (e) {
      // The database holds the decision; the batch workflow reads it at its next step, the daily sweep at the deadline.
      if (!(e instanceof WorkflowNotFoundError)) console.error(`[api] could not signal ${workflowId}:`, (e as Error).message);
    }
  };

  r.get('/publication/submissions/:id', requireRole('staff', 'provider'), async (req, res) => {
    const sub = await batchOf(req);
    const q = BatchQuery.parse(req.query);
    const records = await db('publications')
      .where('submission_id', sub.id)
      .modify((b) => {
        if (q.state) b.where('state', q.state);
      })
      .orderBy('record_key')
      .limit(q.limit)
      .offset(q.offset)
      .select(pubCols);
    res.json({ submission_id: sub.id, deadline: sub.publication_deadline, state: await batchState(db, sub.id), records });
  });

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
        });
        if (outcome.kind === 'not_found') throw notFound(`批次 ${sub.id}`);
        if (outcome.kind === 'conflict') throw conflictOf(outcome.problems, action);
        if (action !== 'hold') await tell(sub.workflow_id, publicationChangedSignal);
        res.json({ changed: outcome.changed, state: outcome.state });
      },
    ] as const;
  r.post('/publication/submissions/:id/holds', ...review('hold', HoldBody));
  r.post('/publication/submissions/:id/releases', ...review('release', ReleaseBody));
  r.post('/publication/submissions/:id/rejections', ...review('reject', RejectBody));

  r.post('/publication/submissions/:id/publish', requireRole('staff'), async (req, res) => {
    const principal = principalOf(req);
    const sub = await batchOf(req);
    await db('audit_log').insert({ principal_id: principal.id, actor: actorLabel(principal), action: 'publication.publish_now', entity: 'submission', entity_id: sub.id, detail: { article: 'E12' } });
    await tell(sub.workflow_id, publishNowSignal);
    res.status(202).json({ state: await batchState(db, sub.id) });
  });

  r.get('/publication/held', requireRole('staff'), async (req, res) => {
    const q = HeldQuery.parse(req.query);
    const records = await db('publications').where('state', 'held').orderBy([{ column: 'due_date' }, { column: 'record_key' }]).limit(q.limit).offset(q.offset).select(pubCols);
    res.json({ records });
  });

  // Voluntary disclosures (E12.4, E15.4).
  r.post('/voluntary-disclosures', requireRole('enterprise'), json, async (req, res) => {
    const principal = principalOf(req);
    const body = VoluntaryBody.parse(req.body);
    const row = await submitVoluntary(db, { uscc: principal.enterpriseUscc!, title: body.title, content: body.content, principalId: principal.id, actor: actorLabel(principal) });
    res.status(201).location(`/voluntary-disclosures/${row.id}`).json({ disclosure: row });
  });

  r.get('/voluntary-disclosures', requireRole('enterprise', 'staff'), async (req, res) => {
    const principal = principalOf(req);
    const q = VoluntaryList.parse(req.query);
    const rows = await db('voluntary_disclosures')
      .modify((b) => {
        if (principal.role === 'enterprise') b.where('enterprise_uscc', principal.enterpriseUscc);
        if (q.state) b.where('state', q.state);
      })
      .orderBy([{ column: 'submitted_at', order: 'desc' }, { column: 'id' }])
      .limit(q.limit)
      .offset(q.offset)
      .select(db.raw(VOLUNTARY_COLUMNS));
    res.json({ disclosures: rows });
  });

  r.get('/voluntary-disclosures/:id', requireRole('enterprise', 'staff'), async (req, res) => {
    const principal = principalOf(req);
    const { id } = VoluntaryId.parse(req.params);
    const row = await voluntaryById(db, id);
    if (!row || (principal.role === 'enterprise' && row.enterprise_uscc !== principal.enterpriseUscc)) throw notFound(`自愿公示 ${id}`);
    res.json({ disclosure: row });
  });

  const decide = (action: 'approve' | 'reject' | 'withdraw', schema: typeof OptionalReason | typeof RequiredReason) => async (req: Request, res: express.Response) => {
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

  // Law-specific periods (E15.5).
  const overrideCols = ['item_code', 'period_months', 'legal_basis', db.raw(`to_char(set_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS set_at`)];
  r.get('/publication/period-overrides', requireRole('staff', 'admin'), async (_req, res) => {
    res.json({ overrides: await db('publication_period_overrides').orderBy('item_code').select(overrideCols) });
  });
  const publicItem = async (code: string) => {
    const item = await db('catalog_items').where('code', code).first('code', 'disclosure', 'subject_type');
    if (!item) throw notFound(`目录项 ${code}`);
    if (item.disclosure !== 'public' || item.subject_type !== 'enterprise') {
      throw new HttpError(422, 'NOT_PUBLISHED_ITEM', `目录项 ${code} 不公开发布，无发布期限（E13）/ the item is never published`, [
        { field: 'item_code', reason: '限制公开或个人信息不公开发布 / restricted and personal items are never published', article: 'E13' },
      ]);
    }
  };
  r.put('/publication/period-overrides/:item_code', requireRole('admin'), json, async (req, res) => {
    const principal = principalOf(req);
    const { item_code } = ItemCode.parse(req.params);
    const body = OverrideBody.parse(req.body);
    await publicItem(item_code);
    await setPeriodOverride(db, { itemCode: item_code, months: body.period_months, legalBasis: body.legal_basis, principalId: principal.id, actor: actorLabel(principal) });
    res.json({ override: await db('publication_period_overrides').where('item_code', item_code).first(overrideCols) });
  });
  r.delete('/publication/period-overrides/:item_code', requireRole('admin'), async (req, res) => {
    const principal = principalOf(req);
    const { item_code } = ItemCode.parse(req.params);
    await publicItem(item_code);
    const removed = await setPeriodOverride(db, { itemCode: item_code, months: null, legalBasis: null, principalId: principal.id, actor: actorLabel(principal) });
    if (!removed) throw notFound(`目录项 ${item_code} 的法定发布期限`);
    res.status(204).end();
  });

  return r;
}
