import express, { type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { checkCitizenId, checkUscc } from '../../domain/identifiers';
import { isPublicCategory, protectedCategories, type Subject } from '../../domain/access';
import { ROLES, type Principal, type Role } from '../../domain/roles';
import type { AppDeps } from '../app';
import { actorLabel } from '../auth';
import { badRequest, type ErrorDetail } from '../errors';
import { registry } from '../openapi';

/**
 * What the query routes share (documents, authorizations, queries, rating and judicial requests, their oversight):
 * the common schemas, the answered record and the log entry as the API shows them, and the checks of a subject and
 * of the categories asked for.
 */

// ─── Schemas ─────────────────────────────────────────────────────────────────────────────────────────────────

export const Uuid = (what: string) => z.string().uuid({ message: `${what}应为 UUID / ${what} must be a UUID` });
export const IdParam = z.object({ id: Uuid('编号') });
export const SubjectType = z.enum(['enterprise', 'person']);
export const Purpose = z.string().trim().min(2, { message: '请说明查询用途 / state the purpose' }).max(1000);
export const Reason = z.string().trim().min(2, { message: '请说明理由 / give the reason' }).max(2000);
export const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};
export const StatusQuery = (values: readonly [string, ...string[]]) => z.object({ status: z.enum(values).optional(), ...Paging });

export const AnsweredRecordSchema = registry.register(
  'AnsweredRecord',
  z.object({
    record_key: z.string().uuid(),
    version: z.number().int(),
    item_code: z.string(),
    item_name: z.string(),
    category: z.string(),
    provider: z.string(),
    payload: z.record(z.string(), z.unknown()),
    event_date: z.string(),
    concluded_date: z.string().nullable(),
    valid_until: z.string().nullable(),
    lifted_date: z.string().nullable(),
    updated_at: z.string(),
    disputed: z.boolean().openapi({ description: '存在异议（P22）/ under objection' }),
  }),
);
export const WithheldSchema = z.object({ category: z.string(), reason: z.string(), article: z.string() });
export const QueryLogEntry = registry.register(
  'QueryLogEntry',
  z.object({
    id: z.number().int(),
    at: z.string(),
    principal_id: z.string(),
    principal_role: z.string(),
    principal_name: z.string(),
    organization: z.string().nullable(),
    channel: z.string(),
    subject_type: z.string(),
    subject_id: z.string(),
    categories_requested: z.array(z.string()),
    categories_answered: z.array(z.string()),
    withheld: z.array(WithheldSchema),
    basis: z.string(),
    basis_ref: z.string().nullable(),
    document_id: z.string().nullable(),
    document_sha256: z.string().nullable(),
    purpose: z.string().nullable(),
    fee: z.enum(['chargeable', 'free']),
    outcome: z.enum(['answered', 'refused']),
    refusal_code: z.string().nullable(),
    refusal_reason: z.string().nullable(),
    refusal_article: z.string().nullable(),
    item_count: z.number().int(),
    retain_until: z.string(),
  }),
);

// ─── OpenAPI ─────────────────────────────────────────────────────────────────────────────────────────────────

export const tags = ['查询 Queries'];
export const adminTags = ['查询监管 Query oversight'];
export const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * One endpoint: made from the app's dependencies, its middleware (the roles it is for, a body parser) and its
 * handler, in order; its schema and OpenAPI registration sit right above it. The router maps paths to endpoints.
 */
export type Endpoint = (deps: AppDeps) => RequestHandler[];

/** Every role. */
export const ANY: Role[] = [...ROLES];

/** The JSON body parser of the query routes. */
export const jsonBody = () => express.json({ limit: '100kb' });

export function checkSubjectId(type: 'enterprise' | 'person', id: string, field: string): void {
  const check = type === 'enterprise' ? checkUscc(id) : checkCitizenId(id);
  if (!check.ok) {
    throw badRequest(
      type === 'enterprise' ? '统一社会信用代码无效 / invalid unified social credit code' : '公民身份号码无效 / invalid citizen ID number',
      [{ field, reason: check.reason, article: type === 'enterprise' ? 'GB 32100-2015' : 'P9' }],
    );
  }
}

/** The asked-for categories must be the subject type's restricted (E13) or personal (P6) categories. */
export function checkCategories(type: 'enterprise' | 'person', categories: string[], field: string): void {
  const allowed = protectedCategories(type);
  const details: ErrorDetail[] = [];
  categories.forEach((c, i) => {
    if (isPublicCategory(type, c)) {
      details.push({
        field: `${field}.${i}`,
        reason: `「${c}」为公开信息，请通过信息公示查询，无需查询依据 / public information is read from the publication, without a basis`,
        article: 'E12',
      });
    } else if (!allowed.includes(c)) {
      details.push({
        field: `${field}.${i}`,
        reason: `「${c}」不是${type === 'enterprise' ? '企业限制公开信息' : '个人信用信息'}的类别（可选：${allowed.join('、')}）/ not a category here: one of ${allowed.join(', ')}`,
        article: type === 'enterprise' ? 'E13' : 'P6',
      });
    }
  });
  if (details.length) throw badRequest('信息类别无效 / invalid categories', details);
}

/** The enterprise or person a principal is, if it is one. */
export function ownSubject(p: Principal): Subject | null {
  if (p.role === 'enterprise' && p.enterpriseUscc) return { type: 'enterprise', id: p.enterpriseUscc };
  if (p.role === 'person' && p.personId) return { type: 'person', id: p.personId };
  return null;
}

/** Who acts, as the repositories record it. */
export const by = (p: Principal) => ({ id: p.id, actor: actorLabel(p) });

/** Staff, administrators and supervisors see every request, document and authorization. */
export const seesAll = (p: Principal) => ['staff', 'admin', 'supervisor'].includes(p.role);
