import { errorField, logger } from '../../ops/log';
import { intakeRefusals, intakeRows } from '../../ops/metrics';
import { Router, type Request } from 'express';
import { z } from '../../domain/z';
import { intakeBatch, intakeProvider, JsonBatch, ClientAborted, type RejectionReason } from '../../db/intake';
import { UndecodableBody, charsetOf } from '../../db/decoding';
import { duplicateError } from '../../db/duplicates';
import { intakeSettings } from '../../domain/config';
import { RecordInput, RecordValidator } from '../../domain/records';
import { CATALOG_BY_CODE } from '../../domain/catalog';
import { listSubmissions, submissionVisibleTo, submittingProvider } from '../../db/submissions';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, badRequest, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, registry } from '../openapi';
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

const RecordInputDoc = registry.register(
  'RecordInput',
  RecordInput.extend({ subject_id: RecordInput.shape.subject_id.openapi({ example: EXAMPLE.enterprise.uscc }) }),
);

/** A batch of the Administration for Industry and Commerce (QZ-GSJ, monthly): a penalty, an honor, a person's penalty. */
const BATCH_EXAMPLE = {
  period: '2026-10',
  records: [
    {
      item_code: 'E-PENALTY',
      subject_id: EXAMPLE.enterprise.uscc,
      event_date: '2026-10-12',
      payload: {
        decision_no: '钦工商处字〔2026〕第118号',
        violation: '销售不符合国家标准的建筑材料（钢筋）',
        penalty: '警告，没收违法所得，罚款人民币 30000 元',
        authority: '钦州市工商行政管理局',
        amount: 30000,
      },
    },
    {
      item_code: 'E-HONOR',
      subject_id: EXAMPLE.enterprise2.uscc,
      event_date: '2026-09-28',
      valid_until: '2028-09-27',
      payload: { title: '钦州市守合同重信用企业', kind: '表彰', issuer: '钦州市工商行政管理局' },
    },
    {
      item_code: 'P-PUBLIC-PENALTY',
      subject_id: EXAMPLE.person.citizenId,
      event_date: '2026-10-09',
      concluded_date: '2026-10-20',
      payload: {
        decision_no: '钦南工商处字〔2026〕第36号',
        matter: '未取得营业执照从事水产品经营',
        result: '责令改正，罚款人民币 2000 元',
        authority: '钦州市工商行政管理局钦南分局',
      },
    },
  ],
};

/** Penalties in CSV (the columns of the E-PENALTY template), the period in the query. */
const CSV_EXAMPLE = [
  'item_code,subject_id,event_date,concluded_date,lifted_date,decision_no,violation,penalty,authority,amount',
  `E-PENALTY,${EXAMPLE.enterprise.uscc},2026-10-12,,,钦工商处字〔2026〕第118号,销售不符合国家标准的建筑材料（钢筋）,警告，没收违法所得，罚款人民币 30000 元,钦州市工商行政管理局,30000`,
  `E-PENALTY,${EXAMPLE.enterprise3.uscc},2026-10-16,,,钦工商处字〔2026〕第121号,虚假宣传荔枝产品产地,责令停止违法行为，罚款人民币 8000 元,钦州市工商行政管理局,8000`,
  '',
].join('\n');

/** What the API answers for a batch with invalid rows: every row checked as intake checks it (as on 2026-11-02). */
function invalidBatchExample(): HttpError {
  const validator = new RecordValidator({
    catalog: CATALOG_BY_CODE,
    allowedItems: new Set(['E-BASIC-REG', 'E-HONOR', 'E-PENALTY', 'E-INSPECTION-FAIL', 'P-BASIC', 'P-PUBLIC-PENALTY']),
    today: '2026-11-02',
  });
  const rows: unknown[] = [
    BATCH_EXAMPLE.records[0],
    { ...BATCH_EXAMPLE.records[0], subject_id: EXAMPLE.mistypedUscc.code, event_date: '2026-11-20' },
    {
      ...BATCH_EXAMPLE.records[1],
      payload: { title: '钦州市守合同重信用企业', kind: '优秀企业', issuer: '钦州市工商行政管理局', level: '市级' },
    },
    { item_code: 'P-BASIC', subject_id: EXAMPLE.person.citizenId, event_date: '2026-10-09', payload: { name: '李秀梅', 民族: '壮族' } },
  ];
  const errors = rows.flatMap((raw, i) => {
    const v = validator.validate(raw, i + 1);
    return v.ok ? [] : v.errors;
  });
  return new HttpError(
    422,
    'INVALID_BATCH',
    `批次有 ${errors.length} 处错误，整批未入库 / ${errors.length} problems: nothing was stored`,
    errors,
    {
      error_count: errors.length,
      rows_read: rows.length,
      stored: 0,
    },
  );
}

/** A batch refused as a whole before its rows (intake's `RejectedBatch`): no row read, nothing stored. */
const refusedBatch = (status: number, code: string, message: string, details: HttpError['details']) =>
  new HttpError(status, code, message, details, { error_count: details.length, rows_read: 0, stored: 0 });

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
  operationId: 'createSubmission',
  tags: ['征集 Collection'],
  summary: '报送一批信用记录 / submit a batch of records for a reporting period',
  description:
    'JSON (`application/json`, `{period, records:[RecordInput]}`) or CSV (`text/csv`, period in the query; columns item_code, subject_id, event_date, concluded_date, valid_until, lifted_date, then one column per payload field; a header cell may be a template label `*事件日期（event_date）`; a row whose item_code begins with # is a note row and a row of empty cells is blank: both skipped, still numbered) or Excel (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, period in the query; the first worksheet, the same columns and rules, its first row with a value the header; the data row N is the Nth Excel row after the header; a file that is not a readable .xlsx is 400). All-or-nothing: any invalid row rejects the batch with 422 and nothing is stored. Requires `Idempotency-Key`. Text is UTF-8 unless the Content-Type declares `charset=gb18030` (or `gbk`, `gb2312`: what Excel on Chinese Windows saves); bytes that do not decode are refused (422, naming the line), an unknown charset 415, a CSV line or an Excel row over CSV_MAX_LINE_BYTES 413, a workbook that unzips to more than XLSX_MAX_UNZIPPED_BYTES (or its shared strings and styles to more than XLSX_MAX_SHARED_BYTES) 413.',
  secured: true,
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey.openapi({ example: '2026-10-batch-1' }) }),
    query: SubmitQuery,
    body: {
      required: true,
      content: {
        'application/json': { schema: JsonBatch.extend({ records: z.array(RecordInputDoc) }), example: BATCH_EXAMPLE },
        'text/csv': { schema: z.string(), example: CSV_EXAMPLE },
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
    400: errorAnswer(
      '请求无效：缺少 Idempotency-Key，或请求体不是有效的 JSON、批次格式错误 / bad request: no Idempotency-Key, a body that is not JSON, a malformed batch',
      badRequest('缺少 Idempotency-Key 请求头 / the Idempotency-Key header is required', [
        { field: 'Idempotency-Key', reason: '必填 / required' },
      ]),
      refusedBatch(400, 'BAD_REQUEST', '请求体不是有效的 JSON / the body is not valid JSON', [
        { row: 0, field: '(body)', reason: `Expected ',' or '}' after property value in JSON at position 58` },
      ]),
      refusedBatch(400, 'BAD_REQUEST', '批次格式错误 / malformed batch', [
        { row: 0, field: 'records', reason: '缺少必填字段 / required field is missing' },
      ]),
    ),
    409: errorAnswer(
      '同一 Idempotency-Key 的请求仍在处理 / a request with this key is still running',
      new HttpError(
        409,
        'IDEMPOTENCY_KEY_IN_USE',
        '同一 Idempotency-Key 的请求仍在处理中，请稍后重试 / a request with this Idempotency-Key is still being processed',
        [{ field: 'Idempotency-Key', reason: '处理中 / in progress' }],
      ),
    ),
    413: errorAnswer(
      'JSON 请求体、CSV 单行或 Excel 单行过大，或工作簿解压后过大 / JSON body, a CSV line or an Excel row too large, or a workbook that unzips to too much',
      refusedBatch(
        413,
        'PAYLOAD_TOO_LARGE',
        'JSON 请求体超过 20971520 字节，大批量请用 CSV 提交 / JSON body over 20971520 bytes; send large batches as CSV',
        [],
      ),
      refusedBatch(
        413,
        'PAYLOAD_TOO_LARGE',
        '第 1502 行超过 4194304 字节，整批未入库 / line 1502 is longer than 4194304 bytes: nothing was stored',
        [{ row: 1501, field: '(csv)', reason: '一行（一条记录）最长 4194304 字节 / a line (record) may be at most 4194304 bytes' }],
      ),
    ),
    415: errorAnswer(
      '不支持的格式或字符集 / unsupported content type or charset',
      new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `请以 application/json、text/csv 或 ${XLSX_TYPE}（Excel .xlsx）提交 / send application/json, text/csv or ${XLSX_TYPE} (Excel .xlsx)`,
        [{ field: 'content-type', reason: '不支持 text/plain / not supported' }],
      ),
      new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        '不支持的字符集 big5，请使用 utf-8 或 gb18030（gbk、gb2312）/ charset big5 is not supported: use utf-8 or gb18030 (gbk, gb2312)',
        [{ field: 'content-type', reason: '不支持的字符集 big5 / unsupported charset big5' }],
      ),
    ),
    422: errorAnswer(
      '批次无效，未入库：逐行列出问题（行、字段、原因、条款）/ invalid batch, nothing stored: each problem with its row, field, reason and article',
      invalidBatchExample(),
      refusedBatch(422, 'INVALID_BATCH', '报送期无效 / invalid reporting period', [
        { row: 0, field: 'period', reason: '报送期 2026-12 尚未开始 / the period has not begun', article: 'E7, P9' },
      ]),
      new HttpError(
        422,
        'DUPLICATE_RECORDS',
        '批次中有 1 条完全重复的记录，整批未入库 / 1 rows repeat a stored record or an earlier row: nothing was stored',
        [duplicateError({ row: 2, recordKey: EXAMPLE.recordKey })],
        { error_count: 1, rows_read: 3, stored: 0 },
      ),
      refusedBatch(422, 'INVALID_ENCODING', new UndecodableBody('utf-8', false, 3, 'text/csv').message, [
        { row: 2, field: '(encoding)', reason: new UndecodableBody('utf-8', false, 3, 'text/csv').message },
      ]),
      new HttpError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        '该 Idempotency-Key 已用于另一批次 / this Idempotency-Key was used for a different batch',
        [{ field: 'Idempotency-Key', reason: '与首次请求内容不同 / differs from the first request with this key' }],
      ),
    ),
  },
});
document({
  method: 'get',
  path: '/submissions',
  operationId: 'listSubmissions',
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
  operationId: 'getSubmission',
  tags: ['征集 Collection'],
  summary: '一个批次及其处理状态 / one batch and its processing state',
  secured: true,
  request: { params: z.object({ id: z.string().uuid() }) },
  responses: {
    200: { description: 'submission', content: { 'application/json': { schema: z.object({ submission: SubmissionSchema }) } } },
    404: errorAnswer('批次不存在或无权访问 / no such batch, or not yours', notFound(`批次 ${EXAMPLE.submissionId}`)),
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
    // Intake for the operators (ops/metrics.ts): rows by outcome, refused batches by reason; a replay counts once.
    if (outcome.kind === 'accepted' && !outcome.replayed)
      intakeRows.inc({ provider: provider.code, outcome: 'accepted' }, outcome.submission.row_count);
    else if (outcome.kind === 'rejected') {
      intakeRows.inc({ provider: provider.code, outcome: 'refused' }, outcome.rowsRead);
      intakeRefusals.inc({ provider: provider.code, reason: outcome.reason });
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
          logger('api').warn({ err: errorField(e) }, `workflow start for submission ${outcome.submissionId} deferred`);
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
