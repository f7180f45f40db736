import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex';
import { obligationSubmissionHook } from '../activities/obligations';

export interface AcceptedSubmission {
  submissionId: string;
  providerId: number;
  providerCode: string;
  period: string;
  receivedAt: string;
}

export interface HookDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
}

/**
 * What else happens when a batch is accepted (after it is committed and its workflow started), e.g. telling the
 * reporting obligation of that provider and period that it is fulfilled. The database is the source of truth:
 * a hook that fails is logged and the processes it would have told read the database themselves.
 */
export type SubmissionHook = (deps: HookDeps, s: AcceptedSubmission) => Promise<void>;

export const SUBMISSION_HOOKS: SubmissionHook[] = [];

// Reporting obligations (E7, P9): the batch fulfils the obligation of its provider and period.
SUBMISSION_HOOKS.push((deps, s) => obligationSubmissionHook(deps, s));

export async function runSubmissionHooks(deps: HookDeps, s: AcceptedSubmission): Promise<void> {
  for (const hook of SUBMISSION_HOOKS) {
    try {
      await hook(deps, s);
    } catch (e) {
      // eslint-disable-next-line no-console
      console.error(`[api] after-submission step for ${s.submissionId} failed (the database still holds it):`, (e as Error).message);
    }
  }
}
