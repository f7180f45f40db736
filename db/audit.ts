import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { entrySeal, entrySealFault, processSeal, sealKeyring, type SealedContent, type SealKeyring } from './seal';
import { chainAudit } from './audit-chainer';
import { currentRequest } from '../ops/context';

/**
 * The audit log is a hash chain (E19, E23, P11, P26): every entry carries the hash of the one before it and
 * its own hash = sha256(prev_hash || canonical content), computed by the database when the entry is written
 * (migrations/20261127_0005_queries.ts). Verification recomputes every hash here, in the application, walking
 * the chain in order in batches; an edited, inserted or deleted entry breaks it, and the first broken entry is
 * named.
 */
/**
 * Who makes a change no principal asked for: the platform itself, named by the process that acted
 * (`system:obligations`, `system:calendar`, …). The one spelling of the system actor.
 */
export type SystemProcess =
  'setup' | 'obligations' | 'objection' | 'publication' | 'schedule' | 'calendar' | 'retention' | 'queries' | 'auth';
export const systemActor = (process: SystemProcess): string => `system:${process}`;

/** One entry of the audit log (E19, E23, P11, P26). */
export interface AuditEntry {
  /** The principal who acted; null or absent for the platform itself and for anonymous callers. */
  principalId?: string | null;
  /** A principal's label (`actorLabel`), `systemActor(…)` or `anonymous`. */
  actor: string;
  /** `entity.verb`, e.g. `objection.accept`. */
  action: string;
  entity: string;
  id?: string | number | null;
  /** The article the change is made under (e.g. `E18`, `P22`, `E7, P9`): every entry names one. */
  article: string;
  detail?: Record<string, unknown>;
}

/**
 * The row an entry is stored as; the article is kept in `detail.article`, the entry's seal (db/seal.ts: a MAC under
 * a key the database never holds) in `detail.seal`.
 */
export function auditRow(e: AuditEntry): {
  principal_id: string | null;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  detail: Record<string, unknown>;
} {
  const row = {
    principal_id: e.principalId ?? null,
    actor: e.actor,
    action: e.action,
    entity: e.entity,
    entity_id: e.id === undefined || e.id === null ? null : String(e.id),
    detail: { ...(e.detail ?? {}), article: e.article } as Record<string, unknown>,
  };
  // The request it was written in (ops/context.ts): the same id is in the request's log line and the workflow it started.
  const request = currentRequest();
  if (request && row.detail.request_id === undefined) row.detail.request_id = request.requestId;
  row.detail.seal = entrySeal(processSeal(), row);
  return row;
}

/**
 * Writes audit entries, in the caller's transaction where there is one (the entry commits or rolls back with the
 * change it records). The database chains each entry to the one before (see below).
 */
export async function recordAudit(trx: Knex, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await trx('audit_log').insert(list.map(auditRow));
}

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainBreak {
  /** The entry where the chain breaks (null when entries after the last one were removed). */
  id: number | null;
  seq: number;
  reason: string;
}

export interface ChainReport {
  ok: boolean;
  /** Entries checked. */
  checked: number;
  /** The chain head recorded when the verification began. */
  head: { seq: number; hash: string };
  firstBroken: ChainBreak | null;
  verifiedAt: string;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

export async function verifyAuditChain(
  db: Knex,
  opts: { batchSize?: number; onProgress?: (checked: number) => void; seal?: SealKeyring | null } = {},
): Promise<ChainReport> {
  const batchSize = opts.batchSize ?? 5000;
  const seal = opts.seal === undefined ? sealKeyring() : opts.seal;
  // From the first sealed entry on, every entry carries the platform's seal (the entries before it were written before
  // entries were sealed).
  let sealed = false;
  const verifiedAt = new Date().toISOString();
  // What was committed before the check began is chained first. A chainer that cannot go on (a row someone wrote in
  // the chain's next place) leaves the walk below to name it.
  await chainAudit(db).catch(() => undefined);
  const head = (await db('audit_chain_head').where('id', 1).first('seq', 'hash')) as { seq: number; hash: string } | undefined;
  if (!head) {
    return {
      ok: false,
      checked: 0,
      head: { seq: 0, hash: '' },
      firstBroken: { id: null, seq: 0, reason: '链头缺失 / the chain head is missing' },
      verifiedAt,
    };
  }
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const broken = (id: number | null, seq: number, reason: string): ChainReport => ({
    ok: false,
    checked,
    head,
    firstBroken: { id, seq, reason },
    verifiedAt,
  });

  for (;;) {
    const { rows } = (await db.raw(
      `SELECT a.id, a.seq, a.at, a.prev_hash, a.hash, audit_log_canonical(a) AS canonical,
              a.principal_id, a.actor, a.action, a.entity, a.entity_id, a.detail
         FROM audit_log a WHERE a.seq > ? AND a.seq <= ? ORDER BY a.seq LIMIT ?`,
      [prevSeq, head.seq, batchSize],
    )) as { rows: ({ id: number; seq: number; at: Date; prev_hash: string; hash: string; canonical: string } & SealedContent)[] };
    for (const r of rows) {
      if (r.seq !== prevSeq + 1)
        return broken(
          r.id,
          r.seq,
          `第 ${prevSeq + 1} 至 ${r.seq - 1} 条记录缺失（被删除）/ entries ${prevSeq + 1}–${r.seq - 1} are missing (deleted)`,
        );
      if (r.prev_hash !== prevHash)
        return broken(r.id, r.seq, '与前一条记录的哈希不符（前一条被改动或插入了记录）/ prev_hash does not match the entry before');
      if (sha256(r.prev_hash + r.canonical) !== r.hash)
        return broken(r.id, r.seq, '内容与其哈希不符（记录被篡改）/ the content does not match its hash: the entry was altered');
      if (seal) {
        const { seal: given, ...detail } = (r.detail ?? {}) as Record<string, unknown>;
        sealed ||= given !== undefined;
        const fault = sealed ? entrySealFault(seal, given, { ...r, detail }, r.at) : null;
        if (fault) return broken(r.id, r.seq, fault);
      }
      prevSeq = r.seq;
      prevHash = r.hash;
      checked++;
    }
    opts.onProgress?.(checked);
    if (rows.length < batchSize) break;
  }
  if (prevSeq !== head.seq)
    return broken(null, prevSeq + 1, `第 ${prevSeq + 1} 至 ${head.seq} 条记录缺失 / entries ${prevSeq + 1}–${head.seq} are missing`);
  if (prevHash !== head.hash) return broken(null, head.seq, '链头哈希与最后一条记录不符 / the chain head does not match the last entry');
  // A row past the head was not chained by the database (the chainer moves the head in the statement that chains, so
  // a row chained since the walk began has a head at or beyond it by the time the head is read again below). The
  // last row is the one looked at: a row written around the chain lies beyond every head.
  const beyond = (await db('audit_log').where('seq', '>', head.seq).orderBy('seq', 'desc').first('id', 'seq')) as
    { id: number; seq: number } | undefined;
  if (beyond) {
    const now = (await db('audit_chain_head').where('id', 1).first('seq')) as { seq: number } | undefined;
    if (!now || beyond.seq > now.seq)
      return broken(
        beyond.id,
        beyond.seq,
        '记录位于链头之后，未经链接（被直接写入）/ the entry lies beyond the chain head: it was written around the chain',
      );
  }
  // Every seal is the entry's own (db/seal.ts: a nonce in each): one carried twice is a genuine entry copied whole.
  if (seal) {
    const { rows: copies } = (await db.raw(
      `SELECT a.id, a.seq FROM audit_log a
         JOIN (SELECT detail->>'seal' AS s, min(seq) AS first FROM audit_log
                WHERE seq <= ? AND detail->>'seal' LIKE '%.%' GROUP BY 1 HAVING count(*) > 1) d
           ON a.detail->>'seal' = d.s AND a.seq > d.first
        ORDER BY a.seq LIMIT 1`,
      [head.seq],
    )) as { rows: { id: number; seq: number }[] };
    if (copies.length)
      return broken(
        copies[0].id,
        copies[0].seq,
        '记录是另一条记录的整体复制（重放）/ the entry is a copy of an earlier one, seal and all: a replayed entry',
      );
  }
  return { ok: true, checked, head, firstBroken: null, verifiedAt };
}
