import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from './knex';
import { chainAudit } from './audit-chainer';
import { sealSettings } from '../domain/config';
import { canonicalJson } from '../domain/record-hash';

/**
 * The platform's seal, a key the database never holds (E23, P26). One Ed25519 key (SEAL_KEY_FILE, domain/config.ts):
 *
 * - **Each audit entry is sealed** when the platform writes it: `audit_log.mac` = HMAC-SHA256 over the entry's
 *   content under a key derived from the seal. Someone with database access alone cannot seal an entry: a plain
 *   INSERT into audit_log is chained by the database like any other entry, but carries no valid seal, and the
 *   verifier names it (db/audit.ts).
 * - **Checkpoints** (`signCheckpoint`): every CHECKPOINT_EVERY_MINUTES the worker signs the chain's head (sequence
 *   and hash) and the number of record versions stored, appends the signed line to CHECKPOINT_LOG (a file the
 *   database cannot rewrite) and keeps a copy in `audit_checkpoints` for `GET /public/checkpoint`, as Certificate
 *   Transparency logs publish signed tree heads. The verifier checks the chain against every signed checkpoint
 *   (`verifyCheckpoints`): a chain rewritten behind a checkpoint, or cut short of it, no longer matches.
 *
 * Anyone may check a published checkpoint's signature with the public key (`GET /public/checkpoint` gives it;
 * pin its `key_id`). The private key and the checkpoint log belong on storage the database's administrators cannot
 * write (README, security).
 */
export interface SealKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  /** The first 16 hex digits of the SHA-256 of the public key (SPKI, DER). */
  keyId: string;
  macKey: Buffer;
}

export function sealKeyOf(privatePem: string): SealKey {
  const privateKey = crypto.createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the seal key must be an Ed25519 private key (PEM)');
  const publicKey = crypto.createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: crypto.createHash('sha256').update(spki).digest('hex').slice(0, 16),
    macKey: crypto.createHmac('sha256', 'qz-audit-entry-seal').update(pkcs8).digest(),
  };
}

/** Reads the seal key, making a new one (readable by its owner alone) when the file does not exist. */
export function loadSealKey(file: string, say: (m: string) => void = () => {}): SealKey {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    // Written whole beside it, then linked into place: a process reading the key never sees half of one, and when two
    // make one at once, the first link wins and both use it.
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
      say(`新的平台印章密钥 / a new seal key was made: ${file} (keep a copy outside the database's reach)`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  return sealKeyOf(fs.readFileSync(file, 'utf8'));
}

let processKey: SealKey | undefined;

/** This process's seal (SEAL_KEY_FILE), read once. */
export function processSeal(): SealKey {
  processKey ??= loadSealKey(sealSettings().keyFile, (m) => console.log(`[seal] ${m}`));
  return processKey;
}

/**
 * Where this database's signed checkpoints are kept: CHECKPOINT_LOG, or a file named after the database it connects
 * to (never after anything the database holds, which whoever rewrites it could change).
 */
export function checkpointLogOf(db: Db): string {
  const s = sealSettings();
  if (s.checkpointLog) return s.checkpointLog;
  const c = db.client.config.connection as { connectionString?: string } | undefined;
  const u = new URL(c?.connectionString ?? 'postgres://localhost/postgres');
  const name = `${decodeURIComponent(u.pathname.slice(1)) || 'postgres'}@${u.hostname || 'localhost'}_${u.port || '5432'}`;
  return path.join(s.checkpointDir, `${name.replace(/[^A-Za-z0-9_.@-]/g, '_')}.jsonl`);
}

// ─── Sealed audit entries ────────────────────────────────────────────────────────────────────────────────────

export interface SealedContent {
  principal_id: string | null;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  detail: unknown;
}

/** The seal of an entry's content; the detail as stored (JSON), keys sorted. */
export function entrySeal(key: SealKey, e: SealedContent): string {
  const detail = canonicalJson(JSON.parse(JSON.stringify(e.detail ?? {})));
  return crypto
    .createHmac('sha256', key.macKey)
    .update(`${JSON.stringify([e.principal_id, e.actor, e.action, e.entity, e.entity_id])}\n${detail}`, 'utf8')
    .digest('hex');
}

// ─── Signed checkpoints ──────────────────────────────────────────────────────────────────────────────────────

export interface Checkpoint {
  v: 1;
  /** The chain head: its sequence number and hash. */
  seq: number;
  hash: string;
  /** Record versions stored at that head, erased ones included (they are remembered by hash). */
  records: number;
  signed_at: string;
  key_id: string;
  /** Ed25519 signature (base64) of the fields above. */
  sig: string;
}

const signedText = (c: Omit<Checkpoint, 'sig'>) => JSON.stringify([c.v, c.seq, c.hash, c.records, c.signed_at, c.key_id]);

export function checkpointSignatureOk(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return crypto.verify(null, Buffer.from(signedText(c), 'utf8'), publicKey, Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}

/**
 * Signs the chain's head as it stands and appends it to the checkpoint log, then to `audit_checkpoints`; answers the
 * checkpoint, or null when the head has not moved since the last one. Safe to repeat: a retry after the append
 * writes the same head again, which the verifier accepts.
 */
export async function signCheckpoint(db: Db, key: SealKey, logFile: string, now: Date): Promise<Checkpoint | null> {
  // The checkpoint signs the chain as far as it goes: what is committed is chained first.
  await chainAudit(db);
  const state = await db.transaction(
    async (trx) => {
      const head = (await trx('audit_chain_head').where('id', 1).first('seq', 'hash')) as { seq: number; hash: string };
      const last = (await trx('audit_checkpoints').orderBy('seq', 'desc').first('seq')) as { seq: number } | undefined;
      const { rows } = (await trx.raw(
        'SELECT (SELECT count(*) FROM records)::bigint + (SELECT count(*) FROM record_erasures)::bigint AS n',
      )) as { rows: { n: number }[] };
      return { head, last, records: Number(rows[0].n) };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  if (state.last && state.last.seq >= state.head.seq) return null;
  const body: Omit<Checkpoint, 'sig'> = {
    v: 1,
    seq: state.head.seq,
    hash: state.head.hash,
    records: state.records,
    signed_at: now.toISOString(),
    key_id: key.keyId,
  };
  const checkpoint: Checkpoint = {
    ...body,
    sig: crypto.sign(null, Buffer.from(signedText(body), 'utf8'), key.privateKey).toString('base64'),
  };
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a', 0o640);
  try {
    fs.writeSync(fd, `${JSON.stringify(checkpoint)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  await db('audit_checkpoints')
    .insert({
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      records: checkpoint.records,
      signed_at: checkpoint.signed_at,
      key_id: checkpoint.key_id,
      sig: checkpoint.sig,
    })
    .onConflict('seq')
    .ignore();
  return checkpoint;
}

/** The checkpoints of a log file, in order; a line that is not one is reported by number. */
export function readCheckpointLog(logFile: string): { checkpoints: { line: number; c: Checkpoint }[]; unreadable: number[] } {
  const out: { line: number; c: Checkpoint }[] = [];
  const unreadable: number[] = [];
  if (!fs.existsSync(logFile)) return { checkpoints: out, unreadable };
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    try {
      const c = JSON.parse(text) as Checkpoint;
      if (typeof c.seq !== 'number' || typeof c.hash !== 'string' || typeof c.sig !== 'string') throw new Error('not a checkpoint');
      out.push({ line: i + 1, c });
    } catch {
      unreadable.push(i + 1);
    }
  });
  return { checkpoints: out, unreadable };
}

export interface CheckpointReport {
  ok: boolean;
  /** Signed checkpoints checked. */
  checked: number;
  latest: Checkpoint | null;
  firstBroken: { line: number; seq: number | null; reason: string } | null;
}

/**
 * Checks the chain against every signed checkpoint of the log: each signature good under the seal's public key,
 * the checkpoints in order, the chain at least as long as the last one, and the entry at each checkpoint's sequence
 * still the entry that was signed (the same hash, so the same chain up to it).
 */
export async function verifyCheckpoints(db: Db, publicKey: KeyObject, logFile: string): Promise<CheckpointReport> {
  const { checkpoints, unreadable } = readCheckpointLog(logFile);
  let checked = 0;
  const broken = (line: number, seq: number | null, reason: string): CheckpointReport => ({
    ok: false,
    checked,
    latest: checkpoints.length ? checkpoints[checkpoints.length - 1].c : null,
    firstBroken: { line, seq, reason },
  });
  if (unreadable.length) return broken(unreadable[0], null, '检查点记录无法读取 / the checkpoint line is unreadable');
  const head = (await db('audit_chain_head').where('id', 1).first('seq')) as { seq: number } | undefined;
  let prevSeq = 0;
  for (let i = 0; i < checkpoints.length; i += 1000) {
    const slice = checkpoints.slice(i, i + 1000);
    const stored = new Map(
      (
        (await db('audit_log')
          .whereIn('seq', [...new Set(slice.map((s) => s.c.seq))])
          .select('seq', 'hash')) as { seq: number; hash: string }[]
      ).map((r) => [r.seq, r.hash]),
    );
    for (const { line, c } of slice) {
      if (!checkpointSignatureOk(c, publicKey))
        return broken(line, c.seq, "检查点签名无效（伪造或被改动）/ the checkpoint's signature is not good: forged or altered");
      if (c.seq < prevSeq) return broken(line, c.seq, '检查点顺序倒退 / the checkpoint goes back in the chain');
      if (!head || c.seq > head.seq)
        return broken(
          line,
          c.seq,
          `审计链短于已签名的检查点（链头 ${head?.seq ?? 0}）/ the chain is shorter than this signed checkpoint: entries were removed`,
        );
      const hash = stored.get(c.seq);
      if (hash === undefined) return broken(line, c.seq, '检查点所签的记录已不存在 / the entry the checkpoint signed is gone');
      if (hash !== c.hash) return broken(line, c.seq, '审计链在此检查点之前被改写 / the chain was rewritten behind this signed checkpoint');
      prevSeq = c.seq;
      checked++;
    }
  }
  return { ok: true, checked, latest: checkpoints.length ? checkpoints[checkpoints.length - 1].c : null, firstBroken: null };
}
