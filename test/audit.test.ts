import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { freshDatabase, type TestDb } from './support/db';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { auditRow, GENESIS_HASH, recordAudit, verifyAuditChain } from '../db/audit';
import { chainAudit } from '../db/audit-chainer';
import {
  checkpointLogOf,
  entrySeal,
  processSeal,
  sealKeyOf,
  sealKeyring,
  signCheckpoint,
  verifyCheckpoints,
  type SealKey,
  type SealKeyring,
} from '../db/seal';
import { createPrincipal } from '../db/principals';
import type { Db } from '../db/knex';

const run = promisify(execFile);

/** What an attacker with database access does: switch the append-only trigger off, change a row, switch it on. */
async function tamper(db: Db, sql: string | string[], bindings: unknown[] = []): Promise<void> {
  await db.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
  try {
    for (const statement of Array.isArray(sql) ? sql : [sql]) await db.raw(statement, bindings as never);
  } finally {
    await db.raw('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
  }
}

async function addEntries(db: Db, n: number, label = 'e'): Promise<void> {
  for (let i = 0; i < n; i++)
    await recordAudit(db, {
      actor: 'test',
      action: 'test.entry',
      entity: 'test',
      id: `${label}-${i}`,
      article: 'E23',
      detail: { i, note: '测试 / test', amount: 1.5 },
    });
  // What every API and worker process does each second.
  await chainAudit(db);
}

describe('the audit log is a hash chain (E23, P26)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await freshDatabase();
  });
  afterAll(async () => {
    await t?.close();
  });

  test('every entry carries the hash of the one before; the entries written before the chain existed are chained too', async () => {
    await addEntries(t.db, 5);
    const rows = await t.db('audit_log').orderBy('seq').select('id', 'seq', 'prev_hash', 'hash');
    expect(rows.length).toBeGreaterThanOrEqual(6); // the seed entry and these
    expect(rows[0]).toMatchObject({ seq: 1, prev_hash: GENESIS_HASH });
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i].seq).toBe(rows[i - 1].seq + 1);
      expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
      expect(rows[i].hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const head = await t.db('audit_chain_head').first();
    expect(head).toMatchObject({ seq: rows[rows.length - 1].seq, hash: rows[rows.length - 1].hash });
    const report = await verifyAuditChain(t.db, { batchSize: 2 });
    expect(report).toMatchObject({ ok: true, checked: rows.length, firstBroken: null });
  });

  test('concurrent writers line up: the chain stays whole', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.db.transaction(async (trx) => {
          await recordAudit(trx, { actor: 'test', action: 'test.concurrent', entity: 'test', id: i, article: 'E23' });
          await recordAudit(trx, { actor: 'test', action: 'test.concurrent.2', entity: 'test', id: i, article: 'E23' });
        }),
      ),
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => createPrincipal(t.db, { name: `并发账号${i}`, role: 'staff' }, null, 'test')));
    const report = await verifyAuditChain(t.db, { batchSize: 7 });
    expect(report.ok).toBe(true);
    const [{ n, max }] = await t.db('audit_log').select(t.db.raw('count(*)::int as n, max(seq)::int as max'));
    expect(report.checked).toBe(n);
    expect(max).toBe(n);
  });

  test('the log refuses UPDATE, DELETE and TRUNCATE through any path', async () => {
    const one = await t.db('audit_log').whereNotNull('seq').first('id');
    await expect(t.db('audit_log').where('id', one.id).update({ actor: 'x' })).rejects.toThrow(/append-only/);
    await expect(t.db('audit_log').where('id', one.id).update({ seq: 999_999 })).rejects.toThrow(/append-only/);
    await expect(t.db('audit_log').where('id', one.id).delete()).rejects.toThrow(/append-only/);
    await expect(t.db.raw('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    await expect(t.db('audit_chain_head').delete()).rejects.toThrow(/append-only/);
    // Not yet chained, an entry is no more changeable: only the chainer's one move, content untouched, is allowed.
    await recordAudit(t.db, { actor: 'test', action: 'test.unchained', entity: 'test', id: 'u-1', article: 'E23' });
    const fresh = await t.db('audit_log').where('entity_id', 'u-1').first('id', 'seq');
    expect(fresh.seq).toBeNull();
    await expect(
      t.db('audit_log').where('id', fresh.id).update({ actor: 'x', seq: 999_999, prev_hash: GENESIS_HASH, hash: GENESIS_HASH }),
    ).rejects.toThrow(/append-only/);
    await expect(t.db('audit_log').where('id', fresh.id).delete()).rejects.toThrow(/append-only/);
    expect(await chainAudit(t.db)).toBe(1);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  test('a writer neither chains nor waits: a stalled transaction holding an entry stalls no other audited write, and is chained after it commits', async () => {
    await chainAudit(t.db);
    const stalled = await t.db.transaction();
    try {
      // A writer cannot place its entry in the chain itself either: what it gives is cleared.
      await stalled('audit_log').insert({
        ...auditRow({ actor: 'test', action: 'test.stalled', entity: 'test', id: 'stalled', article: 'E23' }),
        seq: 1,
        prev_hash: GENESIS_HASH,
        hash: 'f'.repeat(64),
      });
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          recordAudit(t.db, { actor: 'test', action: 'test.meanwhile', entity: 'test', id: `m-${i}`, article: 'E23' }),
        ),
      );
      expect(await chainAudit(t.db)).toBe(5);
      expect(Date.now() - t0).toBeLessThan(2_000);
      const report = await verifyAuditChain(t.db);
      expect(report.ok).toBe(true);
      await stalled.commit();
    } catch (e) {
      await stalled.rollback();
      throw e;
    }
    const before = await t.db('audit_chain_head').first('seq');
    expect(await chainAudit(t.db)).toBe(1);
    const late = await t.db('audit_log').where('entity_id', 'stalled').first('seq', 'prev_hash');
    expect(late.seq).toBe(before.seq + 1);
    expect(late.prev_hash).not.toBe(GENESIS_HASH);
    const meanwhile = await t.db('audit_log').where('action', 'test.meanwhile').max({ seq: 'seq' }).first();
    expect(meanwhile!.seq).toBeLessThan(late.seq);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });
});

describe('tampering is detected and the first broken entry named', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await freshDatabase();
    await addEntries(t.db, 10);
  });
  afterEach(async () => {
    await t?.close();
  });
  const entry = async (label: string) => t.db('audit_log').where('entity_id', label).first('id', 'seq');

  test('a row edited directly in SQL: verification fails at that row', async () => {
    const target = await entry('e-4');
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
    await tamper(t.db, `UPDATE audit_log SET detail = jsonb_set(detail, '{amount}', '150') WHERE id = ?`, [target.id]);
    const report = await verifyAuditChain(t.db, { batchSize: 3 });
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ id: target.id, seq: target.seq });
    expect(report.firstBroken!.reason).toMatch(/altered/);
    expect(report.checked).toBe(target.seq - 1);
  });

  test('an edit whose hash is recomputed too breaks the link to the next entry', async () => {
    const target = await entry('e-2');
    const next = await entry('e-3');
    await tamper(
      t.db,
      [
        `UPDATE audit_log SET actor = 'someone-else' WHERE id = ?`,
        `UPDATE audit_log a SET hash = encode(digest(a.prev_hash || audit_log_canonical(a), 'sha256'), 'hex') WHERE id = ?`,
      ],
      [target.id],
    );
    // The edited entry's seal no longer matches its content; without the seal key, the link to the next entry breaks.
    const report = await verifyAuditChain(t.db);
    expect(report.firstBroken).toMatchObject({ id: target.id, seq: target.seq });
    expect(report.firstBroken!.reason).toMatch(/no valid seal/);
    const unsealed = await verifyAuditChain(t.db, { seal: null });
    expect(unsealed.firstBroken).toMatchObject({ id: next.id, seq: next.seq });
    expect(unsealed.firstBroken!.reason).toMatch(/prev_hash/);
  });

  test('a deleted row: verification fails at the entry after the gap', async () => {
    const target = await entry('e-6');
    const next = await entry('e-7');
    await tamper(t.db, 'DELETE FROM audit_log WHERE id = ?', [target.id]);
    const report = await verifyAuditChain(t.db);
    expect(report.firstBroken).toMatchObject({ id: next.id, seq: next.seq });
    expect(report.firstBroken!.reason).toMatch(/missing/);
  });

  test('a row written around the chain, past its head, is named (the head was not moved)', async () => {
    const head = await t.db('audit_chain_head').where('id', 1).first('seq', 'hash');
    await t.db.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain');
    try {
      // Even with a well-formed link and hash, the row is not behind the head the database keeps.
      await t.db.raw(
        `INSERT INTO audit_log (actor, action, entity, entity_id, detail, seq, prev_hash, hash)
         VALUES ('test', 'test.forged', 'test', 'forged', '{}', ?, ?, ?)`,
        [head.seq + 1, head.hash, 'f'.repeat(64)],
      );
    } finally {
      await t.db.raw('ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain');
    }
    const forged = await entry('forged');
    const report = await verifyAuditChain(t.db);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ id: forged.id, seq: head.seq + 1 });
    expect(report.firstBroken!.reason).toMatch(/beyond the chain head/);
  });

  test('a plain INSERT, chained by the database like any entry: named, it carries no seal of the platform', async () => {
    await t
      .db('audit_log')
      .insert({ actor: 'staff:someone', action: 'objection.decide', entity: 'objection', entity_id: 'forged', detail: { article: 'E18' } });
    // A copy of a genuine seal on other content is no better.
    const genuine = await t.db('audit_log').where('entity_id', 'e-1').first('detail');
    await t.db('audit_log').insert({ actor: 'test', action: 'test.entry', entity: 'test', entity_id: 'e-1b', detail: genuine.detail });
    const report = await verifyAuditChain(t.db, { batchSize: 4 });
    const forged = await entry('forged');
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ id: forged.id, seq: forged.seq });
    expect(report.firstBroken!.reason).toMatch(/no valid seal/);
    expect(report.checked).toBe(forged.seq - 1);
  });

  test('the last rows deleted: the chain head no longer matches', async () => {
    await tamper(t.db, `DELETE FROM audit_log WHERE entity_id IN ('e-8', 'e-9')`);
    const report = await verifyAuditChain(t.db);
    expect(report.ok).toBe(false);
    expect(report.firstBroken!.id).toBeNull();
    expect(report.firstBroken!.reason).toMatch(/missing/);
  });

  test('npm run verify:audit: exit 0 on an intact chain, 1 naming the broken entry', async () => {
    const tsx = path.join(__dirname, '../node_modules/.bin/tsx');
    const env = { ...process.env, DATABASE_URL: t.url };
    const ok = await run(tsx, ['scripts/verify-audit.ts'], { cwd: path.join(__dirname, '..'), env });
    expect(ok.stdout).toMatch(/intact/);
    const target = await entry('e-5');
    await tamper(t.db, `UPDATE audit_log SET action = 'nothing.happened' WHERE id = ?`, [target.id]);
    const failed = await run(tsx, ['scripts/verify-audit.ts'], { cwd: path.join(__dirname, '..'), env }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain(`id ${target.id}`);
    expect(failed?.stdout).toMatch(/BROKEN/);
  }, 60000);
});

describe('signed checkpoints kept outside the database (E23, P26)', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await freshDatabase();
    await addEntries(t.db, 6);
  });
  afterEach(async () => {
    await t?.close();
  });
  // Each database's own log, named after it (db/seal.ts).
  const log = () => checkpointLogOf(t.db);

  test('a checkpoint signs the head and the records stored; the public key checks it; an unmoved head is not signed again', async () => {
    const head = await t.db('audit_chain_head').where('id', 1).first('seq', 'hash');
    const c = await signCheckpoint(t.db, processSeal(), log(), new Date('2026-12-03T08:00:00Z'));
    expect(c).toMatchObject({ v: 1, seq: head.seq, hash: head.hash, records: 0, key_id: processSeal().keyId });
    expect(await signCheckpoint(t.db, processSeal(), log(), new Date('2026-12-03T09:00:00Z'))).toBeNull();
    expect(await verifyCheckpoints(t.db, processSeal().publicKey, log())).toMatchObject({ ok: true, latest: { seq: head.seq } });
    await addEntries(t.db, 2, 'later');
    await signCheckpoint(t.db, processSeal(), log(), new Date('2026-12-03T10:00:00Z'));
    expect(await verifyCheckpoints(t.db, processSeal().publicKey, log())).toMatchObject({ ok: true });
  });

  test('a superuser rewrites the chain from one entry on and moves the head: the chain says intact, the checkpoint does not', async () => {
    await signCheckpoint(t.db, processSeal(), log(), new Date('2026-12-03T08:00:00Z'));
    const target = await t.db('audit_log').where('entity_id', 'e-2').first('id', 'seq');
    // Rewrite: an entry changed, every hash from it on recomputed, each link set, the head moved.
    await t.db.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
    await t.db.raw(`UPDATE audit_log SET detail = jsonb_set(detail, '{amount}', '150') WHERE id = ?`, [target.id]);
    const rows = await t.db('audit_log').where('seq', '>=', target.seq).orderBy('seq').select('id');
    for (const r of rows) {
      await t.db.raw(`UPDATE audit_log a SET prev_hash = (SELECT hash FROM audit_log b WHERE b.seq = a.seq - 1) WHERE a.id = ?`, [r.id]);
      await t.db.raw(
        `UPDATE audit_log a SET hash = encode(digest(a.prev_hash || audit_log_canonical(a), 'sha256'), 'hex') WHERE a.id = ?`,
        [r.id],
      );
    }
    await t.db.raw('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    await t.db.raw(`UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) WHERE id = 1`);

    // The seal of the edited entry no longer matches its content either; without the key, the chain alone says intact.
    expect((await verifyAuditChain(t.db, { seal: null })).ok).toBe(true);
    expect((await verifyAuditChain(t.db)).firstBroken).toMatchObject({ id: target.id });
    const report = await verifyCheckpoints(t.db, processSeal().publicKey, log());
    expect(report.ok).toBe(false);
    expect(report.firstBroken!.reason).toMatch(/rewritten behind this signed checkpoint/);
  });

  test('the chain cut short of a checkpoint, or a checkpoint forged or altered in the log: named', async () => {
    await signCheckpoint(t.db, processSeal(), log(), new Date('2026-12-03T08:00:00Z'));
    const lines = fs.readFileSync(log(), 'utf8').trim().split('\n');
    const signed = JSON.parse(lines[lines.length - 1]);
    fs.appendFileSync(log(), `${JSON.stringify({ ...signed, seq: signed.seq + 5 })}\n`);
    const forged = await verifyCheckpoints(t.db, processSeal().publicKey, log());
    expect(forged.firstBroken).toMatchObject({ line: lines.length + 1 });
    expect(forged.firstBroken!.reason).toMatch(/signature is not good/);

    fs.writeFileSync(log(), `${lines.join('\n')}\n`);
    await t.db.raw('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
    await t.db.raw(`DELETE FROM audit_log WHERE seq > ?`, [signed.seq - 2]);
    await t.db.raw('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    await t.db.raw(`UPDATE audit_chain_head SET seq = ?, hash = (SELECT hash FROM audit_log WHERE seq = ?) WHERE id = 1`, [
      signed.seq - 2,
      signed.seq - 2,
    ]);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
    const cut = await verifyCheckpoints(t.db, processSeal().publicKey, log());
    expect(cut.firstBroken!.reason).toMatch(/chain is shorter than this signed checkpoint/);
  });
});

describe('every seal its own, and a seal key that can be rotated (E23, P26)', () => {
  let t: TestDb;
  let dir: string;
  beforeEach(async () => {
    t = await freshDatabase();
    await addEntries(t.db, 4);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qz-seal-'));
  });
  afterEach(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const newKey = () => sealKeyOf(crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  /** An entry as the platform writes it, sealed with `key`. */
  const sealedWith = async (key: SealKey, label: string) => {
    const content = {
      principal_id: null,
      actor: 'test',
      action: 'test.entry',
      entity: 'test',
      entity_id: label,
      detail: { article: 'E23' },
    };
    await t.db('audit_log').insert({ ...content, detail: { ...content.detail, seal: entrySeal(key, content) } });
    await chainAudit(t.db);
    return t.db('audit_log').where('entity_id', label).first('id', 'seq');
  };
  const ring = (current: SealKey, retired: Array<[SealKey, Date]>, graceMs = 60_000): SealKeyring => ({
    current,
    byId: new Map<string, { key: SealKey; retiredAt: Date | null }>([
      [current.keyId, { key: current, retiredAt: null }],
      ...retired.map(([k, at]): [string, { key: SealKey; retiredAt: Date | null }] => [k.keyId, { key: k, retiredAt: at }]),
    ]),
    graceMs,
  });

  test('a genuine entry copied whole by SQL (seal and all) is named as a replay; the original is not', async () => {
    const original = await t.db('audit_log').where('entity_id', 'e-2').first('id', 'actor', 'action', 'entity', 'entity_id', 'detail');
    expect(original.detail.seal).toMatch(new RegExp(`^${processSeal().keyId}\\.[0-9a-f]{24}\\.[0-9a-f]{64}$`));
    // Two entries of the same content still carry seals of their own.
    await addEntries(t.db, 1, 'e');
    const twins = await t.db('audit_log').where('entity_id', 'e-0').pluck('detail');
    expect(twins).toHaveLength(2);
    expect(twins[0].seal).not.toBe(twins[1].seal);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);

    const { id: _id, ...copy } = original;
    await t.db('audit_log').insert(copy);
    const report = await verifyAuditChain(t.db);
    const replayed = await t.db('audit_log').where('entity_id', 'e-2').orderBy('id', 'desc').first('id', 'seq');
    expect(replayed.id).not.toBe(original.id);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ id: replayed.id, seq: replayed.seq });
    expect(report.firstBroken!.reason).toMatch(/replayed/);
  });

  test('rotated: what the retired key sealed before its retirement verifies; after it (and the grace), or under an unknown key, it is named', async () => {
    const old = newKey();
    const stranger = newKey();
    await sealedWith(old, 'by-old');
    const now = Date.now();
    // Retired an hour from now: the entry was sealed before.
    expect((await verifyAuditChain(t.db, { seal: ring(processSeal(), [[old, new Date(now + 3600_000)]]) })).ok).toBe(true);
    // Retired two hours ago, one minute's grace: sealed with a key out of service.
    const late = await verifyAuditChain(t.db, { seal: ring(processSeal(), [[old, new Date(now - 7200_000)]]) });
    expect(late.firstBroken!.reason).toMatch(/after its retirement/);
    // The key not in the ring at all: a forgery.
    expect((await verifyAuditChain(t.db, { seal: ring(processSeal(), []) })).firstBroken!.reason).toMatch(/no valid seal/);
    await sealedWith(stranger, 'by-stranger');
    const unknown = await verifyAuditChain(t.db, { seal: ring(processSeal(), [[old, new Date(now + 3600_000)]]) });
    expect(unknown.firstBroken).toMatchObject({ id: (await t.db('audit_log').where('entity_id', 'by-stranger').first('id')).id });
    expect(unknown.firstBroken!.reason).toMatch(/no valid seal/);
  });

  test('checkpoints: one signed by a key the platform does not know, or by a retired key after its retirement, is named', async () => {
    const old = newKey();
    const log = path.join(dir, 'checkpoints.jsonl');
    await signCheckpoint(t.db, old, log, new Date(Date.now() - 3600_000));
    expect(await verifyCheckpoints(t.db, ring(processSeal(), [[old, new Date()]]), log)).toMatchObject({ ok: true, checked: 1 });
    expect((await verifyCheckpoints(t.db, ring(processSeal(), []), log)).firstBroken!.reason).toMatch(/does not know/);
    await addEntries(t.db, 1, 'later');
    await signCheckpoint(t.db, old, log, new Date(Date.now() + 3600_000));
    const after = await verifyCheckpoints(t.db, ring(processSeal(), [[old, new Date()]]), log);
    expect(after.firstBroken).toMatchObject({ line: 2 });
    expect(after.firstBroken!.reason).toMatch(/after its retirement/);
  });

  test('npm run seal:key -- --rotate retires the key into SEAL_RETIRED_DIR and makes a new one; the ring holds both', async () => {
    const keyFile = path.join(dir, 'seal.pem');
    const retiredDir = path.join(dir, 'retired');
    const tsx = path.join(__dirname, '../node_modules/.bin/tsx');
    const env = { ...process.env, SEAL_KEY_FILE: keyFile, SEAL_RETIRED_DIR: retiredDir };
    const cwd = path.join(__dirname, '..');
    const refused = await run(tsx, ['scripts/seal-key.ts', '--rotate'], { cwd, env }).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    await run(tsx, ['scripts/seal-key.ts'], { cwd, env });
    const first = sealKeyOf(fs.readFileSync(keyFile, 'utf8'));
    const rotated = await run(tsx, ['scripts/seal-key.ts', '--rotate'], { cwd, env });
    expect(rotated.stdout).toContain(`retired key id ${first.keyId}`);
    const second = sealKeyOf(fs.readFileSync(keyFile, 'utf8'));
    expect(second.keyId).not.toBe(first.keyId);
    const files = fs.readdirSync(retiredDir);
    expect(files).toEqual([expect.stringMatching(new RegExp(`^seal-${first.keyId}-retired-\\d{8}T\\d{6}Z\\.pem$`))]);
    const keys = sealKeyring(second, retiredDir);
    expect([...keys.byId.keys()].sort()).toEqual([first.keyId, second.keyId].sort());
    expect(keys.byId.get(first.keyId)!.retiredAt!.getTime()).toBeGreaterThan(Date.now() - 120_000);
    expect(keys.byId.get(second.keyId)!.retiredAt).toBeNull();
  }, 60000);
});

describe('GET /admin/audit/verify', () => {
  let p: TestPlatform;
  let admin: string;
  let staff: string;
  beforeAll(async () => {
    p = await startTestPlatform();
    admin = (await principalWithKey(p.db, { name: '管理员', role: 'admin' })).auth;
    staff = (await principalWithKey(p.db, { name: '工作人员', role: 'staff' })).auth;
  }, 120000);
  afterAll(async () => {
    await p?.stop();
  });

  test('admins verify the chain; others may not; a tampered row is named', async () => {
    expect((await request(p.app).get('/admin/audit/verify').set('Authorization', staff)).status).toBe(403);
    expect((await request(p.app).get('/admin/audit/verify')).status).toBe(401);
    const ok = await request(p.app).get('/admin/audit/verify').set('Authorization', admin);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, first_broken: null });
    expect(ok.body.checked).toBeGreaterThan(3);
    // the verification itself is audited
    expect(await p.db('audit_log').where('action', 'audit.verify').count({ n: '*' })).toEqual([{ n: 1 }]);

    const target = await p.db('audit_log').where('action', 'principal.create').orderBy('seq').first('id', 'seq');
    await tamper(p.db, `UPDATE audit_log SET detail = detail || '{"role": "supervisor"}' WHERE id = ?`, [target.id]);
    const bad = await request(p.app).get('/admin/audit/verify').set('Authorization', admin);
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.first_broken).toMatchObject({ id: target.id, seq: target.seq });
  });
});
