import type { Express } from 'express';
import type request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { loadConfig } from '../../domain/config';
import type { TestPlatform } from './platform';

/**
 * The same API and database as `p`, facing a Temporal nobody serves (no retry interceptor: nothing keeps calling the
 * closed address after the test). `close` ends its connection.
 */
export function offlineApp(p: TestPlatform): { app: Express; close: () => Promise<void> } {
  const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
  return {
    app: createApp({ db: p.db, temporal: down, config: { ...loadConfig(), taskQueue: p.taskQueue } }),
    close: () => down.connection.close().catch(() => undefined),
  };
}

/** A 503 for Temporal, with Retry-After, in Chinese and English. */
export function expectProcessEngineOutage(res: request.Response): void {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
  expect(res.body.error.message).toContain('流程引擎不可用');
  expect(res.body.error.message).toContain('(process engine)');
}
