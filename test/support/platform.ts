import type { Express } from 'express';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import { loadConfig } from '../../domain/config';
import { freshDatabase, type TestDb } from './db';
import { timeSkippingEnv, uniqueTaskQueue, realWorker } from './temporal';

export interface TestPlatform extends TestDb {
  env: TestWorkflowEnvironment;
  app: Express;
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * The API and a worker with the real activities, on a database of its own and the Temporal time-skipping
 * test server: the whole platform, in process.
 */
export async function startTestPlatform(): Promise<TestPlatform> {
  const t = await freshDatabase();
  const env = await timeSkippingEnv();
  const taskQueue = uniqueTaskQueue('api');
  const config = { ...loadConfig(), taskQueue };
  const worker = await realWorker(env, t.db, taskQueue);
  const running = worker.run();
  const app = createApp({ db: t.db, temporal: env.client, config });
  return {
    ...t,
    env,
    app,
    taskQueue,
    worker,
    stop: async () => {
      worker.shutdown();
      await running;
      await env.teardown();
      await t.close();
    },
  };
}
