/**
 * Caches that follow changes (db/changes.ts): while a process listens, a known API key and the working-day
 * calendar cost no query; a revocation, a deactivation or a calendar change made by any process (another pool
 * here, as another API process would) is in force at once; a lost listening connection turns the caches off
 * until it is back. On PostgreSQL (LISTEN/NOTIFY through the triggers of migration 0007) with the whole
 * platform in process.
 */
import net from 'node:net';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { eventually } from './support/wait';
import { createDb, type Db } from '../db/knex';
import { startChangeFeed, liveFeed, feedState, type ChangeFeed } from '../db/changes';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';
import { loadCalendar } from '../db/calendar';

let p: TestPlatform;
let feed: ChangeFeed;
let other: Db; // another process's pool
const selects = { api_keys: 0, calendar_years: 0 };

beforeAll(async () => {
  p = await startTestPlatform();
  other = createDb(p.url, 2);
  p.db.on('query', (q: { sql: string }) => {
    if (/^select .* from "api_keys"/i.test(q.sql)) selects.api_keys++;
    if (/^select .* from "?calendar_years"?/i.test(q.sql)) selects.calendar_years++;
  });
  feed = await startChangeFeed(p.db);
}, 120000);
afterAll(async () => {
  await feed?.stop();
  await other?.destroy();
  await p?.stop();
});

const listing = (auth: string) => request(p.app).get('/admin/principals').set('Authorization', auth);

test('a known key costs no query while the process listens', async () => {
  expect(liveFeed(p.db)).toBe(feed);
  const admin = await principalWithKey(p.db, { name: '缓存管理员', role: 'admin' });
  expect((await listing(admin.auth)).status).toBe(200);
  const before = selects.api_keys;
  for (let i = 0; i < 5; i++) expect((await listing(admin.auth)).status).toBe(200);
  expect(selects.api_keys).toBe(before);
  // The secret is still checked on every request: the right prefix with another secret is refused.
  const wrong = admin.auth.slice(0, -4) + (admin.auth.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  expect((await listing(wrong)).status).toBe(401);
});

test('a key revoked through the API is refused at once', async () => {
  const admin = await principalWithKey(p.db, { name: '吊销管理员', role: 'admin' });
  const victim = await principalWithKey(p.db, { name: '将被吊销', role: 'admin' });
  expect((await listing(victim.auth)).status).toBe(200);
  const key = await p.db('api_keys').where('principal_id', victim.id).first('id');
  expect((await request(p.app).post(`/admin/keys/${key.id}/revoke`).set('Authorization', admin.auth)).status).toBe(200);
  const refused = await listing(victim.auth);
  expect(refused.status).toBe(401);
  expect(refused.body.error.message).toMatch(/已吊销/);
});

test('a key revoked or a principal deactivated by another process is refused as soon as the notice arrives', async () => {
  const a = await principalWithKey(p.db, { name: '别处吊销', role: 'admin' });
  const b = await principalWithKey(p.db, { name: '别处停用', role: 'admin' });
  expect((await listing(a.auth)).status).toBe(200);
  expect((await listing(b.auth)).status).toBe(200);
  const cached = selects.api_keys;
  expect((await listing(a.auth)).status).toBe(200);
  expect(selects.api_keys).toBe(cached); // served from the cache: only the notice can change the answer

  await other('api_keys').where('principal_id', a.id).update({ revoked_at: other.fn.now() });
  await eventually(async () => (await listing(a.auth)).status === 401, 'the revocation to be in force', 2000, 20);
  await other('principals').where('id', b.id).update({ active: false });
  await eventually(async () => (await listing(b.auth)).status === 401, 'the deactivation to be in force', 2000, 20);
});

test('the calendar costs no query while unchanged; a holiday loaded elsewhere is in force as soon as the notice arrives', async () => {
  const first = await loadCalendar(p.db);
  const before = selects.calendar_years;
  expect(await loadCalendar(p.db)).toBe(first);
  expect(selects.calendar_years).toBe(before);

  const day = '2026-12-15'; // a Tuesday
  expect(first.isWorkingDay(day)).toBe(true);
  await other('calendar_days').insert({ day, year: 2026, kind: 'holiday', name: '测试假日 test holiday' });
  try {
    await eventually(async () => !(await loadCalendar(p.db)).isWorkingDay(day), 'the new holiday', 2000, 20);
  } finally {
    await other('calendar_days').where({ day }).delete();
  }
  await eventually(async () => (await loadCalendar(p.db)).isWorkingDay(day), 'the holiday removed', 2000, 20);
});

test('a lost listening connection turns the caches off until it is back', async () => {
  const admin = await principalWithKey(p.db, { name: '断线管理员', role: 'admin' });
  expect((await listing(admin.auth)).status).toBe(200);
  await other.raw(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'qinzhou-credit-changes' AND datname = current_database()`,
  );
  await eventually(async () => liveFeed(p.db) === null, 'the feed to notice the loss', 5000, 10);

  // Meanwhile every request reads the key, so a revocation nobody could hear is in force at once.
  const n = selects.api_keys;
  expect((await listing(admin.auth)).status).toBe(200);
  expect(selects.api_keys).toBe(n + 1);
  const victim = await principalWithKey(p.db, { name: '断线期间吊销', role: 'admin' });
  expect((await listing(victim.auth)).status).toBe(200);
  if (liveFeed(p.db) === null) {
    await other('api_keys').where('principal_id', victim.id).update({ revoked_at: other.fn.now() });
    expect((await listing(victim.auth)).status).toBe(401);
  }

  // It reconnects by itself, with empty caches.
  await eventually(async () => liveFeed(p.db) !== null, 'the feed to listen again', 10000, 50);
  const m = selects.api_keys;
  expect((await listing(admin.auth)).status).toBe(200);
  expect((await listing(admin.auth)).status).toBe(200);
  expect(selects.api_keys).toBe(m + 1);
});

/** A TCP relay to PostgreSQL whose open connections can be stalled (nothing forwarded, nothing closed). */
async function stallableRelay(target: URL) {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  const server = net.createServer((c) => {
    const u = net.connect(Number(target.port), target.hostname);
    for (const s of [c, u]) s.on('error', () => undefined);
    c.pipe(u);
    u.pipe(c);
    pairs.push([c, u]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target.toString());
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: url.toString(),
    /** The connections open now stop forwarding either way (as a black-holed path would); new ones work. */
    stall() {
      for (const [c, u] of pairs.splice(0)) {
        c.unpipe(u);
        u.unpipe(c);
        c.pause();
        u.pause();
        stalled.push(c, u);
      }
    },
    async close() {
      for (const [c, u] of pairs) stalled.push(c, u);
      for (const s of stalled) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
const stalled: net.Socket[] = [];

test('a listening connection that stalls without failing is found by its heartbeat: caches off, readiness says lost, a revocation in force at once; it listens again', async () => {
  const relay = await stallableRelay(new URL(p.url));
  const db2 = createDb(p.url, 4); // a second API process: its own pool, its feed through the relay
  const feed2 = await startChangeFeed(db2, undefined, { connectionString: relay.url, heartbeatMs: 100, heartbeatTimeoutMs: 300 });
  const app2 = createApp({ db: db2, temporal: p.env.client, config: { ...loadConfig(), taskQueue: p.taskQueue } });
  try {
    const admin = await principalWithKey(p.db, { name: '静默断线管理员', role: 'admin' });
    const victim = await principalWithKey(p.db, { name: '静默断线期间吊销', role: 'admin' });
    const list2 = (auth: string) => request(app2).get('/admin/principals').set('Authorization', auth);
    expect((await list2(victim.auth)).status).toBe(200); // cached in the second process
    // Heartbeats come back while the path works.
    await new Promise((r) => setTimeout(r, 500));
    expect(feedState(db2)).toBe('listening');
    expect((await request(app2).get('/health/ready')).body.change_feed).toBe('listening');

    relay.stall();
    // Revoked through the first process: the second cannot hear it, and its heartbeat goes unanswered.
    const key = await p.db('api_keys').where('principal_id', victim.id).first('id');
    expect((await request(p.app).post(`/admin/keys/${key.id}/revoke`).set('Authorization', admin.auth)).status).toBe(200);
    await eventually(async () => feedState(db2) === 'lost', 'the heartbeat to find the stall', 3000, 20);
    expect(feed2.lastLoss).toMatch(/no heartbeat heard back/);
    expect((await request(app2).get('/health/ready')).body.change_feed).toBe('lost');
    expect((await list2(victim.auth)).status).toBe(401);

    // A new connection through the relay works: the feed listens again, with empty caches.
    await eventually(async () => feedState(db2) === 'listening', 'the feed to listen again', 10000, 50);
    expect((await list2(admin.auth)).status).toBe(200);
  } finally {
    await feed2.stop();
    await db2.destroy();
    await relay.close();
  }
});
