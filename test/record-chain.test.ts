import crypto from 'node:crypto';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { citizenId, penaltyRow, registrationRow } from './support/fixtures';
import { verifyAuditChain } from '../db/audit';
import { verifyRecords, type RecordReport } from '../db/record-chain';
import { purgeRetentionBatch } from '../db/retention';
import { canonicalJson, recordHashOf, RecordDigest } from '../domain/record-hash';
import type { Db } from '../db/knex';

/**
 * Records are tamper-evident (E23, P26): each version's content hash, chained to the version before, bound into the
 * audit chain by the entry that stored it. What someone with database access does — edit a record, delete a version,
 * forge one — is named by the verifier.
 */
let p: TestPlatform;
let gsj: string;
let court: string;
let admin: string;
let n = 0;
const key = () => `record-chain-${++n}`;

beforeAll(async () => {
  p = await startTestPlatform();
  gsj = (await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
  court = (await principalWithKey(p.db, { name: '法院报送员', role: 'provider', providerCode: 'QZ-COURT' })).auth;
  admin = (await principalWithKey(p.db, { name: '管理员', role: 'admin' })).auth;
}, 120000);
afterAll(async () => {
  await p?.stop();
});

async function submit(auth: string, records: unknown[]): Promise<string> {
  const res = await request(p.app)
    .post('/submissions')
    .set('Authorization', auth)
    .set('Idempotency-Key', key())
    .send({ period: '2026-10', records });
  expect(res.status).toBe(202);
  return res.body.submission.id as string;
}

const keysOf = async (submissionId: string): Promise<string[]> =>
  (await p.db('records').where('submission_id', submissionId).orderBy('id').select('record_key')).map((r) => r.record_key as string);

async function correct(recordKey: string, baseVersion: number, amount: number): Promise<void> {
  const res = await request(p.app)
    .post(`/records/${recordKey}/corrections`)
    .set('Authorization', gsj)
    .send({ base_version: baseVersion, reason: '罚款金额录入错误', changes: { payload: { ...penaltyRow(1).payload, amount } } });
  expect(res.status).toBe(201);
}

/** What someone with database access does, seen by the verifier, then undone: the triggers that refuse it are switched off. */
async function tampered(change: (trx: Db) => Promise<unknown>): Promise<RecordReport> {
  let report: RecordReport | undefined;
  const undo = new Error('undo');
  await p.db
    .transaction(async (trx) => {
      await trx.raw('ALTER TABLE records DISABLE TRIGGER records_content_fixed');
      await trx.raw('ALTER TABLE record_erasures DISABLE TRIGGER record_erasures_no_update');
      await change(trx);
      report = await verifyRecords(trx, { batchSize: 3 });
      throw undo;
    })
    .catch((e) => {
      if (e !== undo) throw e;
    });
  return report!;
}

let batch: string;
let single: string;
let corrected: string;
let retracted: string;

describe('a record version carries a hash chained to the one before, committed to by its audit entry', () => {
  test('batches, corrections, retractions and retention erasures verify; their audit entries commit to the hashes', async () => {
    batch = await submit(gsj, [penaltyRow(1), penaltyRow(2), registrationRow(3), penaltyRow(4)]);
    [single, corrected, , retracted] = await keysOf(batch);
    await correct(corrected, 1, 3000);
    await correct(corrected, 2, 2000);
    const res = await request(p.app)
      .post(`/records/${retracted}/retraction`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '重复报送' });
    expect(res.status).toBe(201);

    // A personal record, erased when its 5 years are over (P19): remembered by its hash alone.
    const personal = await submit(court, [
      {
        item_code: 'P-DISHONEST',
        subject_id: citizenId(7),
        event_date: '2019-01-01',
        concluded_date: '2020-06-30',
        payload: { case_no: '(2019)桂07执1号', court: '钦州市中级人民法院', obligation: '给付' },
      },
    ]);
    const [personalKey] = await keysOf(personal);
    expect(await purgeRetentionBatch(p.db, '2026-12-01', 100)).toMatchObject({ rows: 1 });
    expect(await p.db('record_erasures').where('record_key', personalKey).select('version', 'submission_id')).toEqual([
      { version: 1, submission_id: personal },
    ]);

    // The batch's entry commits to its records' digest, in the order stored.
    const rows = await p.db('records').where('submission_id', batch).orderBy('id').select('hash');
    const digest = new RecordDigest();
    for (const r of rows) digest.add(r.hash);
    const accept = await p.db('audit_log').where({ action: 'submission.accept', entity_id: batch }).first('detail');
    expect(accept.detail.records).toEqual({ count: 4, digest: digest.digest() });
    // A correction's entry commits to the new version's hash, which chains to the version it replaces.
    const versions = await p.db('records').where('record_key', corrected).orderBy('version').select('*');
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(recordHashOf(versions[0].hash, versions[1])).toBe(versions[1].hash);
    expect(recordHashOf('', versions[1])).not.toBe(versions[1].hash);
    const entry = await p.db('audit_log').where({ action: 'record.correct', entity_id: corrected }).orderBy('id', 'desc').first('detail');
    expect(entry.detail.record_hash).toBe(versions[2].hash);

    expect((await verifyAuditChain(p.db)).ok).toBe(true);
    const report = await verifyRecords(p.db, { batchSize: 3 });
    expect(report).toMatchObject({ ok: true, erased: 1, firstBroken: null });
    expect(report.checked).toBe(Number((await p.db('records').count({ n: '*' }))[0].n) + 1);
  });

  test('a stored version cannot be changed: only whether it is current moves', async () => {
    await expect(p.db('records').where('record_key', single).update({ event_date: '2026-01-01' })).rejects.toThrow(/never changes/);
    await expect(p.db('record_erasures').update({ hash: 'x' })).rejects.toThrow(/append-only/);
  });
});

describe('the canonical content', () => {
  test('a payload hashes the same as written and as PostgreSQL reads its jsonb back (key order, nesting, numbers, text)', async () => {
    const payload = { 名称: '钦州港', b: 1.5, a: { d: [1, { f: 2, e: '\t"引号"\\' }], c: null }, z: 1e21, skip: undefined };
    expect(canonicalJson(payload)).toBe('{"a":{"c":null,"d":[1,{"e":"\\t\\"引号\\"\\\\","f":2}]},"b":1.5,"z":1e+21,"名称":"钦州港"}');
    const { rows } = await p.db.raw('SELECT ?::jsonb AS v', [JSON.stringify(payload)]);
    expect(canonicalJson(rows[0].v)).toBe(canonicalJson(payload));
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
});

describe('what is changed in SQL is named', () => {
  test('a published record edited in place (payload and event date): named, record and version', async () => {
    const report = await tampered((trx) =>
      trx.raw(`UPDATE records SET payload = jsonb_set(payload, '{amount}', '1'), event_date = '2026-01-01' WHERE record_key = ?`, [single]),
    );
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ record_key: single, version: 1 });
    expect(report.firstBroken!.reason).toMatch(/was altered/);
  });

  test('an edit that rewrites the hash as well: named by its batch', async () => {
    const report = await tampered(async (trx) => {
      const row = await trx('records').where('record_key', single).first();
      const payload = { ...row.payload, amount: 1 };
      await trx('records')
        .where('id', row.id)
        .update({ payload: JSON.stringify(payload), hash: recordHashOf('', { ...row, payload }) });
    });
    expect(report.firstBroken).toMatchObject({ batch, record_key: null });
    expect(report.firstBroken!.reason).toMatch(/content and hash were both rewritten/);
  });

  test('a version deleted from the middle, or the latest: named', async () => {
    const middle = await tampered((trx) => trx('records').where({ record_key: corrected, version: 2 }).delete());
    expect(middle.firstBroken).toMatchObject({ record_key: corrected, version: 3 });
    expect(middle.firstBroken!.reason).toMatch(/versions 2–2 are missing/);
    const latest = await tampered((trx) => trx('records').where({ record_key: corrected, version: 3 }).delete());
    expect(latest.firstBroken).toMatchObject({ record_key: corrected });
    expect(latest.firstBroken!.reason).toMatch(/no current version/);
  });

  test('a whole record deleted: its batch is short of one', async () => {
    const report = await tampered(async (trx) => {
      await trx('publications').whereIn('record_id', trx('records').where('record_key', single).select('id')).delete();
      await trx('records').where('record_key', single).delete();
    });
    expect(report.firstBroken).toMatchObject({ batch });
    expect(report.firstBroken!.reason).toMatch(/accepted with 4 records; 3 are there/);
  });

  test('a forged version, hashed as the platform would: no audit entry stored it', async () => {
    const report = await tampered(async (trx) => {
      const cur = await trx('records').where({ record_key: corrected, is_current: true }).first();
      await trx('records').where('id', cur.id).update({ is_current: false });
      const forged = { ...cur, version: cur.version + 1, payload: { ...cur.payload, amount: 1 }, change_reason: '伪造' };
      delete forged.id;
      await trx('records').insert({ ...forged, payload: JSON.stringify(forged.payload), hash: recordHashOf(cur.hash, forged) });
    });
    expect(report.firstBroken).toMatchObject({ record_key: corrected, version: 4 });
    expect(report.firstBroken!.reason).toMatch(/no audit entry stored this version/);
  });

  test('a forged record, outside any batch or slipped into one: named', async () => {
    const row = await p.db('records').where('record_key', single).first();
    const forged = (submissionId: string | null) => {
      const f = { ...row, id: undefined, record_key: '01900000-0000-7000-8000-000000000001', submission_id: submissionId };
      delete f.id;
      return { ...f, payload: JSON.stringify(f.payload), hash: recordHashOf('', f) };
    };
    const outside = await tampered((trx) => trx('records').insert(forged(null)));
    expect(outside.firstBroken).toMatchObject({ record_key: '01900000-0000-7000-8000-000000000001', version: 1 });
    expect(outside.firstBroken!.reason).toMatch(/no accepted batch holds this record/);
    const inside = await tampered((trx) => trx('records').insert(forged(batch)));
    expect(inside.firstBroken).toMatchObject({ batch });
    expect(inside.firstBroken!.reason).toMatch(/accepted with 4 records; 5 are there/);
  });

  test('a record deleted and passed off as erased under P19: no retention entry recorded it', async () => {
    const report = await tampered(async (trx) => {
      const row = await trx('records').where('record_key', single).first();
      await trx('publications').where('record_id', row.id).delete();
      await trx('records').where('id', row.id).delete();
      await trx('record_erasures').insert({
        batch_id: '01900000-0000-7000-8000-0000000000ee',
        record_id: row.id,
        submission_id: row.submission_id,
        record_key: row.record_key,
        version: 1,
        hash: row.hash,
      });
    });
    expect(report.firstBroken).toMatchObject({ batch: '01900000-0000-7000-8000-0000000000ee' });
    expect(report.firstBroken!.reason).toMatch(/an erasure no audit entry recorded/);
  });

  test('the worker signs a checkpoint of the chain; anyone reads it at GET /public/checkpoint and checks its signature', async () => {
    expect((await request(p.app).get('/public/checkpoint')).status).toBe(404);
    const signed = await p.env.client.workflow.execute('auditCheckpointWorkflow', {
      taskQueue: p.taskQueue,
      workflowId: `checkpoint-${key()}`,
      args: [],
    });
    const head = await p.db('audit_chain_head').where('id', 1).first('seq', 'hash');
    const versions = Number((await p.db('records').count({ n: '*' }))[0].n) + 1; // and the one erased
    expect(signed).toEqual({ seq: head.seq, hash: head.hash, records: versions });
    const res = await request(p.app).get('/public/checkpoint');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ seq: head.seq, hash: head.hash, records: versions });
    const { sig, public_key: publicKey, ...c } = res.body;
    const text = JSON.stringify([1, c.seq, c.hash, c.records, c.signed_at, c.key_id]);
    expect(crypto.verify(null, Buffer.from(text), crypto.createPublicKey(publicKey), Buffer.from(sig, 'base64'))).toBe(true);
    expect(
      crypto.verify(
        null,
        Buffer.from(text.replace(`${c.seq}`, `${c.seq + 1}`)),
        crypto.createPublicKey(publicKey),
        Buffer.from(sig, 'base64'),
      ),
    ).toBe(false);
  });

  test("the administrator's check says which record: GET /admin/audit/verify", async () => {
    const ok = await request(p.app).get('/admin/audit/verify').set('Authorization', admin);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      ok: true,
      records: { ok: true, erased: 1, first_broken: null },
      checkpoints: { ok: true, checked: 1, first_broken: null },
    });

    await p.db.raw('ALTER TABLE records DISABLE TRIGGER records_content_fixed');
    try {
      await p.db.raw(`UPDATE records SET payload = jsonb_set(payload, '{violation}', '"无"') WHERE record_key = ?`, [single]);
    } finally {
      await p.db.raw('ALTER TABLE records ENABLE TRIGGER records_content_fixed');
    }
    const res = await request(p.app).get('/admin/audit/verify').set('Authorization', admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: false,
      first_broken: null,
      records: { ok: false, first_broken: { record_key: single, version: 1 } },
    });
    const entry = await p.db('audit_log').where('action', 'audit.verify').orderBy('id', 'desc').first('detail');
    expect(entry.detail).toMatchObject({ ok: false, records: { ok: false, first_broken: { record_key: single } } });
  });
});
