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
import { EXAMPLE, document, errorAnswer, jsonRequest, jsonRequestExamples, validationError } from '../openapi';
import { ObjectionStateError } from '../../db/objections';
import { FileName, fileBody, rawFileBody, uploadedFile, type UploadLabel } from '../uploads';
import {
  AttachmentSchema,
  IdParam,
  ObjectionSchema,
  Reason,
  ReasonBody,
  Uuid,
  by,
  guard,
  json,
  objectionViewer,
  one,
  stateConflict,
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

const OBJECTION_ID = '9c1f4e27-3a85-4d6b-b0e2-7f5a1c8d3e96';
const objectionNotFound = errorAnswer('异议不存在或无权查看 / no such objection, or not yours', notFound(`异议 ${OBJECTION_ID}`));

document({
  method: 'post',
  path: '/objections',
  operationId: 'fileObjection',
  tags,
  summary: '提出异议（企业对本企业信息；任何人对企业信息，E18；个人仅对本人信息，P21）/ file an objection',
  secured: true,
  request: {
    body: jsonRequestExamples(
      FileBody,
      {
        enterprise: {
          summary:
            '企业对本企业的行政处罚记录提出异议并申请暂停公开（E18）/ an enterprise objects to its penalty and asks for a suspension',
          value: {
            record_keys: [EXAMPLE.recordKey],
            claim: '该行政处罚决定已于 2026 年 10 月 28 日被钦州市人民政府行政复议决定撤销，不应继续公示',
            evidence_summary: '钦州市人民政府行政复议决定书（钦政复决字〔2026〕第45号）复印件一份',
            request_suspension: true,
            suspension_reason: '处罚决定已被撤销，继续公示将影响本公司参加政府采购投标',
          },
        },
        person: {
          summary: '个人对本人的欠费记录提出异议（P21）/ a person objects to a record about them',
          value: {
            record_keys: ['0192c4e1-6d30-7b18-9f42-c5a7e3b1d084'],
            claim: '本人已于 2026 年 9 月 15 日结清全部水费，欠费记录有误',
            evidence_summary: '钦州市自来水公司出具的缴费凭证及结清证明',
          },
        },
      },
      { required: true },
    ),
  },
  responses: {
    201: one,
    400: errorAnswer(
      '异议申请无效，未保存 / invalid objection; nothing stored',
      validationError(FileBody, { record_keys: [EXAMPLE.recordKey], claim: '信息有误', evidence_summary: '见附件' }),
      badRequest('异议申请无效，未保存 / invalid objection; nothing stored', [
        { field: 'record_keys.0', reason: '该记录已撤回 / the record is retracted', article: 'E10' },
        {
          field: 'record_keys',
          reason: '一项异议只能涉及同一信息提供单位的记录，请分别提出 / one provider per objection: file one per provider',
          article: 'E18',
        },
      ]),
    ),
    403: errorAnswer(
      '只有信息主体本人可以对其个人信用信息提出异议 / only the person may object to their own records',
      new HttpError(
        403,
        'FORBIDDEN',
        '只有信息主体本人可以对其个人信用信息提出异议（P21）/ only the person may object to their own records',
        [{ field: 'record_keys.0', reason: '不是您本人的信用信息 / not a record about you', article: 'P21' }],
      ),
    ),
    404: errorAnswer('记录不存在或无权知悉 / no such record', notFound(`记录 ${EXAMPLE.recordKey}`)),
    409: errorAnswer(
      '对该记录的异议尚在处理中 / an objection of yours on the record is open',
      new HttpError(409, 'OBJECTION_OPEN', '您对该记录的异议尚在处理中 / you already have an open objection on this record', [
        { field: 'record_keys', reason: `${EXAMPLE.recordKey}：异议 ${OBJECTION_ID} 处理中 / open objection ${OBJECTION_ID}` },
      ]),
    ),
  },
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
  operationId: 'uploadObjectionEvidence',
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
    400: errorAnswer(
      '请求无效：文件名缺失或含路径，或文件为空 / bad request: no file name, a name with a path, or an empty file',
      validationError(AttachmentQuery, { file_name: 'C:\\扫描件\\复议决定书.pdf' }),
      badRequest('文件为空 / the file is empty', [{ field: '(body)', reason: '文件为空 / empty' }]),
    ),
    404: objectionNotFound,
    409: errorAnswer(
      '异议已处理完毕，或证据文件已达上限 / the objection is concluded, or holds the most files it may',
      stateConflict(
        new ObjectionStateError('upheld', '异议核实无误，予以维持，不能再补充证据 / the objection is upheld: no more evidence'),
      ),
      stateConflict(new ObjectionStateError('verifying', '每项异议最多 20 个证据文件 / at most 20 files per objection')),
    ),
    413: errorAnswer(
      '文件过大 / the file is too large',
      new HttpError(413, 'ATTACHMENT_TOO_LARGE', '证据文件超过 10485760 字节上限 / the file exceeds 10485760 bytes', [
        { field: '(body)', reason: '最大 10485760 字节 / at most 10485760 bytes' },
      ]),
    ),
    415: errorAnswer(
      '不接受的文件类型，或内容与类型不符 / a type not accepted, or content not of its type',
      new HttpError(415, 'UNSUPPORTED_TYPE', '不接受的文件类型 application/msword / type not accepted', [
        { field: 'Content-Type', reason: '可用：application/pdf、image/jpeg、image/png / one of application/pdf, image/jpeg, image/png' },
      ]),
      new HttpError(415, 'UNSUPPORTED_TYPE', '文件内容不是 application/pdf / the content is not application/pdf', [
        { field: '(body)', reason: '文件内容与类型 application/pdf 不符 / content does not match application/pdf' },
      ]),
    ),
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
  operationId: 'getObjectionEvidence',
  tags,
  summary: '证据文件内容 / evidence content (applicant, provider, staff)',
  secured: true,
  request: { params: AttachmentParam },
  responses: {
    200: { description: 'the file' },
    404: errorAnswer(
      '异议或证据不存在，或无权查看 / no such objection or file, or not yours',
      notFound(`异议 ${OBJECTION_ID}`),
      notFound('证据 e4a8c2f1-7b39-4d06-8a5e-3c1f9b7d2e58'),
    ),
  },
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
  operationId: 'listObjections',
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
  operationId: 'getObjection',
  tags,
  summary: '异议的状态、期限和剩余工作日 / state, deadline and working days left',
  secured: true,
  request: { params: IdParam },
  responses: { 200: one, 404: objectionNotFound },
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
  operationId: 'requestObjectionSuspension',
  tags,
  summary: '申请人申请暂停公开（E18 第二款）/ the applicant asks for a suspension',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(ReasonBody, { reason: '处罚决定已被撤销，继续公示将影响本公司参加政府采购投标' }, { required: true }),
  },
  responses: {
    200: one,
    400: errorAnswer(
      '个人信用信息不公开发布，无需暂停公开 / personal records are not published',
      badRequest('个人信用信息不公开发布，无需暂停公开 / personal records are not published', [
        { field: 'id', reason: '异议期间作存在异议标注 / they carry the disputed mark instead', article: 'P22' },
      ]),
    ),
    404: objectionNotFound,
    409: errorAnswer(
      '异议的状态不允许 / not in this state',
      stateConflict(
        new ObjectionStateError(
          'upheld',
          '异议核实无误，予以维持，只有受理后、处理完毕前可暂停公开（E18 第二款）/ only while the objection is open',
        ),
        'E18',
      ),
    ),
  },
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
  operationId: 'stateContinuedDisagreement',
  tags,
  summary: '处理完毕后仍有异议：保留存在异议标注（P22）/ still disagree after the outcome',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequest(
      DisagreementBody,
      { statement: '自来水公司的核实仅依据系统记录，未核对本人提供的缴费凭证，本人仍有异议' },
      { required: true },
    ),
  },
  responses: {
    200: one,
    404: objectionNotFound,
    409: errorAnswer(
      '异议尚未处理完毕，或已声明 / not concluded yet, or stated already',
      stateConflict(new ObjectionStateError('verifying', '异议核实中，处理完毕后方可声明仍有异议 / only after the outcome'), 'P22'),
      stateConflict(new ObjectionStateError('upheld', '已声明仍有异议 / already stated'), 'P22'),
    ),
  },
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
  operationId: 'listPublicCorrections',
  tags: ['公示 Publication'],
  publicLimit: true,
  outage: true,
  summary: '更正公示（E18），无需登录 / public correction notices, no login',
  request: { query: PublicQuery },
  responses: {
    200: {
      description: 'newest first',
      ...json(
        z.object({ items: z.array(z.record(z.string(), z.unknown())), page: z.number(), page_size: z.number(), has_more: z.boolean() }),
      ),
    },
    400: errorAnswer(
      '请求无效 / bad request',
      badRequest('统一社会信用代码无效 / invalid unified social credit code', [{ field: 'uscc', reason: EXAMPLE.mistypedUscc.reason }]),
      validationError(PublicQuery, { page_size: '500' }),
    ),
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
