import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createDb, type Db } from '../db/knex';
import { seedIfEmpty } from '../db/setup';
import { migrationSource } from '../migrations';

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
