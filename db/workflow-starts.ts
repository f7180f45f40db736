import type { Db } from './knex';

/**
 * Rows whose workflow has not started yet (Temporal could not be reached when they were accepted): the reconciler
 * (`processes/starts.ts`) starts them. The workflow id is stored with each row.
 */

export async function submissionsAwaitingStart(
  db: Db,
  olderThanSeconds: number,
  limit = 500,
): Promise<Array<{ id: string; workflow_id: string }>> {
  return db('submissions')
    .whereNull('workflow_started_at')
    .where('received_at', '<', new Date(Date.now() - olderThanSeconds * 1000))
    .orderBy('received_at')
    .limit(limit)
    .select('id', 'workflow_id');
}

/** The submission's workflow has started (written once). */
export async function markSubmissionStarted(db: Db, submissionId: string): Promise<void> {
  await db('submissions').where('id', submissionId).whereNull('workflow_started_at').update({ workflow_started_at: db.fn.now() });
}

/** Accepted objections whose verification never began. */
export async function objectionsAwaitingStart(
  db: Db,
  olderThanSeconds: number,
  limit = 500,
): Promise<Array<{ id: string; workflow_id: string }>> {
  return db('objections')
    .where('state', 'accepted')
    .whereNull('verification_requested_at')
    .whereNotNull('workflow_id')
    .where('accepted_at', '<', new Date(Date.now() - olderThanSeconds * 1000))
    .orderBy('accepted_at')
    .limit(limit)
    .select('id', 'workflow_id');
}

/** Rating and judicial requests whose workflow has not started (filed while Temporal could not be reached). */
export async function requestsAwaitingStart(
  db: Db,
  kind: 'rating' | 'judicial',
  olderThanSeconds: number,
  limit = 500,
): Promise<Array<{ id: string; workflow_id: string }>> {
  const [table, at] = kind === 'rating' ? ['rating_requests', 'requested_at'] : ['judicial_requests', 'received_at'];
  return db(table)
    .whereNull('workflow_started_at')
    .where(at, '<', new Date(Date.now() - olderThanSeconds * 1000))
    .orderBy(at)
    .limit(limit)
    .select('id', 'workflow_id');
}

/** The request's workflow has started (written once). */
export async function markRequestStarted(db: Db, kind: 'rating' | 'judicial', id: string): Promise<void> {
  await db(kind === 'rating' ? 'rating_requests' : 'judicial_requests')
    .where('id', id)
    .whereNull('workflow_started_at')
    .update({ workflow_started_at: db.fn.now() });
}

/** The obligations whose workflow has started (written once). */
export async function markObligationsStarted(db: Db, ids: number[]): Promise<void> {
  await db('obligations').whereIn('id', ids).whereNull('workflow_started_at').update({ workflow_started_at: db.fn.now() });
}

/** The compliance case's workflow has started (written once). */
export async function markComplianceCaseStarted(db: Db, caseId: string): Promise<void> {
  await db('compliance_cases').where('id', caseId).whereNull('workflow_started_at').update({ workflow_started_at: db.fn.now() });
}

/** The obligation a batch fulfils (its provider and period), if one is open. */
export async function obligationOfSubmission(db: Db, submissionId: string): Promise<{ workflowId: string; state: string } | undefined> {
  const o = await db('submissions as s')
    .join('obligations as o', function () {
      this.on('o.provider_id', 's.provider_id').andOn('o.period', 's.period');
    })
    .where('s.id', submissionId)
    .first('o.workflow_id', 'o.state');
  return o && { workflowId: o.workflow_id, state: o.state };
}
