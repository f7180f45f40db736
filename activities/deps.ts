import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex';

/** What the activities are made with (see worker/worker.ts). */
export interface ActivityDeps {
  db: Db;
  /** Working days from receipt to publication (E12). */
  publicationWorkingDays: number;
  /** For activities that signal or start other workflows. */
  temporal: Client;
  taskQueue: string;
}
