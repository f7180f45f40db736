/**
 * Intake of one batch in one transaction (over 400 lines: its steps — decode, parse, validate, COPY, idempotency,
 * audit — share the transaction and its connection and read best in one place; decoding is in db/decoding.ts).
 */
import crypto from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { v7 as uuidv7 } from 'uuid';
import { parse as csvParse, CsvError } from 'csv-parse';
import { from as copyFrom } from 'pg-copy-streams';
import type { Client as PgClient } from 'pg';
import type { Db } from './knex';
import { auditRow } from './audit';
import { duplicateError, findDuplicates } from './duplicates';
import { decodeWhole, decodingStage, tooDeep, UndecodableBody, type Charset } from './decoding';
import { loadCatalog, providerItems } from './catalog';
import { shanghaiDate } from '../domain/calendar';
import { canonicalJson, RecordDigest, recordHashOf } from '../domain/record-hash';
import type { Cadence } from '../domain/catalog';
import { parsePeriod, PERIOD_FORMAT_ZH } from '../domain/periods';
import { findForbiddenOutside, forbiddenReason } from '../domain/forbidden';
import { RecordValidator, type RowError, type ValidRecord } from '../domain/records';
import { readTabularHeader, tabularRows, type TabularRow, type TabularRows } from '../domain/tabular';
import { UnreadableWorkbook, WorkbookTooLarge, xlsxRows } from './xlsx';
import { submissionWorkflowId } from '../domain/workflow-ids';
import { z } from '../domain/z';

export interface IntakeProvider {
  id: number;
  code: string;
  /** The cadence in force on a date (a period is reported in the cadence in force when it began: E7, P9). */
  cadenceOn: (date: string) => Cadence;
}

/**
 * A provider as intake sees it, with its cadence on any date: the agreements recorded with the platform (E7, P9),
 * each in force from its period start; before the first, the registry's cadence.
 */
export async function intakeProvider(db: Db, providerId: number): Promise<IntakeProvider> {
  const provider = await db('providers').where('id', providerId).first('id', 'code', 'cadence');
  if (!provider) throw new Error(`provider ${providerId} not found`);
  const changes: Array<{ effective_from: string; cadence: Cadence }> = await db('provider_cadence_changes')
    .where('provider_id', providerId)
    .whereNull('superseded_at')
    .orderBy('effective_from', 'desc')
    .select('effective_from', 'cadence');
  return {
    id: provider.id,
    code: provider.code,
    cadenceOn: (date) => changes.find((c) => c.effective_from <= date)?.cadence ?? provider.cadence,
  };
}

export interface IntakeRequest {
  provider: IntakeProvider;
  principalId: string;
  actor: string;
  idempotencyKey: string;
  format: 'json' | 'csv' | 'xlsx';
  /** The period given in the query string (CSV: required; JSON: or in the body). */
  queryPeriod?: string;
  body: Readable;
  /** The body's charset (from the Content-Type; `declared` false when it named none and UTF-8 is assumed). */
  charset?: { charset: Charset; declared: boolean };
  jsonLimitBytes: number;
  /** The longest CSV record read (bytes); a longer one refuses the batch. An Excel row has the same cap. */
  csvMaxLineBytes?: number;
  /** Excel: the most a workbook may unzip to, and to what its parts held in memory (shared strings, styles) may (db/xlsx.ts). */
  xlsxMaxUnzippedBytes?: number;
  xlsxMaxSharedBytes?: number;
  /** How deeply arrays and objects may nest in one JSON record. */
  jsonMaxDepth?: number;
  maxReportedErrors: number;
}

export interface StoredSubmission {
  id: string;
  provider: string;
  period: string;
  format: 'json' | 'csv' | 'xlsx';
  row_count: number;
  received_at: string;
  workflow_id: string;
}

/**
 * Why a batch is refused as a whole: not readable (bad JSON), too large (a JSON body, a CSV line), bytes that are
 * not text in its charset, rows that break the rules, or rows that repeat a stored record exactly.
 */
export type RejectionReason = 'malformed' | 'too_large' | 'undecodable' | 'invalid' | 'duplicate';

/** What became of a batch; the route makes the HTTP answer. */
export type IntakeOutcome =
  | { kind: 'accepted'; submission: StoredSubmission; submissionId: string; workflowId: string; replayed: boolean }
  | { kind: 'rejected'; reason: RejectionReason; message: string; errors: RowError[]; errorCount: number; rowsRead: number }
  | { kind: 'busy' }
  | { kind: 'key_reused' };

/** The batch envelope of a JSON submission. */
export const JsonBatch = z
  .object({
    period: z.string().optional().openapi({ example: '2026-10', description: '报送期 / reporting period: YYYY-MM, YYYY-Qn or YYYY-Hn' }),
    records: z.array(z.unknown()).openapi({ description: '信用记录 / records (see RecordInput)' }),
  })
  .strict();

const COPY_SQL =
  'COPY records (record_key, submission_id, provider_id, item_code, subject_type, subject_id, payload, event_date, concluded_date, valid_until, lifted_date, created_by, hash) FROM STDIN';

/**
 * One line of COPY text format, with the record's key (time-ordered, as the table's default makes them) and content
 * hash (domain/record-hash.ts), which the batch's digest takes in. Identifiers and dates are validated; JSON escapes
 * control characters itself.
 */
function copyLine(submissionId: string, providerId: number, createdBy: string, r: ValidRecord, digest: RecordDigest): string {
  const text = canonicalJson(r.payload);
  const key = uuidv7();
  const hash = recordHashOf(
    '',
    {
      record_key: key,
      version: 1,
      status: 'active',
      submission_id: submissionId,
      provider_id: providerId,
      item_code: r.itemCode,
      subject_type: r.subjectType,
      subject_id: r.subjectId,
      payload: r.payload,
      event_date: r.eventDate,
      concluded_date: r.concludedDate,
      valid_until: r.validUntil,
      lifted_date: r.liftedDate,
      change_reason: null,
      created_by: createdBy,
    },
    text,
  );
  digest.add(hash);
  const json = text.includes('\\') ? text.replace(/\\/g, '\\\\') : text;
  const n = (v: string | null) => (v === null ? '\\N' : v);
  return `${key}\t${submissionId}\t${providerId}\t${r.itemCode}\t${r.subjectType}\t${r.subjectId}\t${json}\t${r.eventDate}\t${n(r.concludedDate)}\t${n(r.validUntil)}\t${n(r.liftedDate)}\t${createdBy}\t${hash}\n`;
}

/**
 * What every row of a batch names, checked once and locked FOR KEY SHARE as a foreign key would lock it: the
 * provider and each catalog item used (the submission is this transaction's own row). Either is missing only when it
 * was removed while the batch streamed in, which the platform never does: the batch fails as a server error.
 */
async function checkReferences(
  q: (sql: string, params?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>,
  providerId: number,
  itemCodes: string[],
): Promise<void> {
  const provider = await q('SELECT 1 FROM providers WHERE id = $1 FOR KEY SHARE', [providerId]);
  if (!provider.rows.length) throw new Error(`provider ${providerId} does not exist`);
  const found = await q('SELECT code FROM catalog_items WHERE code = ANY($1::text[]) FOR KEY SHARE', [itemCodes]);
  if (found.rows.length !== itemCodes.length) {
    const have = new Set(found.rows.map((r) => r.code));
    throw new Error(`catalog items ${itemCodes.filter((c) => !have.has(c)).join(', ')} do not exist`);
  }
}

/** Bytes not in the body's charset; `row` is the CSV row on that line (0: the header, or a JSON body). */
function undecodable(e: UndecodableBody, row: number): RejectedBatch {
  return new RejectedBatch('undecodable', e.message, [{ row, field: '(encoding)', reason: e.message }]);
}

class RejectedBatch extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
    readonly errors: RowError[],
  ) {
    super(message);
  }
}

function hashTap(hash: crypto.Hash, limit?: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (limit !== undefined && size > limit) {
        cb(
          new RejectedBatch(
            'too_large',
            `JSON 请求体超过 ${limit} 字节，大批量请用 CSV 提交 / JSON body over ${limit} bytes; send large batches as CSV`,
            [],
          ),
        );
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

export class ClientAborted extends Error {
  constructor() {
    super('the client closed the request before its body ended');
  }
}

/**
 * Pipes the request body into `into` without tying their fates together: when validation fails half-way the
 * request stays open (and is drained) so the client still gets its 4xx answer; when the client goes away,
 * `into` fails instead of waiting for ever.
 */
function detach(body: Readable, into: Transform): Transform {
  body.pipe(into);
  body.on('close', () => {
    if (!body.readableEnded) into.destroy(new ClientAborted());
  });
  body.on('error', (e) => into.destroy(e));
  return into;
}

async function hashOf(format: string, queryPeriod: string | undefined, body: Readable): Promise<string> {
  const hash = crypto.createHash('sha256').update(`${format}\n${queryPeriod ?? ''}\n`);
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function checkPeriod(period: string | undefined, cadenceOn: (date: string) => Cadence, today: string): RowError[] {
  const now = cadenceOn(today);
  if (!period)
    return [
      { row: 0, field: 'period', reason: `缺少报送期 / the reporting period is required (${PERIOD_FORMAT_ZH[now]})`, article: 'E7, P9' },
    ];
  const p = parsePeriod(period);
  if (!p) return [{ row: 0, field: 'period', reason: `报送期格式错误 / malformed period: ${PERIOD_FORMAT_ZH[now]}`, article: 'E7, P9' }];
  const cadence = cadenceOn(p.start);
  if (p.cadence !== cadence)
    return [
      {
        row: 0,
        field: 'period',
        reason: `报送周期不符：${PERIOD_FORMAT_ZH[cadence]} / the period does not match the provider's cadence`,
        article: 'E7, P9',
      },
    ];
  if (p.start > today)
    return [{ row: 0, field: 'period', reason: `报送期 ${period} 尚未开始 / the period has not begun`, article: 'E7, P9' }];
  return [];
}

/**
 * Stores a batch all-or-nothing, streaming: rows are validated one by one and copied into `records` inside one
 * transaction; any invalid row rolls the whole batch back. The Idempotency-Key is locked for the transaction
 * (a concurrent request with the same key is told 409), and its first answer is kept for replays.
 */
export async function intakeBatch(db: Db, req: IntakeRequest): Promise<IntakeOutcome> {
  const conn = (await db.client.acquireConnection()) as PgClient;
  let broken = false;
  const q = (sql: string, params?: unknown[]) => conn.query(sql, params);
  try {
    await q('BEGIN');
    // A large batch's COPY and checks may run longer than one request statement may (PG_STATEMENT_TIMEOUT_MS).
    await q('SET LOCAL statement_timeout = 0');
    const lock = await q('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [req.provider.id, req.idempotencyKey]);
    if (!lock.rows[0].ok) {
      await q('ROLLBACK');
      return { kind: 'busy' };
    }
    const existing = await q(
      'SELECT request_hash, response_status, response_body, submission_id FROM idempotency_keys WHERE provider_id = $1 AND key = $2',
      [req.provider.id, req.idempotencyKey],
    );
    if (existing.rows.length) {
      await q('ROLLBACK');
      const hash = await hashOf(req.format, req.queryPeriod, req.body);
      const first = existing.rows[0];
      if (hash !== first.request_hash) return { kind: 'key_reused' };
      const sub = first.response_body.submission as StoredSubmission;
      return { kind: 'accepted', submission: sub, submissionId: first.submission_id, workflowId: sub.workflow_id, replayed: true };
    }

    const receivedAt = new Date();
    const today = shanghaiDate(receivedAt);
    const catalog = await loadCatalog(db);
    const validator = new RecordValidator({ catalog, allowedItems: await providerItems(db, req.provider.id), today });
    const submissionId = crypto.randomUUID();
    const workflowId = submissionWorkflowId(req.provider.code, req.idempotencyKey);
    const hash = crypto.createHash('sha256').update(`${req.format}\n${req.queryPeriod ?? ''}\n`);

    const errors: RowError[] = [];
    let errorCount = 0;
    let rowsRead = 0;
    let stored = 0;
    const digest = new RecordDigest();
    const note = (errs: RowError[]) => {
      errorCount += errs.length;
      for (const e of errs) if (errors.length < req.maxReportedErrors) errors.push(e);
    };

    let period = req.queryPeriod;
    let source: Readable;
    let csvStages: [Transform, Transform] | null = null;
    let xlsxStage: ReturnType<typeof xlsxRows> | null = null;
    const { charset, declared } = req.charset ?? { charset: 'utf-8', declared: false };
    const mediaType = req.format === 'json' ? 'application/json' : 'text/csv';
    const maxDepth = req.jsonMaxDepth ?? 32;
    const maxLine = req.csvMaxLineBytes ?? 4 * 1024 * 1024;
    if (req.format === 'json') {
      const chunks: Buffer[] = [];
      for await (const c of detach(req.body, hashTap(hash, req.jsonLimitBytes))) chunks.push(c as Buffer);
      let parsed: unknown;
      try {
        parsed = JSON.parse(decodeWhole(Buffer.concat(chunks), charset, declared, mediaType));
      } catch (e) {
        if (e instanceof UndecodableBody) throw undecodable(e, 0);
        throw new RejectedBatch('malformed', '请求体不是有效的 JSON / the body is not valid JSON', [
          { row: 0, field: '(body)', reason: (e as Error).message },
        ]);
      }
      // Nothing recursive may run on what is nested too deeply: beside `records` here, each record below.
      const envelope = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? { ...parsed, records: null } : null;
      const deepAt = tooDeep(envelope, maxDepth);
      if (deepAt !== null)
        throw new RejectedBatch('malformed', '批次嵌套过深 / the batch is nested too deeply', [
          {
            row: 0,
            field: deepAt,
            reason: `数组和对象嵌套不得超过 ${maxDepth} 层 / arrays and objects may nest at most ${maxDepth} levels deep`,
          },
        ]);
      const env = JsonBatch.safeParse(parsed);
      if (!env.success) {
        // P7 before "unknown key": forbidden personal data beside `records` is refused as such.
        const p7 = findForbiddenOutside(parsed, ['period', 'records']);
        if (p7.length)
          throw new RejectedBatch(
            'invalid',
            '批次载有禁止采集的个人信息 / the batch carries forbidden personal data',
            p7.map((h) => ({ row: 0, field: h.path, reason: forbiddenReason(h.kind, h.where), article: 'P7' })),
          );
        throw new RejectedBatch(
          'malformed',
          '批次格式错误 / malformed batch',
          env.error.issues.map((i) => ({ row: 0, field: i.path.join('.') || '(body)', reason: i.message })),
        );
      }
      if (env.data.period && period && env.data.period !== period) {
        throw new RejectedBatch('invalid', '报送期不一致 / two different periods', [
          { row: 0, field: 'period', reason: '查询参数与请求体中的报送期不一致 / query and body name different periods' },
        ]);
      }
      period = env.data.period ?? period;
      const periodErrors = checkPeriod(period, req.provider.cadenceOn, today);
      if (periodErrors.length) throw new RejectedBatch('invalid', '报送期无效 / invalid reporting period', periodErrors);
      source = Readable.from(env.data.records);
    } else {
      const periodErrors = checkPeriod(period, req.provider.cadenceOn, today);
      if (periodErrors.length) {
        req.body.resume();
        throw new RejectedBatch('invalid', '报送期无效 / invalid reporting period', periodErrors);
      }
      source = detach(req.body, hashTap(hash));
      if (req.format === 'xlsx')
        xlsxStage = xlsxRows({
          maxLineBytes: maxLine,
          maxUnzippedBytes: req.xlsxMaxUnzippedBytes ?? 1024 * 1024 * 1024,
          maxSharedBytes: req.xlsxMaxSharedBytes ?? 128 * 1024 * 1024,
        });
      else
        csvStages = [
          decodingStage(charset, declared, mediaType),
          // Rows come as arrays; the first is the header (its length is the length every row must have).
          csvParse({ bom: true, skip_empty_lines: true, max_record_size: maxLine }),
        ];
    }

    await q(
      `INSERT INTO submissions (id, provider_id, period, idempotency_key, request_hash, format, row_count, received_at, workflow_id, created_by)
       VALUES ($1, $2, $3, $4, '', $5, 0, $6, $7, $8)`,
      [submissionId, req.provider.id, period, req.idempotencyKey, req.format, receivedAt, workflowId, req.principalId],
    );

    // CSV and Excel: the first row is the header (domain/tabular.ts); note rows and blank rows are skipped, still numbered.
    let table: TabularRows | null = null;
    let skipped = 0;
    const skippedRows: number[] = []; // ascending: turns a stored row's ordinal back into its row number
    const validateRows = async function* (rows: AsyncIterable<unknown>) {
      let buf = '';
      for await (const raw of rows) {
        if (req.format !== 'json' && !table) {
          const header = readTabularHeader(raw as string[]);
          if (header.errors.length)
            throw new RejectedBatch(
              'invalid',
              req.format === 'csv' ? 'CSV 表头无效 / invalid CSV header' : 'Excel 表头无效 / invalid Excel header',
              header.errors,
            );
          table = tabularRows(header.columns);
          continue;
        }
        rowsRead++;
        if (table?.skip(raw as string[])) {
          skipped++;
          skippedRows.push(rowsRead);
          continue;
        }
        const deep = table ? null : tooDeep(raw, maxDepth);
        if (deep !== null) {
          throw new RejectedBatch('malformed', `第 ${rowsRead} 条记录嵌套过深 / record ${rowsRead} is nested too deeply`, [
            {
              row: rowsRead,
              field: deep,
              reason: `数组和对象嵌套不得超过 ${maxDepth} 层 / arrays and objects may nest at most ${maxDepth} levels deep`,
            },
          ]);
        }
        const v = table ? table.validate(validator, raw as TabularRow, rowsRead) : validator.validate(raw, rowsRead);
        if (!v.ok) {
          note(v.errors);
          continue;
        }
        if (errorCount) continue; // the batch is lost already: keep reading only to report every error
        itemCodes.add(v.record.itemCode);
        buf += copyLine(submissionId, req.provider.id, req.principalId, v.record, digest);
        stored++;
        if (buf.length >= 1 << 16) {
          yield buf;
          buf = '';
        }
      }
      if (buf && !errorCount) yield buf;
    };

    // The batch's references are checked once, set-based, below (migration 0018): the per-row check skips its rows.
    const itemCodes = new Set<string>();
    await q("SELECT set_config('qz.checked_submission', $1, true)", [submissionId]);
    try {
      const copy = conn.query(copyFrom(COPY_SQL));
      if (csvStages) await pipeline(source, csvStages[0], csvStages[1], validateRows, copy);
      else if (xlsxStage) await pipeline(source, xlsxStage, validateRows, copy);
      else await pipeline(source, validateRows, copy);
    } catch (e) {
      if (e instanceof RejectedBatch) throw e;
      if (e instanceof UnreadableWorkbook) throw new RejectedBatch('malformed', e.message, [{ row: 0, field: '(xlsx)', reason: e.reason }]);
      if (e instanceof WorkbookTooLarge)
        throw new RejectedBatch('too_large', e.message, [{ row: e.row, field: '(xlsx)', reason: e.reason }]);
      if (e instanceof UndecodableBody) throw undecodable(e, e.line - 1);
      if (e instanceof CsvError && e.code === 'CSV_MAX_RECORD_SIZE') {
        const line = Number((e as CsvError & { lines?: number }).lines ?? 0);
        throw new RejectedBatch(
          'too_large',
          `第 ${line} 行超过 ${maxLine} 字节，整批未入库 / line ${line} is longer than ${maxLine} bytes: nothing was stored`,
          [
            {
              row: Math.max(0, line - 1),
              field: '(csv)',
              reason: `一行（一条记录）最长 ${maxLine} 字节 / a line (record) may be at most ${maxLine} bytes`,
            },
          ],
        );
      }
      if (e instanceof CsvError) {
        // `records` counts the records parsed before the bad one, the header among them: the bad row's number.
        const row = Math.max(0, Number((e as CsvError & { records?: number }).records ?? rowsRead + 1));
        throw new RejectedBatch('invalid', 'CSV 格式错误 / malformed CSV', [
          { row, field: '(csv)', reason: `CSV 解析失败 / ${e.message}` },
        ]);
      }
      throw e;
    }

    if (rowsRead === skipped)
      throw new RejectedBatch('invalid', '批次为空 / the batch holds no records', [
        { row: 0, field: 'records', reason: '至少需要一条记录 / at least one record is required' },
      ]);
    if (errorCount) {
      await q('ROLLBACK');
      return {
        kind: 'rejected',
        reason: 'invalid',
        message: `批次有 ${errorCount} 处错误，整批未入库 / ${errorCount} problems: nothing was stored`,
        errors,
        errorCount,
        rowsRead,
      };
    }

    await checkReferences(q, req.provider.id, [...itemCodes]);

    // An exact duplicate of a record already stored (or of an earlier row) is refused, naming what it repeats.
    const rowOf = (ordinal: number) => {
      let row = ordinal;
      for (const s of skippedRows) if (s <= row) row++;
      return row;
    };
    const duplicates = await findDuplicates(q, submissionId, req.provider.id, req.maxReportedErrors, rowOf);
    if (duplicates.length) {
      await q('ROLLBACK');
      return {
        kind: 'rejected',
        reason: 'duplicate',
        message: `批次中有 ${duplicates.length} 条完全重复的记录，整批未入库 / ${duplicates.length} rows repeat a stored record or an earlier row: nothing was stored`,
        errors: duplicates.map(duplicateError),
        errorCount: duplicates.length,
        rowsRead,
      };
    }

    const requestHash = hash.digest('hex');
    await q('UPDATE submissions SET request_hash = $2, row_count = $3 WHERE id = $1', [submissionId, requestHash, stored]);
    await q(
      `INSERT INTO enterprises (uscc, name, status)
       SELECT DISTINCT ON (subject_id) subject_id,
              CASE WHEN item_code = 'E-BASIC-REG' THEN payload->>'name' END,
              CASE WHEN item_code = 'E-BASIC-REG' THEN payload->>'status' END
         FROM records WHERE submission_id = $1 AND subject_type = 'enterprise'
        ORDER BY subject_id, (item_code = 'E-BASIC-REG') DESC, id DESC
       ON CONFLICT (uscc) DO UPDATE SET name = coalesce(EXCLUDED.name, enterprises.name), status = coalesce(EXCLUDED.status, enterprises.status), updated_at = now()
        WHERE EXCLUDED.name IS NOT NULL OR EXCLUDED.status IS NOT NULL`,
      [submissionId],
    );
    await q(
      `INSERT INTO persons (citizen_id, name)
       SELECT DISTINCT ON (subject_id) subject_id, CASE WHEN item_code = 'P-BASIC' THEN payload->>'name' END
         FROM records WHERE submission_id = $1 AND subject_type = 'person'
        ORDER BY subject_id, (item_code = 'P-BASIC') DESC, id DESC
       ON CONFLICT (citizen_id) DO UPDATE SET name = coalesce(EXCLUDED.name, persons.name) WHERE EXCLUDED.name IS NOT NULL`,
      [submissionId],
    );
    const submission: StoredSubmission = {
      id: submissionId,
      provider: req.provider.code,
      period: period!,
      format: req.format,
      row_count: stored,
      received_at: receivedAt.toISOString(),
      workflow_id: workflowId,
    };
    // The key keeps the first answer (202 Accepted and the submission), replayed as it was.
    const body = { submission };
    await q(
      'INSERT INTO idempotency_keys (provider_id, key, request_hash, response_status, response_body, submission_id) VALUES ($1, $2, $3, 202, $4, $5)',
      [req.provider.id, req.idempotencyKey, requestHash, JSON.stringify(body), submissionId],
    );
    const entry = auditRow({
      principalId: req.principalId,
      actor: req.actor,
      action: 'submission.accept',
      entity: 'submission',
      id: submissionId,
      article: 'E10, E12',
      detail: { period, format: req.format, rows: stored, records: { count: digest.count, digest: digest.digest() } },
    });
    await q('INSERT INTO audit_log (principal_id, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
      entry.principal_id,
      entry.actor,
      entry.action,
      entry.entity,
      entry.entity_id,
      JSON.stringify(entry.detail),
    ]);
    await q('COMMIT');
    return { kind: 'accepted', submission, submissionId, workflowId, replayed: false };
  } catch (e) {
    await q('ROLLBACK').catch(() => {
      broken = true;
    });
    if (e instanceof RejectedBatch) {
      req.body.resume();
      return {
        kind: 'rejected',
        reason: e.reason,
        message: e.message,
        errors: e.errors.slice(0, req.maxReportedErrors),
        errorCount: e.errors.length,
        rowsRead: 0,
      };
    }
    throw e;
  } finally {
    if (broken) (conn as PgClient & { __knex__disposed?: unknown }).__knex__disposed = 'broken during intake';
    await db.client.releaseConnection(conn);
  }
}
