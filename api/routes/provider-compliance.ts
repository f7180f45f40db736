/**
 * A provider's compliance over HTTP: its history of cadences, obligations and cases (admin, supervisor), and the
 * cadences agreed with the platform, effective from the next period (admin, E7, P9).
 */
import { Router } from 'express';
import { z } from '../../domain/z';
import { CADENCES, type Cadence } from '../../domain/catalog';
import { shanghaiDate } from '../../domain/calendar';
import { providerCompliance, providerIdByCode } from '../../db/providers';
import { CadenceChangeError, recordCadenceChange } from '../../db/provider-cadences';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { document, errorAnswer, jsonRequest, registry, validationError } from '../openapi';
import { CaseSchema, Iso, ObligationView, ProviderCodeParam, date, json, jsonBody, tagO, type Endpoint } from './obligation-common';

const today = () => shanghaiDate(new Date());

// ─── GET /admin/providers/{code}/compliance ──────────────────────────────────────────────────────────────────

const CadenceChangeSchema = registry.register(
  'CadenceChange',
  z.object({
    id: z.number().int(),
    kind: z.enum(['initial', 'agreement']),
    cadence: z.enum(CADENCES),
    previous_cadence: z.enum(CADENCES).nullable(),
    effective_from: z.string(),
    agreed_on: z.string().nullable(),
    note: z.string().nullable(),
    actor: z.string(),
    created_at: z.string(),
    superseded_at: Iso,
  }),
);
document({
  method: 'get',
  path: '/admin/providers/{code}/compliance',
  operationId: 'getProviderCompliance',
  tags: tagO,
  summary: "信息提供单位的报送履约记录 / a provider's compliance history: cadences, obligations, cases (admin, supervisor)",
  secured: true,
  request: { params: ProviderCodeParam },
  responses: {
    200: json(
      z.object({
        provider: z.object({
          code: z.string(),
          name_zh: z.string(),
          kind: z.string(),
          cadence: z.enum(CADENCES),
          active: z.boolean(),
          deactivated_at: z.string().nullable(),
          deactivation_reason: z.string().nullable(),
        }),
        cadence: z.object({
          in_force: z.enum(CADENCES),
          pending: z.object({ cadence: z.enum(CADENCES), effective_from: z.string() }).nullable(),
        }),
        cadence_changes: z.array(CadenceChangeSchema),
        summary: z.object({
          total: z.number(),
          on_time: z.number(),
          late: z.number(),
          overdue: z.number(),
          open: z.number(),
          waived: z.number(),
          escalated: z.number(),
          nil_returns: z
            .number()
            .openapi({ description: '其中以零报送履行（已计入按时或逾期后报送）/ of the fulfilled, those by a nil return' }),
        }),
        obligations: z.array(ObligationView),
        cases: z.array(CaseSchema),
      }),
    ),
    404: errorAnswer('无此信息提供单位 / no such provider', notFound('信息提供单位 QZ-XXX')),
  },
});
const getCompliance: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const { code } = ProviderCodeParam.parse(req.params);
    const history = await providerCompliance(db, code, today());
    if (!history) throw notFound(`信息提供单位 ${code}`);
    const { provider, state, changes, obligations, cases } = history;
    const count = (f: (o: (typeof obligations)[number]) => boolean) => obligations.filter(f).length;
    res.json({
      provider: {
        code: provider.code,
        name_zh: provider.name_zh,
        kind: provider.kind,
        cadence: provider.cadence,
        active: provider.active,
        deactivated_at: provider.deactivated_at,
        deactivation_reason: provider.deactivation_reason,
      },
      cadence: {
        in_force: state.inForce,
        pending: state.pending ? { cadence: state.pending.cadence, effective_from: state.pending.effectiveFrom } : null,
      },
      cadence_changes: changes,
      summary: {
        total: obligations.length,
        on_time: count((o) => o.state === 'fulfilled' && o.on_time === true),
        late: count((o) => o.state === 'fulfilled' && o.on_time === false),
        overdue: count((o) => o.state === 'overdue'),
        open: count((o) => o.state === 'open'),
        waived: count((o) => o.state === 'waived'),
        escalated: cases.filter((c) => c.state === 'escalated').length,
        nil_returns: count((o) => o.state === 'fulfilled' && o.nil_return !== null && o.fulfilled_submission_id === null),
      },
      obligations,
      cases,
    });
  },
];

// ─── POST /admin/providers/{code}/cadence ────────────────────────────────────────────────────────────────────

const CadenceBody = z
  .object({
    cadence: z.enum(CADENCES),
    agreed_on: date.openapi({ description: '协商同意日期 / the day the agreement was made', example: '2026-11-20' }),
    note: z.string().trim().max(2000).optional(),
  })
  .strict();
document({
  method: 'post',
  path: '/admin/providers/{code}/cadence',
  operationId: 'changeProviderCadence',
  tags: tagO,
  summary: '报送周期变更（经协商同意，自下一报送期起生效，E7、P9）/ record an agreed cadence, effective from the next period (admin)',
  secured: true,
  request: {
    params: ProviderCodeParam,
    body: jsonRequest(
      CadenceBody,
      { cadence: 'quarterly', agreed_on: '2026-11-20', note: '经与钦州海关协商，自下一季度起按季度报送' },
      { required: true },
    ),
  },
  responses: {
    201: json(
      z.object({
        change: z.object({
          id: z.number(),
          previous_cadence: z.enum(CADENCES),
          cadence: z.enum(CADENCES),
          effective_from: z.string(),
          first_period: z.string(),
          agreed_on: z.string(),
          superseded: z.array(z.number()),
        }),
      }),
    ),
    400: errorAnswer(
      '请求无效 / bad request',
      validationError(CadenceBody, { cadence: 'weekly', agreed_on: '2026-11-20' }),
      badRequest('协商同意日期不能晚于今日 / the agreement date cannot be in the future', [
        { field: 'agreed_on', reason: '日期在未来 / in the future', article: 'E7, P9' },
      ]),
    ),
    404: errorAnswer('无此信息提供单位 / no such provider', notFound('信息提供单位 QZ-XXX')),
    409: errorAnswer(
      '单位已停用，或周期未变 / the provider is inactive, or already reports so',
      new HttpError(409, 'PROVIDER_INACTIVE', '信息提供单位已停用 / the provider is not active', [
        { field: 'cadence', reason: '信息提供单位已停用 / the provider is not active', article: 'E7, P9' },
      ]),
      new HttpError(409, 'NO_CHANGE', '该单位已按季报送 / the provider already reports quarterly', [
        { field: 'cadence', reason: '该单位已按季报送 / the provider already reports quarterly', article: 'E7, P9' },
      ]),
    ),
  },
});
const postCadence: Endpoint = ({ db }) => [
  requireRole('admin'),
  jsonBody(),
  async (req, res) => {
    const admin = principalOf(req);
    const { code } = ProviderCodeParam.parse(req.params);
    const b = CadenceBody.parse(req.body ?? {});
    const on = today();
    if (b.agreed_on > on) {
      throw badRequest('协商同意日期不能晚于今日 / the agreement date cannot be in the future', [
        { field: 'agreed_on', reason: '日期在未来 / in the future', article: 'E7, P9' },
      ]);
    }
    const providerId = await providerIdByCode(db, code);
    if (providerId === undefined) throw notFound(`信息提供单位 ${code}`);
    try {
      const change = await recordCadenceChange(db, {
        providerId,
        cadence: b.cadence as Cadence,
        agreedOn: b.agreed_on,
        note: b.note,
        today: on,
        principalId: admin.id,
        actor: actorLabel(admin),
      });
      res.status(201).json({
        change: {
          id: change.id,
          previous_cadence: change.previousCadence,
          cadence: change.cadence,
          effective_from: change.effectiveFrom,
          first_period: change.firstPeriod,
          agreed_on: change.agreedOn,
          superseded: change.superseded,
        },
      });
    } catch (e) {
      if (e instanceof CadenceChangeError)
        throw new HttpError(409, e.code, e.message, [{ field: 'cadence', reason: e.message, article: 'E7, P9' }]);
      throw e;
    }
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function providerComplianceRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/admin/providers/:code/compliance', ...getCompliance(deps));
  r.post('/admin/providers/:code/cadence', ...postCadence(deps));
  return r;
}
