import express, { Router, type Request } from 'express';
import { liveFeed } from '../../db/changes';
import { z } from '../../domain/z';
import { ROLES } from '../../domain/roles';
import { checkCitizenId, checkUscc } from '../../domain/identifiers';
import {
  activePrincipal,
  createPrincipal,
  issueApiKey,
  listPrincipals,
  principalKeys,
  principalView,
  revokeApiKey,
  setPrincipalActive,
  PrincipalInputError,
} from '../../db/principals';
import { isoInstant } from '../../db/time';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, jsonRequestExamples, registry, validationError } from '../openapi';

const NewPrincipalBody = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: '钦州市工商局报送员' }),
    role: z.enum(ROLES),
    provider_code: z.string().max(64).optional().openapi({ example: 'QZ-GSJ' }),
    enterprise_uscc: z
      .string()
      .optional()
      .refine((v) => v === undefined || checkUscc(v).ok, { message: '统一社会信用代码无效 / invalid unified social credit code' }),
    person_id: z
      .string()
      .optional()
      .refine((v) => v === undefined || checkCitizenId(v).ok, { message: '公民身份号码无效 / invalid citizen ID number' }),
    organization: z.string().max(200).optional(),
  })
  .strict();

const PrincipalSchema = registry.register(
  'Principal',
  z.object({
    id: z.string().uuid(),
    name: z.string(),
    role: z.enum(ROLES),
    provider: z.string().nullable(),
    enterprise_uscc: z.string().nullable(),
    person_id: z.string().nullable(),
    organization: z.string().nullable(),
    active: z.boolean(),
    deactivated_at: z.string().nullable(),
    deactivation_reason: z.string().nullable(),
  }),
);

const KeySchema = registry.register(
  'ApiKeyInfo',
  z.object({
    id: z.string().uuid(),
    prefix: z.string().openapi({ description: "密钥前缀（密钥本身从不保存）/ the key's prefix; the key itself is never stored" }),
    label: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    status: z.enum(['active', 'expired', 'revoked']),
  }),
);

const Reason = z.string().trim().min(2, { message: '请说明理由（至少 2 个字）/ give a reason (2 characters or more)' }).max(500);
const DeactivationBody = z.object({ reason: Reason }).strict();
const ActivationBody = z.object({ reason: Reason.optional() }).strict();

const NewKeyBody = z
  .object({
    label: z.string().max(200).optional(),
    expires_in_days: z.number().int().min(1).max(3650).optional().openapi({ description: '有效天数 / days until the key expires' }),
  })
  .strict();
const PrincipalId = z.object({ id: z.string().uuid({ message: '账号编号应为 UUID / principal id must be a UUID' }) });
const KeyId = z.object({ id: z.string().uuid({ message: '密钥编号应为 UUID / key id must be a UUID' }) });

const tags = ['管理 Administration'];
const principalNotFound = errorAnswer('账号不存在 / no such principal', notFound(`账号 ${EXAMPLE.principalId}`));
document({
  method: 'post',
  path: '/admin/principals',
  operationId: 'createPrincipal',
  tags,
  summary: '创建账号（绑定单位、企业或个人）/ create a principal bound to its organization (admin)',
  secured: true,
  request: {
    body: jsonRequestExamples(
      NewPrincipalBody,
      {
        provider: {
          summary: '信息提供单位的报送员 / a clerk of an information provider',
          value: { name: '钦州市工商局报送员', role: 'provider', provider_code: 'QZ-GSJ' },
        },
        enterprise: {
          summary: '企业（查询、授权、异议）/ an enterprise',
          value: { name: EXAMPLE.enterprise.name, role: 'enterprise', enterprise_uscc: EXAMPLE.enterprise.uscc },
        },
        person: {
          summary: '个人 / a person',
          value: { name: EXAMPLE.person.name, role: 'person', person_id: EXAMPLE.person.citizenId },
        },
        rating_agency: {
          summary: '信用评级机构 / a rating agency',
          value: { name: '广西诚信资信评估有限公司评级部', role: 'rating_agency', organization: '广西诚信资信评估有限公司' },
        },
      },
      { required: true },
    ),
  },
  responses: {
    201: { description: 'created', content: { 'application/json': { schema: z.object({ principal: PrincipalSchema }) } } },
    400: errorAnswer(
      '请求无效：字段缺失、证件号无效，或单位未知 / bad request: a field missing, an invalid identifier, an unknown provider',
      validationError(NewPrincipalBody, { name: EXAMPLE.enterprise.name, role: 'enterprise', enterprise_uscc: EXAMPLE.mistypedUscc.code }),
      badRequest('未知的信息提供单位 QZ-XXX / unknown provider', [
        { field: 'provider_code', reason: '未知的信息提供单位 QZ-XXX / unknown provider' },
      ]),
    ),
  },
});
document({
  method: 'get',
  path: '/admin/principals',
  operationId: 'listPrincipals',
  tags,
  summary: '账号列表 / list principals (admin)',
  secured: true,
  responses: {
    200: { description: 'principals', content: { 'application/json': { schema: z.object({ principals: z.array(PrincipalSchema) }) } } },
  },
});
document({
  method: 'post',
  path: '/admin/principals/{id}/keys',
  operationId: 'issueApiKey',
  tags,
  summary: '签发 API 密钥（仅此一次显示）/ issue an API key, shown once (admin)',
  secured: true,
  request: { params: PrincipalId, body: jsonRequest(NewKeyBody, { label: '报送系统接口 2026', expires_in_days: 365 }) },
  responses: {
    201: {
      description: 'the key',
      content: {
        'application/json': {
          schema: z.object({ id: z.string(), token: z.string(), prefix: z.string(), expires_at: z.string().nullable() }),
        },
      },
    },
    404: principalNotFound,
  },
});
document({
  method: 'get',
  path: '/admin/principals/{id}',
  operationId: 'getPrincipal',
  tags,
  summary: '一个账号及其密钥（不含密钥本身）/ one principal and its keys, never the keys themselves (admin)',
  secured: true,
  request: { params: PrincipalId },
  responses: {
    200: {
      description: 'the principal',
      content: { 'application/json': { schema: z.object({ principal: PrincipalSchema, keys: z.array(KeySchema) }) } },
    },
    404: principalNotFound,
  },
});
document({
  method: 'post',
  path: '/admin/principals/{id}/deactivation',
  operationId: 'deactivatePrincipal',
  tags,
  summary: '停用账号：其全部密钥立即失效（各 API 进程同时生效）/ deactivate a principal: every key of it stops working at once (admin)',
  secured: true,
  request: { params: PrincipalId, body: jsonRequest(DeactivationBody, { reason: '报送员岗位调整，账号停用' }, { required: true }) },
  responses: {
    200: { description: 'deactivated', content: { 'application/json': { schema: z.object({ principal: PrincipalSchema }) } } },
    404: principalNotFound,
    409: errorAnswer(
      '账号已停用，或是本人账号 / already inactive, or your own account',
      new HttpError(409, 'PRINCIPAL_INACTIVE', '该账号已停用 / the principal is already inactive', [
        { field: 'id', reason: '已停用 / already inactive' },
      ]),
      new HttpError(409, 'CANNOT_DEACTIVATE_SELF', '不能停用自己的账号 / you cannot deactivate your own account', [
        { field: 'id', reason: '本人账号 / your own account' },
      ]),
    ),
  },
});
document({
  method: 'post',
  path: '/admin/principals/{id}/activation',
  operationId: 'activatePrincipal',
  tags,
  summary: '重新启用账号（已吊销的密钥仍然无效）/ reactivate a principal; revoked keys stay revoked (admin)',
  secured: true,
  request: { params: PrincipalId, body: jsonRequest(ActivationBody, { reason: '人员复岗，重新启用' }) },
  responses: {
    200: { description: 'active again', content: { 'application/json': { schema: z.object({ principal: PrincipalSchema }) } } },
    404: principalNotFound,
    409: errorAnswer(
      '账号已是启用状态 / already active',
      new HttpError(409, 'PRINCIPAL_ACTIVE', '该账号已是启用状态 / the principal is already active', [
        { field: 'id', reason: '已启用 / already active' },
      ]),
    ),
  },
});
document({
  method: 'post',
  path: '/admin/keys/{id}/revoke',
  operationId: 'revokeApiKey',
  tags,
  summary: '吊销 API 密钥 / revoke an API key (admin)',
  secured: true,
  request: { params: KeyId },
  responses: {
    200: { description: 'revoked', content: { 'application/json': { schema: z.object({ id: z.string(), revoked_at: z.string() }) } } },
    404: errorAnswer('无此有效密钥（不存在或已吊销）/ no such key in force', notFound('有效密钥 3c9e1f74-2b8d-4a65-9f03-7d1e6b5a8c42')),
  },
});

export function adminRouter({ db }: AppDeps): Router {
  const r = Router();
  const json = express.json({ limit: '100kb' });
  const onePrincipal = async (id: string) => {
    const principal = await principalView(db, id);
    if (!principal) throw notFound(`账号 ${id}`);
    return principal;
  };

  r.post('/admin/principals', requireRole('admin'), json, async (req, res) => {
    const admin = principalOf(req);
    const body = NewPrincipalBody.parse(req.body);
    let id: string;
    try {
      ({ id } = await createPrincipal(
        db,
        {
          name: body.name,
          role: body.role,
          providerCode: body.provider_code,
          enterpriseUscc: body.enterprise_uscc,
          personId: body.person_id,
          organization: body.organization,
        },
        admin.id,
        actorLabel(admin),
      ));
    } catch (e) {
      if (e instanceof PrincipalInputError) throw badRequest(e.message, [{ field: e.field, reason: e.message }]);
      throw e;
    }
    res.status(201).json({ principal: await onePrincipal(id) });
  });

  r.get('/admin/principals', requireRole('admin'), async (_req, res) => {
    const principals = await listPrincipals(db);
    res.json({ principals });
  });

  r.get('/admin/principals/:id', requireRole('admin'), async (req, res) => {
    const { id } = PrincipalId.parse(req.params);
    const principal = await onePrincipal(id);
    const keys = await principalKeys(db, id);
    res.json({ principal, keys });
  });

  /** Sets a principal's state in one transaction with its audit entry; 409 when it is already so. */
  const setActive = async (req: Request, active: boolean, reason: string | undefined) => {
    const admin = principalOf(req);
    const { id } = PrincipalId.parse(req.params);
    await onePrincipal(id);
    if (!active && id === admin.id) {
      throw new HttpError(409, 'CANNOT_DEACTIVATE_SELF', '不能停用自己的账号 / you cannot deactivate your own account', [
        { field: 'id', reason: '本人账号 / your own account' },
      ]);
    }
    const changed = await setPrincipalActive(db, { id, active, reason, by: { id: admin.id, actor: actorLabel(admin) } });
    if (!changed) {
      throw new HttpError(
        409,
        active ? 'PRINCIPAL_ACTIVE' : 'PRINCIPAL_INACTIVE',
        active ? '该账号已是启用状态 / the principal is already active' : '该账号已停用 / the principal is already inactive',
        [{ field: 'id', reason: active ? '已启用 / already active' : '已停用 / already inactive' }],
      );
    }
    // In force in this process before the answer (other processes hear the table's notice).
    liveFeed(db)?.touch('principals');
    return onePrincipal(id);
  };

  r.post('/admin/principals/:id/deactivation', requireRole('admin'), json, async (req, res) => {
    const body = DeactivationBody.parse(req.body ?? {});
    res.json({ principal: await setActive(req, false, body.reason) });
  });

  r.post('/admin/principals/:id/activation', requireRole('admin'), json, async (req, res) => {
    const body = ActivationBody.parse(req.body ?? {});
    res.json({ principal: await setActive(req, true, body.reason) });
  });

  r.post('/admin/principals/:id/keys', requireRole('admin'), json, async (req, res) => {
    const admin = principalOf(req);
    const { id } = PrincipalId.parse(req.params);
    const body = NewKeyBody.parse(req.body ?? {});
    const target = await activePrincipal(db, id);
    if (!target) throw notFound(`账号 ${id}`);
    const expiresAt = body.expires_in_days ? new Date(Date.now() + body.expires_in_days * 86400_000) : null;
    const key = await issueApiKey(db, id, { label: body.label, expiresAt }, admin.id, actorLabel(admin));
    res.status(201).set('Cache-Control', 'no-store').json({ id: key.id, token: key.token, prefix: key.prefix, expires_at: key.expiresAt });
  });

  r.post('/admin/keys/:id/revoke', requireRole('admin'), async (req, res) => {
    const admin = principalOf(req);
    const { id } = KeyId.parse(req.params);
    const revoked = await revokeApiKey(db, id, { id: admin.id, actor: actorLabel(admin) });
    if (!revoked) throw notFound(`有效密钥 ${id}`);
    // In force in this process before the answer (other processes hear the table's notice).
    liveFeed(db)?.touch('api_keys');
    res.json({ id, revoked_at: isoInstant(revoked.revoked_at) });
  });

  return r;
}
