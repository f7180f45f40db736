import { Router, type Request } from 'express';
import { z } from '../../domain/z';
import { intakeBatch, intakeProvider, JsonBatch, ClientAborted, type RejectionReason } from '../../db/intake';
import { charsetOf } from '../../db/decoding';
import { intakeSettings } from '../../domain/config';
import { RecordInput } from '../../domain/records';
import { listSubmissions, submissionVisibleTo, submittingProvider } from '../../db/submissions';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { document, registry, ErrorBody } from '../openapi';
import { ensureSubmissionWorkflow } from '../../processes/starts';

const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: '只能使用可见 ASCII 字符 / printable ASCII only' });

const SubmissionSchema = registry.register(
  'Submission',
  z.object({
    id: z.string().uuid(),
    provider: z.string(),
    period: z.string(),
    format: z.enum(['json', 'csv', 'xlsx']),
    row_count: z.number().int(),
    received_at: z.string(),
    workflow_id: z.string(),
    workflow_started: z.boolean(),
    publication_deadline: z.string().nullable().openapi({
      description: '公开期限：收到后第 5 个工作日（E12）/ the publication deadline: 5th working day after receipt',
      example: '2026-10-19',
    }),
    publication_deadline_provisional: z.boolean().openapi({
      description:
        '暂定：其间有年份的工作日历尚未载入，按最早可能的日期执行，载入后重算 / provisional: a year on the way has no calendar; the earliest the deadline can be, recomputed when it is loaded',
    }),
    calendar_pending_year: z
      .number()
      .int()
      .nullable()
      .openapi({ description: '暂定期限所待的年份 / the year a provisional deadline waits on' }),
  }),
);

registry.register('RecordInput', RecordInput);

/** How a refused batch is answered. */
const REJECTION: Record<RejectionReason, { status: 400 | 413 | 422; code: string }> = {
  malformed: { status: 400, code: 'BAD_REQUEST' },
  too_large: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  undecodable: { status: 422, code: 'INVALID_ENCODING' },
  invalid: { status: 422, code: 'INVALID_BATCH' },
  duplicate: { status: 422, code: 'DUPLICATE_RECORDS' },
};

/** The media type of an Excel workbook (.xlsx). */
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const SubmitQuery = z.object({ period: z.string().optional().openapi({ example: '2026-10' }) });

document({
  method: 'post',
  path: '/submissions',
  tags: ['征集 Collection'],
  summary: '报送一批信用记录 / submit a batch of records for a reporting period',
  description:
    'JSON (`application/json`, `{period, records:[RecordInput]}`) or CSV (`text/csv`, period in the query; columns item_code, subject_id, event_date, concluded_date, valid_until, lifted_date, then one column per payload field; a header cell may be a template label `*事件日期（event_date）`; a row whose item_code begins with # is a note row and a row of empty cells is blank: both skipped, still numbered) or Excel (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, period in the query; the first worksheet, the same columns and rules, its first row with a value the header; the data row N is the Nth Excel row after the header; a file that is not a readable .xlsx is 400). All-or-nothing: any invalid row rejects the batch with 422 and nothing is stored. Requires `Idempotency-Key`. Text is UTF-8 unless the Content-Type declares `charset=gb18030` (or `gbk`, `gb2312`: what Excel on Chinese Windows saves); bytes that do not decode are refused (422, naming the line), an unknown charset 415, a CSV line or an Excel row over CSV_MAX_LINE_BYTES 413, a workbook that unzips to more than XLSX_MAX_UNZIPPED_BYTES (or its shared strings and styles to more than XLSX_MAX_SHARED_BYTES) 413.',
  secured: true,
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey.openapi({ example: '2026-10-batch-1' }) }),
    query: SubmitQuery,
    body: {
      content: {
        'application/json': { schema: JsonBatch },
        'text/csv': {
          schema: z.string().openapi({ example: 'item_code,subject_id,event_date,decision_no,violation,penalty,authority\n' }),
        },
        [XLSX_TYPE]: {
          schema: z.string().openapi({
            format: 'binary',
            description:
              'Excel 工作簿（.xlsx，可用 GET /catalog/items/{code}/template.xlsx 模板），读第一个工作表 / an Excel workbook (the template of GET /catalog/items/{code}/template.xlsx will do); its first worksheet is read',
          }),
        },
      },
    },
  },
  responses: {
    202: {
      description: '已受理 / accepted: stored, its workflow started',
      content: { 'application/json': { schema: z.object({ submission: SubmissionSchema }) } },
    },
    409: {
      description: '同一 Idempotency-Key 的请求仍在处理 / a request with this key is still running',
      content: { 'application/json': { schema: ErrorBody } },
    },
    413: {
      description:
        'JSON 请求体、CSV 单行或 Excel 单行过大，或工作簿解压后过大 / JSON body, a CSV line or an Excel row too large, or a workbook that unzips to too much',
      content: { 'application/json': { schema: ErrorBody } },
    },
    415: { description: '不支持的格式 / unsupported content type', content: { 'application/json': { schema: ErrorBody } } },
    422: { description: '批次无效，未入库 / invalid batch, nothing stored', content: { 'application/json': { schema: ErrorBody } } },
  },
});
document({
  method: 'get',
  path: '/submissions',
  tags: ['征集 Collection'],
  summary: '本单位的报送批次 / the batches of the caller (provider) or of all (staff, admin)',
  secured: true,
  request: { query: z.object({ period: z.string().optional(), limit: z.number().int().optional(), offset: z.number().int().optional() }) },
  responses: {
    200: { description: 'submissions', content: { 'application/json': { schema: z.object({ submissions: z.array(SubmissionSchema) }) } } },
  },
});
document({
  method: 'get',
  path: '/submissions/{id}',
  tags: ['征集 Collection'],
  summary: '一个批次及其处理状态 / one batch and its processing state',
  secured: true,
  request: { params: z.object({ id: z.string().uuid() }) },
  responses: {
    200: { description: 'submission', content: { 'application/json': { schema: z.object({ submission: SubmissionSchema }) } } },
  },
});

/** The charset the Content-Type declares (UTF-8 when none); one not supported is answered 415, naming it. */
function charsetFrom(req: Request) {
  const c = charsetOf(req.get('content-type'));
  if ('unknown' in c)
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `不支持的字符集 ${c.unknown}，请使用 utf-8 或 gb18030（gbk、gb2312）/ charset ${c.unknown} is not supported: use utf-8 or gb18030 (gbk, gb2312)`,
      [{ field: 'content-type', reason: `不支持的字符集 ${c.unknown} / unsupported charset ${c.unknown}` }],
    );
  return c;
}

function formatOf(req: Request): 'json' | 'csv' | 'xlsx' {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'text/csv') return 'csv';
  if (type === XLSX_TYPE) return 'xlsx';
  throw new HttpError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `请以 application/json、text/csv 或 ${XLSX_TYPE}（Excel .xlsx）提交 / send application/json, text/csv or ${XLSX_TYPE} (Excel .xlsx)`,
    [{ field: 'content-type', reason: `不支持 ${type || '(none)'} / not supported` }],
  );
}

const SubmissionId = z.object({ id: z.string().uuid({ message: '批次编号应为 UUID / submission id must be a UUID' }) });
const ListQuery = z.object({
  period: z.string().max(16).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

function parseLimit(raw: string): number {
  const m = /^(\d+)(kb|mb)?$/i.exec(raw.trim());
  if (!m) return 20 * 1024 * 1024;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'mb' ? n * 1024 * 1024 : m[2] ? n * 1024 : n;
}

export function submissionsRouter({ db, temporal, config }: AppDeps): Router {
  const r = Router();
  const jsonLimit = parseLimit(config.jsonBodyLimit);
  const limits = intakeSettings();

  r.post('/submissions', requireRole('provider'), async (req, res) => {
    const principal = principalOf(req);
    const drainAnd = (e: HttpError): never => {
      req.resume();
      throw e;
    };
    const key = req.get('idempotency-key');
    if (key === undefined)
      drainAnd(
        badRequest('缺少 Idempotency-Key 请求头 / the Idempotency-Key header is required', [
          { field: 'Idempotency-Key', reason: '必填 / required' },
        ]),
      );
    const keyCheck = IdempotencyKey.safeParse(key);
    if (!keyCheck.success)
      drainAnd(
        badRequest('Idempotency-Key 无效 / invalid Idempotency-Key', [
          { field: 'Idempotency-Key', reason: keyCheck.error!.issues[0].message },
        ]),
      );
    let format: 'json' | 'csv' | 'xlsx' = 'json';
    let charset: ReturnType<typeof charsetFrom> = { charset: 'utf-8', declared: false };
    try {
      format = formatOf(req);
      charset = charsetFrom(req);
    } catch (e) {
      drainAnd(e as HttpError);
    }
    const query = SubmitQuery.safeParse(req.query);
    if (!query.success) drainAnd(badRequest('查询参数无效 / invalid query', [{ field: 'period', reason: query.error!.issues[0].message }]));

    const provider = principal.providerId === null ? undefined : await submittingProvider(db, principal.providerId);
    if (!provider || !provider.active) return drainAnd(new HttpError(403, 'FORBIDDEN', '信息提供单位已停用 / this provider is not active'));

    let outcome;
    try {
      outcome = await intakeBatch(db, {
        provider: await intakeProvider(db, provider.id),
        principalId: principal.id,
        actor: actorLabel(principal),
        idempotencyKey: keyCheck.data!,
        format,
        queryPeriod: query.data!.period,
        body: req,
        charset,
        jsonLimitBytes: jsonLimit,
        csvMaxLineBytes: limits.csvMaxLineBytes,
        xlsxMaxUnzippedBytes: limits.xlsxMaxUnzippedBytes,
        xlsxMaxSharedBytes: limits.xlsxMaxSharedBytes,
        jsonMaxDepth: limits.jsonMaxDepth,
        maxReportedErrors: config.maxReportedErrors,
      });
    } catch (e) {
      if (e instanceof ClientAborted) return; // nobody is listening; the transaction was rolled back
      throw e;
    }
    switch (outcome.kind) {
      case 'busy':
        req.resume();
        throw new HttpError(
          409,
          'IDEMPOTENCY_KEY_IN_USE',
          '同一 Idempotency-Key 的请求仍在处理中，请稍后重试 / a request with this Idempotency-Key is still being processed',
          [{ field: 'Idempotency-Key', reason: '处理中 / in progress' }],
        );
      case 'key_reused':
        throw new HttpError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          '该 Idempotency-Key 已用于另一批次 / this Idempotency-Key was used for a different batch',
          [{ field: 'Idempotency-Key', reason: '与首次请求内容不同 / differs from the first request with this key' }],
        );
      case 'rejected':
        throw new HttpError(REJECTION[outcome.reason].status, REJECTION[outcome.reason].code, outcome.message, outcome.errors, {
          error_count: outcome.errorCount,
          rows_read: outcome.rowsRead,
          stored: 0,
        });
      case 'accepted': {
        let workflow: 'started' | 'pending' = 'started';
        try {
          await ensureSubmissionWorkflow(db, temporal, config.taskQueue, outcome.submissionId, outcome.workflowId);
        } catch (e) {
          // Stored already: the reconciler starts the workflow when Temporal is back.
          workflow = 'pending';
          console.error(`[api] workflow start for submission ${outcome.submissionId} deferred:`, (e as Error).message);
        }
        res
          .status(202)
          .location(`/submissions/${outcome.submissionId}`)
          .set('Idempotent-Replayed', String(outcome.replayed))
          .json({ submission: outcome.submission, workflow });
        return;
      }
    }
  });

  r.get('/submissions', requireRole('provider', 'staff', 'admin'), async (req, res) => {
    const principal = principalOf(req);
    const q = ListQuery.parse(req.query);
    const rows = await listSubmissions(db, principal, { period: q.period, limit: q.limit, offset: q.offset });
    res.json({ submissions: rows });
  });

  r.get('/submissions/:id', requireRole('provider', 'staff', 'admin'), async (req, res) => {
    const principal = principalOf(req);
    const { id } = SubmissionId.parse(req.params);
    const row = await submissionVisibleTo(db, principal, id);
    if (!row) throw notFound(`批次 ${id}`);
    res.json({ submission: row });
  });

  return r;
}
