import { errorField, logger } from '../../ops/log';
import { Router } from 'express';
import { z } from '../../domain/z';
import { querierOf } from '../../domain/querier';
import type { Principal } from '../../domain/roles';
import type { Db } from '../../db/knex';
import { documentMeta } from '../../db/documents';
import { JUDICIAL_REQUEST_STATUSES, createJudicialRequest, getJudicialRequest, listJudicialRequests } from '../../db/judicial-requests';
import { answeredRecords } from '../../db/query-log';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequestExamples, registry, WorkflowStart } from '../openapi';
import { answerJudicialRequestUpdate } from '../../processes/messages';
import {
  AnsweredRecordSchema,
  IdParam,
  Purpose,
  Reason,
  StatusQuery,
  SubjectType,
  Uuid,
  checkCategories,
  checkSubjectId,
  json,
  jsonBody,
  tags,
  type Endpoint,
} from './query-common';
import { runUpdate } from '../../processes/client';
import { ensureRequestWorkflow } from '../../processes/starts';
import { orRefusal, requestRefusals } from '../../processes/errors';

/**
 * A judicial body's query request (E14(4), P13): filed with its proof of duty, answered by staff within 3 working
 * days (the request's workflow keeps the deadline) by a query run and logged on the request's basis, or rejected.
 */

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
    answer_due_provisional: z.boolean().openapi({
      description:
        '暂定：按最早可能的日期答复；确定期限前不记为逾期 / provisional: answered by the earliest possible day; not recorded as missed before the settled deadline',
    }),
    alert_date: z.string().nullable(),
    alerted_at: z.string().nullable(),
    overdue_at: z.string().nullable(),
    status: z.enum(['pending', 'answered', 'rejected']),
    answered_at: z.string().nullable(),
    answer_reason: z.string().nullable(),
    query_log_id: z.number().nullable(),
    met: z.boolean().nullable().openapi({
      description:
        'null：尚未答复，或在暂定期限后答复、待日历载入后确定 / null: not answered, or answered after a provisional deadline (decided when the year is loaded)',
    }),
    workflow_id: z.string(),
  }),
);

/** A request the principal may see (a judicial body its own); 404 otherwise. */
async function oneJudicial(db: Db, p: Principal, id: string) {
  const row = await getJudicialRequest(db, id, p.role === 'judicial' ? p.id : undefined);
  if (!row) throw notFound(`司法查询申请 ${id}`);
  return row;
}

// ─── POST /judicial-requests ─────────────────────────────────────────────────────────────────────────────────

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
const JUDICIAL_REQUEST_ID = '2c8f6a13-7e49-4d0b-95a1-b3d7e0c4f826';
const judicialRequestNotFound = errorAnswer(
  '申请不存在或非本机关 / no such request, or not yours',
  notFound(`司法查询申请 ${JUDICIAL_REQUEST_ID}`),
);
document({
  method: 'post',
  path: '/judicial-requests',
  operationId: 'fileJudicialRequest',
  tags,
  summary: '司法机关查询申请，3 个工作日内答复（E14(4)、P13）/ a judicial query request, answered within 3 working days',
  secured: true,
  request: {
    body: jsonRequestExamples(
      JudicialRequestBody,
      {
        enterprise: {
          summary: '法院执行中查询被执行企业（E14(4)）/ a court enforcing a judgment asks about an enterprise',
          value: {
            subject_type: 'enterprise',
            subject_id: EXAMPLE.enterprise.uscc,
            categories: ['tax', 'financial', 'credit'],
            case_no: '(2026)桂07执123号',
            purpose: '查明被执行人财产状况，依法执行',
            document_id: '6b3d9f27-4c18-4e5a-8f70-d2a5c1e9b346',
          },
        },
        person: {
          summary: '检察院办案中查询个人（P13）/ a procuratorate asks about a person',
          value: {
            subject_type: 'person',
            subject_id: EXAMPLE.person2.citizenId,
            case_no: '钦检刑诉〔2026〕58号',
            purpose: '审查起诉中核实犯罪嫌疑人的信用状况',
            document_id: '0e7a4c58-b2d9-4f61-a3e8-5c9f1b6d2a70',
          },
        },
      },
      { required: true },
    ),
  },
  responses: {
    202: {
      description: 'filed, with its answer deadline (workflow `pending`: Temporal was away, the deadline is set when it is back)',
      ...json(z.object({ judicial_request: JudicialRequestSchema, workflow: WorkflowStart })),
    },
    400: errorAnswer(
      '请求无效：主体证件号、类别或证明文件 / bad request: the subject’s identifier, the categories, the proof of duty',
      badRequest('公民身份号码无效 / invalid citizen ID number', [
        { field: 'subject_id', reason: '公民身份号码出生日期无效 / citizen ID has an invalid birth date', article: 'P9' },
      ]),
      badRequest('须附本机关上传的有效证明文件 / attach the proof of duty you uploaded', [
        {
          field: 'document_id',
          reason: '先通过 POST /documents?kind=duty_proof 上传 / upload it first with POST /documents?kind=duty_proof',
          article: 'E14(4)',
        },
      ]),
    ),
  },
});
const fileJudicialRequest: Endpoint = ({ db, temporal, config }) => [
  requireRole('judicial'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const b = JudicialRequestBody.parse(req.body);
    checkSubjectId(b.subject_type, b.subject_id, 'subject_id');
    if (b.categories) checkCategories(b.subject_type, b.categories, 'categories');
    const doc = await documentMeta(db, b.document_id);
    if (!doc || doc.uploaded_by !== p.id || doc.kind !== 'duty_proof') {
      throw badRequest('须附本机关上传的有效证明文件 / attach the proof of duty you uploaded', [
        {
          field: 'document_id',
          reason: '先通过 POST /documents?kind=duty_proof 上传 / upload it first with POST /documents?kind=duty_proof',
          article: b.subject_type === 'enterprise' ? 'E14(4)' : 'P12(3)',
        },
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
    let workflow: 'started' | 'pending' = 'started';
    try {
      await ensureRequestWorkflow(db, temporal, config.taskQueue, 'judicial', id, workflowId);
    } catch (e) {
      // Filed and stored: the reconciler starts its workflow (and so its deadline) when Temporal is back.
      workflow = 'pending';
      logger('api').warn({ err: errorField(e) }, `workflow start for judicial request ${id} deferred`);
    }
    res
      .status(202)
      .location(`/judicial-requests/${id}`)
      .json({ judicial_request: await oneJudicial(db, p, id), workflow });
  },
];

// ─── GET /judicial-requests ──────────────────────────────────────────────────────────────────────────────────

const ListQuery = StatusQuery(JUDICIAL_REQUEST_STATUSES);
document({
  method: 'get',
  path: '/judicial-requests',
  operationId: 'listJudicialRequests',
  tags,
  summary: '司法查询申请（司法机关：本机关的；工作人员：全部）/ judicial requests',
  secured: true,
  request: { query: ListQuery },
  responses: { 200: { description: 'list', ...json(z.object({ judicial_requests: z.array(JudicialRequestSchema) })) } },
});
const listJudicialRequestsEndpoint: Endpoint = ({ db }) => [
  requireRole('judicial', 'staff', 'admin', 'supervisor'),
  async (req, res) => {
    const p = principalOf(req);
    const q = ListQuery.parse(req.query);
    const rows = await listJudicialRequests(db, {
      requesterPrincipalId: p.role === 'judicial' ? p.id : undefined,
      status: q.status,
      limit: q.limit,
      offset: q.offset,
    });
    res.json({ judicial_requests: rows });
  },
];

// ─── GET /judicial-requests/{id} ─────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/judicial-requests/{id}',
  operationId: 'getJudicialRequest',
  tags,
  summary: '一项司法查询申请及其答复 / one judicial request and its answer',
  secured: true,
  request: { params: IdParam },
  responses: {
    200: {
      description: 'it',
      ...json(
        z.object({ judicial_request: JudicialRequestSchema, answer: z.object({ records: z.array(AnsweredRecordSchema) }).nullable() }),
      ),
    },
    404: judicialRequestNotFound,
  },
});
const getJudicialRequestEndpoint: Endpoint = ({ db }) => [
  requireRole('judicial', 'staff', 'admin', 'supervisor'),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const row = await oneJudicial(db, p, id);
    const answer =
      row.status === 'answered' && row.query_log_id && (p.role === 'judicial' || p.role === 'staff')
        ? { records: await answeredRecords(db, row.query_log_id) }
        : null;
    res.set('Cache-Control', 'no-store').json({ judicial_request: row, answer });
  },
];

// ─── POST /judicial-requests/{id}/answer ─────────────────────────────────────────────────────────────────────

const AnswerBody = z
  .object({ decision: z.enum(['answer', 'reject']), reason: Reason.optional() })
  .strict()
  .refine((b) => b.decision === 'answer' || b.reason, { message: '不予受理须说明理由 / a rejection needs its reason', path: ['reason'] });
document({
  method: 'post',
  path: '/judicial-requests/{id}/answer',
  operationId: 'answerJudicialRequest',
  tags,
  summary: '答复司法查询申请（工作人员）/ answer or reject a judicial request (staff)',
  secured: true,
  request: {
    params: IdParam,
    body: jsonRequestExamples(
      AnswerBody,
      {
        answer: { summary: '答复：按申请查询并记录 / answer: the query is run and logged', value: { decision: 'answer' } },
        reject: {
          summary: '不予受理，须说明理由 / reject, with the reason',
          value: { decision: 'reject', reason: '所附证明文件未加盖公章，且案号与文书不一致，请补正后重新申请' },
        },
      },
      { required: true },
    ),
  },
  responses: {
    200: {
      description: 'answered; met tells whether the deadline was kept',
      ...json(z.object({ judicial_request: JudicialRequestSchema })),
    },
    404: judicialRequestNotFound,
    409: errorAnswer(
      '已答复或已不予受理 / answered or rejected already',
      new HttpError(409, 'CONFLICT', '申请已答复 / the request is answered', [{ field: 'id', reason: '状态 / status: answered' }]),
    ),
  },
});
const answerJudicialRequest: Endpoint = ({ db, temporal, config }) => [
  requireRole('staff'),
  jsonBody(),
  async (req, res) => {
    const p = principalOf(req);
    const { id } = IdParam.parse(req.params);
    const b = AnswerBody.parse(req.body);
    const cur = await oneJudicial(db, p, id);
    if (cur.status !== 'pending')
      throw new HttpError(409, 'CONFLICT', `申请已${cur.status === 'answered' ? '答复' : '不予受理'} / the request is ${cur.status}`, [
        { field: 'id', reason: `状态 / status: ${cur.status}` },
      ]);
    // Not started yet (filed while Temporal was away): started now, or 503 and nothing done.
    await ensureRequestWorkflow(db, temporal, config.taskQueue, 'judicial', id, cur.workflow_id);
    const answer = { decision: b.decision, reason: b.reason ?? null, staffPrincipalId: p.id, staffActor: actorLabel(p) };
    await orRefusal(
      () => runUpdate(temporal, cur.workflow_id, answerJudicialRequestUpdate, [answer]),
      requestRefusals('不能答复 / cannot answer'),
    );
    res.json({ judicial_request: await oneJudicial(db, p, id) });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function judicialRequestsRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/judicial-requests', ...fileJudicialRequest(deps));
  r.get('/judicial-requests', ...listJudicialRequestsEndpoint(deps));
  r.get('/judicial-requests/:id', ...getJudicialRequestEndpoint(deps));
  r.post('/judicial-requests/:id/answer', ...answerJudicialRequest(deps));
  return r;
}
