import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from '../../domain/z';
import { isoDate } from '../../domain/records';
import { checkCitizenId, checkUscc } from '../../domain/identifiers';
import { ENTERPRISE_RESTRICTED_CATEGORIES } from '../../domain/catalog';
import { isPublicCategory, protectedCategories, type Subject } from '../../domain/access';
import { shanghaiDate } from '../../domain/calendar';
import { querySettings } from '../../domain/config';
import { ROLES, type Principal, type Role } from '../../domain/roles';
import {
  DOCUMENT_KINDS,
  DOCUMENT_TYPES,
  accessMonitoring,
  answeredRecords,
  authorizationColumns,
  createAuthorization,
  createJudicialRequest,
  createRatingRequest,
  documentMeta,
  feeReport,
  judicialColumns,
  querierOf,
  queryLog,
  queryLogColumns,
  ratingColumns,
  revokeAuthorization,
  runQuery,
  storeDocument,
  type BasisInput,
  type QueryOutcome,
} from '../../db/queries';
import { verifyAuditChain } from '../../db/audit';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, forbidden, notFound, type ErrorDetail } from '../errors';
import { document, registry, ErrorBody } from '../openapi';
import { answerJudicialRequestUpdate, decideRatingRequestUpdate, type judicialRequestWorkflow, type ratingRequestWorkflow } from '../../workflows/query';

// ─── Schemas ─────────────────────────────────────────────────────────────────────────────────────────────────

const Uuid = (what: string) => z.string().uuid({ message: `${what}应为 UUID / ${what} must be a UUID` });
const IdParam = z.object({ id: Uuid('编号') });
const SubjectType = z.enum(['enterprise', 'person']);
const Purpose = z.string().trim().min(2, { message: '请说明查询用途 / state the purpose' }).max(1000);
const Reason = z.string().trim().min(2, { message: '请说明理由 / give the reason' }).max(2000);
const Paging = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

const BasisBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('self') }).strict().openapi({ description: '本企业/本人（E14(1)、P12(1)）/ the subject itself' }),
  z.object({ kind: z.literal('authorization'), authorization_id: Uuid('授权编号') }).strict().openapi({ description: '信息主体的授权（E14(2)、P12(2)）/ the subject\'s authorization' }),
  z.object({ kind: z.literal('rating_approval'), request_id: Uuid('申请编号') }).strict().openapi({ description: '经批准的评级查询申请（E14(3)）/ an approved rating request' }),
  z.object({ kind: z.literal('rating_agreement'), agreement_id: Uuid('协议编号') }).strict().openapi({ description: '与平台签订的评级查询协议（E14(3)）/ a rating agreement with the platform' }),
  z.object({ kind: z.literal('duty'), document_id: Uuid('证明文件编号') }).strict().openapi({ description: '履职证明文件（E14(4)、P12(3)）/ a proof of duty document' }),
]);

const QueryBody = registry.register(
  'QueryRequest',
  z
    .object({
      subject_type: SubjectType,
      subject_id: z.string().max(18).openapi({ description: '统一社会信用代码或公民身份号码 / USCC or citizen ID' }),
      categories: z.array(z.string().max(40)).max(10).optional().openapi({ description: '所查信息类别；不填为依据允许的全部 / categories; default all the basis allows' }),
      basis: BasisBody,
      purpose: Purpose.optional(),
    })
    .strict(),
);

const AnsweredRecordSchema = registry.register(
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
const WithheldSchema = z.object({ category: z.string(), reason: z.string(), article: z.string() });
const QueryAnswer = z.object({
  query: z.object({ id: z.number().int(), at: z.string(), basis: z.string(), fee: z.enum(['chargeable', 'free']), categories: z.array(z.string()), withheld: z.array(WithheldSchema), article: z.string() }),
  records: z.array(AnsweredRecordSchema),
});
const QueryLogEntry = registry.register(
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

const DocumentSchema = registry.register(
  'Document',
  z.object({ id: z.string().uuid(), kind: z.enum(DOCUMENT_KINDS), file_name: z.string(), content_type: z.string(), size_bytes: z.number().int(), sha256: z.string(), uploaded_by: z.string(), uploaded_at: z.string() }),
);
const DocumentQuery = z.object({
  kind: z.enum(DOCUMENT_KINDS, {
    message: 'kind 应为 authorization（书面授权）、duty_proof（履职证明）或 rating_agreement（评级查询协议）/ kind must be authorization, duty_proof or rating_agreement',
  }),
  file_name: z.string().trim().min(1).max(255).regex(/^[^/\\\u0000]+$/, { message: '文件名不能含路径 / a file name without a path' }),
});

const AuthorizationBody = z
  .object({
    grantee_principal_id: Uuid('被授权账号').optional(),
    grantee_organization: z.string().trim().min(2).max(200).optional().openapi({ description: '被授权单位名称（与其账号登记的单位一致）/ the grantee organization' }),
    categories: z.array(z.string().max(40)).min(1, { message: '至少授权一类信息 / authorize at least one category' }).max(10),
    valid_from: isoDate,
    valid_until: isoDate,
    purpose: Purpose,
    document_id: Uuid('书面授权文件编号'),
  })
  .strict()
  .refine((b) => b.grantee_principal_id || b.grantee_organization, { message: '须指定被授权账号或单位 / name the grantee (principal or organization)', path: ['grantee_principal_id'] })
  .refine((b) => b.valid_until >= b.valid_from, { message: '截止日期不能早于起始日期 / valid_until must not be before valid_from', path: ['valid_until'] });
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
const RevokeBody = z.object({ reason: Reason }).strict();

const RatingRequestBody = z
  .object({
    subject_uscc: z.string().max(18),
    categories: z.array(z.enum(ENTERPRISE_RESTRICTED_CATEGORIES)).min(1).max(4),
    purpose: Purpose,
  })
  .strict();
const RatingRequestSchema = registry.register(
  'RatingRequest',
  z.object({
    id: z.string().uuid(),
    agency_principal_id: z.string(),
    agency_name: z.string(),
    organization: z.string().nullable(),
    subject_uscc: z.string(),
    categories: z.array(z.string()),
    purpose: z.string(),
    status: z.enum(['requested', 'approved', 'rejected', 'lapsed']),
    requested_at: z.string(),
    decision_deadline: z.string().nullable(),
    decision_due_at: z.string().nullable(),
    decision_deadline_provisional: z.boolean().openapi({ description: '暂定：其间有年份的工作日历尚未载入；申请不因暂定期限届满而失效 / provisional: a year on the way has no calendar; the request does not lapse on it' }),
    decided_at: z.string().nullable(),
    decision_reason: z.string().nullable(),
    valid_until: z.string().nullable(),
    workflow_id: z.string(),
  }),
);
const DecisionBody = z.object({ approve: z.boolean(), reason: Reason }).strict();

const JudicialRequestBody = z
  .object({
    subject_type: SubjectType,
    subject_id: z.string().max(18),
    categories: z.array(z.string().max(40)).min(1).max(10).optional(),
    case_no: z.string().trim().min(2).max(200).openapi({ example: '(2026)桂07执123号' }),
    purpose: Purpose,
    document_id: Uuid('证明文件编号'),
  })
  .strict();
const JudicialRequestSchema = registry.register(
  'JudicialRequest',
  z.object({
    id: z.string().uuid(),
    requester_principal_id: z.string(),
    requester_name: z.string(),
    organization: z.string().nullable(),
    subject_type: SubjectType,
    subject_id: z.string(),
    categories: z.array(z.string()).nullable(),
    case_no: z.string(),
    purpose: z.string(),
    document_id: z.string(),
    received_at: z.string(),
    receipt_date: z.string().nullable(),
    answer_due: z.string().nullable(),
    due_at: z.string().nullable(),
    answer_due_provisional: z.boolean().openapi({ description: '暂定：按最早可能的日期答复；确定期限前不记为逾期 / provisional: answered by the earliest possible day; not recorded as missed before the settled deadline' }),
    alert_date: z.string().nullable(),
    alerted_at: z.string().nullable(),
    overdue_at: z.string().nullable(),
    status: z.enum(['pending', 'answered', 'rejected']),
    answered_at: z.string().nullable(),
    answer_reason: z.string().nullable(),
    query_log_id: z.number().nullable(),
    met: z.boolean().nullable().openapi({ description: 'null：尚未答复，或在暂定期限后答复、待日历载入后确定 / null: not answered, or answered after a provisional deadline (decided when the year is loaded)' }),
    workflow_id: z.string(),
  }),
);
const AnswerBody = z
  .object({ decision: z.enum(['answer', 'reject']), reason: Reason.optional() })
  .strict()
  .refine((b) => b.decision === 'answer' || b.reason, { message: '不予受理须说明理由 / a rejection needs its reason', path: ['reason'] });

const LogQuery = z.object({
  subject_type: SubjectType.optional(),
  subject_id: z.string().max(18).optional(),
  principal_id: Uuid('账号编号').optional(),
  outcome: z.enum(['answered', 'refused']).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  ...Paging,
});
const PeriodQuery = z
  .object({ from: isoDate, to: isoDate })
  .refine((q) => q.to >= q.from, { message: '结束日期不能早于开始日期 / to must not be before from', path: ['to'] });
const StatusQuery = (values: readonly [string, ...string[]]) => z.object({ status: z.enum(values).optional(), ...Paging });

// ─── OpenAPI ─────────────────────────────────────────────────────────────────────────────────────────────────

const tags = ['查询 Queries'];
const adminTags = ['查询监管 Query oversight'];
const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const refused = { 403: { description: '拒绝查询（原因及条款；已记录）/ refused, with reason and article; logged', ...json(ErrorBody) } };

document({
  method: 'post',
  path: '/documents',
  tags,
  summary: '上传书面授权、履职证明或已签订的评级查询协议（PDF、JPEG、PNG）/ upload a written authorization, a proof of duty or a signed rating agreement (staff)',
  secured: true,
  request: { query: DocumentQuery, body: { content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) }, 'image/jpeg': { schema: z.string().openapi({ format: 'binary' }) }, 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } } },
  responses: { 201: { description: 'stored', ...json(z.object({ document: DocumentSchema })) }, 413: { description: 'too large', ...json(ErrorBody) }, 415: { description: 'type not allowed', ...json(ErrorBody) } },
});
document({ method: 'get', path: '/documents/{id}', tags, summary: '文件信息 / document metadata (uploader, staff, admin)', secured: true, request: { params: IdParam }, responses: { 200: { description: 'metadata', ...json(z.object({ document: DocumentSchema })) } } });
document({ method: 'get', path: '/documents/{id}/content', tags, summary: '文件内容 / document content', secured: true, request: { params: IdParam }, responses: { 200: { description: 'the file' } } });

document({
  method: 'post',
  path: '/authorizations',
  tags,
  summary: '授权他人查询本企业限制公开信息或本人信用信息（E14(2)、P12(2)）/ authorize a party (enterprise, person)',
  secured: true,
  request: { body: json(AuthorizationBody) },
  responses: { 201: { description: 'granted', ...json(z.object({ authorization: AuthorizationSchema })) } },
});
document({ method: 'get', path: '/authorizations', tags, summary: '我授予的或我获得的授权 / authorizations I granted (enterprise, person) or hold', secured: true, responses: { 200: { description: 'list', ...json(z.object({ authorizations: z.array(AuthorizationSchema) })) } } });
document({ method: 'get', path: '/authorizations/{id}', tags, summary: '一项授权 / one authorization', secured: true, request: { params: IdParam }, responses: { 200: { description: 'it', ...json(z.object({ authorization: AuthorizationSchema })) } } });
document({
  method: 'post',
  path: '/authorizations/{id}/revoke',
  tags,
  summary: '撤销授权 / revoke an authorization (the subject)',
  secured: true,
  request: { params: IdParam, body: json(RevokeBody) },
  responses: { 200: { description: 'revoked', ...json(z.object({ id: z.string(), revoked_at: z.string() })) }, 409: { description: 'already revoked', ...json(ErrorBody) } },
});

document({
  method: 'post',
  path: '/queries',
  tags,
  summary: '查询限制公开的企业信息或个人信用信息（E13、E14、P12–P14；每次查询均记录，P20）/ query restricted or personal information; every query is logged',
  secured: true,
  request: { body: json(QueryBody) },
  responses: { 200: { description: 'the answer: only what the basis allows', ...json(QueryAnswer) }, ...refused },
});
document({ method: 'get', path: '/queries/mine', tags, summary: '我的查询记录 / my queries', secured: true, request: { query: z.object(Paging) }, responses: { 200: { description: 'newest first', ...json(z.object({ queries: z.array(QueryLogEntry) })) } } });
document({
  method: 'get',
  path: '/queries/about-me',
  tags,
  summary: '谁查询了我（个人，P20）/ 谁查询了本企业限制公开信息（企业）/ who queried me (person) or my restricted information (enterprise)',
  secured: true,
  request: { query: z.object(Paging) },
  responses: { 200: { description: 'newest first', ...json(z.object({ queries: z.array(QueryLogEntry) })) } },
});
document({ method: 'get', path: '/queries/{id}', tags, summary: '一次查询的记录 / one logged query (its querier, staff, admin, supervisor)', secured: true, request: { params: z.object({ id: z.coerce.number().int().positive() }) }, responses: { 200: { description: 'the entry and the record versions returned', ...json(z.object({ query: QueryLogEntry, items: z.array(z.object({ record_key: z.string(), version: z.number(), item_code: z.string(), category: z.string() })) })) } } });

document({
  method: 'post',
  path: '/rating-requests',
  tags,
  summary: '信用评级机构申请查询企业限制公开信息（E14(3)）/ a rating agency asks to query an enterprise',
  secured: true,
  request: { body: json(RatingRequestBody) },
  responses: { 202: { description: 'filed; staff decide by the deadline', ...json(z.object({ rating_request: RatingRequestSchema })) } },
});
document({ method: 'get', path: '/rating-requests', tags, summary: '评级查询申请（机构：本机构的；工作人员：全部）/ rating requests', secured: true, request: { query: StatusQuery(['requested', 'approved', 'rejected', 'lapsed']) }, responses: { 200: { description: 'list', ...json(z.object({ rating_requests: z.array(RatingRequestSchema) })) } } });
document({ method: 'get', path: '/rating-requests/{id}', tags, summary: '一项评级查询申请 / one rating request', secured: true, request: { params: IdParam }, responses: { 200: { description: 'it', ...json(z.object({ rating_request: RatingRequestSchema })) } } });
document({
  method: 'post',
  path: '/rating-requests/{id}/decision',
  tags,
  summary: '审批评级查询申请（工作人员，期限内）/ approve or reject (staff, before the deadline)',
  secured: true,
  request: { params: IdParam, body: json(DecisionBody) },
  responses: { 200: { description: 'decided', ...json(z.object({ rating_request: RatingRequestSchema })) }, 409: { description: 'decided, lapsed or past its deadline', ...json(ErrorBody) } },
});

document({
  method: 'post',
  path: '/judicial-requests',
  tags,
  summary: '司法机关查询申请，3 个工作日内答复（E14(4)、P13）/ a judicial query request, answered within 3 working days',
  secured: true,
  request: { body: json(JudicialRequestBody) },
  responses: { 202: { description: 'filed, with its answer deadline', ...json(z.object({ judicial_request: JudicialRequestSchema })) } },
});
document({ method: 'get', path: '/judicial-requests', tags, summary: '司法查询申请（司法机关：本机关的；工作人员：全部）/ judicial requests', secured: true, request: { query: StatusQuery(['pending', 'answered', 'rejected']) }, responses: { 200: { description: 'list', ...json(z.object({ judicial_requests: z.array(JudicialRequestSchema) })) } } });
document({
  method: 'get',
  path: '/judicial-requests/{id}',
  tags,
  summary: '一项司法查询申请及其答复 / one judicial request and its answer',
  secured: true,
  request: { params: IdParam },
  responses: { 200: { description: 'it', ...json(z.object({ judicial_request: JudicialRequestSchema, answer: z.object({ records: z.array(AnsweredRecordSchema) }).nullable() })) } },
});
document({
  method: 'post',
  path: '/judicial-requests/{id}/answer',
  tags,
  summary: '答复司法查询申请（工作人员）/ answer or reject a judicial request (staff)',
  secured: true,
  request: { params: IdParam, body: json(AnswerBody) },
  responses: { 200: { description: 'answered; met tells whether the deadline was kept', ...json(z.object({ judicial_request: JudicialRequestSchema })) }, 409: { description: 'answered already', ...json(ErrorBody) } },
});

document({ method: 'get', path: '/admin/query-log', tags: adminTags, summary: '查询日志（至少保存 5 年，不可修改，P20）/ the query log (staff, admin, supervisor)', secured: true, request: { query: LogQuery }, responses: { 200: { description: 'newest first', ...json(z.object({ queries: z.array(QueryLogEntry) })) } } });
document({
  method: 'get',
  path: '/admin/query-fees',
  tags: adminTags,
  summary: '收费查询统计（E16）/ chargeable queries of a period (staff, admin)',
  secured: true,
  request: { query: PeriodQuery },
  responses: { 200: { description: 'per month and querier, with totals', ...json(z.object({ from: z.string(), to: z.string(), rows: z.array(z.record(z.string(), z.unknown())), totals: z.object({ chargeable: z.number(), free: z.number(), refused: z.number() }) })) } },
});
document({
  method: 'get',
  path: '/admin/access-monitoring',
  tags: adminTags,
  summary: '访问监控：认证失败、拒绝查询、异常查询量（P11、E19）/ access monitoring (admin, supervisor)',
  secured: true,
  request: { query: PeriodQuery },
  responses: { 200: { description: 'per principal', ...json(z.record(z.string(), z.unknown())) } },
});
document({
  method: 'get',
  path: '/admin/audit/verify',
  tags: adminTags,
  summary: '校验审计日志哈希链（E23、P26）/ verify the audit log hash chain (admin, supervisor)',
  secured: true,
  responses: { 200: { description: 'ok, or the first broken entry', ...json(z.object({ ok: z.boolean(), checked: z.number(), head: z.object({ seq: z.number(), hash: z.string() }), first_broken: z.object({ id: z.number().nullable(), seq: z.number(), reason: z.string() }).nullable(), verified_at: z.string() })) } },
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

function checkSubjectId(type: 'enterprise' | 'person', id: string, field: string): void {
  const check = type === 'enterprise' ? checkUscc(id) : checkCitizenId(id);
  if (!check.ok) {
    throw badRequest(type === 'enterprise' ? '统一社会信用代码无效 / invalid unified social credit code' : '公民身份号码无效 / invalid citizen ID number', [
      { field, reason: check.reason, article: type === 'enterprise' ? 'GB 32100-2015' : 'P9' },
    ]);
  }
}

/** The asked-for categories must be the subject type's restricted (E13) or personal (P6) categories. */
export function checkCategories(type: 'enterprise' | 'person', categories: string[], field: string): void {
  const allowed = protectedCategories(type);
  const details: ErrorDetail[] = [];
  categories.forEach((c, i) => {
    if (isPublicCategory(type, c)) {
      details.push({ field: `${field}.${i}`, reason: `「${c}」为公开信息，请通过信息公示查询，无需查询依据 / public information is read from the publication, without a basis`, article: 'E12' });
    } else if (!allowed.includes(c)) {
      details.push({ field: `${field}.${i}`, reason: `「${c}」不是${type === 'enterprise' ? '企业限制公开信息' : '个人信用信息'}的类别（可选：${allowed.join('、')}）/ not a category here: one of ${allowed.join(', ')}`, article: type === 'enterprise' ? 'E13' : 'P6' });
    }
  });
  if (details.length) throw badRequest('信息类别无效 / invalid categories', details);
}

function ownSubject(p: Principal): Subject | null {
  if (p.role === 'enterprise' && p.enterpriseUscc) return { type: 'enterprise', id: p.enterpriseUscc };
  if (p.role === 'person' && p.personId) return { type: 'person', id: p.personId };
  return null;
}

const by = (p: Principal) => ({ id: p.id, actor: actorLabel(p) });

function answerBody(out: Extract<QueryOutcome, { kind: 'answered' }>) {
  return {
    query: { id: out.queryId, at: out.at, basis: out.decision.basis, fee: out.decision.fee, categories: out.decision.allowed, withheld: out.decision.withheld, article: out.decision.article },
    records: out.records,
  };
}

function refusal(out: Extract<QueryOutcome, { kind: 'refused' }>): HttpError {
  const d = out.decision;
  return new HttpError(403, 'QUERY_REFUSED', `拒绝查询：${d.reason}`, [{ field: 'basis', reason: d.reason, article: d.article }, ...d.withheld.map((w) => ({ field: `categories.${w.category}`, reason: w.reason, article: w.article }))], {
    refusal: d.code,
    query_id: out.queryId,
  });
}

/** Starts a request's workflow (a no-op when it runs already). */
async function ensureWorkflow(temporal: Client, taskQueue: string, type: 'ratingRequestWorkflow' | 'judicialRequestWorkflow', workflowId: string, requestId: string): Promise<void> {
  try {
    if (type === 'ratingRequestWorkflow') {
      await temporal.workflow.start<typeof ratingRequestWorkflow>('ratingRequestWorkflow', { taskQueue, workflowId, args: [{ requestId }], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    } else {
      await temporal.workflow.start<typeof judicialRequestWorkflow>('judicialRequestWorkflow', { taskQueue, workflowId, args: [{ requestId }], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    }
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}

/** A refused or impossible Update becomes a 409 with the workflow's reason. */
function updateConflict(e: unknown, what: string): HttpError | null {
  if (e instanceof WorkflowUpdateFailedError) {
    const reason = e.cause?.message ?? e.message;
    return new HttpError(409, 'CONFLICT', `${what}：${reason}`, [{ field: '(request)', reason }]);
  }
  if (e instanceof WorkflowNotFoundError || (e instanceof Error && /already completed/i.test(e.message))) {
    return new HttpError(409, 'CONFLICT', `${what}：流程已结束 / the process has ended`, [{ field: '(request)', reason: '流程已结束 / the process has ended' }]);
  }
  return null;
}

/** Checks a file's content against its declared type by its magic bytes (shared with objection evidence). */
export const MAGIC: Record<(typeof DOCUMENT_TYPES)[number], (b: Buffer) => boolean> = {
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
};

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function queriesRouter({ db, temporal, config }: AppDeps): Router {
  const r = Router();
  const body = express.json({ limit: '100kb' });
  const maxBytes = querySettings().documentMaxBytes;
  const rawParser = express.raw({ type: () => true, limit: maxBytes });
  const raw = (req: Request, res: Response, next: NextFunction) =>
    rawParser(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string };
      if (e.type === 'entity.too.large') return next(new HttpError(413, 'DOCUMENT_TOO_LARGE', `文件超过 ${maxBytes} 字节上限 / the document exceeds ${maxBytes} bytes`, [{ field: '(body)', reason: `最大 ${maxBytes} 字节 / at most ${maxBytes} bytes` }]));
      next(err);
    });
  const ANY: Role[] = [...ROLES];

  // ── Documents ──
  r.post('/documents', requireRole('enterprise', 'person', 'government', 'judicial', 'staff'), raw, async (req, res) => {
    const p = principalOf(req);
    const q = DocumentQuery.parse(req.query);
    if (q.kind === 'authorization' && p.role !== 'enterprise' && p.role !== 'person') throw forbidden('书面授权文件由授权的企业或个人上传 / authorizations are uploaded by the enterprise or person granting them');
    if (q.kind === 'duty_proof' && p.role !== 'government' && p.role !== 'judicial') throw forbidden('履职证明由行政机关、司法机关上传 / proofs of duty are uploaded by administrative and judicial bodies');
    if (q.kind === 'rating_agreement' && p.role !== 'staff') throw forbidden('评级查询协议由市信用信息征集服务机构上传 / signed rating agreements are uploaded by the platform staff');
    const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!(DOCUMENT_TYPES as readonly string[]).includes(type)) {
      throw new HttpError(415, 'UNSUPPORTED_TYPE', `不接受的文件类型 ${type || '（未注明）'} / type not accepted`, [{ field: 'Content-Type', reason: `可用：${DOCUMENT_TYPES.join('、')} / one of ${DOCUMENT_TYPES.join(', ')}` }]);
    }
    const content = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!content.length) throw badRequest('文件为空 / the document is empty', [{ field: '(body)', reason: '文件为空 / empty' }]);
    if (!MAGIC[type as (typeof DOCUMENT_TYPES)[number]](content)) {
      throw new HttpError(415, 'UNSUPPORTED_TYPE', `文件内容不是 ${type} / the content is not ${type}`, [{ field: '(body)', reason: `文件内容与类型 ${type} 不符 / content does not match ${type}` }]);
    }
    const doc = await storeDocument(db, { kind: q.kind, fileName: q.file_name, contentType: type, content }, by(p));
    res.status(201).location(`/documents/${doc.id}`).json({ document: doc });
  });

  const visibleDocument = async (p: Principal, id: string) => {
    const doc = await documentMeta(db, id);
    if (!doc) throw notFound(`文件 ${id}`);
    if (doc.uploaded_by === p.id || ['staff', 'admin', 'supervisor'].includes(p.role)) return doc;
    // A rating agency reads the signed copy of an agreement it is party to.
    if (p.role === 'rating_agency' && doc.kind === 'rating_agreement' && (await db('rating_agreements').where({ document_id: id, agency_principal_id: p.id }).first('id'))) return doc;
    throw notFound(`文件 ${id}`);
  };
  r.get('/documents/:id', requireRole(...ANY), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    res.json({ document: await visibleDocument(principalOf(req), id) });
  });
  r.get('/documents/:id/content', requireRole(...ANY), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    const doc = await visibleDocument(principalOf(req), id);
    const row = await db('documents').where('id', id).first('content');
    res
      .status(200)
      .type(doc.content_type)
      .set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(doc.file_name)}`)
      .set('Cache-Control', 'no-store')
      .send(row.content as Buffer);
  });

  // ── Authorizations (E14.2, P12.2) ──
  r.post('/authorizations', requireRole('enterprise', 'person'), body, async (req, res) => {
    const p = principalOf(req);
    const subject = ownSubject(p)!;
    const b = AuthorizationBody.parse(req.body);
    checkCategories(subject.type, b.categories, 'categories');
    const today = shanghaiDate(new Date());
    if (b.valid_until < today) throw badRequest('授权期限已过 / the validity has already ended', [{ field: 'valid_until', reason: `不能早于今天 ${today} / not before today` }]);
    const doc = await documentMeta(db, b.document_id);
    if (!doc || doc.uploaded_by !== p.id || doc.kind !== 'authorization') {
      throw badRequest('须附本企业/本人上传的书面授权文件 / attach the written authorization you uploaded', [
        { field: 'document_id', reason: '先通过 POST /documents?kind=authorization 上传书面授权 / upload it first with POST /documents?kind=authorization', article: subject.type === 'enterprise' ? 'E14(2)' : 'P12(2)' },
      ]);
    }
    if (b.grantee_principal_id) {
      const g = await db('principals').where({ id: b.grantee_principal_id, active: true }).first('id');
      if (!g) throw badRequest('被授权账号不存在 / no such grantee', [{ field: 'grantee_principal_id', reason: '账号不存在或已停用 / unknown or inactive principal' }]);
      if (g.id === p.id) throw badRequest('不能授权给自己 / you cannot authorize yourself', [{ field: 'grantee_principal_id', reason: '不能授权给自己 / not yourself' }]);
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
  });

  const authorizationsVisibleTo = (p: Principal) =>
    db('authorizations as a')
      .leftJoin('principals as g', 'g.id', 'a.grantee_principal_id')
      .modify((b) => {
        if (['staff', 'admin', 'supervisor'].includes(p.role)) return;
        const own = ownSubject(p);
        b.where((w) => {
          if (own) w.orWhere({ 'a.subject_type': own.type, 'a.subject_id': own.id });
          w.orWhere('a.grantee_principal_id', p.id);
          if (p.organization) w.orWhere('a.grantee_organization', p.organization);
        });
      });
  r.get('/authorizations', requireRole(...ANY), async (req, res) => {
    const q = z.object(Paging).parse(req.query);
    const rows = await authorizationsVisibleTo(principalOf(req)).orderBy('a.created_at', 'desc').limit(q.limit).offset(q.offset).select(authorizationColumns(db));
    res.json({ authorizations: rows });
  });
  r.get('/authorizations/:id', requireRole(...ANY), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    const row = await authorizationsVisibleTo(principalOf(req)).where('a.id', id).first(authorizationColumns(db));
    if (!row) throw notFound(`授权 ${id}`);
    res.json({ authorization: row });
  });
  r.post('/authorizations/:id/revoke', requireRole('enterprise', 'person'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = RevokeBody.parse(req.body ?? {});
    const out = await revokeAuthorization(db, id, ownSubject(p)!, reason, by(p));
    if (out.kind === 'not_found') throw notFound(`授权 ${id}`);
    if (out.kind === 'already') throw new HttpError(409, 'ALREADY_REVOKED', `授权已于 ${out.revokedAt} 撤销 / revoked already`, [{ field: 'id', reason: '已撤销 / revoked already' }]);
    res.json({ id, revoked_at: out.revokedAt });
  });

  // ── Queries ──
  r.post('/queries', requireRole(...ANY), body, async (req, res) => {
    const p = principalOf(req);
    const b = QueryBody.parse(req.body);
    checkSubjectId(b.subject_type, b.subject_id, 'subject_id');
    const categories = b.categories ?? [];
    checkCategories(b.subject_type, categories, 'categories');
    if (b.basis.kind !== 'self' && !b.purpose) throw badRequest('请说明查询用途 / state the purpose', [{ field: 'purpose', reason: '除本人查询外须说明用途 / required except for the subject itself', article: b.subject_type === 'enterprise' ? 'E22' : 'P14' }]);
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
    const out = await runQuery(db, { querier: querierOf(p), subject: { type: b.subject_type, id: b.subject_id }, categories, basis, purpose: b.purpose ?? null, channel: 'direct' });
    if (out.kind === 'refused') throw refusal(out);
    res.set('Cache-Control', 'no-store').json(answerBody(out));
  });

  r.get('/queries/mine', requireRole(...ANY), async (req, res) => {
    const q = z.object(Paging).parse(req.query);
    res.json({ queries: await queryLog(db, { principalId: principalOf(req).id, limit: q.limit, offset: q.offset }) });
  });

  r.get('/queries/about-me', requireRole('person', 'enterprise'), async (req, res) => {
    const q = z.object(Paging).parse(req.query);
    const own = ownSubject(principalOf(req))!;
    const rows = await queryLog(db, { subjectType: own.type, subjectId: own.id, limit: q.limit, offset: q.offset });
    res.json({ queries: rows });
  });

  r.get('/queries/:id', requireRole(...ANY), async (req, res) => {
    const p = principalOf(req);
    const { id } = z.object({ id: z.coerce.number().int().positive({ message: '查询编号应为正整数 / query id must be a positive integer' }) }).parse(req.params);
    const row = await db('query_log as q').where('q.id', id).first(queryLogColumns(db));
    if (!row || (row.principal_id !== p.id && !['staff', 'admin', 'supervisor'].includes(p.role))) throw notFound(`查询 ${id}`);
    const items = await db('query_log_items').where('query_log_id', id).orderBy('record_key').select('record_key', 'version', 'item_code', 'category');
    res.json({ query: row, items });
  });

  // ── Rating-agency requests (E14.3) ──
  const ratingVisible = (p: Principal) =>
    db('rating_requests as r')
      .join('principals as p', 'p.id', 'r.agency_principal_id')
      .modify((b) => {
        if (p.role === 'rating_agency') b.where('r.agency_principal_id', p.id);
      });
  const oneRating = async (p: Principal, id: string) => {
    const row = await ratingVisible(p).where('r.id', id).first(ratingColumns(db));
    if (!row) throw notFound(`查询申请 ${id}`);
    return row;
  };

  r.post('/rating-requests', requireRole('rating_agency'), body, async (req, res) => {
    const p = principalOf(req);
    const b = RatingRequestBody.parse(req.body);
    checkSubjectId('enterprise', b.subject_uscc, 'subject_uscc');
    const { id, workflowId } = await createRatingRequest(db, querierOf(p), { subjectUscc: b.subject_uscc, categories: [...new Set(b.categories)], purpose: b.purpose });
    await ensureWorkflow(temporal, config.taskQueue, 'ratingRequestWorkflow', workflowId, id);
    res.status(202).location(`/rating-requests/${id}`).json({ rating_request: await oneRating(p, id) });
  });
  r.get('/rating-requests', requireRole('rating_agency', 'staff', 'admin', 'supervisor'), async (req, res) => {
    const q = StatusQuery(['requested', 'approved', 'rejected', 'lapsed']).parse(req.query);
    const rows = await ratingVisible(principalOf(req))
      .modify((b) => {
        if (q.status) b.where('r.status', q.status);
      })
      .orderBy('r.requested_at', 'desc')
      .limit(q.limit)
      .offset(q.offset)
      .select(ratingColumns(db));
    res.json({ rating_requests: rows });
  });
  r.get('/rating-requests/:id', requireRole('rating_agency', 'staff', 'admin', 'supervisor'), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    res.json({ rating_request: await oneRating(principalOf(req), id) });
  });
  r.post('/rating-requests/:id/decision', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = DecisionBody.parse(req.body);
    const cur = await oneRating(p, id);
    if (cur.status !== 'requested') throw new HttpError(409, 'CONFLICT', `申请状态为 ${cur.status}，不能再审批 / the request is ${cur.status}`, [{ field: 'id', reason: `状态 / status: ${cur.status}`, article: 'E14(3)' }]);
    await ensureWorkflow(temporal, config.taskQueue, 'ratingRequestWorkflow', cur.workflow_id, id);
    try {
      await temporal.workflow.getHandle(cur.workflow_id).executeUpdate(decideRatingRequestUpdate, {
        args: [{ approve: b.approve, reason: b.reason, staffPrincipalId: p.id, staffActor: actorLabel(p) }],
      });
    } catch (e) {
      throw updateConflict(e, '不能审批 / cannot decide') ?? e;
    }
    res.json({ rating_request: await oneRating(p, id) });
  });

  // ── Judicial requests (E14.4, P13) ──
  const judicialVisible = (p: Principal) =>
    db('judicial_requests as j')
      .join('principals as p', 'p.id', 'j.requester_principal_id')
      .modify((b) => {
        if (p.role === 'judicial') b.where('j.requester_principal_id', p.id);
      });
  const oneJudicial = async (p: Principal, id: string) => {
    const row = await judicialVisible(p).where('j.id', id).first(judicialColumns(db));
    if (!row) throw notFound(`司法查询申请 ${id}`);
    return row;
  };

  r.post('/judicial-requests', requireRole('judicial'), body, async (req, res) => {
    const p = principalOf(req);
    const b = JudicialRequestBody.parse(req.body);
    checkSubjectId(b.subject_type, b.subject_id, 'subject_id');
    if (b.categories) checkCategories(b.subject_type, b.categories, 'categories');
    const doc = await documentMeta(db, b.document_id);
    if (!doc || doc.uploaded_by !== p.id || doc.kind !== 'duty_proof') {
      throw badRequest('须附本机关上传的有效证明文件 / attach the proof of duty you uploaded', [
        { field: 'document_id', reason: '先通过 POST /documents?kind=duty_proof 上传 / upload it first with POST /documents?kind=duty_proof', article: b.subject_type === 'enterprise' ? 'E14(4)' : 'P12(3)' },
      ]);
    }
    const { id, workflowId } = await createJudicialRequest(db, querierOf(p), {
      subjectType: b.subject_type,
      subjectId: b.subject_id,
      categories: b.categories ? [...new Set(b.categories)] : null,
      caseNo: b.case_no,
      purpose: b.purpose,
      documentId: b.document_id,
    });
    await ensureWorkflow(temporal, config.taskQueue, 'judicialRequestWorkflow', workflowId, id);
    res.status(202).location(`/judicial-requests/${id}`).json({ judicial_request: await oneJudicial(p, id) });
  });
  r.get('/judicial-requests', requireRole('judicial', 'staff', 'admin', 'supervisor'), async (req, res) => {
    const q = StatusQuery(['pending', 'answered', 'rejected']).parse(req.query);
    const rows = await judicialVisible(principalOf(req))
      .modify((b) => {
        if (q.status) b.where('j.status', q.status);
      })
      .orderBy('j.received_at', 'desc')
      .limit(q.limit)
      .offset(q.offset)
      .select(judicialColumns(db));
    res.json({ judicial_requests: rows });
  });
  r.get('/judicial-requests/:id', requireRole('judicial', 'staff', 'admin', 'supervisor'), async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const row = await oneJudicial(p, id);
    const answer = row.status === 'answered' && row.query_log_id && (p.role === 'judicial' || p.role === 'staff') ? { records: await answeredRecords(db, row.query_log_id) } : null;
    res.set('Cache-Control', 'no-store').json({ judicial_request: row, answer });
  });
  r.post('/judicial-requests/:id/answer', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = AnswerBody.parse(req.body);
    const cur = await oneJudicial(p, id);
    if (cur.status !== 'pending') throw new HttpError(409, 'CONFLICT', `申请已${cur.status === 'answered' ? '答复' : '不予受理'} / the request is ${cur.status}`, [{ field: 'id', reason: `状态 / status: ${cur.status}` }]);
    await ensureWorkflow(temporal, config.taskQueue, 'judicialRequestWorkflow', cur.workflow_id, id);
    try {
      await temporal.workflow.getHandle(cur.workflow_id).executeUpdate(answerJudicialRequestUpdate, {
        args: [{ decision: b.decision, reason: b.reason ?? null, staffPrincipalId: p.id, staffActor: actorLabel(p) }],
      });
    } catch (e) {
      throw updateConflict(e, '不能答复 / cannot answer') ?? e;
    }
    res.json({ judicial_request: await oneJudicial(p, id) });
  });

  // ── Oversight ──
  r.get('/admin/query-log', requireRole('staff', 'admin', 'supervisor'), async (req, res) => {
    const q = LogQuery.parse(req.query);
    res.json({
      queries: await queryLog(db, { subjectType: q.subject_type, subjectId: q.subject_id, principalId: q.principal_id, outcome: q.outcome, from: q.from, to: q.to, limit: q.limit, offset: q.offset }),
    });
  });
  r.get('/admin/query-fees', requireRole('staff', 'admin'), async (req, res) => {
    const q = PeriodQuery.parse(req.query);
    res.json(await feeReport(db, q.from, q.to));
  });
  r.get('/admin/access-monitoring', requireRole('admin', 'supervisor'), async (req, res) => {
    const q = PeriodQuery.parse(req.query);
    res.json(await accessMonitoring(db, q.from, q.to));
  });
  r.get('/admin/audit/verify', requireRole('admin', 'supervisor'), async (req, res) => {
    const p = principalOf(req);
    const report = await verifyAuditChain(db);
    await db('audit_log').insert({ principal_id: p.id, actor: actorLabel(p), action: 'audit.verify', entity: 'audit_log', entity_id: String(report.head.seq), detail: { ok: report.ok, checked: report.checked, first_broken: report.firstBroken } });
    res.json({ ok: report.ok, checked: report.checked, head: report.head, first_broken: report.firstBroken, verified_at: report.verifiedAt });
  });

  return r;
}
