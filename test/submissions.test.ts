import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow, registrationRow, uscc } from './support/fixtures';

let p: TestPlatform;
let gsj: string; // 工商局 (may submit E-BASIC-REG, E-PENALTY)

beforeAll(async () => {
  p = await startTestPlatform();
  gsj = (await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
}, 120000);
afterAll(async () => {
  await p?.stop();
});

test('a valid JSON batch is stored and its workflow records the publication deadline', async () => {
  const res = await request(p.app)
    .post('/submissions')
    .set('Authorization', gsj)
    .set('Idempotency-Key', 'batch-1')
    .send({ period: '2026-10', records: [registrationRow(1), penaltyRow(1)] });
  expect(res.status).toBe(202);
  expect(res.body.submission.row_count).toBe(2);
  const id = res.body.submission.id;
  expect(res.headers.location).toBe(`/submissions/${id}`);
  const result = await p.env.client.workflow.getHandle(res.body.submission.workflow_id).result();
  expect(result.receipt.publicationDeadline).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  const row = await p.db('submissions').where('id', id).first();
  expect(row.publication_deadline).toBe(result.receipt.publicationDeadline);
  expect(await p.db('records').where('submission_id', id).count({ n: '*' })).toEqual([{ n: 2 }]);
  expect(await p.db('enterprises').where('uscc', uscc(1)).first('name')).toEqual({ name: '钦州市测试企业1有限公司' });
});
