/**
 * Outages answer 503 with Retry-After, fast, and change nothing: PostgreSQL unreachable, a stalled transaction
 * holding the audit chain's lock (lock_timeout), Temporal unreachable. Real PostgreSQL (a database of its own) and a
 * real Temporal client facing an address nobody serves.
 */
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { outageOf } from '../api/errors';
import { createDb, type Db } from '../db/knex';
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

test('a stalled transaction holding the audit chain: an audited write waits PG_LOCK_TIMEOUT_MS at most, answers 503 and stores nothing', async () => {
  const admin = await principalWithKey(t.db, { name: '管理员', role: 'admin' });
  const staff = await principalWithKey(t.db, { name: '审核员', role: 'staff' });
  const bounded: Db = createDb(t.url, 4, { lockTimeoutMs: 1000 });
  const keysBefore = await t.db('api_keys').where('principal_id', staff.id).count({ n: '*' });
  const stalled = await t.db.transaction();
  try {
    await stalled.raw('SELECT * FROM audit_chain_head FOR UPDATE');
    const app = createApp({ db: bounded, temporal: down, config });
    const t0 = Date.now();
    const res = await request(app).post(`/admin/principals/${staff.id}/keys`).set('Authorization', admin.auth).send({ label: '备用' });
    expectOutage(res, 'database');
    expect(Date.now() - t0).toBeLessThan(5_000);
    // Reads go on: they take no audit lock.
    expect((await request(app).get(`/admin/principals/${staff.id}`).set('Authorization', admin.auth)).status).toBe(200);
  } finally {
    await stalled.rollback();
  }
  expect(await t.db('api_keys').where('principal_id', staff.id).count({ n: '*' })).toEqual(keysBefore);
  // The lock released: the same write goes through.
  const app = createApp({ db: bounded, temporal: down, config });
  expect(
    (await request(app).post(`/admin/principals/${staff.id}/keys`).set('Authorization', admin.auth).send({ label: '备用' })).status,
  ).toBe(201);
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
