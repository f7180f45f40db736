/**
 * Health for a load balancer: `/health` answers while the process runs; `/health/ready` says whether this
 * process reaches PostgreSQL and Temporal (503 naming what is down) and whether it hears change notices.
 */
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { createApp } from '../api/app';
import { createDb } from '../db/knex';
import { startChangeFeed } from '../db/changes';
import { loadConfig } from '../domain/config';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
}, 120000);
afterAll(() => p?.stop());

test('ready when PostgreSQL and Temporal answer; the change feed is reported', async () => {
  expect((await request(p.app).get('/health')).body).toEqual({ status: 'ok' });
  const res = await request(p.app).get('/health/ready');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ status: 'ready', database: 'ok', temporal: 'ok', change_feed: 'off', warnings: [] });
  expect(res.headers['cache-control']).toBe('no-store');
  const feed = await startChangeFeed(p.db);
  try {
    expect((await request(p.app).get('/health/ready')).body.change_feed).toBe('listening');
  } finally {
    await feed.stop();
  }
});

test('not ready, naming what is down: a database nobody listens on, a Temporal address nobody serves', async () => {
  const config = { ...loadConfig(), taskQueue: p.taskQueue };
  const noDb = createDb('postgres://postgres:postgres@127.0.0.1:1/none', 1);
  // No retry interceptor: nothing keeps calling the closed channel after the test.
  const noTemporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
  try {
    const a = await request(createApp({ db: noDb, temporal: p.env.client, config })).get('/health/ready');
    expect(a.status).toBe(503);
    expect(a.body).toMatchObject({ status: 'not_ready', database: 'down', temporal: 'ok' });
    const b = await request(createApp({ db: p.db, temporal: noTemporal, config })).get('/health/ready');
    expect(b.status).toBe(503);
    expect(b.body).toMatchObject({ status: 'not_ready', database: 'ok', temporal: 'down' });
  } finally {
    await noDb.destroy();
    await noTemporal.connection.close().catch(() => undefined);
  }
}, 30000);
