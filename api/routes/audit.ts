import { Router } from 'express';
import { z } from '../../domain/z';
import { recordAudit, verifyAuditChain } from '../../db/audit';
import type { AppDeps } from '../app';
import { actorLabel, principalOf, requireRole } from '../auth';
import { document } from '../openapi';
import { adminTags, json, type Endpoint } from './query-common';

/** The audit log's hash chain, verified on demand (E23, P26); the verification is itself audited. */

// ─── GET /admin/audit/verify ─────────────────────────────────────────────────────────────────────────────────

const Verification = z.object({
  ok: z.boolean(),
  checked: z.number(),
  head: z.object({ seq: z.number(), hash: z.string() }),
  first_broken: z.object({ id: z.number().nullable(), seq: z.number(), reason: z.string() }).nullable(),
  verified_at: z.string(),
});
document({
  method: 'get',
  path: '/admin/audit/verify',
  tags: adminTags,
  summary: '校验审计日志哈希链（E23、P26）/ verify the audit log hash chain (admin, supervisor)',
  secured: true,
  responses: { 200: { description: 'ok, or the first broken entry', ...json(Verification) } },
});
const verify: Endpoint = ({ db }) => [
  requireRole('admin', 'supervisor'),
  async (req, res) => {
    const p = principalOf(req);
    const report = await verifyAuditChain(db);
    await recordAudit(db, {
      principalId: p.id,
      actor: actorLabel(p),
      action: 'audit.verify',
      entity: 'audit_log',
      id: String(report.head.seq),
      article: 'E23, P26',
      detail: { ok: report.ok, checked: report.checked, first_broken: report.firstBroken },
    });
    res.json({
      ok: report.ok,
      checked: report.checked,
      head: report.head,
      first_broken: report.firstBroken,
      verified_at: report.verifiedAt,
    });
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function auditRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/admin/audit/verify', ...verify(deps));
  return r;
}
