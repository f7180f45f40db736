import { Router } from 'express';
import { z } from '../../domain/z';
import { querierOf } from '../../domain/querier';
import { loggedQuery, loggedQueryItems, queryLog, runQuery, type BasisInput, type QueryOutcome } from '../../db/query-log';
import type { AppDeps } from '../app';
import { principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequestExamples, registry } from '../openapi';
import {
  ANY,
  AnsweredRecordSchema,
  Paging,
  Purpose,
  QueryLogEntry,
  SubjectType,
  Uuid,
  WithheldSchema,
  checkCategories,
  checkSubjectId,
  json,
  jsonBody,
  ownSubject,
  seesAll,
  tags,
  type Endpoint,
} from './query-common';

/**
 * Queries of restricted enterprise information and personal credit information (E13, E14, P12–P14), answered
 * with what their basis allows; every query, answered or refused, is logged (P20) and may be read back by its
 * querier, and by the subject it was about.
 */

// ─── POST /queries ───────────────────────────────────────────────────────────────────────────────────────────

const BasisBody = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('self') })
    .strict()
    .openapi({ description: '本企业/本人（E14(1)、P12(1)）/ the subject itself' }),
  z
    .object({ kind: z.literal('authorization'), authorization_id: Uuid('授权编号') })
    .strict()
    .openapi({ description: "信息主体的授权（E14(2)、P12(2)）/ the subject's authorization" }),
  z
    .object({ kind: z.literal('rating_approval'), request_id: Uuid('申请编号') })
    .strict()
    .openapi({ description: '经批准的评级查询申请（E14(3)）/ an approved rating request' }),
  z
    .object({ kind: z.literal('rating_agreement'), agreement_id: Uuid('协议编号') })
    .strict()
    .openapi({ description: '与平台签订的评级查询协议（E14(3)）/ a rating agreement with the platform' }),
  z
    .object({ kind: z.literal('duty'), document_id: Uuid('证明文件编号') })
    .strict()
    .openapi({ description: '履职证明文件（E14(4)、P12(3)）/ a proof of duty document' }),
]);
const QueryBody = registry.register(
  'QueryRequest',
  z
    .object({
      subject_type: SubjectType,
      subject_id: z.string().max(18).openapi({ description: '统一社会信用代码或公民身份号码 / USCC or citizen ID' }),
      categories: z
        .array(z.string().max(40))
        .max(10)
        .optional()
        .openapi({ description: '所查信息类别；不填为依据允许的全部 / categories; default all the basis allows' }),
      basis: BasisBody,
      purpose: Purpose.optional(),
    })
    .strict(),
);
const QueryAnswer = z.object({
  query: z.object({
    id: z.number().int(),
    at: z.string(),
    basis: z.string(),
    fee: z.enum(['chargeable', 'free']),
    categories: z.array(z.string()),
    withheld: z.array(WithheldSchema),
    article: z.string(),
  }),
  records: z.array(AnsweredRecordSchema),
});
const refused = {
  403: errorAnswer(
    '拒绝查询（原因及条款；已记录）/ refused, with reason and article; logged',
    new HttpError(
      403,
      'QUERY_REFUSED',
      '拒绝查询：授权已撤销 / the authorization was revoked',
      [{ field: 'basis', reason: '授权已撤销 / the authorization was revoked', article: 'E14(2)' }],
      { refusal: 'AUTHORIZATION_REVOKED', query_id: 20815 },
    ),
    new HttpError(
      403,
      'QUERY_REFUSED',
      '拒绝查询：授权已于 2026-10-31 到期 / the authorization expired on 2026-10-31',
      [{ field: 'basis', reason: '授权已于 2026-10-31 到期 / the authorization expired on 2026-10-31', article: 'E14(2)' }],
      { refusal: 'AUTHORIZATION_EXPIRED', query_id: 20816 },
    ),
  ),
};
const QUERY_EXAMPLES: Record<string, { summary: string; value: z.input<typeof QueryBody> }> = {
  self: {
    summary: '企业查询本企业的限制公开信息（E14(1)）/ an enterprise reads its own restricted information',
    value: { subject_type: 'enterprise', subject_id: EXAMPLE.enterprise.uscc, categories: ['tax', 'credit'], basis: { kind: 'self' } },
  },
  authorization: {
    summary: '银行依企业的书面授权查询（E14(2)）/ a bank, on the enterprise’s written authorization',
    value: {
      subject_type: 'enterprise',
      subject_id: EXAMPLE.enterprise.uscc,
      categories: ['tax', 'financial'],
      basis: { kind: 'authorization', authorization_id: 'b2e6c9d4-1f37-4a8e-9c50-6d3f8a1e7b29' },
      purpose: '办理流动资金贷款授信审查',
    },
  },
  rating_approval: {
    summary: '信用评级机构依经批准的申请查询（E14(3)）/ a rating agency, on an approved request',
    value: {
      subject_type: 'enterprise',
      subject_id: EXAMPLE.enterprise3.uscc,
      basis: { kind: 'rating_approval', request_id: 'd5a9e3c7-2b61-4f84-8e0d-9a4c7b2f1e63' },
      purpose: '2026 年度主体信用评级',
    },
  },
  duty: {
    summary: '行政机关依履职证明查询个人信用信息（P12(3)）/ a public body, on its proof of duty',
    value: {
      subject_type: 'person',
      subject_id: EXAMPLE.person2.citizenId,
      categories: ['public_credit'],
      basis: { kind: 'duty', document_id: '1a7c3e95-8d24-4b6f-a013-5e9c2d7b4f80' },
      purpose: '钦州市人力资源和社会保障局办理行政许可审查',
    },
  },
};
document({
  method: 'post',
  path: '/queries',
  operationId: 'queryCreditInformation',
  tags,
  summary:
    '查询限制公开的企业信息或个人信用信息（E13、E14、P12–P14；每次查询均记录，P20）/ query restricted or personal information; every query is logged',
  secured: true,
  request: { body: jsonRequestExamples(QueryBody, QUERY_EXAMPLES, { required: true }) },
  responses: {
    200: { description: 'the answer: only what the basis allows', ...json(QueryAnswer) },
    400: errorAnswer(
      '请求无效：主体证件号、类别或用途 / bad request: the subject’s identifier, the categories, the purpose',
      badRequest('统一社会信用代码无效 / invalid unified social credit code', [
        { field: 'subject_id', reason: EXAMPLE.mistypedUscc.reason, article: 'GB 32100-2015' },
      ]),
      badRequest('信息类别无效 / invalid categories', [
        {
          field: 'categories.0',
          reason:
            '「honor」为公开信息，请通过信息公示查询，无需查询依据 / public information is read from the publication, without a basis',
          article: 'E12',
        },
      ]),
      badRequest('请说明查询用途 / state the purpose', [
        { field: 'purpose', reason: '除本人查询外须说明用途 / required except for the subject itself', article: 'E22' },
      ]),
    ),
    ...refused,
  },
});

function answerBody(out: Extract<QueryOutcome, { kind: 'answered' }>) {
  return {
    query: {
      id: out.queryId,
      at: out.at,
      basis: out.decision.basis,
      fee: out.decision.fee,
      categories: out.decision.allowed,
      withheld: out.decision.withheld,
      article: out.decision.article,
    },
    records: out.records,
  };
}

function refusal(out: Extract<QueryOutcome, { kind: 'refused' }>): HttpError {
  const d = out.decision;
  return new HttpError(
    403,
    'QUERY_REFUSED',
    `拒绝查询：${d.reason}`,
    [
      { field: 'basis', reason: d.reason, article: d.article },
      ...d.withheld.map((w) => ({ field: `categories.${w.category}`, reason: w.reason, article: w.article })),
    ],
    {
      refusal: d.code,
      query_id: out.queryId,
    },
  );
}

const query: Endpoint = ({ db }) => [
  requireRole(...ANY),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const b = QueryBody.parse(req.body);
    checkSubjectId(b.subject_type, b.subject_id, 'subject_id');
    const categories = b.categories ?? [];
    checkCategories(b.subject_type, categories, 'categories');
    if (b.basis.kind !== 'self' && !b.purpose)
      throw badRequest('请说明查询用途 / state the purpose', [
        {
          field: 'purpose',
          reason: '除本人查询外须说明用途 / required except for the subject itself',
          article: b.subject_type === 'enterprise' ? 'E22' : 'P14',
        },
      ]);
    const basis: BasisInput =
      b.basis.kind === 'self'
        ? { kind: 'self' }
        : b.basis.kind === 'authorization'
          ? { kind: 'authorization', authorizationId: b.basis.authorization_id }
          : b.basis.kind === 'rating_approval'
            ? { kind: 'rating_approval', requestId: b.basis.request_id }
            : b.basis.kind === 'rating_agreement'
              ? { kind: 'rating_agreement', agreementId: b.basis.agreement_id }
              : { kind: 'duty', documentId: b.basis.document_id };
    const out = await runQuery(db, {
      querier: querierOf(p),
      subject: { type: b.subject_type, id: b.subject_id },
      categories,
      basis,
      purpose: b.purpose ?? null,
      channel: 'direct',
    });
    if (out.kind === 'refused') throw refusal(out);
    res.set('Cache-Control', 'no-store').json(answerBody(out));
  },
];

// ─── GET /queries/mine ───────────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/queries/mine',
  operationId: 'listMyQueries',
  tags,
  summary: '我的查询记录 / my queries',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: { description: 'newest first', ...json(z.object({ queries: z.array(QueryLogEntry) })) } },
});
const myQueries: Endpoint = ({ db }) => [
  requireRole(...ANY),
  async (req, res) => {
    const q = z.object(Paging).parse(req.query);
    res.json({ queries: await queryLog(db, { principalId: principalOf(req).id, limit: q.limit, offset: q.offset }) });
  },
];

// ─── GET /queries/about-me ───────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/queries/about-me',
  operationId: 'listQueriesAboutMe',
  tags,
  summary: '谁查询了我（个人，P20）/ 谁查询了本企业限制公开信息（企业）/ who queried me (person) or my restricted information (enterprise)',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: { description: 'newest first', ...json(z.object({ queries: z.array(QueryLogEntry) })) } },
});
const queriesAboutMe: Endpoint = ({ db }) => [
  requireRole('person', 'enterprise'),
  async (req, res) => {
    const q = z.object(Paging).parse(req.query);
    const own = ownSubject(principalOf(req))!;
    const rows = await queryLog(db, { subjectType: own.type, subjectId: own.id, limit: q.limit, offset: q.offset });
    res.json({ queries: rows });
  },
];

// ─── GET /queries/{id} ───────────────────────────────────────────────────────────────────────────────────────

const LoggedItem = z.object({ record_key: z.string(), version: z.number(), item_code: z.string(), category: z.string() });
document({
  method: 'get',
  path: '/queries/{id}',
  operationId: 'getQuery',
  tags,
  summary: '一次查询的记录 / one logged query (its querier, staff, admin, supervisor)',
  secured: true,
  request: { params: z.object({ id: z.coerce.number().int().positive() }) },
  responses: {
    200: {
      description: 'the entry and the record versions returned',
      ...json(z.object({ query: QueryLogEntry, items: z.array(LoggedItem) })),
    },
    404: errorAnswer('查询记录不存在或无权查看 / no such query, or not yours', notFound('查询 20815')),
  },
});
const QueryIdParam = z.object({
  id: z.coerce.number().int().positive({ message: '查询编号应为正整数 / query id must be a positive integer' }),
});
const getQuery: Endpoint = ({ db }) => [
  requireRole(...ANY),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = QueryIdParam.parse(req.params);
    const row = await loggedQuery(db, id);
    if (!row || (row.principal_id !== p.id && !seesAll(p))) throw notFound(`查询 ${id}`);
    const items = await loggedQueryItems(db, id);
    res.json({ query: row, items });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function creditQueriesRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/queries', ...query(deps));
  r.get('/queries/mine', ...myQueries(deps));
  r.get('/queries/about-me', ...queriesAboutMe(deps));
  r.get('/queries/:id', ...getQuery(deps));
  return r;
}
