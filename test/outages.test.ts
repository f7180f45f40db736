/**
 * Outages answer 503 with Retry-After, fast, and change nothing: PostgreSQL unreachable, a statement past its bound,
 * Temporal unreachable; a stalled transaction holds up no audited write (the chain is made apart from the writers). Real PostgreSQL (a database of its own) and a
 * real Temporal client facing an address nobody serves.
 */
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { outageOf } from '../api/errors';
import { createDb, type Db } from '../db/knex';
import { recordAudit, verifyAuditChain } from '../db/audit';
import { chainAudit } from '../db/audit-chainer';
import { loadConfig } from '../domain/config';
import { publishNowSignal } from '../processes/messages';
import { freshDatabase, type TestDb } from './support/db';
import { principalWithKey } from './support/principals';

let t: TestDb;
let down: Client;
const config = { ...loadConfig(), taskQueue: 'qz-outages' };
beforeAll(async () => {
  t = await freshDatabase();
  // No retry interceptor: nothing keeps calling the closed address after the test.
  down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
}, 60000);
afterAll(async () => {
  await down?.connection.close().catch(() => undefined);
  await t?.close();
});

function expectOutage(res: request.Response, what: 'database' | 'process engine') {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
  expect(res.body.error.message).toContain(what === 'database' ? '数据库不可用' : '流程引擎不可用');
  expect(res.body.error.message).toContain(`(${what === 'database' ? 'database' : 'process engine'})`);
}

test('PostgreSQL unreachable: the public search and an authenticated request answer 503 with Retry-After within seconds', async () => {
  const admin = await principalWithKey(t.db, { name: '管理员', role: 'admin' });
  const noDb = createDb('postgres://postgres:postgres@127.0.0.1:1/none', 2, { connectTimeoutMs: 1000 });
  try {
    const app = createApp({ db: noDb, temporal: down, config });
    const t0 = Date.now();
    expectOutage(await request(app).get(`/public/enterprises?q=${encodeURIComponent('钦州港务')}`), 'database');
    expectOutage(await request(app).get('/admin/principals').set('Authorization', admin.auth), 'database');
    expect(Date.now() - t0).toBeLessThan(10_000);
    // A user's mistake is still the user's: a malformed key is 401 before anything is looked up.
    expect((await request(app).get('/admin/principals').set('Authorization', 'Bearer nonsense')).status).toBe(401);
  } finally {
    await noDb.destroy();
  }
}, 30000);

test('a stalled transaction that wrote an audit entry, and a chainer stalled on the chain head: audited writes and 401s answer at once; the chain catches up', async () => {
  const admin = await principalWithKey(t.db, { name: '管理员', role: 'admin' });
  const staff = await principalWithKey(t.db, { name: '审核员', role: 'staff' });
  const bounded: Db = createDb(t.url, 4, { lockTimeoutMs: 1000 });
  const app = createApp({ db: bounded, temporal: down, config });
  const fake = 'Bearer qzk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  await chainAudit(t.db);
  const writer = await t.db.transaction();
  const chainer = await t.db.transaction();
  try {
    // One transaction wrote its entry and went quiet; another holds the chain head, as a chainer stuck mid-way would.
    await recordAudit(writer, { actor: 'test', action: 'test.stalled', entity: 'test', id: 'stalled', article: 'E23' });
    await chainer.raw('SELECT * FROM audit_chain_head FOR UPDATE');
    const t0 = Date.now();
    const res = await request(app).post(`/admin/principals/${staff.id}/keys`).set('Authorization', admin.auth).send({ label: '备用' });
    expect(res.status).toBe(201);
    expect((await request(app).get('/admin/principals').set('Authorization', fake)).status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(2_000);
    // Only chaining waits, and a chainer's wait is bounded like any statement's (lock_timeout): an outage, not a hang.
    expect(outageOf(await chainAudit(bounded).catch((e: unknown) => e))).toBe('database');
  } finally {
    await chainer.rollback();
  }
  // The head free again: what committed is chained; the quiet writer's entry follows once it commits.
  expect(await chainAudit(bounded)).toBeGreaterThanOrEqual(2);
  await writer.commit();
  expect(await chainAudit(bounded)).toBe(1);
  expect(await bounded('audit_log').where('action', 'test.stalled').whereNotNull('seq').count({ n: '*' })).toEqual([{ n: 1 }]);
  expect((await verifyAuditChain(bounded)).ok).toBe(true);
  await bounded.destroy();
}, 30000);

test('a statement past PG_STATEMENT_TIMEOUT_MS and an unavailable Temporal are outages; a constraint violation is not', async () => {
  const bounded = createDb(t.url, 1, { statementTimeoutMs: 200 });
  try {
    const slow = await bounded.raw('SELECT pg_sleep(2)').catch((e: unknown) => e);
    expect(outageOf(slow)).toBe('database');
  } finally {
    await bounded.destroy();
  }
  const unavailable = await down.workflow
    .getHandle('nobody')
    .signal(publishNowSignal)
    .catch((e: unknown) => e);
  expect(outageOf(unavailable)).toBe('temporal');
  const duplicate = await t.db.raw(`INSERT INTO providers (id, code) SELECT id, code FROM providers LIMIT 1`).catch((e: unknown) => e);
  expect(duplicate).toBeInstanceOf(Error);
  expect(outageOf(duplicate)).toBeNull();
  expect(outageOf(new Error('something else'))).toBeNull();
}, 30000);
