import express, { Router } from 'express';
import { liveFeed } from '../../db/changes';
import { z } from '../../domain/z';
import { ROLES } from '../../domain/roles';
import { checkCitizenId, checkUscc } from '../../domain/identifiers';
import { createPrincipal, issueApiKey, PrincipalInputError } from '../../db/principals';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { badRequest, notFound } from '../errors';
import { document, registry } from '../openapi';

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
  }),
);

const NewKeyBody = z
  .object({
    label: z.string().max(200).optional(),
    expires_in_days: z.number().int().min(1).max(3650).optional().openapi({ description: '有效天数 / days until the key expires' }),
  })
  .strict();
const PrincipalId = z.object({ id: z.string().uuid({ message: '账号编号应为 UUID / principal id must be a UUID' }) });
const KeyId = z.object({ id: z.string().uuid({ message: '密钥编号应为 UUID / key id must be a UUID' }) });

const tags = ['管理 Administration'];
document({
  method: 'post',
  path: '/admin/principals',
  tags,
  summary: '创建账号（绑定单位、企业或个人）/ create a principal bound to its organization (admin)',
  secured: true,
  request: { body: { content: { 'application/json': { schema: NewPrincipalBody } } } },
  responses: { 201: { description: 'created', content: { 'application/json': { schema: z.object({ principal: PrincipalSchema }) } } } },
});
document({
  method: 'get',
  path: '/admin/principals',
  tags,
  summary: '账号列表 / list principals (admin)',
  secured: true,
  responses: { 200: { description: 'principals', content: { 'application/json': { schema: z.object({ principals: z.array(PrincipalSchema) }) } } } },
});
document({
  method: 'post',
  path: '/admin/principals/{id}/keys',
  tags,
  summary: '签发 API 密钥（仅此一次显示）/ issue an API key, shown once (admin)',
  secured: true,
  request: { params: PrincipalId, body: { content: { 'application/json': { schema: NewKeyBody } } } },
  responses: {
    201: {
      description: 'the key',
      content: { 'application/json': { schema: z.object({ id: z.string(), token: z.string(), prefix: z.string(), expires_at: z.string().nullable() }) } },
    },
  },
});
document({
  method: 'post',
  path: '/admin/keys/{id}/revoke',
  tags,
  summary: '吊销 API 密钥 / revoke an API key (admin)',
  secured: true,
  request: { params: KeyId },
  responses: { 200: { description: 'revoked', content: { 'application/json': { schema: z.object({ id: z.string(), revoked_at: z.string() }) } } } },
});

export function adminRouter({ db }: AppDeps): Router {
  const r = Router();
  const json = express.json({ limit: '100kb' });
  const principalColumns = ['p.id', 'p.name', 'p.role', 'pr.code as provider', 'p.enterprise_uscc', 'p.person_id', 'p.organization', 'p.active'];

  r.post('/admin/principals', requireRole('admin'), json, async (req, res) => {
    const admin = principalOf(req);
    const body = NewPrincipalBody.parse(req.body);
    let id: string;
    try {
      ({ id } = await createPrincipal(
        db,
        { name: body.name, role: body.role, providerCode: body.provider_code, enterpriseUscc: body.enterprise_uscc, personId: body.person_id, organization: body.organization },
        admin.id,
        actorLabel(admin),
      ));
    } catch (e) {
      if (e instanceof PrincipalInputError) throw badRequest(e.message, [{ field: e.field, reason: e.message }]);
      throw e;
    }
    const principal = await db('principals as p').leftJoin('providers as pr', 'pr.id', 'p.provider_id').where('p.id', id).first(principalColumns);
    res.status(201).json({ principal });
  });

  r.get('/admin/principals', requireRole('admin'), async (_req, res) => {
    const principals = await db('principals as p').leftJoin('providers as pr', 'pr.id', 'p.provider_id').orderBy('p.created_at').select(principalColumns);
    res.json({ principals });
  });

  r.post('/admin/principals/:id/keys', requireRole('admin'), json, async (req, res) => {
    const admin = principalOf(req);
    const { id } = PrincipalId.parse(req.params);
    const body = NewKeyBody.parse(req.body ?? {});
    const target = await db('principals').where({ id, active: true }).first('id');
    if (!target) throw notFound(`账号 ${id}`);
    const expiresAt = body.expires_in_days ? new Date(Date.now() + body.expires_in_days * 86400_000) : null;
    const key = await issueApiKey(db, id, { label: body.label, expiresAt }, admin.id, actorLabel(admin));
    res.status(201).set('Cache-Control', 'no-store').json({ id: key.id, token: key.token, prefix: key.prefix, expires_at: key.expiresAt });
  });

  r.post('/admin/keys/:id/revoke', requireRole('admin'), async (req, res) => {
    const admin = principalOf(req);
    const { id } = KeyId.parse(req.params);
    const rows = await db.transaction(async (trx) => {
      const updated = await trx('api_keys').where('id', id).whereNull('revoked_at').update({ revoked_at: trx.fn.now() }).returning(['id', 'revoked_at', 'prefix']);
      if (updated.length) {
        await trx('audit_log').insert({ principal_id: admin.id, actor: actorLabel(admin), action: 'api_key.revoke', entity: 'api_key', entity_id: id, detail: { prefix: updated[0].prefix } });
      }
      return updated;
    });
    if (!rows.length) throw notFound(`有效密钥 ${id}`);
    // In force in this process before the answer (other processes hear the table's notice).
    liveFeed(db)?.touch('api_keys');
    res.json({ id, revoked_at: new Date(rows[0].revoked_at).toISOString() });
  });

  return r;
}
