import { Router, type RequestHandler } from 'express';
import { z } from '../../domain/z';
import { recordAudit, verifyAuditChain } from '../../db/audit';
import { verifyRecords } from '../../db/record-chain';
import type { RouterDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { document, errorAnswer } from '../openapi';
import { notFound } from '../errors';
import { checkpointLogOf, processSeal, sealKeyring, verifyCheckpoints } from '../../db/seal';
import { adminTags, json, type Endpoint } from './query-common';

/** The audit log's hash chain and the records it commits to, verified on demand (E23, P26); the verification is itself audited. */

// ─── GET /admin/audit/verify ─────────────────────────────────────────────────────────────────────────────────

const Verification = z.object({
  ok: z.boolean(),
  checked: z.number(),
  head: z.object({ seq: z.number(), hash: z.string() }),
  first_broken: z.object({ id: z.number().nullable(), seq: z.number(), reason: z.string() }).nullable(),
  records: z
    .object({
      ok: z.boolean(),
      checked: z.number(),
      erased: z.number(),
      first_broken: z
        .object({
          record_key: z.string().nullable(),
          version: z.number().nullable(),
          id: z.number().nullable(),
          batch: z.string().nullable(),
          reason: z.string(),
        })
        .nullable(),
    })
    .openapi({
      description: "信用记录与其哈希、与审计链所载是否相符 / the records against their hashes and the audit chain's commitments",
    }),
  checkpoints: z
    .object({
      ok: z.boolean(),
      checked: z.number(),
      latest: z.object({ seq: z.number(), signed_at: z.string() }).nullable(),
      first_broken: z.object({ line: z.number(), seq: z.number().nullable(), reason: z.string() }).nullable(),
    })
    .openapi({ description: '审计链与数据库之外签名检查点是否相符 / the chain against the signed checkpoints kept outside the database' }),
  verified_at: z.string(),
});
document({
  method: 'get',
  path: '/admin/audit/verify',
  operationId: 'verifyAuditChain',
  tags: adminTags,
  summary: '校验审计日志哈希链及信用记录（E23、P26）/ verify the audit log hash chain and the records (admin, supervisor)',
  secured: true,
  responses: { 200: { description: 'ok, or the first broken entry', ...json(Verification) } },
});
const verify: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const p = principalOf(req);
    const report = await verifyAuditChain(db);
    const records = await verifyRecords(db);
    const checkpoints = await verifyCheckpoints(db, sealKeyring(), checkpointLogOf(db));
    const ok = report.ok && records.ok && checkpoints.ok;
    const cp = {
      ok: checkpoints.ok,
      checked: checkpoints.checked,
      latest: checkpoints.latest && { seq: checkpoints.latest.seq, signed_at: checkpoints.latest.signed_at },
      first_broken: checkpoints.firstBroken,
    };
    await recordAudit(db, {
      principalId: p.id,
      actor: actorLabel(p),
      action: 'audit.verify',
      entity: 'audit_log',
      id: String(report.head.seq),
      article: 'E23, P26',
      detail: {
        ok,
        checked: report.checked,
        first_broken: report.firstBroken,
        records: { ok: records.ok, checked: records.checked, first_broken: records.firstBroken },
        checkpoints: cp,
      },
    });
    res.json({
      ok,
      checked: report.checked,
      head: report.head,
      first_broken: report.firstBroken,
      records: { ok: records.ok, checked: records.checked, erased: records.erased, first_broken: records.firstBroken },
      checkpoints: cp,
      verified_at: report.verifiedAt,
    });
  },
];

// ─── GET /public/checkpoint ───────────────────────────────────────────────────────────────────────────────────

const PublicCheckpoint = z.object({
  seq: z.number().openapi({ description: "链头序号 / the chain head's sequence number" }),
  hash: z.string().openapi({ description: "链头哈希 / the chain head's hash" }),
  records: z.number().openapi({ description: '当时存储的记录版本数（含依法删除）/ record versions stored then, erased included' }),
  signed_at: z.string(),
  key_id: z.string(),
  sig: z.string().openapi({
    description: 'Ed25519 签名（base64），签名内容为 JSON 数组 [1, seq, hash, records, signed_at, key_id] / the signature of that array',
  }),
  public_key: z.string().openapi({ description: "平台印章公钥（PEM）/ the seal's public key (PEM, SPKI)" }),
});
document({
  method: 'get',
  path: '/public/checkpoint',
  operationId: 'getPublicCheckpoint',
  tags: ['公开 Public'],
  publicLimit: true,
  outage: true,
  summary: '审计链最新的签名检查点（E23、P26）/ the latest signed checkpoint of the audit chain',
  responses: {
    200: { description: 'the checkpoint', ...json(PublicCheckpoint) },
    404: errorAnswer('尚未签署检查点 / none signed yet', notFound('检查点 / checkpoint')),
  },
});
const publicCheckpoint = ({ db, publicLimit }: RouterDeps): RequestHandler[] => [
  publicLimit,
  async (_req, res) => {
    const c = await db('audit_checkpoints').orderBy('seq', 'desc').first('seq', 'hash', 'records', 'signed_at', 'key_id', 'sig');
    if (!c) throw notFound('检查点 / checkpoint');
    // The key that signed it: the current one, or one a rotation retired since.
    const signer = sealKeyring().byId.get(c.key_id)?.key ?? processSeal();
    // As signed, byte for byte: its signed_at stays the UTC text the signature covers (not shown in Beijing time).
    res
      .set('Cache-Control', 'public, max-age=60')
      .type('application/json')
      .send(JSON.stringify({ ...c, public_key: signer.publicPem }));
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function auditRouter(deps: RouterDeps): Router {
  const r = Router();
  r.get('/admin/audit/verify', ...verify(deps));
  r.get('/public/checkpoint', ...publicCheckpoint(deps));
  return r;
}
