import { chainAudit } from '../db/audit-chainer';
import crypto from 'node:crypto';
import request from 'supertest';
import { createDb, type Db } from '../db/knex';
import { migrationSource } from '../migrations';
import { seedIfEmpty } from '../db/setup';
import { applyRuntimeGrants } from '../db/roles';
import { verifyAuditChain } from '../db/audit';
import { verifyRecords } from '../db/record-chain';
import { purgeRetentionBatch } from '../db/retention';
import { checkpointLogOf, processSeal, signCheckpoint } from '../db/seal';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { citizenId, penaltyRow } from './support/fixtures';

/**
 * Least privilege (db/roles.ts, migration 0024): a database made as the platform makes it — owned by an owner role
 * that runs the migrations, used by a runtime role that owns nothing. The runtime role runs the platform and cannot
 * update, delete or truncate the audit and record tables.
 */
const suffix = crypto.randomBytes(4).toString('hex');
const OWNER = `qz_owner_${suffix}`;
const APP = `qz_app_${suffix}`;
const NAME = `qz_test_roles_${suffix}`;
const password = crypto.randomBytes(12).toString('hex');

let admin: Db;
let owner: Db;
let app: Db;
let p: TestPlatform;
let gsj: string;

const urlAs = (user: string) => {
  const url = new URL(process.env.QZ_TEST_ADMIN_URL!);
  url.username = user;
  url.password = password;
  url.pathname = `/${NAME}`;
  return url.toString();
};

beforeAll(async () => {
  admin = createDb(process.env.QZ_TEST_ADMIN_URL!, 1);
  await admin.raw(`CREATE ROLE ?? LOGIN PASSWORD '${password}'`, [OWNER]);
  await admin.raw(`CREATE ROLE ?? LOGIN PASSWORD '${password}'`, [APP]);
  await admin.raw('CREATE DATABASE ?? OWNER ??', [NAME, OWNER]);
  owner = createDb(urlAs(OWNER), 2);
  await owner.migrate.latest({ migrationSource });
  expect(await applyRuntimeGrants(owner, APP)).toBe(true);
  await seedIfEmpty(owner);
  app = createDb(urlAs(APP), 10);
  p = await startTestPlatform({ database: { db: app, url: urlAs(APP), close: () => app.destroy() } });
  gsj = (await principalWithKey(app, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
}, 180000);

afterAll(async () => {
  await p?.stop();
  await owner?.destroy();
  if (admin) {
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [NAME]);
    await admin.raw('DROP ROLE IF EXISTS ??', [APP]);
    await admin.raw('DROP ROLE IF EXISTS ??', [OWNER]);
    await admin.destroy();
  }
});

describe('the runtime role runs the platform', () => {
  test('a batch, a correction, a retraction, a failed authentication, retention, a checkpoint and the check of it all', async () => {
    const res = await request(p.app)
      .post('/submissions')
      .set('Authorization', gsj)
      .set('Idempotency-Key', `roles-${suffix}`)
      .send({ period: '2026-10', records: [penaltyRow(1), penaltyRow(2)] });
    expect(res.status).toBe(202);
    const [key] = (await app('records').where('submission_id', res.body.submission.id).orderBy('id').select('record_key')).map(
      (r) => r.record_key as string,
    );
    const corrected = await request(p.app)
      .post(`/records/${key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '罚款金额录入错误', changes: { payload: { ...penaltyRow(1).payload, amount: 3000 } } });
    expect(corrected.status).toBe(201);
    const retracted = await request(p.app)
      .post(`/records/${key}/retraction`)
      .set('Authorization', gsj)
      .send({ base_version: 2, reason: '撤回' });
    expect(retracted.status).toBe(201);
    expect((await request(p.app).get('/notifications').set('Authorization', 'Bearer qzk_nope_nope')).status).toBe(401);

    const court = (await principalWithKey(app, { name: '法院报送员', role: 'provider', providerCode: 'QZ-COURT' })).auth;
    const personal = await request(p.app)
      .post('/submissions')
      .set('Authorization', court)
      .set('Idempotency-Key', `roles-p-${suffix}`)
      .send({
        period: '2026-10',
        records: [
          {
            item_code: 'P-DISHONEST',
            subject_id: citizenId(3),
            event_date: '2019-01-01',
            concluded_date: '2020-06-30',
            payload: { case_no: '(2019)桂07执3号', court: '钦州市中级人民法院', obligation: '给付' },
          },
        ],
      });
    expect(personal.status).toBe(202);
    expect(await purgeRetentionBatch(app, '2026-12-01', 100)).toMatchObject({ rows: 1 });

    // The entries so far wait unchained until a chainer (the owner's function) places them.
    expect(await app('audit_log').whereNull('seq').count({ n: '*' })).not.toEqual([{ n: 0 }]);
    // (the worker may write more meanwhile: what this call found, it chained)
    expect(await chainAudit(app)).toBeGreaterThan(0);
    expect(await signCheckpoint(app, processSeal(), checkpointLogOf(app), new Date('2026-12-03T08:00:00Z'))).not.toBeNull();
    expect((await verifyAuditChain(app)).ok).toBe(true);
    expect(await verifyRecords(app)).toMatchObject({ ok: true, erased: 1 });
  });
});

describe('what the runtime role may not do', () => {
  const denied = async (sql: string) => {
    await expect(app.raw(sql)).rejects.toMatchObject({ code: '42501' });
  };

  test('update, delete or truncate the audit log, its head, the records, their erasures, the checkpoints', async () => {
    await denied(`UPDATE audit_log SET actor = 'x'`);
    await denied('DELETE FROM audit_log');
    await denied('TRUNCATE audit_log');
    await denied(`UPDATE audit_chain_head SET seq = 0`);
    await denied(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (2, 0, '')`);
    await denied(`UPDATE records SET payload = '{}'`);
    await denied(`UPDATE records SET event_date = '2026-01-01'`);
    await denied('DELETE FROM records');
    await denied('TRUNCATE records');
    await denied('DELETE FROM record_erasures');
    await denied('DELETE FROM audit_checkpoints');
    await denied('TRUNCATE query_log');
  });

  test('switch a trigger off, change a table, or own anything', async () => {
    await denied('ALTER TABLE records DISABLE TRIGGER records_content_fixed');
    await denied('ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain');
    await denied('DROP TABLE audit_log');
    const { rows } = await admin.raw(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = ?`,
      [APP],
    );
    expect(rows[0]).toEqual({ n: 0 });
    // Only the owner's retention function deletes records, and only those past retention.
    const before = Number((await app('records').count({ n: '*' }))[0].n);
    await app.raw(`SELECT * FROM qz_retention_purge('2026-12-01', 1000, gen_random_uuid())`);
    expect(Number((await app('records').count({ n: '*' }))[0].n)).toBe(before);
  });
});
