import type { Express } from 'express';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import { loadConfig } from '../../domain/config';
import { freshDatabase, type TestDb } from './db';
import { timeSkippingEnv, uniqueTaskQueue, realWorker, stopAll } from './temporal';
import { coverYearsAround } from './calendar';

export interface TestPlatform extends TestDb {
  env: TestWorkflowEnvironment;
  app: Express;
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  /**
   * Give the years around the test server's clock that no shipped calendar covers a test-fixture calendar
   * (test/support/calendar.ts), so that what the tests do "now" counts working days the same on any date. Default
   * true; a test of a missing year passes false or removes the year itself.
   */
  coverCalendarAroundNow?: boolean;
  /** A database of the test's own making (e.g. connected as the runtime role); by default a clone of the template. */
  database?: TestDb;
}

/**
 * The API and a worker with the real activities, on a database of its own and the Temporal time-skipping
 * test server: the whole platform, in process. `stop` always tears everything down, in order, each step bounded.
 */
export async function startTestPlatform(opts: TestPlatformOptions = {}): Promise<TestPlatform> {
  const t = opts.database ?? (await freshDatabase());
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const stop = () => stopAll([worker && running ? { worker, running } : undefined], env, t);
  try {
    env = await timeSkippingEnv();
    if (opts.coverCalendarAroundNow !== false) await coverYearsAround(t.db, await env.currentTimeMs());
    const taskQueue = uniqueTaskQueue('api');
    const config = { ...loadConfig(), taskQueue };
    worker = await realWorker(env, t.db, taskQueue);
    running = worker.run();
    const app = createApp({ db: t.db, temporal: env.client, config });
    return { ...t, env, app, taskQueue, worker, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
