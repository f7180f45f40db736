import { Router } from 'express';
import { z } from '../../domain/z';
import { isoDate } from '../../domain/records';
import { shanghaiDate } from '../../domain/calendar';
import type { Principal } from '../../domain/roles';
import {
  activeGrantee,
  createAuthorization,
  getAuthorization,
  listAuthorizations,
  revokeAuthorization,
  type AuthorizationViewer,
} from '../../db/authorizations';
import { documentMeta } from '../../db/documents';
import type { AppDeps } from '../app';
import { principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, jsonRequestExamples, registry, validationError } from '../openapi';
import {
  ANY,
  IdParam,
  Paging,
  Purpose,
  Reason,
  SubjectType,
  Uuid,
  by,
  checkCategories,
  json,
  jsonBody,
  ownSubject,
  seesAll,
  tags,
  type Endpoint,
} from './query-common';

/**
 * Authorizations (E14(2), P12(2)): an enterprise authorizes a party to query its restricted information, a person
 * to query their credit information, in writing (the uploaded document), for categories and a period; the subject
 * may revoke it.
 */

const AuthorizationSchema = registry.register(
  'Authorization',
  z.object({
    id: z.string().uuid(),
    subject_type: SubjectType,
    subject_id: z.string(),
    grantee_principal_id: z.string().nullable(),
    grantee_name: z.string().nullable(),
    grantee_organization: z.string().nullable(),
    categories: z.array(z.string()),
    valid_from: z.string(),
    valid_until: z.string(),
    purpose: z.string(),
    document_id: z.string(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    revoke_reason: z.string().nullable(),
  }),
);

/** Staff, administrators and supervisors see all; others the authorizations they granted or hold. */
const viewer = (p: Principal): AuthorizationViewer => ({
  everything: seesAll(p),
  principalId: p.id,
  organization: p.organization,
  subject: ownSubject(p),
});

// ─── POST /authorizations ────────────────────────────────────────────────────────────────────────────────────

const AuthorizationBody = z
  .object({
    grantee_principal_id: Uuid('被授权账号').optional(),
    grantee_organization: z
      .string()
      .trim()
      .min(2)
      .max(200)
      .optional()
      .openapi({ description: '被授权单位名称（与其账号登记的单位一致）/ the grantee organization' }),
    categories: z.array(z.string().max(40)).min(1, { message: '至少授权一类信息 / authorize at least one category' }).max(10),
    valid_from: isoDate,
    valid_until: isoDate,
    purpose: Purpose,
    document_id: Uuid('书面授权文件编号'),
  })
  .strict()
  .refine((b) => b.grantee_principal_id || b.grantee_organization, {
    message: '须指定被授权账号或单位 / name the grantee (principal or organization)',
    path: ['grantee_principal_id'],
  })
  .refine((b) => b.valid_until >= b.valid_from, {
    message: '截止日期不能早于起始日期 / valid_until must not be before valid_from',
    path: ['valid_until'],
  });
const AUTHORIZATION_ID = 'b2e6c9d4-1f37-4a8e-9c50-6d3f8a1e7b29';
const authorizationNotFound = errorAnswer(
  '授权不存在或无权查看 / no such authorization, or not yours',
  notFound(`授权 ${AUTHORIZATION_ID}`),
);
document({
  method: 'post',
  path: '/authorizations',
  operationId: 'grantAuthorization',
  tags,
  summary: '授权他人查询本企业限制公开信息或本人信用信息（E14(2)、P12(2)）/ authorize a party (enterprise, person)',
  secured: true,
  request: {
    body: jsonRequestExamples(
      AuthorizationBody,
      {
        enterprise: {
          summary: '企业授权银行查询其纳税和财务信息（E14(2)）/ an enterprise authorizes a bank',
          value: {
            grantee_organization: '中国农业银行股份有限公司钦州分行',
            categories: ['tax', 'financial'],
            valid_from: '2026-11-05',
            valid_until: '2027-11-04',
            purpose: '办理流动资金贷款授信审查',
            document_id: EXAMPLE.documentId,
          },
        },
        person: {
          summary: '个人授权查询其信贷信息（P12(2)）/ a person authorizes a party',
          value: {
            grantee_principal_id: '4f8a2c61-9d3e-4b75-a0c8-2e6b1d9f7a34',
            categories: ['commercial_credit'],
            valid_from: '2026-11-05',
            valid_until: '2027-05-04',
            purpose: '办理个人住房公积金贷款',
            document_id: '8e1c5a92-3b7f-4d60-b4a9-7c2e0f6d1b85',
          },
        },
      },
      { required: true },
    ),
  },
  responses: {
    201: { description: 'granted', ...json(z.object({ authorization: AuthorizationSchema })) },
    400: errorAnswer(
      '请求无效：类别、期限、书面授权文件或被授权方 / bad request: categories, validity, the written authorization, the grantee',
      validationError(AuthorizationBody, {
        grantee_organization: '中国农业银行股份有限公司钦州分行',
        categories: ['tax'],
        valid_from: '2026-11-05',
        valid_until: '2026-11-01',
        purpose: '贷款审查',
        document_id: EXAMPLE.documentId,
      }),
      badRequest('信息类别无效 / invalid categories', [
        {
          field: 'categories.0',
          reason:
            '「warning」为公开信息，请通过信息公示查询，无需查询依据 / public information is read from the publication, without a basis',
          article: 'E12',
        },
      ]),
      badRequest('须附本企业/本人上传的书面授权文件 / attach the written authorization you uploaded', [
        {
          field: 'document_id',
          reason: '先通过 POST /documents?kind=authorization 上传书面授权 / upload it first with POST /documents?kind=authorization',
          article: 'E14(2)',
        },
      ]),
    ),
  },
});
const grantAuthorization: Endpoint = ({ db }) => [
  requireRole('enterprise', 'person'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const subject = ownSubject(p)!;
    const b = AuthorizationBody.parse(req.body);
    checkCategories(subject.type, b.categories, 'categories');
    const today = shanghaiDate(new Date());
    if (b.valid_until < today)
      throw badRequest('授权期限已过 / the validity has already ended', [
        { field: 'valid_until', reason: `不能早于今天 ${today} / not before today` },
      ]);
    const doc = await documentMeta(db, b.document_id);
    if (!doc || doc.uploaded_by !== p.id || doc.kind !== 'authorization') {
      throw badRequest('须附本企业/本人上传的书面授权文件 / attach the written authorization you uploaded', [
        {
          field: 'document_id',
          reason: '先通过 POST /documents?kind=authorization 上传书面授权 / upload it first with POST /documents?kind=authorization',
          article: subject.type === 'enterprise' ? 'E14(2)' : 'P12(2)',
        },
      ]);
    }
    if (b.grantee_principal_id) {
      const g = await activeGrantee(db, b.grantee_principal_id);
      if (!g)
        throw badRequest('被授权账号不存在 / no such grantee', [
          { field: 'grantee_principal_id', reason: '账号不存在或已停用 / unknown or inactive principal' },
        ]);
      if (g.id === p.id)
        throw badRequest('不能授权给自己 / you cannot authorize yourself', [
          { field: 'grantee_principal_id', reason: '不能授权给自己 / not yourself' },
        ]);
    }
    const a = await createAuthorization(
      db,
      {
        subjectType: subject.type,
        subjectId: subject.id,
        granteePrincipalId: b.grantee_principal_id ?? null,
        granteeOrganization: b.grantee_organization ?? null,
        categories: [...new Set(b.categories)],
        validFrom: b.valid_from,
        validUntil: b.valid_until,
        purpose: b.purpose,
        documentId: b.document_id,
      },
      by(p),
    );
    res.status(201).location(`/authorizations/${a.id}`).json({ authorization: a });
  },
];

// ─── GET /authorizations ─────────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/authorizations',
  operationId: 'listAuthorizations',
  tags,
  summary: '我授予的或我获得的授权 / authorizations I granted (enterprise, person) or hold',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: { description: 'list', ...json(z.object({ authorizations: z.array(AuthorizationSchema) })) } },
});
const listAuthorizationsEndpoint: Endpoint = ({ db }) => [
  requireRole(...ANY),
  async (req, res) => {
    const q = z.object(Paging).parse(req.query);
    const rows = await listAuthorizations(db, viewer(principalOf(req)), { limit: q.limit, offset: q.offset });
    res.json({ authorizations: rows });
  },
];

// ─── GET /authorizations/{id} ────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/authorizations/{id}',
  operationId: 'getAuthorization',
  tags,
  summary: '一项授权 / one authorization',
  secured: true,
  request: { params: IdParam },
  responses: { 200: { description: 'it', ...json(z.object({ authorization: AuthorizationSchema })) }, 404: authorizationNotFound },
});
const getAuthorizationEndpoint: Endpoint = ({ db }) => [
  requireRole(...ANY),
  async (req, res) => {
    const { id } = IdParam.parse(req.params);
    const row = await getAuthorization(db, viewer(principalOf(req)), id);
    if (!row) throw notFound(`授权 ${id}`);
    res.json({ authorization: row });
  },
];

// ─── POST /authorizations/{id}/revoke ────────────────────────────────────────────────────────────────────────

const RevokeBody = z.object({ reason: Reason }).strict();
document({
  method: 'post',
  path: '/authorizations/{id}/revoke',
  operationId: 'revokeAuthorization',
  tags,
  summary: '撤销授权 / revoke an authorization (the subject)',
  secured: true,
  request: { params: IdParam, body: jsonRequest(RevokeBody, { reason: '贷款申请已撤回，不再需要查询' }, { required: true }) },
  responses: {
    200: { description: 'revoked', ...json(z.object({ id: z.string(), revoked_at: z.string() })) },
    404: authorizationNotFound,
    409: errorAnswer(
      '已撤销 / already revoked',
      new HttpError(409, 'ALREADY_REVOKED', '授权已于 2026-11-20T10:05:12.482+08:00 撤销 / revoked already', [
        { field: 'id', reason: '已撤销 / revoked already' },
      ]),
    ),
  },
});
const revokeAuthorizationEndpoint: Endpoint = ({ db }) => [
  requireRole('enterprise', 'person'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = RevokeBody.parse(req.body ?? {});
    const out = await revokeAuthorization(db, id, ownSubject(p)!, reason, by(p));
    if (out.kind === 'not_found') throw notFound(`授权 ${id}`);
    if (out.kind === 'already')
      throw new HttpError(409, 'ALREADY_REVOKED', `授权已于 ${out.revokedAt} 撤销 / revoked already`, [
        { field: 'id', reason: '已撤销 / revoked already' },
      ]);
    res.json({ id, revoked_at: out.revokedAt });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function authorizationsRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/authorizations', ...grantAuthorization(deps));
  r.get('/authorizations', ...listAuthorizationsEndpoint(deps));
  r.get('/authorizations/:id', ...getAuthorizationEndpoint(deps));
  r.post('/authorizations/:id/revoke', ...revokeAuthorizationEndpoint(deps));
  return r;
}
