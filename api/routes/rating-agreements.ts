import express, { Router } from 'express';
import { z } from '../../domain/z';
import { isoDate } from '../../domain/records';
import { checkUscc } from '../../domain/identifiers';
import { shanghaiDate } from '../../domain/calendar';
import type { Principal } from '../../domain/roles';
import {
  RATING_AGREEMENT_STATUSES,
  createRatingAgreement,
  getRatingAgreement,
  listRatingAgreements,
  terminateRatingAgreement,
} from '../../db/rating-agreements';
import { documentMeta } from '../../db/documents';
import { principalById } from '../../db/principals';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound, type ErrorDetail } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, registry } from '../openapi';
import { checkCategories } from './query-common';

/**
 * Rating-agency agreements (E14(3)): besides approving a rating agency's queries one request at a time, the
 * platform's staff may sign an agreement with a qualified rating agency that approves its queries of restricted
 * enterprise information (E13) within the agreement's categories, enterprises and period. The agency then
 * queries with the basis `{ kind: 'rating_agreement', agreement_id }`; every such query is logged and chargeable
 * (E16). Staff may terminate an agreement at once.
 */

// ─── Schemas ─────────────────────────────────────────────────────────────────────────────────────────────────

const ARTICLE = 'E14(3)';
const Uuid = (what: string) => z.string().uuid({ message: `${what}应为 UUID / ${what} must be a UUID` });
const IdParam = z.object({ id: Uuid('协议编号') }).strict();
const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

const AgreementBody = z
  .object({
    agency_principal_id: Uuid('评级机构账号').openapi({
      description: "信用评级机构的账号（角色 rating_agency）/ the rating agency's principal",
    }),
    agreement_no: z
      .string()
      .trim()
      .min(2, { message: "请填写协议编号 / give the agreement's number" })
      .max(100, { message: '协议编号最多 100 个字符 / at most 100 characters' })
      .openapi({ description: "已签订协议的编号，唯一 / the signed agreement's number, unique", example: '钦信协〔2026〕12号' }),
    categories: z
      .array(z.string().max(40))
      .min(1, { message: '至少约定一类限制公开信息 / name at least one restricted category' })
      .max(10)
      .openapi({ description: '约定可查询的限制公开信息类别（E13）/ restricted enterprise categories (E13)', example: ['tax', 'credit'] }),
    enterprises: z
      .array(z.string().max(40))
      .min(1, { message: '企业清单不能为空；不限企业请省略或填 null / the list cannot be empty; omit it or send null for any enterprise' })
      .max(1000, { message: '企业清单最多 1000 家 / at most 1000 enterprises' })
      .nullable()
      .optional()
      .openapi({
        description: '协议涵盖的企业统一社会信用代码；不填为不限企业 / unified social credit codes covered; absent or null: any enterprise',
      }),
    purpose: z.string().trim().min(2, { message: '请说明协议约定的查询用途 / state the agreed purpose' }).max(1000),
    valid_from: isoDate,
    valid_until: isoDate,
    document_id: Uuid('协议文件编号')
      .optional()
      .openapi({ description: '经 POST /documents?kind=rating_agreement 上传的已签订协议 / the signed agreement uploaded first' }),
  })
  .strict()
  .refine((b) => b.valid_until >= b.valid_from, {
    message: '截止日期不能早于起始日期 / valid_until must not be before valid_from',
    path: ['valid_until'],
  });

const AgreementSchema = registry.register(
  'RatingAgreement',
  z.object({
    id: z.string().uuid(),
    agency_principal_id: z.string(),
    agency_name: z.string(),
    organization: z.string().nullable(),
    agreement_no: z.string(),
    categories: z.array(z.string()),
    enterprises: z.array(z.string()).nullable(),
    purpose: z.string(),
    valid_from: z.string(),
    valid_until: z.string(),
    document_id: z.string().nullable(),
    status: z.enum(RATING_AGREEMENT_STATUSES).openapi({ description: '今日（上海时间）状态 / status today (Asia/Shanghai)' }),
    created_by: z.string(),
    created_at: z.string(),
    terminated_at: z.string().nullable(),
    terminated_by: z.string().nullable(),
    termination_reason: z.string().nullable(),
  }),
);

const ListQuery = z
  .object({
    status: z
      .enum(RATING_AGREEMENT_STATUSES, {
        message: `status 应为 ${RATING_AGREEMENT_STATUSES.join('、')} 之一 / status must be one of ${RATING_AGREEMENT_STATUSES.join(', ')}`,
      })
      .optional(),
    agency_principal_id: Uuid('评级机构账号').optional(),
    ...Paging,
  })
  .strict();

const TerminationBody = z.object({ reason: z.string().trim().min(2, { message: '请说明终止理由 / give the reason' }).max(2000) }).strict();

// ─── OpenAPI ─────────────────────────────────────────────────────────────────────────────────────────────────

const tags = ['查询 Queries'];
const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

const AGREEMENT_ID = '5e2a7c94-0d83-4b1f-a6c5-8f3d1e9b7a20';
const agreementNotFound = errorAnswer('协议不存在或不是本机构的 / none, or another agency’s', notFound(`评级查询协议 ${AGREEMENT_ID}`));
document({
  method: 'post',
  path: '/rating-agreements',
  operationId: 'recordRatingAgreement',
  tags,
  summary: '登记与信用评级机构签订的查询协议（工作人员，E14(3)）/ record an agreement signed with a rating agency (staff)',
  secured: true,
  request: {
    body: jsonRequest(
      AgreementBody,
      {
        agency_principal_id: '4f8a2c61-9d3e-4b75-a0c8-2e6b1d9f7a34',
        agreement_no: '钦信协〔2026〕12号',
        categories: ['tax', 'credit'],
        enterprises: [EXAMPLE.enterprise.uscc, EXAMPLE.enterprise2.uscc, EXAMPLE.enterprise3.uscc],
        purpose: '受托开展钦州市 2026 年度重点企业主体信用评级',
        valid_from: '2026-12-01',
        valid_until: '2027-11-30',
        document_id: '9d4b1e73-6a28-4c5f-b807-e3c2a5f9d164',
      },
      { required: true },
    ),
  },
  responses: {
    201: { description: 'recorded', ...json(z.object({ rating_agreement: AgreementSchema })) },
    400: errorAnswer(
      '请求无效：类别、企业清单、期限、评级机构或协议文件 / bad request: categories, enterprises, validity, the agency, the document',
      badRequest('统一社会信用代码无效 / invalid unified social credit code', [
        { field: 'enterprises.1', reason: EXAMPLE.mistypedUscc.reason, article: 'GB 32100-2015' },
      ]),
      badRequest('协议只能与信用评级机构签订 / agreements are signed with rating agencies only', [
        {
          field: 'agency_principal_id',
          reason: '该账号的角色是 enterprise，不是信用评级机构 / the principal is a enterprise, not a rating agency',
          article: ARTICLE,
        },
      ]),
    ),
    409: errorAnswer(
      '该协议编号已登记 / an agreement with this number exists',
      new HttpError(409, 'CONFLICT', '协议编号 钦信协〔2026〕12号 已登记 / an agreement with this number is recorded already', [
        { field: 'agreement_no', reason: '协议编号已存在 / the number exists already', article: ARTICLE },
      ]),
    ),
  },
});
document({
  method: 'get',
  path: '/rating-agreements',
  operationId: 'listRatingAgreements',
  tags,
  summary: '评级查询协议（机构：本机构的；工作人员、管理机构、监督：全部）/ rating agreements (an agency: its own)',
  secured: true,
  request: { query: ListQuery },
  responses: { 200: { description: 'newest first', ...json(z.object({ rating_agreements: z.array(AgreementSchema) })) } },
});
document({
  method: 'get',
  path: '/rating-agreements/{id}',
  operationId: 'getRatingAgreement',
  tags,
  summary: '一项评级查询协议 / one rating agreement',
  secured: true,
  request: { params: IdParam },
  responses: {
    200: { description: 'it', ...json(z.object({ rating_agreement: AgreementSchema })) },
    404: agreementNotFound,
  },
});
document({
  method: 'post',
  path: '/rating-agreements/{id}/termination',
  operationId: 'terminateRatingAgreement',
  tags,
  summary: '终止评级查询协议，即时生效（工作人员）/ terminate an agreement at once (staff)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(TerminationBody, { reason: '评级机构资质被行业主管部门暂停，协议即时终止' }, { required: true }),
  },
  responses: {
    200: { description: 'terminated', ...json(z.object({ rating_agreement: AgreementSchema })) },
    404: agreementNotFound,
    409: errorAnswer(
      '协议已终止 / terminated already',
      new HttpError(409, 'ALREADY_TERMINATED', '协议已于 2027-03-01T09:30:00.000+08:00 终止 / terminated already', [
        { field: 'id', reason: '已终止 / terminated already', article: ARTICLE },
      ]),
    ),
  },
});

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function ratingAgreementsRouter({ db }: AppDeps): Router {
  const r = Router();
  const body = express.json({ limit: '200kb' });
  const by = (p: Principal) => ({ id: p.id, actor: actorLabel(p) });
  /** A rating agency sees only its own agreements; staff, administrators and supervisors see all. */
  const agencyScope = (p: Principal) => (p.role === 'rating_agency' ? p.id : undefined);

  r.post('/rating-agreements', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const b = AgreementBody.parse(req.body);
    const today = shanghaiDate(new Date());

    checkCategories('enterprise', b.categories, 'categories');
    let enterprises: string[] | null = null;
    if (b.enterprises) {
      const details: ErrorDetail[] = [];
      b.enterprises.forEach((code, i) => {
        const check = checkUscc(code);
        if (!check.ok) details.push({ field: `enterprises.${i}`, reason: check.reason, article: 'GB 32100-2015' });
      });
      if (details.length) throw badRequest('统一社会信用代码无效 / invalid unified social credit code', details);
      enterprises = [...new Set(b.enterprises)];
    }
    if (b.valid_until < today) {
      throw badRequest('协议期限已过 / the agreement has already ended', [
        { field: 'valid_until', reason: `不能早于今天 ${today} / not before today`, article: ARTICLE },
      ]);
    }

    const agency = await principalById(db, b.agency_principal_id);
    if (!agency || !agency.active) {
      throw badRequest('评级机构账号不存在 / no such rating agency', [
        { field: 'agency_principal_id', reason: '账号不存在或已停用 / unknown or inactive principal', article: ARTICLE },
      ]);
    }
    if (agency.role !== 'rating_agency') {
      throw badRequest('协议只能与信用评级机构签订 / agreements are signed with rating agencies only', [
        {
          field: 'agency_principal_id',
          reason: `该账号的角色是 ${agency.role}，不是信用评级机构 / the principal is a ${agency.role}, not a rating agency`,
          article: ARTICLE,
        },
      ]);
    }
    if (b.document_id) {
      const doc = await documentMeta(db, b.document_id);
      if (!doc || doc.uploaded_by !== p.id || doc.kind !== 'rating_agreement') {
        throw badRequest('须附本人上传的已签订协议文件 / attach the signed agreement you uploaded', [
          {
            field: 'document_id',
            reason:
              '先通过 POST /documents?kind=rating_agreement 上传已签订的协议 / upload it first with POST /documents?kind=rating_agreement',
            article: ARTICLE,
          },
        ]);
      }
    }

    const out = await createRatingAgreement(
      db,
      {
        agencyPrincipalId: agency.id,
        organization: agency.organization ?? null,
        agreementNo: b.agreement_no,
        categories: [...new Set(b.categories)],
        enterprises,
        purpose: b.purpose,
        validFrom: b.valid_from,
        validUntil: b.valid_until,
        documentId: b.document_id ?? null,
      },
      by(p),
      today,
    );
    if (out.kind === 'duplicate') {
      throw new HttpError(409, 'CONFLICT', `协议编号 ${b.agreement_no} 已登记 / an agreement with this number is recorded already`, [
        { field: 'agreement_no', reason: '协议编号已存在 / the number exists already', article: ARTICLE },
      ]);
    }
    res.status(201).location(`/rating-agreements/${out.agreement.id}`).json({ rating_agreement: out.agreement });
  });

  r.get('/rating-agreements', requireRole('rating_agency', 'staff', 'admin', 'supervisor'), async (req, res) => {
    const p = principalOf(req);
    const q = ListQuery.parse(req.query);
    const own = agencyScope(p);
    if (own && q.agency_principal_id && q.agency_principal_id !== own) {
      res.json({ rating_agreements: [] });
      return;
    }
    const rows = await listRatingAgreements(db, {
      agencyPrincipalId: own ?? q.agency_principal_id,
      status: q.status,
      today: shanghaiDate(new Date()),
      limit: q.limit,
      offset: q.offset,
    });
    res.json({ rating_agreements: rows });
  });

  r.get('/rating-agreements/:id', requireRole('rating_agency', 'staff', 'admin', 'supervisor'), async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const row = await getRatingAgreement(db, id, shanghaiDate(new Date()), agencyScope(p));
    if (!row) throw notFound(`评级查询协议 ${id}`);
    res.json({ rating_agreement: row });
  });

  r.post('/rating-agreements/:id/termination', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = TerminationBody.parse(req.body ?? {});
    const out = await terminateRatingAgreement(db, id, reason, by(p));
    if (out.kind === 'not_found') throw notFound(`评级查询协议 ${id}`);
    if (out.kind === 'already') {
      throw new HttpError(409, 'ALREADY_TERMINATED', `协议已于 ${out.terminatedAt} 终止 / terminated already`, [
        { field: 'id', reason: '已终止 / terminated already', article: ARTICLE },
      ]);
    }
    res.json({ rating_agreement: await getRatingAgreement(db, id, shanghaiDate(new Date())) });
  });

  return r;
}
