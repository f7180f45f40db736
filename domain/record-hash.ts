import crypto from 'node:crypto';

/**
 * The content hash of a record version (E23, P26): what makes an edit of a stored record visible. Every version
 * carries `hash = sha256(hash of the version before || canonical content)` (the first version has no predecessor),
 * written by the platform when the version is stored and never again. The versions of one record form a chain; the
 * versions themselves are bound into the audit chain by the entry that stored them: a batch's `submission.accept`
 * commits to the digest of its records' hashes, a correction's or retraction's entry to the new version's hash, a
 * retention batch's entry to the hashes it erased (db/record-chain.ts verifies all of it).
 *
 * The canonical content is one line of JSON holding every stored field but the payload, then a newline, then the
 * payload as JSON with its object keys sorted (so the text a stored jsonb reads back as hashes the same as the
 * object first written). `is_current` is not content: it moves when a later version is stored.
 */
export interface RecordContent {
  record_key: string;
  version: number;
  status: string;
  submission_id: string | null;
  provider_id: number;
  item_code: string;
  subject_type: string;
  subject_id: string;
  payload: unknown;
  event_date: string;
  concluded_date: string | null;
  valid_until: string | null;
  lifted_date: string | null;
  change_reason: string | null;
  created_by: string;
}

/** JSON with object keys in sorted order at every depth; members whose value is undefined are left out, as JSON.stringify does. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  // A flat object (a record's payload, as a rule): JSON.stringify itself writes the members in the order given.
  let flat = true;
  for (const k of keys) {
    const x = o[k];
    if (x !== null && typeof x === 'object') {
      flat = false;
      break;
    }
  }
  if (flat) return JSON.stringify(o, keys);
  let out = '';
  for (const k of keys) {
    if (o[k] === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(o[k])}`;
  }
  return `{${out}}`;
}

/** The hash of a version, given its predecessor's hash ('' for the first version) and its payload already canonical. */
export function recordHashOf(prevHash: string, r: RecordContent, payloadJson: string = canonicalJson(r.payload)): string {
  const fields = JSON.stringify([
    r.record_key,
    r.version,
    r.status,
    r.submission_id,
    r.provider_id,
    r.item_code,
    r.subject_type,
    r.subject_id,
    r.event_date,
    r.concluded_date,
    r.valid_until,
    r.lifted_date,
    r.change_reason,
    r.created_by,
  ]);
  return crypto.hash('sha256', `${prevHash}\n${fields}\n${payloadJson}`, 'hex');
}

/**
 * The digest a batch commits to: sha256 over its records' hashes in the order they were stored, with their count.
 * Fed one hash at a time, so a batch of millions is never held.
 */
export class RecordDigest {
  private readonly h = crypto.createHash('sha256');
  count = 0;
  add(hash: string): void {
    this.h.update(hash, 'latin1');
    this.count++;
  }
  digest(): string {
    return this.h.digest('hex');
  }
}
