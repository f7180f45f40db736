import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Db } from '../db/knex';
import { createActivities } from '../activities';

export interface WorkerOptions {
  connection: NativeConnection;
  /** A client on the same cluster, for activities that signal or start workflows. */
  client: Client;
  namespace: string;
  taskQueue: string;
  db: Db;
  publicationWorkingDays: number;
}

/** Assembles the activities with their dependencies and makes a worker for the platform's task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({
      db: opts.db,
      publicationWorkingDays: opts.publicationWorkingDays,
      temporal: opts.client,
      taskQueue: opts.taskQueue,
    }),
    maxCachedWorkflows: 1000,
  });
}
