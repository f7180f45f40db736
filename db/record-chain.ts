import type { Db } from './knex';
import { recordHashOf, RecordDigest, type RecordContent } from '../domain/record-hash';

/**
 * Verifies the stored records against their hashes and against what the audit chain committed to (E23, P26;
 * domain/record-hash.ts, migration 0022). Run after the audit chain itself is verified (db/audit.ts): the
 * commitments are read from its entries.
 *
 * 1. Each record, its versions in order: every version present from 1 on (an erased one remembered in
 *    record_erasures), each live version's content matching its hash, each hash chained to the version before, one
 *    current version and that the latest; the first version stored by an accepted batch, every later version by the
 *    audit entry of the correction or retraction that stored it, with that very hash. An SQL edit of a record, a
 *    deleted version, a forged version or a forged record is named here.
 * 2. Each accepted batch: its records (live and erased, in the order stored) have the count and digest its
 *    `submission.accept` entry committed to. An edit that also rewrote the hash, or a record removed or added with
 *    its own hash, is named here, by batch.
 * 3. Each retention batch: what record_erasures holds of it is what its `records.erase` entry committed to.
 * 4. The records stored before hashes existed: the count and digest of the `records.commit` entry of migration 0022.
 */

export interface RecordBreak {
  record_key: string | null;
  version: number | null;
  /** The row's id, when one row is to blame. */
  id: number | null;
  /** The batch, when the break is a batch's (step 2) or an erasure's (step 3). */
  batch: string | null;
  reason: string;
}

export interface RecordReport {
  ok: boolean;
  /** Record versions checked, live and erased. */
  checked: number;
  erased: number;
  firstBroken: RecordBreak | null;
}

interface Commitments {
  submissions: Map<string, { count: number; digest: string }>;
  versions: Map<string, string>;
  erasures: Map<string, { count: number; digest: string }>;
  baseline: { throughId: number; count: number; digest: string } | null;
}

const versionKey = (key: string, version: number) => `${key}/${version}`;

async function commitments(db: Db): Promise<Commitments> {
  const c: Commitments = { submissions: new Map(), versions: new Map(), erasures: new Map(), baseline: null };
  let after = 0;
  for (;;) {
    const rows = (await db('audit_log')
      .whereIn('action', ['submission.accept', 'record.correct', 'record.retract', 'records.erase', 'records.commit'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(10_000)
      .select('id', 'action', 'entity_id', 'detail')) as {
      id: number;
      action: string;
      entity_id: string;
      detail: Record<string, unknown>;
    }[];
    for (const r of rows) {
      const d = r.detail;
      if (r.action === 'submission.accept') {
        const rec = d.records as { count: number; digest: string } | undefined;
        if (rec) c.submissions.set(r.entity_id, { count: rec.count, digest: rec.digest });
      } else if (r.action === 'records.erase') {
        c.erasures.set(r.entity_id, { count: Number(d.count), digest: String(d.digest) });
      } else if (r.action === 'records.commit') {
        c.baseline = { throughId: Number(d.through_id), count: Number(d.count), digest: String(d.digest) };
      } else if (typeof d.record_hash === 'string') {
        c.versions.set(versionKey(r.entity_id, Number(d.to_version)), d.record_hash);
      }
    }
    if (rows.length < 10_000) break;
    after = rows[rows.length - 1].id;
  }
  return c;
}

type Row = RecordContent & { id: number; is_current: boolean; hash: string | null; erased: boolean };

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export async function verifyRecords(
  db: Db,
  opts: { batchSize?: number; onProgress?: (checked: number) => void } = {},
): Promise<RecordReport> {
  const batchSize = opts.batchSize ?? 5000;
  const c = await commitments(db);
  let checked = 0;
  let erased = 0;
  const broken = (b: Partial<RecordBreak> & { reason: string }): RecordReport => ({
    ok: false,
    checked,
    erased,
    firstBroken: { record_key: null, version: null, id: null, batch: null, ...b },
  });
  const inBaseline = (id: number) => c.baseline !== null && id <= c.baseline.throughId;

  // ── 1. Each record's versions, live and erased, in order ──
  let after = { key: NIL_UUID, version: 0, erased: true };
  let key = '';
  let expect = 1;
  let prevHash = '';
  let live = { count: 0, current: 0, currentVersion: 0, last: 0 };
  const endOfKey = (): RecordReport | null => {
    if (!key || live.count === 0) return null;
    if (live.current !== 1 || live.currentVersion !== expect - 1)
      return broken({
        record_key: key,
        version: live.currentVersion || null,
        reason:
          live.current === 0
            ? '该记录没有当前版本 / the record has no current version'
            : live.current > 1
              ? '该记录有多个当前版本 / the record has more than one current version'
              : `当前版本不是最新版本 ${expect - 1} / the current version is not the latest (${expect - 1})`,
      });
    if (live.last !== expect - 1)
      return broken({
        record_key: key,
        version: expect - 1,
        reason: '最新版本已删除而旧版本仍在 / the latest version is gone while older ones remain',
      });
    return null;
  };
  for (;;) {
    const { rows } = (await db.raw(
      `SELECT * FROM (
         (SELECT r.id, r.record_key, r.version, r.is_current, r.status, r.submission_id, r.provider_id, r.item_code,
                 r.subject_type, r.subject_id, r.payload, r.event_date, r.concluded_date, r.valid_until, r.lifted_date,
                 r.change_reason, r.created_by, r.hash, false AS erased
            FROM records r WHERE (r.record_key, r.version) > (?::uuid, ?)
           ORDER BY r.record_key, r.version LIMIT ?)
         UNION ALL
         (SELECT e.record_id, e.record_key, e.version, false, NULL, e.submission_id, NULL, NULL, NULL, NULL, NULL,
                 NULL, NULL, NULL, NULL, NULL, NULL, e.hash, true
            FROM record_erasures e WHERE (e.record_key, e.version) ${after.erased ? '>' : '>='} (?::uuid, ?)
           ORDER BY e.record_key, e.version LIMIT ?)
       ) u ORDER BY record_key, version, erased LIMIT ?`,
      [after.key, after.version, batchSize, after.key, after.version, batchSize, batchSize],
    )) as { rows: Row[] };
    for (const r of rows) {
      if (r.record_key !== key) {
        const end = endOfKey();
        if (end) return end;
        key = r.record_key;
        expect = 1;
        prevHash = '';
        live = { count: 0, current: 0, currentVersion: 0, last: 0 };
      }
      const at = { record_key: r.record_key, version: r.version, id: r.id };
      if (r.version === expect - 1)
        return broken({ ...at, reason: '该版本既记为已依法删除又仍然存在 / the version is both erased and present' });
      if (r.version !== expect)
        return broken({
          ...at,
          reason: `第 ${expect} 至 ${r.version - 1} 版缺失（被删除）/ versions ${expect}–${r.version - 1} are missing (deleted)`,
        });
      const hash = r.hash ?? '';
      if (r.erased) erased++;
      else {
        if (!r.hash)
          return broken({
            ...at,
            reason: '记录没有内容哈希：未经平台写入 / the record has no content hash: it was written around the platform',
          });
        if (recordHashOf(prevHash, r) !== r.hash)
          return broken({
            ...at,
            reason: '记录内容与其哈希不符（记录被篡改）/ the content does not match its hash: the record was altered',
          });
        live.count++;
        live.last = r.version;
        if (r.is_current) {
          live.current++;
          live.currentVersion = r.version;
        }
      }
      if (!inBaseline(r.id)) {
        if (r.version === 1) {
          if (!r.submission_id || !c.submissions.has(r.submission_id))
            return broken({
              ...at,
              batch: r.submission_id,
              reason: '没有受理的批次包含此记录（记录为伪造）/ no accepted batch holds this record: it was forged',
            });
        } else {
          const committed = c.versions.get(versionKey(r.record_key, r.version));
          if (!committed)
            return broken({ ...at, reason: '没有审计记录写入此版本（版本为伪造）/ no audit entry stored this version: it was forged' });
          if (committed !== hash)
            return broken({
              ...at,
              reason: '此版本与审计记录所载哈希不符（被改写）/ the version differs from the one its audit entry stored',
            });
        }
      }
      prevHash = hash;
      expect++;
      checked++;
    }
    opts.onProgress?.(checked);
    if (rows.length < batchSize) break;
    const last = rows[rows.length - 1];
    after = { key: last.record_key, version: last.version, erased: last.erased };
  }
  const end = endOfKey();
  if (end) return end;

  // ── 2. Each accepted batch's records, live and erased, in the order stored ──
  const seen = new Set<string>();
  let batch = null as { id: string; digest: RecordDigest } | null;
  const endOfBatch = (): RecordReport | null => {
    if (!batch) return null;
    seen.add(batch.id);
    const committed = c.submissions.get(batch.id);
    if (!committed) return null; // its records were named in step 1 (or were stored before hashes existed)
    const { count } = batch.digest;
    if (count !== committed.count)
      return broken({
        batch: batch.id,
        reason: `批次受理 ${committed.count} 条记录，现存（含依法删除）${count} 条 / the batch was accepted with ${committed.count} records; ${count} are there (erased included)`,
      });
    if (batch.digest.digest() !== committed.digest)
      return broken({
        batch: batch.id,
        reason:
          "批次记录与受理时不符（内容连同哈希被改写）/ the batch's records differ from those accepted: content and hash were both rewritten",
      });
    return null;
  };
  let afterSub = { id: NIL_UUID, row: 0 };
  for (;;) {
    const { rows } = (await db.raw(
      `SELECT * FROM (
         (SELECT submission_id, id, hash FROM records WHERE submission_id IS NOT NULL AND version = 1 AND (submission_id, id) > (?::uuid, ?)
           ORDER BY submission_id, id LIMIT ?)
         UNION ALL
         (SELECT submission_id, record_id, hash FROM record_erasures WHERE submission_id IS NOT NULL AND version = 1 AND (submission_id, record_id) > (?::uuid, ?)
           ORDER BY submission_id, record_id LIMIT ?)
       ) u ORDER BY submission_id, id LIMIT ?`,
      [afterSub.id, afterSub.row, batchSize, afterSub.id, afterSub.row, batchSize, batchSize],
    )) as { rows: { submission_id: string; id: number; hash: string | null }[] };
    for (const r of rows) {
      if (inBaseline(r.id)) continue;
      if (batch?.id !== r.submission_id) {
        const end = endOfBatch();
        if (end) return end;
        batch = { id: r.submission_id, digest: new RecordDigest() };
      }
      batch.digest.add(r.hash ?? '');
    }
    if (rows.length < batchSize) break;
    const last = rows[rows.length - 1];
    afterSub = { id: last.submission_id, row: last.id };
  }
  const endSub = endOfBatch();
  if (endSub) return endSub;
  for (const [id, committed] of c.submissions)
    if (committed.count > 0 && !seen.has(id))
      return broken({
        batch: id,
        reason: `批次受理 ${committed.count} 条记录，现已全部不见 / the batch was accepted with ${committed.count} records; none is there`,
      });

  // ── 3. Each retention batch ──
  const erasureBatches = (await db('record_erasures').groupBy('batch_id').select('batch_id')) as { batch_id: string }[];
  for (const { batch_id } of erasureBatches) {
    const committed = c.erasures.get(batch_id);
    const digest = new RecordDigest();
    let afterId = 0;
    for (;;) {
      const rows = (await db('record_erasures')
        .where('batch_id', batch_id)
        .where('record_id', '>', afterId)
        .orderBy('record_id')
        .limit(batchSize)
        .select('record_id', 'hash')) as { record_id: number; hash: string | null }[];
      for (const r of rows) digest.add(r.hash ?? '');
      if (rows.length < batchSize) break;
      afterId = rows[rows.length - 1].record_id;
    }
    if (!committed || committed.count !== digest.count || committed.digest !== digest.digest())
      return broken({
        batch: batch_id,
        reason: committed
          ? '依法删除记录与审计记录所载不符 / the erased records differ from what the retention audit entry recorded'
          : '没有审计记录的删除（记录被删除后伪称依法删除）/ an erasure no audit entry recorded: records deleted and passed off as erased',
      });
  }
  const erasedBatches = new Set(erasureBatches.map((b) => b.batch_id));
  for (const [id, committed] of c.erasures)
    if (committed.count > 0 && !erasedBatches.has(id))
      return broken({ batch: id, reason: "依法删除的记录留存缺失 / the erased records' hashes are gone" });

  // ── 4. The records stored before hashes existed ──
  if (c.baseline) {
    const digest = new RecordDigest();
    let afterId = 0;
    for (;;) {
      const { rows } = (await db.raw(
        `SELECT * FROM (
           (SELECT id, hash FROM records WHERE id > ? AND id <= ? ORDER BY id LIMIT ?)
           UNION ALL
           (SELECT record_id, hash FROM record_erasures WHERE record_id > ? AND record_id <= ? ORDER BY record_id LIMIT ?)
         ) u ORDER BY id LIMIT ?`,
        [afterId, c.baseline.throughId, batchSize, afterId, c.baseline.throughId, batchSize, batchSize],
      )) as { rows: { id: number; hash: string | null }[] };
      for (const r of rows) digest.add(r.hash ?? '');
      if (rows.length < batchSize) break;
      afterId = rows[rows.length - 1].id;
    }
    if (digest.count !== c.baseline.count || digest.digest() !== c.baseline.digest)
      return broken({
        reason: `启用哈希前存储的记录与当时所载不符（当时 ${c.baseline.count} 条，现 ${digest.count} 条）/ the records stored before hashes existed differ from those committed then (${c.baseline.count} then, ${digest.count} now)`,
      });
  }
  return { ok: true, checked, erased, firstBroken: null };
}
