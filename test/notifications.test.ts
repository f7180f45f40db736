import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { notify } from '../db/notifications';
import { uscc } from './support/fixtures';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
}, 120000);
afterAll(async () => {
  await p?.stop();
});

test('each principal reads only what is addressed to it, its role, its provider or its subject; sending is idempotent', async () => {
  const gsj = await principalWithKey(p.db, { name: '工商局', role: 'provider', providerCode: 'QZ-GSJ' });
  const court = await principalWithKey(p.db, { name: '法院', role: 'provider', providerCode: 'QZ-COURT' });
  const staff = await principalWithKey(p.db, { name: '征集服务机构', role: 'staff' });
  const ent = await principalWithKey(p.db, { name: '企业', role: 'enterprise', enterpriseUscc: uscc(5) });
  const gsjId = (await p.db('providers').where('code', 'QZ-GSJ').first('id')).id;
  const base = { kind: 'test', title: '测试 / test', body: '正文 / body' };
  expect(await notify(p.db, { ...base, to: { providerId: gsjId }, dedupeKey: 'n1' })).toBe(true);
  expect(await notify(p.db, { ...base, to: { providerId: gsjId }, dedupeKey: 'n1' })).toBe(false);
  await notify(p.db, { ...base, to: { role: 'staff' }, dedupeKey: 'n2' });
  await notify(p.db, { ...base, to: { subjectType: 'enterprise', subjectId: uscc(5) }, dedupeKey: 'n3' });
  await notify(p.db, { ...base, to: { principalId: court.id }, dedupeKey: 'n4' });

  const seen = async (auth: string) =>
    (await request(p.app).get('/notifications').set('Authorization', auth)).body.notifications.map(
      (n: { id: number; data: unknown }) => n.id,
    );
  const ids = Object.fromEntries((await p.db('notifications').select('id', 'dedupe_key')).map((r) => [r.dedupe_key, Number(r.id)]));
  expect(await seen(gsj.auth)).toEqual([ids.n1]);
  expect(await seen(staff.auth)).toEqual([ids.n2]);
  expect(await seen(ent.auth)).toEqual([ids.n3]);
  expect(await seen(court.auth)).toEqual([ids.n4]);

  // Marking another's notification read is 404 and changes nothing.
  const other = await request(p.app).post(`/notifications/${ids.n1}/read`).set('Authorization', court.auth);
  expect(other.status).toBe(404);
  expect((await p.db('notifications').where('id', ids.n1).first()).read_at).toBeNull();
  const mine = await request(p.app).post(`/notifications/${ids.n1}/read`).set('Authorization', gsj.auth);
  expect(mine.status).toBe(200);
  const unread = await request(p.app).get('/notifications?unread=true').set('Authorization', gsj.auth);
  expect(unread.body.notifications).toEqual([]);
  expect((await request(p.app).get('/notifications')).status).toBe(401);
});
