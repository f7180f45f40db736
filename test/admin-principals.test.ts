/**
 * Account administration: an admin sees a principal's keys (never the keys themselves), deactivates a principal —
 * every key of it refused at once, in this process and (through the change notice) in every other — and
 * reactivates it; each step dated, attributed and in the audit log (P11, E23). Roles enforced; bad input changes
 * nothing.
 */
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { startChangeFeed, type ChangeFeed } from '../db/changes';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';

let p: TestPlatform;
let feed: ChangeFeed;
let admin: { id: string; auth: string };

beforeAll(async () => {
  p = await startTestPlatform();
  // As the API process runs: keys cached while it hears change notices.
  feed = await startChangeFeed(p.db);
  admin = await principalWithKey(p.db, { name: '账号管理员', role: 'admin' });
}, 120000);
afterAll(async () => {
  await feed?.stop();
  await p?.stop();
});

const as = (auth: string) => ({
  get: (path: string) => request(p.app).get(path).set('Authorization', auth),
  post: (path: string, body?: object) => request(p.app).post(path).set('Authorization', auth).send(body),
});

test('an admin sees a principal and its keys, with their status, never a secret', async () => {
  const staff = await principalWithKey(p.db, { name: '征集机构工作人员甲', role: 'staff', organization: '钦州市信用信息征集服务机构' });
  const second = await as(admin.auth).post(`/admin/principals/${staff.id}/keys`, { label: '备用', expires_in_days: 30 });
  expect(second.status).toBe(201);
  await as(admin.auth).post(`/admin/keys/${second.body.id}/revoke`).expect(200);
  expect((await as(staff.auth).get('/notifications')).status).toBe(200); // marks the first key used

  const res = await as(admin.auth).get(`/admin/principals/${staff.id}`);
  expect(res.status).toBe(200);
  expect(res.body.principal).toMatchObject({ id: staff.id, role: 'staff', active: true, deactivated_at: null, deactivation_reason: null });
  expect(res.body.keys.map((k: { label: string; status: string }) => [k.label, k.status])).toEqual([
    ['test', 'active'],
    ['备用', 'revoked'],
  ]);
  expect(res.body.keys[0].last_used_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  expect(res.body.keys[1].revoked_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/secret|qzk_/);
  // The whole secret (base64url: it may itself hold "_"), never a piece of it that any text could hold.
  const secret = /qzk_[0-9a-f]{12}_(.{32})$/.exec(staff.auth)![1];
  expect(text).not.toContain(secret);
});

test('a deactivated principal is refused at once; reactivated, its key works again; every step audited', async () => {
  const provider = await principalWithKey(p.db, { name: '工商局报送员乙', role: 'provider', providerCode: 'QZ-GSJ' });
  expect((await as(provider.auth).get('/submissions')).status).toBe(200);
  expect((await as(provider.auth).get('/submissions')).status).toBe(200); // now from the key cache

  const off = await as(admin.auth).post(`/admin/principals/${provider.id}/deactivation`, { reason: '人员调离 / left the department' });
  expect(off.status).toBe(200);
  expect(off.body.principal).toMatchObject({ active: false, deactivation_reason: '人员调离 / left the department' });
  expect(off.body.principal.deactivated_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  expect((await as(provider.auth).get('/submissions')).status).toBe(401);
  // No new key for an inactive principal.
  expect((await as(admin.auth).post(`/admin/principals/${provider.id}/keys`, {})).status).toBe(404);
  // Twice: 409, nothing changes.
  const again = await as(admin.auth).post(`/admin/principals/${provider.id}/deactivation`, { reason: '重复 / again' });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('PRINCIPAL_INACTIVE');

  const on = await as(admin.auth).post(`/admin/principals/${provider.id}/activation`, {});
  expect(on.status).toBe(200);
  expect(on.body.principal).toMatchObject({ active: true, deactivated_at: null, deactivation_reason: null });
  expect((await as(provider.auth).get('/submissions')).status).toBe(200);
  expect((await as(admin.auth).post(`/admin/principals/${provider.id}/activation`, {})).body.error.code).toBe('PRINCIPAL_ACTIVE');

  const audit = await p
    .db('audit_log')
    .where({ entity: 'principal', entity_id: provider.id })
    .whereLike('action', 'principal.%activate')
    .orderBy('id')
    .select('action', 'principal_id', 'detail');
  expect(audit.map((a) => a.action)).toEqual(['principal.deactivate', 'principal.activate']);
  expect(audit[0]).toMatchObject({ principal_id: admin.id, detail: { reason: '人员调离 / left the department' } });
});

test('an admin cannot deactivate their own account; only admins manage accounts; bad input is a 4xx and changes nothing', async () => {
  const self = await as(admin.auth).post(`/admin/principals/${admin.id}/deactivation`, { reason: '测试自我停用' });
  expect(self.status).toBe(409);
  expect(self.body.error.code).toBe('CANNOT_DEACTIVATE_SELF');

  const staff = await principalWithKey(p.db, { name: '工作人员丙', role: 'staff' });
  const supervisor = await principalWithKey(p.db, { name: '监督人员', role: 'supervisor' });
  for (const who of [staff, supervisor]) {
    expect((await as(who.auth).post(`/admin/principals/${staff.id}/deactivation`, { reason: '越权尝试' })).status).toBe(403);
    expect((await as(who.auth).get(`/admin/principals/${staff.id}`)).status).toBe(403);
  }
  expect((await request(p.app).get(`/admin/principals/${staff.id}`)).status).toBe(401);

  const noReason = await as(admin.auth).post(`/admin/principals/${staff.id}/deactivation`, {});
  expect(noReason.status).toBe(400);
  expect(noReason.body.error.details[0].field).toBe('reason');
  const extra = await as(admin.auth).post(`/admin/principals/${staff.id}/deactivation`, { reason: '调岗', active: false });
  expect(extra.status).toBe(400);
  expect((await as(admin.auth).post('/admin/principals/not-a-uuid/deactivation', { reason: '调岗' })).body.error.details[0].field).toBe(
    'id',
  );
  expect(
    (await as(admin.auth).post('/admin/principals/00000000-0000-4000-8000-00000000dead/deactivation', { reason: '调岗' })).status,
  ).toBe(404);
  expect(await p.db('principals').where('id', staff.id).first('active')).toEqual({ active: true });
  expect((await as(staff.auth).get('/notifications')).status).toBe(200);
});

test('a flood of bad keys from one address: each recorded up to the limit, then 429 and one record a minute; good keys still work', async () => {
  const before = process.env.AUTH_FAILURE_LIMIT;
  process.env.AUTH_FAILURE_LIMIT = '3';
  try {
    // Two API processes behind one load balancer (each its own app and memory), one client address.
    const config = { ...loadConfig(), taskQueue: p.taskQueue };
    const a = createApp({ db: p.db, temporal: p.env.client, config });
    const b = createApp({ db: p.db, temporal: p.env.client, config });
    const client = '203.0.113.50';
    const bad = (i: number) => `Bearer qzk_${String(i).padStart(12, 'a')}_${'B'.repeat(32)}`;
    const via = (app: typeof a, i: number) =>
      request(app).get('/notifications').set('X-Forwarded-For', client).set('Authorization', bad(i));
    const auditOf = async (action: string) =>
      Number((await p.db('audit_log').where({ action }).whereRaw(`detail->>'ip' = ?`, [client]).count({ n: '*' }).first())?.n);
    expect((await via(a, 1)).status).toBe(401);
    expect((await via(b, 2)).status).toBe(401);
    expect((await via(a, 3)).status).toBe(401);
    // The fourth, on the process that saw only one: the count is the platform's.
    const over = await via(b, 4);
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
    expect(over.body.error.message).toMatch(/认证失败次数过多/);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await via(a, 5)).status).toBe(429);
    expect((await via(b, 6)).status).toBe(429);
    expect(await auditOf('auth.failed')).toBe(3);
    expect(await auditOf('auth.throttled')).toBe(1);

    // A sliding minute, not a clock minute: failures 59 seconds old still count (a flood across a minute boundary
    // gets no fresh allowance), and leave the count once they are older than 60 seconds.
    const edge = '203.0.113.51';
    for (const prefix of ['edge00000001', 'edge00000002', 'edge00000003'])
      await p.db('audit_log').insert({
        actor: 'anonymous',
        action: 'auth.failed',
        entity: 'api_key',
        entity_id: prefix,
        at: p.db.raw(`now() - interval '58 seconds'`),
        detail: { ip: edge, path: '/notifications', reason: 'unknown' },
      });
    const fromEdge = (i: number) => request(b).get('/notifications').set('X-Forwarded-For', edge).set('Authorization', bad(i));
    const refused = await fromEdge(7);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fromEdge(8)).status).toBe(401);
    // A valid key from the same address is not refused.
    expect((await request(a).get('/notifications').set('X-Forwarded-For', client).set('Authorization', admin.auth)).status).toBe(200);
  } finally {
    if (before === undefined) delete process.env.AUTH_FAILURE_LIMIT;
    else process.env.AUTH_FAILURE_LIMIT = before;
  }
});
