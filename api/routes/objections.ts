import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from '../../domain/z';
import { isoDate } from '../../domain/records';
import { checkUscc } from '../../domain/identifiers';
import { shanghaiDate } from '../../domain/calendar';
import { objectionSettings, publicationSettings } from '../../domain/config';
import { OBJECTION_STATES, OBJECTION_STATE_ZH, OBJECTOR_ROLES, workingDaysLeft, type ObjectionState } from '../../domain/objections';
import type { Principal } from '../../domain/roles';
import { loadCalendar } from '../../db/calendar';
import { DOCUMENT_TYPES } from '../../db/queries';
import {
  ObjectionStateError,
  acceptObjection,
  addAttachment,
  attachmentsOf,
  checkCorrections,
  currentRecords,
  endSuspension,
  fileObjection,
  objectionColumns,
  objectionItems,
  objectionsQuery,
  openObjectionsOf,
  publicCorrections,
  recordDisagreement,
  recordsKnownTo,
  refuseObjection,
  requestSuspension,
  suspendPublication,
} from '../../db/objections';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound, type ErrorDetail } from '../errors';
import { document, registry, ErrorBody } from '../openapi';
import { MAGIC } from './queries';
import { decideObjectionUpdate, objectionStateQuery, verifyObjectionUpdate } from '../../workflows/objection';
import { ensureObjectionWorkflow } from '../temporal';

// ─── Schemas ─────────────────────────────────────────────────────────────────────────────────────────────────

const Uuid = (what: string) => z.string().uuid({ message: `${what}应为 UUID / ${what} must be a UUID` });
const IdParam = z.object({ id: Uuid('异议编号') });
const AttachmentParam = z.object({ id: Uuid('异议编号'), attachmentId: Uuid('证据编号') });
const Reason = z.string().trim().min(2, { message: '请说明理由 / give the reason' }).max(2000);

const FileBody = z
  .object({
    record_keys: z
      .array(Uuid('记录编号'))
      .min(1, { message: '请指明有异议的记录 / name the record(s)' })
      .openapi({ description: '有异议的记录（record_key，来自查询结果或公示页面）/ the records objected to' }),
    claim: z.string().trim().min(5, { message: '请说明信息错在何处 / say what is wrong' }).max(5000).openapi({ description: '异议内容：哪里有误，应当如何 / what is wrong and what is right' }),
    evidence_summary: z.string().trim().min(2, { message: '请说明所附依据 / describe the evidence' }).max(5000).openapi({ description: '所附依据或证据的说明；文件另行上传 / the evidence; files are uploaded next' }),
    request_suspension: z.boolean().optional().openapi({ description: '申请异议期间暂停公开（企业信息，E18 第二款）/ ask to suspend publication (enterprise records)' }),
    suspension_reason: Reason.optional(),
  })
  .strict()
  .refine((b) => !b.request_suspension || b.suspension_reason, { message: '申请暂停公开须说明理由 / give the reason for the suspension', path: ['suspension_reason'] });

const AttachmentQuery = z.object({
  file_name: z.string().trim().min(1).max(255).regex(/^[^/\\\u0000]+$/, { message: '文件名不能含路径 / a file name without a path' }),
});

const Changes = z
  .object({
    payload: z.record(z.string(), z.unknown()).optional(),
    event_date: isoDate.optional(),
    concluded_date: isoDate.nullable().optional(),
    valid_until: isoDate.nullable().optional(),
    lifted_date: isoDate.nullable().optional(),
  })
  .strict()
  .refine((c) => Object.keys(c).length > 0, { message: '没有需要更正的内容 / nothing to change' });
const CorrectionSchema = z.discriminatedUnion('action', [
  z.object({ record_key: Uuid('记录编号'), action: z.literal('correct'), changes: Changes }).strict(),
  z.object({ record_key: Uuid('记录编号'), action: z.literal('delete') }).strict(),
]);
const VerificationBody = registry.register(
  'ObjectionVerification',
  z.discriminatedUnion('verdict', [
    z
      .object({
        verdict: z.literal('confirmed_wrong'),
        reason: Reason,
        corrections: z.array(CorrectionSchema).min(1, { message: '确有错误的，须提供更正内容或删除（P23）/ give the corrections or deletions' }),
      })
      .strict()
      .openapi({ description: '确有错误：更正内容或删除（E18、P23）/ wrong: the corrections or deletions' }),
    z.object({ verdict: z.literal('confirmed_right'), reason: Reason }).strict().openapi({ description: '核实无误：说明理由 / right: with the reasons' }),
  ]),
);
const OutcomeBody = registry.register(
  'ObjectionOutcome',
  z
    .object({
      outcome: z.string().openapi({ description: 'corrected（更正）| upheld（维持）— 由流程校验，与核实结果不符的立即拒绝 / checked by the process' }),
      reason: z.string().max(2000),
    })
    .strict(),
);
const SuspendBody = z.object({ reason: Reason, on_request: z.boolean().default(false).openapi({ description: '依申请人申请 / at the applicant\'s request' }) }).strict();
const ReasonBody = z.object({ reason: Reason }).strict();
const DisagreementBody = z.object({ statement: z.string().trim().min(2, { message: '请说明仍有异议的理由 / say why you still disagree' }).max(5000) }).strict();
const ListQuery = z.object({
  state: z.enum(OBJECTION_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const PublicQuery = z.object({
  uscc: z.string().max(18).optional(),
  page: z.coerce.number().int().min(1).max(10000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
});

const ItemSchema = z.object({
  record_key: z.string(),
  version_at_filing: z.number(),
  item_code: z.string(),
  item_name: z.string(),
  category: z.string(),
  result: z.enum(['corrected', 'deleted', 'unchanged', 'gone']).nullable(),
  result_version: z.number().nullable(),
});
const AttachmentSchema = registry.register(
  'ObjectionAttachment',
  z.object({ id: z.string(), objection_id: z.string(), file_name: z.string(), content_type: z.string(), size_bytes: z.number(), sha256: z.string(), uploaded_by: z.string(), uploaded_at: z.string() }),
);
const ObjectionSchema = registry.register(
  'Objection',
  z
    .object({
      id: z.string().uuid(),
      state: z.enum(OBJECTION_STATES),
      state_zh: z.string(),
      subject_type: z.enum(['enterprise', 'person']),
      subject_id: z.string(),
      provider: z.string(),
      claim: z.string(),
      acceptance_date: z.string().nullable(),
      deadline: z.string().nullable().openapi({ description: '受理后第 10 个工作日（E18、P22）/ the 10th working day after acceptance' }),
      due_at: z.string().nullable(),
      deadline_provisional: z
        .boolean()
        .openapi({ description: '暂定期限：其间有年份的工作日历尚未载入，为最早可能的日期；信息提供单位在确定的期限前不算逾期 / provisional: the earliest the deadline can be; the provider is not late before the settled one' }),
      calendar_pending_year: z.number().int().nullable(),
      working_days_left: z.number().nullable().openapi({ description: '今天之后至期限的工作日数（期限当天为 0）/ working days after today up to the deadline' }),
      overdue: z.boolean(),
      provider_verdict: z.enum(['confirmed_wrong', 'confirmed_right']).nullable(),
      outcome: z.enum(['corrected', 'upheld']).nullable(),
      written_answer: z.string().nullable(),
      items: z.array(ItemSchema),
      attachments: z.array(AttachmentSchema),
      process: z.record(z.string(), z.unknown()).nullable().openapi({ description: '流程的实时状态（工作流查询）/ the live process state' }),
    })
    .passthrough(),
);

// ─── OpenAPI ─────────────────────────────────────────────────────────────────────────────────────────────────

const tags = ['异议 Objections'];
const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const one = { description: 'the objection', ...json(z.object({ objection: ObjectionSchema })) };
const conflict = { 409: { description: '状态不允许 / not in this state', ...json(ErrorBody) } };

document({
  method: 'post',
  path: '/objections',
  tags,
  summary: '提出异议（企业对本企业信息；任何人对企业信息，E18；个人仅对本人信息，P21）/ file an objection',
  secured: true,
  request: { body: json(FileBody) },
  responses: { 201: one, 404: { description: '记录不存在或无权知悉 / no such record', ...json(ErrorBody) }, ...conflict },
});
document({
  method: 'post',
  path: '/objections/{id}/attachments',
  tags,
  summary: '上传证据文件（PDF、JPEG、PNG）/ upload evidence (the applicant)',
  secured: true,
  request: { params: IdParam, query: AttachmentQuery, body: { content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) }, 'image/jpeg': { schema: z.string().openapi({ format: 'binary' }) }, 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } } },
  responses: { 201: { description: 'stored', ...json(z.object({ attachment: AttachmentSchema })) }, 413: { description: 'too large', ...json(ErrorBody) }, 415: { description: 'type not allowed', ...json(ErrorBody) }, ...conflict },
});
document({ method: 'get', path: '/objections/{id}/attachments/{attachmentId}/content', tags, summary: '证据文件内容 / evidence content (applicant, provider, staff)', secured: true, request: { params: AttachmentParam }, responses: { 200: { description: 'the file' } } });
document({ method: 'get', path: '/objections', tags, summary: '异议列表（申请人：本人的；信息提供单位：本单位待核实的；工作人员：全部）/ objections', secured: true, request: { query: ListQuery }, responses: { 200: { description: 'newest first', ...json(z.object({ objections: z.array(ObjectionSchema) })) } } });
document({ method: 'get', path: '/objections/{id}', tags, summary: '异议的状态、期限和剩余工作日 / state, deadline and working days left', secured: true, request: { params: IdParam }, responses: { 200: one } });
document({ method: 'post', path: '/objections/{id}/accept', tags, summary: '受理异议，开始 10 个工作日核实（工作人员）/ accept: the 10 working days start (staff)', secured: true, request: { params: IdParam }, responses: { 202: one, ...conflict } });
document({ method: 'post', path: '/objections/{id}/refuse', tags, summary: '不予受理并说明理由（工作人员）/ refuse with a reason (staff)', secured: true, request: { params: IdParam, body: json(ReasonBody) }, responses: { 200: one, ...conflict } });
document({
  method: 'post',
  path: '/objections/{id}/verification',
  tags,
  summary: '信息提供单位答复核实：确有错误（更正或删除）或核实无误（理由）/ the provider verifies',
  secured: true,
  request: { params: IdParam, body: json(VerificationBody) },
  responses: { 200: one, 422: { description: '更正内容无效 / invalid correction', ...json(ErrorBody) }, ...conflict },
});
document({
  method: 'post',
  path: '/objections/{id}/outcome',
  tags,
  summary: '作出处理结论：更正或维持（工作人员；与核实结果不符的立即拒绝）/ signal the outcome (staff)',
  secured: true,
  request: { params: IdParam, body: json(OutcomeBody) },
  responses: { 200: one, ...conflict },
});
document({ method: 'post', path: '/objections/{id}/suspension', tags, summary: '异议期间暂停公开（工作人员，E18 第二款）/ suspend publication while open (staff)', secured: true, request: { params: IdParam, body: json(SuspendBody) }, responses: { 200: one, ...conflict } });
document({ method: 'post', path: '/objections/{id}/suspension/end', tags, summary: '提前恢复公开（工作人员）/ end the suspension early (staff)', secured: true, request: { params: IdParam, body: json(ReasonBody) }, responses: { 200: one, ...conflict } });
document({ method: 'post', path: '/objections/{id}/suspension-request', tags, summary: '申请人申请暂停公开（E18 第二款）/ the applicant asks for a suspension', secured: true, request: { params: IdParam, body: json(ReasonBody) }, responses: { 200: one, ...conflict } });
document({ method: 'post', path: '/objections/{id}/disagreement', tags, summary: '处理完毕后仍有异议：保留存在异议标注（P22）/ still disagree after the outcome', secured: true, request: { params: IdParam, body: json(DisagreementBody) }, responses: { 200: one, ...conflict } });
document({
  method: 'get',
  path: '/public/corrections',
  tags: ['公示 Publication'],
  summary: '更正公示（E18），无需登录 / public correction notices, no login',
  request: { query: PublicQuery },
  responses: { 200: { description: 'newest first', ...json(z.object({ items: z.array(z.record(z.string(), z.unknown())), page: z.number(), page_size: z.number(), has_more: z.boolean() })) } },
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

const by = (p: Principal) => ({ id: p.id, actor: actorLabel(p) });
const STAFF = ['staff', 'admin', 'supervisor'];

const stateConflict = (e: ObjectionStateError, article?: string) =>
  new HttpError(409, 'OBJECTION_STATE_CONFLICT', e.message, [{ field: 'state', reason: `当前状态：${OBJECTION_STATE_ZH[e.state]} / ${e.state}`, ...(article ? { article } : {}) }], { state: e.state });

/** The innermost message of a failure chain (an Update refused by its validator, or an activity's failure). */
function innermost(e: unknown): { message: string; type?: string; details?: unknown } {
  let cur = e as { message?: string; cause?: unknown; type?: string; details?: unknown[] } | undefined;
  let last: { message: string; type?: string; details?: unknown } = { message: (e as Error)?.message ?? String(e) };
  while (cur) {
    if (cur.message) last = { message: cur.message, type: cur.type, details: cur.details?.[0] };
    cur = cur.cause as typeof cur;
  }
  return last;
}

/** A refused Update: 422 when a correction no longer fits, else 409 with the process's reason. */
function updateFailure(e: unknown, what: string): HttpError | null {
  if (e instanceof WorkflowUpdateFailedError) {
    const f = innermost(e);
    if (f.type === 'CorrectionInvalid') {
      const details = Array.isArray(f.details) ? (f.details as ErrorDetail[]) : [{ field: 'corrections', reason: f.message }];
      return new HttpError(422, 'INVALID_CORRECTION', `${what}：${f.message}`, details);
    }
    return new HttpError(409, 'OBJECTION_STATE_CONFLICT', `${what}：${f.message}`, [{ field: '(request)', reason: f.message }]);
  }
  if (e instanceof WorkflowNotFoundError || (e instanceof Error && /already completed/i.test(e.message))) {
    return new HttpError(409, 'OBJECTION_STATE_CONFLICT', `${what}：异议已处理完毕 / the objection is concluded`, [{ field: '(request)', reason: '流程已结束 / the process has ended' }]);
  }
  return null;
}


// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function objectionsRouter({ db, temporal, config }: AppDeps): Router {
  const r = Router();
  const body = express.json({ limit: '1mb' });
  const settings = objectionSettings();
  const maxBytes = settings.attachmentMaxBytes;
  const rawParser = express.raw({ type: () => true, limit: maxBytes });
  const raw = (req: Request, res: Response, next: NextFunction) =>
    rawParser(req, res, (err?: unknown) => {
      if (!err) return next();
      if ((err as { type?: string }).type === 'entity.too.large') {
        return next(new HttpError(413, 'ATTACHMENT_TOO_LARGE', `证据文件超过 ${maxBytes} 字节上限 / the file exceeds ${maxBytes} bytes`, [{ field: '(body)', reason: `最大 ${maxBytes} 字节 / at most ${maxBytes} bytes` }]));
      }
      next(err);
    });
  const publicLimit = rateLimit({
    windowMs: 60_000,
    limit: publicationSettings().publicRateLimit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json({ error: { code: 'TOO_MANY_REQUESTS', message: '请求过于频繁，请稍后再试 / too many requests', details: [{ field: '(request)', reason: '超出访问频率限制 / rate limit exceeded' }] } });
    },
  });

  /** The objections a principal may see: its own (applicant), its records' once accepted (provider), all (staff). */
  const visible = (p: Principal) =>
    objectionsQuery(db).modify((b) => {
      if (STAFF.includes(p.role)) return;
      if (p.role === 'provider') b.where('o.provider_id', p.providerId).whereNotIn('o.state', ['submitted', 'refused']);
      else b.where('o.applicant_principal_id', p.id);
    });

  const view = async (p: Principal, id: string, live = true) => {
    const row = await visible(p).where('o.id', id).first(objectionColumns(db));
    if (!row) throw notFound(`异议 ${id}`);
    const today = shanghaiDate(new Date());
    let left: number | null = null;
    try {
      left = workingDaysLeft(await loadCalendar(db), today, row.deadline);
    } catch {
      left = null; // a year without a calendar: shown as unknown
    }
    let process: Record<string, unknown> | null = null;
    if (live && row.workflow_id) {
      try {
        process = (await temporal.workflow.getHandle(row.workflow_id).query(objectionStateQuery)) as unknown as Record<string, unknown>;
      } catch {
        process = null; // not started yet, or Temporal unreachable: the database answers
      }
    }
    // Nobody is late on a provisional deadline: only the settled one makes the provider overdue.
    const overdue = !!row.verification_overdue_at || (row.deadline !== null && !row.outcome && !row.deadline_provisional && today > row.deadline);
    return {
      ...row,
      state_zh: OBJECTION_STATE_ZH[row.state as ObjectionState],
      working_days_left: left,
      overdue,
      written_answer: row.outcome ? ((await db('objections').where('id', id).first('written_answer')).written_answer as string) : null,
      items: await objectionItems(db, id),
      attachments: await attachmentsOf(db, id),
      process,
    };
  };
  const own = async (p: Principal, id: string) => {
    const row = await db('objections').where({ id, applicant_principal_id: p.id }).first('id', 'state', 'subject_type');
    if (!row) throw notFound(`异议 ${id}`);
    return row as { id: string; state: ObjectionState; subject_type: string };
  };
  const guard = async <T>(f: () => Promise<T>, article?: string): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ObjectionStateError) throw stateConflict(e, article);
      throw e;
    }
  };

  // ── Filing (E18, P21) ──
  r.post('/objections', requireRole(...OBJECTOR_ROLES), body, async (req, res) => {
    const p = principalOf(req);
    const b = FileBody.parse(req.body);
    const keys = [...new Set(b.record_keys)];
    if (keys.length > settings.maxRecords) throw badRequest(`一项异议最多涉及 ${settings.maxRecords} 条记录 / at most ${settings.maxRecords} records`, [{ field: 'record_keys', reason: `最多 ${settings.maxRecords} 条 / at most ${settings.maxRecords}` }]);
    const records = await currentRecords(db, keys);
    const byKey = new Map(records.map((x) => [x.record_key, x]));
    const known = await recordsKnownTo(db, p.id, keys);
    const details: ErrorDetail[] = [];
    const missing: string[] = [];
    keys.forEach((k, i) => {
      const rec = byKey.get(k);
      const field = `record_keys.${i}`;
      if (!rec) return void missing.push(k);
      if (rec.subject_type === 'person') {
        // P21: a person objects to information about themself; no one else objects to a person's record.
        if (p.role !== 'person' || p.personId !== rec.subject_id) {
          throw new HttpError(403, 'FORBIDDEN', '只有信息主体本人可以对其个人信用信息提出异议（P21）/ only the person may object to their own records', [
            { field, reason: '不是您本人的信用信息 / not a record about you', article: 'P21' },
          ]);
        }
      } else if (!(p.role === 'enterprise' && p.enterpriseUscc === rec.subject_id) && !known.has(k)) {
        // E18: anyone may object to enterprise information it was shown (published, or answered to it); other records are not revealed.
        return void missing.push(k);
      }
      if (rec.status !== 'active') details.push({ field, reason: '该记录已撤回 / the record is retracted', article: 'E10' });
    });
    if (missing.length) throw notFound(`记录 ${missing.join('、')}`);
    const first = records[0];
    if (records.some((x) => x.subject_type !== first.subject_type || x.subject_id !== first.subject_id)) {
      details.push({ field: 'record_keys', reason: '一项异议只能涉及同一信息主体的记录 / one subject per objection' });
    }
    if (records.some((x) => x.provider_id !== first.provider_id)) {
      details.push({ field: 'record_keys', reason: '一项异议只能涉及同一信息提供单位的记录，请分别提出 / one provider per objection: file one per provider', article: first.subject_type === 'enterprise' ? 'E18' : 'P22' });
    }
    if (b.request_suspension && first.subject_type === 'person') {
      details.push({ field: 'request_suspension', reason: '个人信用信息不公开发布，无需暂停公开；异议期间将作存在异议标注（P22）/ personal records are not published', article: 'P22' });
    }
    if (details.length) throw badRequest('异议申请无效，未保存 / invalid objection; nothing stored', details);
    const dup = await openObjectionsOf(db, p.id, keys);
    if (dup.length) {
      throw new HttpError(409, 'OBJECTION_OPEN', '您对该记录的异议尚在处理中 / you already have an open objection on this record', dup.map((d) => ({ field: 'record_keys', reason: `${d.record_key}：异议 ${d.id} 处理中 / open objection ${d.id}` })));
    }
    const id = await fileObjection(db, {
      applicant: { id: p.id, role: p.role, name: p.name, organization: p.organization, actor: actorLabel(p) },
      records: keys.map((k) => byKey.get(k)!),
      claim: b.claim,
      evidenceSummary: b.evidence_summary,
      suspensionRequested: !!b.request_suspension,
      suspensionRequestReason: b.suspension_reason ?? null,
    });
    res.status(201).location(`/objections/${id}`).json({ objection: await view(p, id, false) });
  });

  // ── Evidence ──
  r.post('/objections/:id/attachments', requireRole(...OBJECTOR_ROLES), raw, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const q = AttachmentQuery.parse(req.query);
    await own(p, id);
    const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!(DOCUMENT_TYPES as readonly string[]).includes(type)) {
      throw new HttpError(415, 'UNSUPPORTED_TYPE', `不接受的文件类型 ${type || '（未注明）'} / type not accepted`, [{ field: 'Content-Type', reason: `可用：${DOCUMENT_TYPES.join('、')} / one of ${DOCUMENT_TYPES.join(', ')}` }]);
    }
    const content = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!content.length) throw badRequest('文件为空 / the file is empty', [{ field: '(body)', reason: '文件为空 / empty' }]);
    if (!MAGIC[type as (typeof DOCUMENT_TYPES)[number]](content)) {
      throw new HttpError(415, 'UNSUPPORTED_TYPE', `文件内容不是 ${type} / the content is not ${type}`, [{ field: '(body)', reason: `文件内容与类型 ${type} 不符 / content does not match ${type}` }]);
    }
    const a = await guard(() => addAttachment(db, id, { fileName: q.file_name, contentType: type, content }, settings.maxAttachments, by(p)));
    res.status(201).location(`/objections/${id}/attachments/${a.id}/content`).json({ attachment: a });
  });

  r.get('/objections/:id/attachments/:attachmentId/content', requireRole('provider', 'staff', 'admin', 'supervisor', ...OBJECTOR_ROLES), async (req, res) => {
    const p = principalOf(req);
    const { id, attachmentId } = AttachmentParam.parse(req.params);
    if (!(await visible(p).where('o.id', id).first('o.id'))) throw notFound(`异议 ${id}`);
    const a = await db('objection_attachments').where({ id: attachmentId, objection_id: id }).first('file_name', 'content_type', 'content');
    if (!a) throw notFound(`证据 ${attachmentId}`);
    res
      .status(200)
      .type(a.content_type)
      .set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.file_name)}`)
      .set('Cache-Control', 'no-store')
      .send(a.content as Buffer);
  });

  // ── Reading ──
  r.get('/objections', requireRole('provider', 'staff', 'admin', 'supervisor', ...OBJECTOR_ROLES), async (req, res) => {
    const p = principalOf(req);
    const q = ListQuery.parse(req.query);
    const rows = await visible(p)
      .modify((b) => {
        if (q.state) b.where('o.state', q.state);
      })
      .orderBy('o.filed_at', 'desc')
      .limit(q.limit)
      .offset(q.offset)
      .select(objectionColumns(db));
    let calendar: Awaited<ReturnType<typeof loadCalendar>> | null = null;
    try {
      calendar = await loadCalendar(db);
    } catch {
      calendar = null;
    }
    const today = shanghaiDate(new Date());
    res.json({
      objections: rows.map((o: Record<string, unknown>) => {
        let left: number | null = null;
        try {
          left = calendar ? workingDaysLeft(calendar, today, o.deadline as string | null) : null;
        } catch {
          left = null;
        }
        return { ...o, state_zh: OBJECTION_STATE_ZH[o.state as ObjectionState], working_days_left: left };
      }),
    });
  });

  r.get('/objections/:id', requireRole('provider', 'staff', 'admin', 'supervisor', ...OBJECTOR_ROLES), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    res.set('Cache-Control', 'no-store').json({ objection: await view(principalOf(req), id) });
  });

  // ── Acceptance or refusal (staff) ──
  r.post('/objections/:id/accept', requireRole('staff'), async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    await view(p, id, false);
    const { workflowId } = await guard(() => acceptObjection(db, id, by(p)), 'E18, P21');
    let workflow: 'started' | 'pending' = 'started';
    try {
      await ensureObjectionWorkflow(temporal, config.taskQueue, workflowId, id);
    } catch (e) {
      // Accepted and stored: the reconciler starts the verification when Temporal is back.
      workflow = 'pending';
      // eslint-disable-next-line no-console
      console.error(`[api] workflow start for objection ${id} deferred:`, (e as Error).message);
    }
    res.status(202).location(`/objections/${id}`).json({ objection: await view(p, id, false), workflow });
  });

  r.post('/objections/:id/refuse', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = ReasonBody.parse(req.body ?? {});
    await view(p, id, false);
    await guard(() => refuseObjection(db, id, reason, by(p)));
    res.json({ objection: await view(p, id, false) });
  });

  // ── The provider's verification ──
  r.post('/objections/:id/verification', requireRole('provider'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = VerificationBody.parse(req.body);
    const o = await view(p, id, false);
    if (o.provider_verdict) throw stateConflict(new ObjectionStateError(o.state, '信息提供单位已答复，不能重复答复 / the provider has answered already'));
    if (o.state !== 'verifying' && o.state !== 'overdue') throw stateConflict(new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能答复核实 / the objection is ${o.state}`));
    const corrections = b.verdict === 'confirmed_wrong' ? b.corrections : null;
    if (corrections) {
      const problems = await checkCorrections(db, id, p.providerId!, corrections);
      if (problems.length) throw new HttpError(422, 'INVALID_CORRECTION', '更正内容无效，未保存 / the corrections are invalid; nothing stored', problems);
    }
    try {
      await temporal.workflow.getHandle(o.workflow_id as string).executeUpdate(verifyObjectionUpdate, {
        args: [{ verdict: b.verdict, reason: b.reason, corrections, providerPrincipalId: p.id, providerActor: actorLabel(p) }],
      });
    } catch (e) {
      throw updateFailure(e, '不能答复 / cannot answer') ?? e;
    }
    res.json({ objection: await view(p, id) });
  });

  // ── The outcome (staff): an Update, refused at once when it does not follow from the verification ──
  r.post('/objections/:id/outcome', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = OutcomeBody.parse(req.body);
    const o = await view(p, id, false);
    if (!o.workflow_id) throw stateConflict(new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，尚未受理，不能作出结论 / not accepted`), 'E18, P22');
    try {
      await temporal.workflow.getHandle(o.workflow_id as string).executeUpdate(decideObjectionUpdate, {
        args: [{ outcome: b.outcome as 'corrected' | 'upheld', reason: b.reason, staffPrincipalId: p.id, staffActor: actorLabel(p) }],
      });
    } catch (e) {
      throw updateFailure(e, '不能作出结论 / outcome refused') ?? e;
    }
    res.json({ objection: await view(p, id) });
  });

  // ── Suspension of publication (E18 2nd para.) ──
  r.post('/objections/:id/suspension', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = SuspendBody.parse(req.body ?? {});
    await view(p, id, false);
    await guard(() => suspendPublication(db, id, { reason: b.reason, onRequest: b.on_request, by: by(p) }), 'E18');
    res.json({ objection: await view(p, id, false) });
  });
  r.post('/objections/:id/suspension/end', requireRole('staff'), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = ReasonBody.parse(req.body ?? {});
    await view(p, id, false);
    await guard(() => endSuspension(db, id, reason, by(p)), 'E18');
    res.json({ objection: await view(p, id, false) });
  });
  r.post('/objections/:id/suspension-request', requireRole(...OBJECTOR_ROLES), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = ReasonBody.parse(req.body ?? {});
    const o = await own(p, id);
    if (o.subject_type !== 'enterprise') throw badRequest('个人信用信息不公开发布，无需暂停公开 / personal records are not published', [{ field: 'id', reason: '异议期间作存在异议标注 / they carry the disputed mark instead', article: 'P22' }]);
    await guard(() => requestSuspension(db, id, reason, by(p)), 'E18');
    res.json({ objection: await view(p, id, false) });
  });

  // ── Continued disagreement (P22) ──
  r.post('/objections/:id/disagreement', requireRole(...OBJECTOR_ROLES), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { statement } = DisagreementBody.parse(req.body ?? {});
    await own(p, id);
    await guard(() => recordDisagreement(db, id, statement, by(p)), 'P22');
    res.json({ objection: await view(p, id, false) });
  });

  // ── Public correction notices (E18) ──
  r.get('/public/corrections', publicLimit, async (req, res) => {
    const q = PublicQuery.parse(req.query);
    if (q.uscc) {
      const check = checkUscc(q.uscc.toUpperCase());
      if (!check.ok) throw badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'uscc', reason: check.reason }]);
    }
    const found = await publicCorrections(db, { uscc: q.uscc?.toUpperCase(), limit: q.page_size, offset: (q.page - 1) * q.page_size });
    res.set('Cache-Control', 'public, max-age=60').json({ items: found.items, page: q.page, page_size: q.page_size, has_more: found.hasMore });
  });

  return r;
}
