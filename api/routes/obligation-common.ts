import express, { type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { CADENCES } from '../../domain/catalog';
import { isIsoDate } from '../../domain/calendar';
import { parsePeriod } from '../../domain/periods';
import { CASE_KINDS, CASE_STATES, OBLIGATION_STATES } from '../../domain/obligations';
import { registry } from '../openapi';
import type { AppDeps } from '../app';

/**
 * What the routes of the reporting obligations (E7, P9), the compliance cases (E20, P24) and the providers share:
 * the common request pieces, the obligation and the case as the API shows them, the OpenAPI tags and answers.
 */

export const PROVIDER_KINDS = ['administrative', 'judicial', 'vertical', 'industry_association', 'intermediary', 'utility'] as const;

export const periodCode = z
  .string()
  .max(16)
  .refine((v) => parsePeriod(v) !== null, {
    message: '报送期格式应为 YYYY-MM、YYYY-Qn 或 YYYY-Hn / period must be YYYY-MM, YYYY-Qn or YYYY-Hn',
  });
export const date = z.string().refine(isIsoDate, { message: '日期格式应为 YYYY-MM-DD / date must be a real date written YYYY-MM-DD' });
export const providerList = z
  .string()
  .max(2000)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((l) => l.length > 0 && l.length <= 100, { message: '单位代码列表，以逗号分隔 / comma-separated provider codes' });
export const ObligationIdParam = z.object({
  id: z.coerce.number().int().positive({ message: '报送义务编号应为正整数 / obligation id must be a positive integer' }),
});
export const ProviderCodeParam = z.object({ code: z.string().max(64) });
export const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

export const Iso = z.string().nullable();

export const ObligationSchema = registry.register(
  'Obligation',
  z.object({
    id: z.number().int(),
    provider: z.string(),
    provider_name: z.string(),
    period: z.string(),
    cadence: z.enum(CADENCES),
    period_start: z.string(),
    period_end: z.string(),
    due_date: z.string().nullable(),
    state: z.enum(OBLIGATION_STATES),
    on_time: z.boolean().nullable(),
    fulfilled_at: Iso,
    fulfilled_submission_id: z.string().nullable(),
    overdue_at: Iso,
    case_id: z.string().nullable(),
    case_state: z.enum(CASE_STATES).nullable(),
    opened_at: z.string(),
    waived_at: Iso,
    waived_reason: z.string().nullable(),
    calendar_pending_year: z.number().int().nullable().openapi({
      description:
        "截止日期待该年工作日历载入后确定（不据此认定逾期）/ the due date waits for this year's calendar (nobody is overdue meanwhile)",
      example: 2027,
    }),
  }),
);
/** The obligation as the views show it: with its declaration that there was nothing to report (零报送), if any. */
export const ObligationView = registry.register(
  'ObligationWithNilReturn',
  ObligationSchema.extend({
    nil_return: z
      .object({ at: z.string(), note: z.string().nullable() })
      .nullable()
      .openapi({ description: '零报送声明（本期无新增信用信息）/ the declaration that there was nothing to report, or null' }),
  }),
);
export const EventSchema = z.object({ at: z.string(), kind: z.string(), actor: z.string(), detail: z.record(z.string(), z.unknown()) });
export const CaseSchema = registry.register(
  'ComplianceCase',
  z.object({
    id: z.string().uuid(),
    provider: z.string(),
    provider_name: z.string(),
    kind: z.enum(CASE_KINDS),
    reference_id: z.string(),
    state: z.enum(CASE_STATES),
    state_zh: z.string(),
    article: z.string(),
    summary: z.string(),
    missed_deadline: z.string().nullable(),
    opened_at: z.string(),
    order_deadline: z.string().nullable(),
    order_note: z.string().nullable(),
    ordered_at: Iso,
    ordered_by: z.string().nullable(),
    escalation_due_at: Iso,
    escalated_at: Iso,
    escalated_by: z.string().nullable(),
    referred_to: z.string().nullable(),
    responsible_unit: z.string().nullable(),
    escalation_note: z.string().nullable(),
    resolved_at: Iso,
    resolution: z.string().nullable(),
  }),
);

export const tagO = ['报送义务 Reporting obligations'];
export const tagC = ['督办 Compliance cases'];
export const json = (schema: z.ZodTypeAny, description = 'ok') => ({ description, content: { 'application/json': { schema } } });

/** An endpoint: its handlers (role check, body parser, handler), made from the app's dependencies. */
export type Endpoint = (deps: AppDeps) => RequestHandler[];

/** The JSON body parser of these routes. */
export const jsonBody = () => express.json({ limit: '100kb' });
