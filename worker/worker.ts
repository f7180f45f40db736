import fs from 'node:fs';
import path from 'node:path';
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

/**
 * The workflow code a worker runs: compiled (dist/, `npm run build`), the bundle prebuilt beside it
 * (dist/workflow-bundle.js); run from the sources (tsx, jest) or compiled without it, workflows/ bundled at start.
 */
export function workflowCode(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const prebuilt = path.join(__dirname, '..', 'workflow-bundle.js');
  if (__filename.endsWith('.js') && fs.existsSync(prebuilt)) return { workflowBundle: { codePath: prebuilt } };
  return { workflowsPath: require.resolve('../workflows') };
}

/** Assembles the activities with their dependencies and makes a worker for the platform's task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflowCode(),
    activities: createActivities({
      db: opts.db,
      publicationWorkingDays: opts.publicationWorkingDays,
      temporal: opts.client,
      taskQueue: opts.taskQueue,
    }),
    maxCachedWorkflows: 1000,
  });
}
