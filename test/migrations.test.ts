import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createDb, type Db } from '../db/knex';
import { seedIfEmpty } from '../db/setup';
import { migrationSource } from '../migrations';
import { verifyRecords } from '../db/record-chain';
import { recordHashOf } from '../domain/record-hash';

/**
 * A migration that moves rows is tried on a database that holds some: migrated up to the one before, given data,
 * then migrated to the end.
 */
const ONE_FILE_STORE = '20261202_0014_one_file_store';

let admin: Db;
let db: Db;
let name: string;

beforeAll(async () => {
  admin = createDb(process.env.QZ_TEST_ADMIN_URL!, 1);
  name = `qz_test_${crypto.randomBytes(6).toString('hex')}`;
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.QZ_TEST_ADMIN_URL!);
  url.pathname = `/${name}`;
  db = createDb(url.toString(), 2);
}, 60000);

afterAll(async () => {
  await db?.destroy();
  await admin?.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin?.destroy();
});

const upTo = (last: string): Knex.MigrationSource<string> => ({
  ...migrationSource,
  getMigrations: async (dirs) => (await migrationSource.getMigrations(dirs)).filter((m) => m < last),
});

test('0014 moves objection evidence into the one file store: same ids, bytes and hashes, still append-only', async () => {
  await db.migrate.latest({ migrationSource: upTo(ONE_FILE_STORE) });
  await seedIfEmpty(db);
  const provider = await db('providers').orderBy('id').first('id');
  const [person] = await db('principals').insert({ name: '张三', role: 'person', person_id: '110101199003074514' }).returning('id');
  const [objection] = await db('objections')
    .insert({
      applicant_principal_id: person.id,
      applicant_role: 'person',
      applicant_name: '张三',
      subject_type: 'person',
      subject_id: '110101199003074514',
      provider_id: provider.id,
      claim: '记录有误',
      evidence_summary: '见附件',
    })
    .returning('id');
  const content = Buffer.from('%PDF-1.4 evidence');
  const sha256 = crypto.createHash('sha256').update(content).digest('hex');
  const [evidence] = await db('objection_attachments')
    .insert({
      objection_id: objection.id,
      file_name: '证据.pdf',
      content_type: 'application/pdf',
      size_bytes: content.length,
      sha256,
      content,
      uploaded_by: person.id,
    })
    .returning('id');
  // Records stored before hashes existed (0022): a corrected one and a single one.
  const item = await db('catalog_items').where('code', 'E-PENALTY').first('code');
  const record = (version: number, current: boolean, amount: number, key?: string) => ({
    ...(key ? { record_key: key } : {}),
    version,
    is_current: current,
    provider_id: provider.id,
    item_code: item.code,
    subject_type: 'enterprise',
    subject_id: '91450700MA5K000013',
    payload: JSON.stringify({ decision_no: `钦市监罚〔2026〕${amount}号`, amount }),
    event_date: '2026-10-12',
    created_by: person.id,
  });
  const [old] = await db('records')
    .insert(record(1, false, 5000))
    .returning('record_key');
  await db('records').insert(record(2, true, 3000, old.record_key));
  await db('records').insert(record(1, true, 800));

  await db.migrate.latest({ migrationSource });

  const moved = await db('documents').where('id', evidence.id).first();
  expect(moved).toMatchObject({
    kind: 'objection_evidence',
    objection_id: objection.id,
    file_name: '证据.pdf',
    sha256,
    uploaded_by: person.id,
  });
  expect(Buffer.compare(moved.content, content)).toBe(0);
  expect(await db('objection_attachments').where('objection_id', objection.id).select('id')).toEqual([{ id: evidence.id }]);
  await expect(db('documents').where('id', evidence.id).update({ file_name: 'x.pdf' })).rejects.toThrow(/append-only/);
  // Evidence must name its objection; other documents must not.
  await expect(
    db('documents').insert({
      kind: 'objection_evidence',
      file_name: 'a.pdf',
      content_type: 'application/pdf',
      size_bytes: 1,
      sha256,
      content,
      uploaded_by: person.id,
    }),
  ).rejects.toThrow(/documents_evidence_has_objection/);
}, 120000);

test('0022 gives the records already stored their hashes, chained per record, and commits to them in the audit chain', async () => {
  const rows = await db('records').orderBy('id').select('*');
  expect(rows).toHaveLength(3);
  for (const r of rows) expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(recordHashOf('', rows[0])).toBe(rows[0].hash);
  expect(recordHashOf(rows[0].hash, rows[1])).toBe(rows[1].hash);
  const commit = await db('audit_log').where('action', 'records.commit').first('detail');
  expect(commit.detail).toMatchObject({ through_id: rows[2].id, count: 3 });
  expect(await verifyRecords(db)).toMatchObject({ ok: true, checked: 3 });

  // An edit that rewrites the hash too is caught by that commitment.
  await db.raw('ALTER TABLE records DISABLE TRIGGER records_content_fixed');
  const payload = { ...rows[2].payload, amount: 1 };
  await db('records')
    .where('id', rows[2].id)
    .update({ payload: JSON.stringify(payload), hash: recordHashOf('', { ...rows[2], payload }) });
  await db.raw('ALTER TABLE records ENABLE TRIGGER records_content_fixed');
  const report = await verifyRecords(db);
  expect(report.ok).toBe(false);
  expect(report.firstBroken!.reason).toMatch(/stored before hashes existed differ/);
}, 60000);
