/**
 * The public side of publication (E11, E12), no login: the search of enterprises with something published and an
 * enterprise's page of published records by category. Answers carry a strong ETag and are rate-limited per client
 * address across every API process.
 */
import crypto from 'node:crypto';
import express, { Router, type Request, type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { checkUscc } from '../../domain/identifiers';
import { shanghaiDate } from '../../domain/calendar';
import { publicationSettings } from '../../domain/config';
import { PERIOD_BASES } from '../../domain/publication';
import { enterprisePage, searchEnterprises } from '../../db/public-pages';
import type { RouterDeps } from '../app';
import type { Db } from '../../db/knex';
import { badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, registry, validationError } from '../openapi';

const publicTags = ['公开 Public'];
const cacheHeaders = {
  ETag: {
    schema: { type: 'string' as const },
    description: '内容标识；以 If-None-Match 重新验证，未变化时返回 304 / revalidate with If-None-Match',
  },
};

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

interface Ctx {
  db: Db;
  limiter: RequestHandler;
  cacheSeconds: number;
}

// ─── GET /public/enterprises ─────────────────────────────────────────────────────────────────────────────────

const SearchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1, { message: '请输入企业名称或统一社会信用代码 / give a name or a unified social credit code' })
    .max(50, { message: '查询内容不超过50个字符 / at most 50 characters' })
    .regex(/^[^\u0000]*$/, { message: '含有非法字符 NUL / contains a NUL character' })
    .openapi({
      description:
        '企业名称（可部分，1 个字起匹配名称中任意位置）或18位统一社会信用代码 / a part of the name (anywhere in it, from one character) or an 18-character credit code',
      example: '海湾建材',
    }),
  page: z.coerce.number().int().min(1).max(50).default(1),
  page_size: z.coerce.number().int().min(1).max(50).default(20),
});
document({
  method: 'get',
  path: '/public/enterprises',
  operationId: 'searchPublicEnterprises',
  tags: publicTags,
  publicLimit: true,
  outage: true,
  summary: '查询企业（名称或统一社会信用代码），无需登录 / search enterprises by name or code, no login',
  description: '只列出有公开发布信息的企业。每个 IP 每分钟限 PUBLIC_RATE_LIMIT 次（超出返回 429）。',
  request: { query: SearchQuery },
  responses: {
    200: {
      description: 'a page of enterprises',
      headers: cacheHeaders,
      content: {
        'application/json': {
          schema: z.object({
            items: z.array(z.object({ uscc: z.string(), name: z.string().nullable() })),
            page: z.number(),
            page_size: z.number(),
            has_more: z.boolean(),
          }),
        },
      },
    },
    304: { description: '未变化 / not modified' },
    400: errorAnswer(
      '请求无效：查询内容为空或过长，或统一社会信用代码无效 / bad request: an empty or too long query, or an invalid credit code',
      validationError(SearchQuery, { q: ' ' }),
      badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'q', reason: EXAMPLE.mistypedUscc.reason }]),
    ),
  },
});
const searchRoute = (r: Router, { db, limiter, cacheSeconds }: Ctx) =>
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
    sendCached(req, res, { items: found.items, page: q.page, page_size: q.page_size, has_more: found.hasMore }, cacheSeconds);
  });

// ─── GET /public/enterprises/{uscc} ──────────────────────────────────────────────────────────────────────────

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
    period_end: z
      .string()
      .nullable()
      .openapi({ description: '公开发布截止日（含）；null：至企业终止 / last public day; null: until the enterprise is terminated' }),
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
const UsccParam = z.object({ uscc: z.string().openapi({ example: EXAMPLE.enterprise.uscc }) });
document({
  method: 'get',
  path: '/public/enterprises/{uscc}',
  operationId: 'getPublicEnterprise',
  tags: publicTags,
  publicLimit: true,
  outage: true,
  summary: "企业公开信用信息（按类别），无需登录 / an enterprise's published records by category, no login",
  description: '只含公开发布期内的基本信息、诚信信息、警示信息和经审定的自愿公示信息（E12、E15）；限制公开信息（E13）和个人信息从不出现。',
  request: { params: UsccParam },
  responses: {
    200: { description: 'the page', headers: cacheHeaders, content: { 'application/json': { schema: EnterprisePageSchema } } },
    304: { description: '未变化 / not modified' },
    400: errorAnswer(
      '统一社会信用代码无效 / invalid unified social credit code',
      badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'uscc', reason: EXAMPLE.mistypedUscc.reason }]),
    ),
    404: errorAnswer('无公开信息 / nothing published', notFound(`企业 ${EXAMPLE.enterprise.uscc} 的公开信息`)),
  },
});
const pageRoute = (r: Router, { db, limiter, cacheSeconds }: Ctx) =>
  r.get('/public/enterprises/:uscc', limiter, async (req, res) => {
    const { uscc } = UsccParam.parse(req.params);
    const check = checkUscc(uscc);
    if (!check.ok) throw badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'uscc', reason: check.reason }]);
    const page = await enterprisePage(db, uscc, shanghaiDate(new Date()));
    if (!page) throw notFound(`企业 ${uscc} 的公开信息`);
    sendCached(req, res, page, cacheSeconds);
  });

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function publicEnterprisesRouter({ db, publicLimit }: RouterDeps): Router {
  const r = Router();
  const settings = publicationSettings();
  const ctx: Ctx = {
    db,
    limiter: publicLimit,
    cacheSeconds: settings.publicCacheSeconds,
  };
  for (const route of [searchRoute, pageRoute]) route(r, ctx);
  return r;
}
