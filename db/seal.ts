import { logger } from '../ops/log';
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
 * - **Each audit entry is sealed** when the platform writes it: `detail.seal` names the key and carries a nonce and
 *   the HMAC-SHA256 of both with the entry's content under a key derived from the seal (`entrySeal`). Someone with database access alone cannot seal an entry: a plain
 *   INSERT into audit_log is chained by the database like any other entry, but carries no valid seal, and the
 *   verifier names it (db/audit.ts).
 * - **Checkpoints** (`signCheckpoint`): every CHECKPOINT_EVERY_MINUTES the worker signs the chain's head (sequence
 *   and hash) and the number of record versions stored, appends the signed line to CHECKPOINT_LOG (a file the
 *   database cannot rewrite) and keeps a copy in `audit_checkpoints` for `GET /public/checkpoint`, as Certificate
 *   Transparency logs publish signed tree heads. The verifier checks the chain against every signed checkpoint
 *   (`verifyCheckpoints`): a chain rewritten behind a checkpoint, or cut short of it, no longer matches.
 *
 * A key is rotated with `npm run seal:key -- --rotate` (`rotateSealKey`): the old one is kept in SEAL_RETIRED_DIR and
 * still checks what it sealed and signed before, never what is dated after its retirement and a grace.
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
  processKey ??= loadSealKey(sealSettings().keyFile, (m) => logger('seal').info(m));
  return processKey;
}

/**
 * Every seal key the verifier knows: the current one and those a rotation retired (SEAL_RETIRED_DIR, one file each,
 * `seal-<key id>-retired-<UTC time>.pem`), with the moment each was retired.
 */
export interface SealKeyring {
  current: SealKey;
  byId: Map<string, { key: SealKey; retiredAt: Date | null }>;
  /** How long after its retirement a key's seal is still accepted. */
  graceMs: number;
}

const RETIRED = /^seal-([0-9a-f]{16})-retired-(\d{8}T\d{6}Z)\.pem$/;
const compactUtc = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
const fromCompactUtc = (s: string) =>
  new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`);

export function sealKeyring(current: SealKey = processSeal(), retiredDir = sealSettings().retiredDir): SealKeyring {
  const byId: SealKeyring['byId'] = new Map([[current.keyId, { key: current, retiredAt: null }]]);
  const files = fs.existsSync(retiredDir) ? fs.readdirSync(retiredDir).sort() : [];
  for (const f of files) {
    const m = RETIRED.exec(f);
    if (!m || byId.has(m[1])) continue;
    const key = sealKeyOf(fs.readFileSync(path.join(retiredDir, f), 'utf8'));
    if (key.keyId !== m[1]) throw new Error(`the retired seal key ${f} is not the key its name says (${key.keyId})`);
    byId.set(key.keyId, { key, retiredAt: fromCompactUtc(m[2]) });
  }
  return { current, byId, graceMs: sealSettings().rotationGraceMinutes * 60_000 };
}

/**
 * Retires the current key (moved into `retiredDir`, named with its key id and the moment) and makes a new one in its
 * place; answers both. The processes take the new key when they restart; what the old one sealed stays verifiable.
 */
export function rotateSealKey(keyFile: string, retiredDir: string, now: Date): { retired: SealKey; current: SealKey; retiredFile: string } {
  const retired = sealKeyOf(fs.readFileSync(keyFile, 'utf8'));
  fs.mkdirSync(retiredDir, { recursive: true, mode: 0o700 });
  const retiredFile = path.join(retiredDir, `seal-${retired.keyId}-retired-${compactUtc(now)}.pem`);
  // Linked first, then unlinked: at no moment is the key in neither place.
  fs.linkSync(keyFile, retiredFile);
  fs.unlinkSync(keyFile);
  return { retired, current: loadSealKey(keyFile), retiredFile };
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

const sealedText = (e: SealedContent) =>
  `${JSON.stringify([e.principal_id, e.actor, e.action, e.entity, e.entity_id])}\n${canonicalJson(JSON.parse(JSON.stringify(e.detail ?? {})))}`;

/**
 * The seal of an entry: `<key id>.<nonce>.<HMAC-SHA256 of the nonce and the content>`, the detail as stored (JSON),
 * keys sorted. The nonce (random, 12 bytes) makes every entry's seal its own, so an entry copied whole is told from
 * the one it copies: two entries never carry the same seal.
 */
export function entrySeal(key: SealKey, e: SealedContent, nonce: string = crypto.randomBytes(12).toString('hex')): string {
  const mac = crypto
    .createHmac('sha256', key.macKey)
    .update(`${nonce}\n${sealedText(e)}`, 'utf8')
    .digest('hex');
  return `${key.keyId}.${nonce}.${mac}`;
}

/** The seal entries carried before seals named their key and a nonce (a bare HMAC of the content). */
const bareSeal = (key: SealKey, e: SealedContent) => crypto.createHmac('sha256', key.macKey).update(sealedText(e), 'utf8').digest('hex');

/**
 * Checks the seal `given` of an entry written at `at`: null when good, else why not (in Chinese and English). A key
 * a rotation retired still vouches for what it sealed before its retirement (and the grace to restart the processes).
 */
export function entrySealFault(ring: SealKeyring, given: unknown, e: SealedContent, at: Date): string | null {
  const forged =
    '记录没有平台印章（未经平台写入，为伪造）/ the entry carries no valid seal of the platform: it was not written by the platform (forged)';
  if (typeof given !== 'string') return forged;
  const parts = given.split('.');
  if (parts.length === 1) {
    for (const { key } of ring.byId.values()) if (given === bareSeal(key, e)) return null;
    return forged;
  }
  if (parts.length !== 3) return forged;
  const known = ring.byId.get(parts[0]);
  if (!known || given !== entrySeal(known.key, e, parts[1])) return forged;
  if (known.retiredAt && at.getTime() > known.retiredAt.getTime() + ring.graceMs)
    return `记录以 ${known.retiredAt.toISOString()} 已停用的印章密钥 ${parts[0]} 盖章，晚于停用（被盗用的旧密钥）/ sealed with key ${parts[0]}, retired at ${known.retiredAt.toISOString()}, after its retirement: a retired key in use`;
  return null;
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
export async function verifyCheckpoints(db: Db, keys: KeyObject | SealKeyring, logFile: string): Promise<CheckpointReport> {
  // A checkpoint names the key that signed it: one of the ring's (a single public key checks every checkpoint).
  const publicKeyOf = (c: Checkpoint) => ('byId' in keys ? keys.byId.get(c.key_id)?.key.publicKey : keys);
  const retiredBefore = (c: Checkpoint) => {
    const known = 'byId' in keys ? keys.byId.get(c.key_id) : undefined;
    return known?.retiredAt && Date.parse(c.signed_at) > known.retiredAt.getTime() + (keys as SealKeyring).graceMs ? known.retiredAt : null;
  };
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
      const publicKey = publicKeyOf(c);
      if (!publicKey)
        return broken(
          line,
          c.seq,
          `检查点由平台不认识的密钥 ${c.key_id} 签名 / the checkpoint is signed by key ${c.key_id}, which the platform does not know`,
        );
      if (!checkpointSignatureOk(c, publicKey))
        return broken(line, c.seq, "检查点签名无效（伪造或被改动）/ the checkpoint's signature is not good: forged or altered");
      const retired = retiredBefore(c);
      if (retired)
        return broken(
          line,
          c.seq,
          `检查点由 ${retired.toISOString()} 已停用的密钥签名 / the checkpoint is signed by a key retired at ${retired.toISOString()}, after its retirement`,
        );
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
