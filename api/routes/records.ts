import express, { Router } from 'express';
import { z } from '../../domain/z';
import { RecordChanges } from '../../domain/records';
import { changeRecord, listRecords, recordVersions, type ChangeOutcome, type RecordScope } from '../../db/records';
import type { Principal } from '../../domain/roles';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { HttpError, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, jsonRequest, registry } from '../openapi';

const RecordSchema = registry.register(
  'Record',
  z.object({
    record_key: z.string().uuid(),
    version: z.number().int(),
    is_current: z.boolean(),
    status: z.enum(['active', 'retracted']),
    provider: z.string(),
    item_code: z.string(),
    subject_type: z.enum(['enterprise', 'person']),
    subject_id: z.string(),
    payload: z.record(z.string(), z.unknown()),
    event_date: z.string(),
    concluded_date: z.string().nullable(),
    valid_until: z.string().nullable(),
    lifted_date: z.string().nullable(),
    change_reason: z.string().nullable(),
    submission_id: z.string().uuid().nullable(),
    created_at: z.string(),
  }),
);

const RecordKey = z.object({ key: z.string().uuid({ message: '记录编号应为 UUID / record key must be a UUID' }) });
const ListQuery = z.object({
  subject_id: z.string().max(18).optional(),
  item_code: z.string().max(64).optional(),
  submission_id: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const Reason = z.string().trim().min(2, { message: '请说明更正或撤回的理由 / give the reason' }).max(2000);
const CorrectionBody = z
  .object({
    base_version: z.number().int().min(1).openapi({ description: '所更正的版本（防止重复提交）/ the version being corrected' }),
    reason: Reason,
    changes: RecordChanges,
  })
  .strict();
const RetractionBody = z.object({ base_version: z.number().int().min(1), reason: Reason }).strict();

const tags = ['征集 Collection'];
document({
  method: 'get',
  path: '/records',
  operationId: 'listRecords',
  tags,
  summary:
    "本单位报送的记录（当前版本）/ the caller's records, current versions (provider; staff: enterprise records — personal ones only through POST /queries, logged, P20)",
  secured: true,
  request: { query: ListQuery },
  responses: { 200: { description: 'records', content: { 'application/json': { schema: z.object({ records: z.array(RecordSchema) }) } } } },
});
document({
  method: 'get',
  path: '/records/{key}',
  operationId: 'getRecordVersions',
  tags,
  summary: '一条记录的全部版本 / every version of one record',
  secured: true,
  request: { params: RecordKey },
  responses: {
    200: {
      description: 'versions, newest first',
      content: { 'application/json': { schema: z.object({ versions: z.array(RecordSchema) }) } },
    },
    404: errorAnswer('无此记录（或非本单位记录）/ no such record of yours', notFound(`记录 ${EXAMPLE.recordKey}`)),
  },
});
const changeResponses = {
  201: {
    description: '新版本 / the new version',
    content: { 'application/json': { schema: z.object({ record_key: z.string(), version: z.number() }) } },
  },
  404: errorAnswer('无此记录（或非本单位记录）/ no such record of yours', notFound(`记录 ${EXAMPLE.recordKey}`)),
  409: errorAnswer(
    '版本已变化或已撤回 / the record changed meanwhile or is retracted',
    new HttpError(409, 'VERSION_CONFLICT', '记录当前为第 3 版（有效）/ the record is at version 3 (active)', [
      { field: 'base_version', reason: '当前版本为 3 / current version is 3' },
    ]),
    new HttpError(409, 'VERSION_CONFLICT', '记录当前为第 2 版（已撤回）/ the record is at version 2 (retracted)', [
      { field: 'base_version', reason: '当前版本为 2 / current version is 2' },
    ]),
  ),
};
/** A correction of the penalty of the batch example: its decision number and amount as the decision has them. */
const CORRECTION_EXAMPLE = {
  base_version: 1,
  reason: '处罚决定书文号及罚没金额录入错误，依原决定书更正',
  changes: {
    payload: {
      decision_no: '钦工商处字〔2026〕第128号',
      violation: '销售不符合国家标准的建筑材料（钢筋）',
      penalty: '警告，没收违法所得，罚款人民币 35000 元',
      authority: '钦州市工商行政管理局',
      amount: 35000,
    },
  },
};
document({
  method: 'post',
  path: '/records/{key}/corrections',
  operationId: 'correctRecord',
  tags,
  summary: '更正本单位的记录（生成新版本，E10）/ correct an own record: a new version',
  secured: true,
  request: { params: RecordKey, body: jsonRequest(CorrectionBody, CORRECTION_EXAMPLE, { required: true }) },
  responses: {
    ...changeResponses,
    422: errorAnswer(
      '更正后的记录无效 / the corrected record is invalid',
      new HttpError(422, 'INVALID_RECORD', '更正后的记录无效，未保存 / the corrected record is invalid; nothing was stored', [
        { row: 1, field: 'changes.lifted_date', reason: '解除日早于事件日期 / lifted before the event date', article: 'E15' },
        { row: 1, field: 'payload.penalty', reason: '缺少必填字段 / required field is missing', article: 'P6' },
      ]),
    ),
  },
});
document({
  method: 'post',
  path: '/records/{key}/retraction',
  operationId: 'retractRecord',
  tags,
  summary: '撤回本单位的记录（E10）/ retract an own record: a new, retracted version',
  secured: true,
  request: {
    params: RecordKey,
    body: jsonRequest(RetractionBody, { base_version: 2, reason: '该行政处罚决定已被钦州市人民政府行政复议决定撤销' }, { required: true }),
  },
  responses: changeResponses,
});

function answer(outcome: ChangeOutcome, key: string) {
  switch (outcome.kind) {
    case 'ok':
      return { record_key: outcome.recordKey, version: outcome.version };
    case 'not_found':
      throw notFound(`记录 ${key}`);
    case 'conflict':
      throw new HttpError(
        409,
        'VERSION_CONFLICT',
        `记录当前为第 ${outcome.currentVersion} 版（${outcome.status === 'retracted' ? '已撤回' : '有效'}）/ the record is at version ${outcome.currentVersion} (${outcome.status})`,
        [{ field: 'base_version', reason: `当前版本为 ${outcome.currentVersion} / current version is ${outcome.currentVersion}` }],
      );
    case 'invalid':
      throw new HttpError(
        422,
        'INVALID_RECORD',
        '更正后的记录无效，未保存 / the corrected record is invalid; nothing was stored',
        outcome.errors,
      );
  }
}

export function recordsRouter({ db }: AppDeps): Router {
  const r = Router();
  const json = express.json({ limit: '1mb' });
  // Staff review enterprise records here; personal records are read through POST /queries, which logs (P20).
  const scopeOf = (principal: Principal): RecordScope => ({
    providerId: principal.role === 'provider' ? principal.providerId : undefined,
    enterpriseOnly: principal.role === 'staff',
  });

  r.get('/records', requireRole('provider', 'staff'), async (req, res) => {
    const principal = principalOf(req);
    const q = ListQuery.parse(req.query);
    const rows = await listRecords(db, scopeOf(principal), q);
    res.json({ records: rows });
  });

  r.get('/records/:key', requireRole('provider', 'staff'), async (req, res) => {
    const principal = principalOf(req);
    const { key } = RecordKey.parse(req.params);
    const rows = await recordVersions(db, scopeOf(principal), key);
    if (!rows.length) throw notFound(`记录 ${key}`);
    res.json({ versions: rows });
  });

  r.post('/records/:key/corrections', requireRole('provider'), json, async (req, res) => {
    const principal = principalOf(req);
    const { key } = RecordKey.parse(req.params);
    const body = CorrectionBody.parse(req.body);
    const outcome = await changeRecord(db, principal.providerId!, principal.id, actorLabel(principal), key, {
      baseVersion: body.base_version,
      reason: body.reason,
      changes: body.changes,
    });
    res.status(201).json(answer(outcome, key));
  });

  r.post('/records/:key/retraction', requireRole('provider'), json, async (req, res) => {
    const principal = principalOf(req);
    const { key } = RecordKey.parse(req.params);
    const body = RetractionBody.parse(req.body);
    const outcome = await changeRecord(db, principal.providerId!, principal.id, actorLabel(principal), key, {
      baseVersion: body.base_version,
      reason: body.reason,
      retract: true,
    });
    res.status(201).json(answer(outcome, key));
  });

  return r;
}
