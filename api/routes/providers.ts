/**
 * The information providers (E7–E9, P8) as the reporting obligations see them, over HTTP (admin): registration (a
 * provider registered mid-year owes its current period at once), deactivation and reactivation. Its compliance
 * history and cadences are in provider-compliance.ts.
 */
import { errorField, logger } from '../../ops/log';
import { Router } from 'express';
import { z } from '../../domain/z';
import { CADENCES, CATALOG_BY_CODE, type Cadence } from '../../domain/catalog';
import { shanghaiDate } from '../../domain/calendar';
import {
  ProviderStateError,
  deactivateProvider,
  providerActivity,
  providerIdByCode,
  reactivateProvider,
  registerProvider,
  type ProviderDeactivation,
} from '../../db/providers';
import { openObligationsOfProvider } from '../../db/obligations';
import { deliverQueuedSignals } from '../../processes/outbox';
import { startPendingObligationWorkflows } from '../../processes/starts';
import type { Db } from '../../db/knex';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, notFound } from '../errors';
import { document, errorAnswer, jsonRequest } from '../openapi';
import { PROVIDER_KINDS, ProviderCodeParam, json, jsonBody, tagO, type Endpoint } from './obligation-common';

const today = () => shanghaiDate(new Date());

// ─── POST /admin/providers/{code}/deactivation ───────────────────────────────────────────────────────────────

const ProviderActivity = z.object({
  code: z.string(),
  active: z.boolean(),
  deactivated_at: z.string().nullable(),
  deactivation_reason: z.string().nullable(),
});
const DeactivateProviderBody = z
  .object({
    reason: z
      .string()
      .trim()
      .min(2, { message: '请说明理由（至少 2 个字）/ give a reason (2 characters or more)' })
      .max(500)
      .openapi({ example: '机构改革，职责并入市市场监督管理局' }),
  })
  .strict();
/** The provider named in the path (`/admin/providers/{code}/…`), or 404. */
async function providerOfPath(db: Db, params: unknown): Promise<{ code: string; providerId: number }> {
  const { code } = ProviderCodeParam.parse(params);
  const providerId = await providerIdByCode(db, code);
  if (providerId === undefined) throw notFound(`信息提供单位 ${code}`);
  return { code, providerId };
}

const providerNotFound = errorAnswer('无此信息提供单位 / no such provider', notFound('信息提供单位 QZ-XXX'));
document({
  method: 'post',
  path: '/admin/providers/{code}/deactivation',
  operationId: 'deactivateProvider',
  tags: tagO,
  summary: '停用信息提供单位：不再开立报送义务、不得报送；未到期且未报送的义务免于报送，已逾期的照旧督办 / deactivate a provider (admin)',
  secured: true,
  request: {
    params: ProviderCodeParam,
    body: jsonRequest(DeactivateProviderBody, { reason: '机构改革，职责并入市市场监督管理局' }, { required: true }),
  },
  responses: {
    200: json(
      z.object({
        provider: ProviderActivity,
        waived: z.array(z.string()).openapi({ description: '免于报送的报送期 / periods no longer owed' }),
        overdue_kept: z.array(z.string()).openapi({ description: '已逾期、照旧督办的报送期 / overdue periods whose cases go on' }),
        submitted_kept: z.array(z.string()).openapi({ description: '已收到报送、照常认定的报送期 / periods with a batch received' }),
      }),
    ),
    404: providerNotFound,
    409: errorAnswer(
      '该单位已停用 / the provider is already inactive',
      new HttpError(409, 'PROVIDER_INACTIVE', '该信息提供单位已停用 / the provider is already inactive', [
        { field: 'code', reason: '该信息提供单位已停用 / the provider is already inactive' },
      ]),
    ),
  },
});
const postDeactivation: Endpoint = (deps) => [
  requireRole('admin'),
  jsonBody(),
  async (req, res) => {
    const { db } = deps;
    const admin = principalOf(req);
    const b = DeactivateProviderBody.parse(req.body ?? {});
    const { code, providerId } = await providerOfPath(db, req.params);
    let out: ProviderDeactivation;
    try {
      out = await deactivateProvider(db, { providerId, reason: b.reason, principalId: admin.id, actor: actorLabel(admin) });
    } catch (e) {
      if (e instanceof ProviderStateError) throw new HttpError(409, e.code, e.message, [{ field: 'code', reason: e.message }]);
      throw e;
    }
    // Wake the waived obligations' workflows so they end now (queued with the change: the reconciler delivers
    // what Temporal does not take now).
    await deliverQueuedSignals(db, deps.temporal, out.signalIds);
    res.json({
      provider: await providerActivity(db, code),
      waived: out.waived.map((w) => w.period),
      overdue_kept: out.overdueKept,
      submitted_kept: out.submittedKept,
    });
  },
];

// ─── POST /admin/providers/{code}/activation ─────────────────────────────────────────────────────────────────

const ActivateProviderBody = z.object({ reason: z.string().trim().min(2).max(500).optional() }).strict();
const OpenedObligations = z.array(z.object({ id: z.number(), period: z.string() }));
document({
  method: 'post',
  path: '/admin/providers/{code}/activation',
  operationId: 'activateProvider',
  tags: tagO,
  summary: '重新启用信息提供单位：停用期间的报送期免于报送，当前报送期起恢复报送义务 / reactivate a provider (admin)',
  secured: true,
  request: { params: ProviderCodeParam, body: jsonRequest(ActivateProviderBody, { reason: '职责恢复，重新承担信用信息报送' }) },
  responses: {
    200: json(z.object({ provider: ProviderActivity, waived_while_inactive: z.array(z.string()), obligations: OpenedObligations })),
    404: providerNotFound,
    409: errorAnswer(
      '该单位已是启用状态 / the provider is already active',
      new HttpError(409, 'PROVIDER_ACTIVE', '该信息提供单位已是启用状态 / the provider is already active', [
        { field: 'code', reason: '该信息提供单位已是启用状态 / the provider is already active' },
      ]),
    ),
  },
});
const postActivation: Endpoint = (deps) => [
  requireRole('admin'),
  jsonBody(),
  async (req, res) => {
    const { db } = deps;
    const admin = principalOf(req);
    const b = ActivateProviderBody.parse(req.body ?? {});
    const { code, providerId } = await providerOfPath(db, req.params);
    const on = today();
    let waivedWhileInactive: string[];
    try {
      ({ waivedWhileInactive } = await reactivateProvider(db, {
        providerId,
        today: on,
        reason: b.reason ?? null,
        principalId: admin.id,
        actor: actorLabel(admin),
      }));
    } catch (e) {
      if (e instanceof ProviderStateError) throw new HttpError(409, e.code, e.message, [{ field: 'code', reason: e.message }]);
      throw e;
    }
    // The period in progress is owed again, as at registration; its workflow starts now or with the daily opener.
    const opened = await openObligationsOfProvider(db, { providerId, today: on, actor: actorLabel(admin) });
    try {
      await startPendingObligationWorkflows({ db, temporal: deps.temporal, taskQueue: deps.config.taskQueue });
    } catch (e) {
      logger('api').warn({ err: errorField(e) }, `obligation workflows of ${code} deferred to the daily opener`);
    }
    res.json({
      provider: await providerActivity(db, code),
      waived_while_inactive: waivedWhileInactive,
      obligations: opened.map((o) => ({ id: o.id, period: o.period })),
    });
  },
];

// ─── POST /admin/providers ───────────────────────────────────────────────────────────────────────────────────

const NewProviderBody = z
  .object({
    code: z
      .string()
      .regex(/^[A-Z][A-Z0-9-]{1,63}$/, { message: '单位代码：大写字母、数字、连字符 / code: capital letters, digits, hyphens' })
      .openapi({ example: 'QZ-YJJ' }),
    name_zh: z.string().trim().min(2).max(200).openapi({ example: '钦州市应急管理局' }),
    name_en: z.string().trim().min(2).max(200).openapi({ example: 'Emergency Management Bureau' }),
    kind: z.enum(PROVIDER_KINDS),
    legal_basis: z.string().trim().min(1).max(200).openapi({ example: 'E7(23)' }),
    items: z
      .array(z.string().max(64))
      .min(1)
      .max(100)
      .refine((l) => l.every((c) => CATALOG_BY_CODE.has(c)), { message: '含目录中不存在的信息项 / an item is not in the catalog (P6)' })
      .openapi({ example: ['E-HONOR', 'E-PENALTY'] }),
    cadence: z.enum(CADENCES).default('monthly'),
  })
  .strict();
document({
  method: 'post',
  path: '/admin/providers',
  operationId: 'registerProvider',
  tags: tagO,
  summary: '登记信息提供单位（年中登记即开立当期报送义务）/ register a provider; its current period is opened at once (admin)',
  secured: true,
  request: {
    body: jsonRequest(
      NewProviderBody,
      {
        code: 'QZ-YJJ',
        name_zh: '钦州市应急管理局',
        name_en: 'Emergency Management Bureau',
        kind: 'administrative',
        legal_basis: 'E7(23)',
        items: ['E-HONOR', 'E-PENALTY', 'E-INSPECTION-FAIL'],
        cadence: 'monthly',
      },
      { required: true },
    ),
  },
  responses: {
    201: json(z.object({ provider: z.object({ code: z.string(), cadence: z.enum(CADENCES) }), obligations: OpenedObligations })),
    409: errorAnswer(
      '单位代码已存在 / a provider with this code exists',
      new HttpError(409, 'PROVIDER_EXISTS', '单位代码 QZ-YJJ 已存在 / a provider with this code exists', [
        { field: 'code', reason: '已存在 / exists' },
      ]),
    ),
  },
});
const postProvider: Endpoint = (deps) => [
  requireRole('admin'),
  jsonBody(),
  async (req, res) => {
    const { db } = deps;
    const admin = principalOf(req);
    const b = NewProviderBody.parse(req.body ?? {});
    const on = today();
    const providerId = await registerProvider(
      db,
      { ...b, cadence: b.cadence as Cadence },
      { today: on, principalId: admin.id, actor: actorLabel(admin) },
    );
    if (providerId === null) {
      throw new HttpError(409, 'PROVIDER_EXISTS', `单位代码 ${b.code} 已存在 / a provider with this code exists`, [
        { field: 'code', reason: '已存在 / exists' },
      ]);
    }
    // Its current period is owed (registered mid-year: not the earlier ones); its workflow starts now, or with
    // the daily opener if Temporal cannot be reached.
    const opened = await openObligationsOfProvider(db, { providerId, today: on, actor: actorLabel(admin) });
    try {
      await startPendingObligationWorkflows({ db, temporal: deps.temporal, taskQueue: deps.config.taskQueue });
    } catch (e) {
      logger('api').warn({ err: errorField(e) }, `obligation workflows of ${b.code} deferred to the daily opener`);
    }
    res
      .status(201)
      .json({ provider: { code: b.code, cadence: b.cadence }, obligations: opened.map((o) => ({ id: o.id, period: o.period })) });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function providersRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/admin/providers/:code/deactivation', ...postDeactivation(deps));
  r.post('/admin/providers/:code/activation', ...postActivation(deps));
  r.post('/admin/providers', ...postProvider(deps));
  return r;
}
