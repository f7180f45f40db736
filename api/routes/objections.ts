import express, { Router, type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { checkUscc } from '../../domain/identifiers';
import { shanghaiDate } from '../../domain/calendar';
import { objectionSettings } from '../../domain/config';
import { OBJECTION_STATES, OBJECTION_STATE_ZH, OBJECTOR_ROLES, workingDaysLeft, type ObjectionState } from '../../domain/objections';
import type { Db } from '../../db/knex';
import { loadCalendar } from '../../db/calendar';
import {
  currentRecords,
  fileObjection,
  objectionVisibleTo,
  objectionsFor,
  openObjectionsOf,
  ownObjection,
  recordsKnownTo,
} from '../../db/objections';
import { addAttachment, attachmentContent } from '../../db/objection-attachments';
import { recordDisagreement, requestSuspension } from '../../db/objection-suspension';
import { publicCorrections } from '../../db/correction-notices';
import type { RouterDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound, type ErrorDetail } from '../errors';
import { document, ErrorBody } from '../openapi';
import { FileName, fileBody, rawFileBody, uploadedFile, type UploadLabel } from '../uploads';
import {
  AttachmentSchema,
  IdParam,
  ObjectionSchema,
  Reason,
  ReasonBody,
  Uuid,
  by,
  conflict,
  guard,
  json,
  objectionViewer,
  one,
  tags,
  type ObjectionViewer,
} from './objection-common';

/**
 * Objections, the applicant's side (E18, P21, P22): filing, evidence, reading, asking for a suspension, stating
 * continued disagreement; and the public correction notices (E18). Staff's and the provider's steps are in
 * objection-handling.ts. Each endpoint: its schemas, its OpenAPI entry and its handler, in that order.
 *
 * A little over 400 lines: each of its eight endpoints carries its schema and OpenAPI entry beside its handler.
 */

interface Ctx {
  db: Db;
  publicLimit: RequestHandler;
  view: ObjectionViewer;
  settings: ReturnType<typeof objectionSettings>;
}
type Route = (r: Router, ctx: Ctx) => void;

const body = express.json({ limit: '1mb' });

/** An objection of the applicant `p` (404 otherwise). */
const own = async (db: Db, p: { id: string }, id: string) => {
  const row = await ownObjection(db, p.id, id);
  if (!row) throw notFound(`异议 ${id}`);
  return row;
};

// ─── POST /objections: filing (E18, P21) ─────────────────────────────────────────────────────────────────────

const FileBody = z
  .object({
    record_keys: z
      .array(Uuid('记录编号'))
      .min(1, { message: '请指明有异议的记录 / name the record(s)' })
      .openapi({ description: '有异议的记录（record_key，来自查询结果或公示页面）/ the records objected to' }),
    claim: z
      .string()
      .trim()
      .min(5, { message: '请说明信息错在何处 / say what is wrong' })
      .max(5000)
      .openapi({ description: '异议内容：哪里有误，应当如何 / what is wrong and what is right' }),
    evidence_summary: z
      .string()
      .trim()
      .min(2, { message: '请说明所附依据 / describe the evidence' })
      .max(5000)
      .openapi({ description: '所附依据或证据的说明；文件另行上传 / the evidence; files are uploaded next' }),
    request_suspension: z
      .boolean()
      .optional()
      .openapi({ description: '申请异议期间暂停公开（企业信息，E18 第二款）/ ask to suspend publication (enterprise records)' }),
    suspension_reason: Reason.optional(),
  })
  .strict()
  .refine((b) => !b.request_suspension || b.suspension_reason, {
    message: '申请暂停公开须说明理由 / give the reason for the suspension',
    path: ['suspension_reason'],
  });

document({
  method: 'post',
  path: '/objections',
  tags,
  summary: '提出异议（企业对本企业信息；任何人对企业信息，E18；个人仅对本人信息，P21）/ file an objection',
  secured: true,
  request: { body: json(FileBody) },
  responses: { 201: one, 404: { description: '记录不存在或无权知悉 / no such record', ...json(ErrorBody) }, ...conflict },
});

const fileRoute: Route = (r, { db, view, settings }) =>
  r.post('/objections', requireRole(...OBJECTOR_ROLES), body, async (req, res) => {
    const p = principalOf(req);
    const b = FileBody.parse(req.body);
    const keys = [...new Set(b.record_keys)];
    if (keys.length > settings.maxRecords)
      throw badRequest(`一项异议最多涉及 ${settings.maxRecords} 条记录 / at most ${settings.maxRecords} records`, [
        { field: 'record_keys', reason: `最多 ${settings.maxRecords} 条 / at most ${settings.maxRecords}` },
      ]);
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
          throw new HttpError(
            403,
            'FORBIDDEN',
            '只有信息主体本人可以对其个人信用信息提出异议（P21）/ only the person may object to their own records',
            [{ field, reason: '不是您本人的信用信息 / not a record about you', article: 'P21' }],
          );
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
      details.push({
        field: 'record_keys',
        reason: '一项异议只能涉及同一信息提供单位的记录，请分别提出 / one provider per objection: file one per provider',
        article: first.subject_type === 'enterprise' ? 'E18' : 'P22',
      });
    }
    if (b.request_suspension && first.subject_type === 'person') {
      details.push({
        field: 'request_suspension',
        reason: '个人信用信息不公开发布，无需暂停公开；异议期间将作存在异议标注（P22）/ personal records are not published',
        article: 'P22',
      });
    }
    if (details.length) throw badRequest('异议申请无效，未保存 / invalid objection; nothing stored', details);
    const dup = await openObjectionsOf(db, p.id, keys);
    if (dup.length) {
      throw new HttpError(
        409,
        'OBJECTION_OPEN',
        '您对该记录的异议尚在处理中 / you already have an open objection on this record',
        dup.map((d) => ({ field: 'record_keys', reason: `${d.record_key}：异议 ${d.id} 处理中 / open objection ${d.id}` })),
      );
    }
    const id = await fileObjection(db, {
      applicant: { id: p.id, role: p.role, name: p.name, organization: p.organization, actor: actorLabel(p) },
      records: keys.map((k) => byKey.get(k)!),
      claim: b.claim,
      evidenceSummary: b.evidence_summary,
      suspensionRequested: !!b.request_suspension,
      suspensionRequestReason: b.suspension_reason ?? null,
    });
    res
      .status(201)
      .location(`/objections/${id}`)
      .json({ objection: await view(p, id, false) });
  });

// ─── POST /objections/{id}/attachments: evidence (the applicant) ─────────────────────────────────────────────

const AttachmentQuery = z.object({ file_name: FileName });
const EVIDENCE_UPLOAD: UploadLabel = { zh: '证据文件', en: 'the file', tooLargeCode: 'ATTACHMENT_TOO_LARGE' };

document({
  method: 'post',
  path: '/objections/{id}/attachments',
  tags,
  summary: '上传证据文件（PDF、JPEG、PNG）/ upload evidence (the applicant)',
  secured: true,
  request: {
    params: IdParam,
    query: AttachmentQuery,
    body: fileBody,
  },
  responses: {
    201: { description: 'stored', ...json(z.object({ attachment: AttachmentSchema })) },
    413: { description: 'too large', ...json(ErrorBody) },
    415: { description: 'type not allowed', ...json(ErrorBody) },
    ...conflict,
  },
});

const uploadRoute: Route = (r, { db, settings }) => {
  const raw = rawFileBody(settings.attachmentMaxBytes, EVIDENCE_UPLOAD);
  r.post('/objections/:id/attachments', requireRole(...OBJECTOR_ROLES), raw, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const q = AttachmentQuery.parse(req.query);
    await own(db, p, id);
    const { type, content } = uploadedFile(req, EVIDENCE_UPLOAD);
    const a = await guard(() =>
      addAttachment(db, id, { fileName: q.file_name, contentType: type, content }, settings.maxAttachments, by(p)),
    );
    res.status(201).location(`/objections/${id}/attachments/${a.id}/content`).json({ attachment: a });
  });
};

// ─── GET /objections/{id}/attachments/{attachmentId}/content ─────────────────────────────────────────────────

const AttachmentParam = z.object({ id: Uuid('异议编号'), attachmentId: Uuid('证据编号') });

document({
  method: 'get',
  path: '/objections/{id}/attachments/{attachmentId}/content',
  tags,
  summary: '证据文件内容 / evidence content (applicant, provider, staff)',
  secured: true,
  request: { params: AttachmentParam },
  responses: { 200: { description: 'the file' } },
});

const attachmentContentRoute: Route = (r, { db }) =>
  r.get(
    '/objections/:id/attachments/:attachmentId/content',
    requireRole('provider', 'staff', 'admin', 'supervisor', ...OBJECTOR_ROLES),
    async (req, res) => {
      const p = principalOf(req);
      const { id, attachmentId } = AttachmentParam.parse(req.params);
      if (!(await objectionVisibleTo(db, p, id))) throw notFound(`异议 ${id}`);
      const a = await attachmentContent(db, id, attachmentId);
      if (!a) throw notFound(`证据 ${attachmentId}`);
      res
        .status(200)
        .type(a.content_type)
        .set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(a.file_name)}`)
        .set('Cache-Control', 'no-store')
        .send(a.content as Buffer);
    },
  );

// ─── GET /objections ─────────────────────────────────────────────────────────────────────────────────────────

const ListQuery = z.object({
  state: z.enum(OBJECTION_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

document({
  method: 'get',
  path: '/objections',
  tags,
  summary: '异议列表（申请人：本人的；信息提供单位：本单位待核实的；工作人员：全部）/ objections',
  secured: true,
  request: { query: ListQuery },
  responses: { 200: { description: 'newest first', ...json(z.object({ objections: z.array(ObjectionSchema) })) } },
});

const listRoute: Route = (r, { db }) =>
  r.get('/objections', requireRole('provider', 'staff', 'admin', 'supervisor', ...OBJECTOR_ROLES), async (req, res) => {
    const p = principalOf(req);
    const q = ListQuery.parse(req.query);
    const rows = await objectionsFor(db, p, q);
    let calendar: Awaited<ReturnType<typeof loadCalendar>> | null = null;
    try {
      calendar = await loadCalendar(db);
    } catch {
      calendar = null;
    }
    const today = shanghaiDate(new Date());
    res.json({
      objections: rows.map((o) => {
        let left: number | null = null;
        try {
          left = calendar ? workingDaysLeft(calendar, today, o.deadline) : null;
        } catch {
          left = null;
        }
        return { ...o, state_zh: OBJECTION_STATE_ZH[o.state as ObjectionState], working_days_left: left };
      }),
    });
  });

// ─── GET /objections/{id} ────────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/objections/{id}',
  tags,
  summary: '异议的状态、期限和剩余工作日 / state, deadline and working days left',
  secured: true,
  request: { params: IdParam },
  responses: { 200: one },
});

const oneRoute: Route = (r, { view }) =>
  r.get('/objections/:id', requireRole('provider', 'staff', 'admin', 'supervisor', ...OBJECTOR_ROLES), async (req, res) => {
    const { id } = IdParam.parse(req.params);
    res.set('Cache-Control', 'no-store').json({ objection: await view(principalOf(req), id) });
  });

// ─── POST /objections/{id}/suspension-request (E18 2nd para.) ────────────────────────────────────────────────

document({
  method: 'post',
  path: '/objections/{id}/suspension-request',
  tags,
  summary: '申请人申请暂停公开（E18 第二款）/ the applicant asks for a suspension',
  secured: true,
  request: { params: IdParam, body: json(ReasonBody) },
  responses: { 200: one, ...conflict },
});

const suspensionRequestRoute: Route = (r, { db, view }) =>
  r.post('/objections/:id/suspension-request', requireRole(...OBJECTOR_ROLES), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { reason } = ReasonBody.parse(req.body ?? {});
    const o = await own(db, p, id);
    if (o.subject_type !== 'enterprise')
      throw badRequest('个人信用信息不公开发布，无需暂停公开 / personal records are not published', [
        { field: 'id', reason: '异议期间作存在异议标注 / they carry the disputed mark instead', article: 'P22' },
      ]);
    await guard(() => requestSuspension(db, id, reason, by(p)), 'E18');
    res.json({ objection: await view(p, id, false) });
  });

// ─── POST /objections/{id}/disagreement: continued disagreement (P22) ────────────────────────────────────────

const DisagreementBody = z
  .object({ statement: z.string().trim().min(2, { message: '请说明仍有异议的理由 / say why you still disagree' }).max(5000) })
  .strict();

document({
  method: 'post',
  path: '/objections/{id}/disagreement',
  tags,
  summary: '处理完毕后仍有异议：保留存在异议标注（P22）/ still disagree after the outcome',
  secured: true,
  request: { params: IdParam, body: json(DisagreementBody) },
  responses: { 200: one, ...conflict },
});

const disagreementRoute: Route = (r, { db, view }) =>
  r.post('/objections/:id/disagreement', requireRole(...OBJECTOR_ROLES), body, async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const { statement } = DisagreementBody.parse(req.body ?? {});
    await own(db, p, id);
    await guard(() => recordDisagreement(db, id, statement, by(p)), 'P22');
    res.json({ objection: await view(p, id, false) });
  });

// ─── GET /public/corrections: the public correction notices (E18) ────────────────────────────────────────────

const PublicQuery = z.object({
  uscc: z.string().max(18).optional(),
  page: z.coerce.number().int().min(1).max(10000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
});

document({
  method: 'get',
  path: '/public/corrections',
  tags: ['公示 Publication'],
  summary: '更正公示（E18），无需登录 / public correction notices, no login',
  request: { query: PublicQuery },
  responses: {
    200: {
      description: 'newest first',
      ...json(
        z.object({ items: z.array(z.record(z.string(), z.unknown())), page: z.number(), page_size: z.number(), has_more: z.boolean() }),
      ),
    },
  },
});

const publicCorrectionsRoute: Route = (r, { db, publicLimit }) => {
  // The same shared allowance as every public route (api/public-limit.ts).
  r.get('/public/corrections', publicLimit, async (req, res) => {
    const q = PublicQuery.parse(req.query);
    if (q.uscc) {
      const check = checkUscc(q.uscc.toUpperCase());
      if (!check.ok)
        throw badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'uscc', reason: check.reason }]);
    }
    const found = await publicCorrections(db, { uscc: q.uscc?.toUpperCase(), limit: q.page_size, offset: (q.page - 1) * q.page_size });
    res
      .set('Cache-Control', 'public, max-age=60')
      .json({ items: found.items, page: q.page, page_size: q.page_size, has_more: found.hasMore });
  });
};

// ─── The router ──────────────────────────────────────────────────────────────────────────────────────────────

export function objectionsRouter({ db, temporal, publicLimit }: RouterDeps): Router {
  const r = Router();
  const ctx: Ctx = { db, publicLimit, view: objectionViewer({ db, temporal }), settings: objectionSettings() };
  for (const route of [
    fileRoute,
    uploadRoute,
    attachmentContentRoute,
    listRoute,
    oneRoute,
    suspensionRequestRoute,
    disagreementRoute,
    publicCorrectionsRoute,
  ])
    route(r, ctx);
  return r;
}
