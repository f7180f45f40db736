import crypto from 'node:crypto';
import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn, isoInstant, type Conn } from './time';
import { ratingWorkflowId } from '../domain/workflow-ids';
import { querierActor, type QuerierInfo } from '../domain/querier';
import type { RatingApprovalFacts } from '../domain/access';

/**
 * A rating agency's request to query an enterprise's restricted information (E14(3)), decided by staff by a
 * deadline (its workflow: workflows/query.ts; its steps: activities/rating-requests.ts).
 */

export const RATING_REQUEST_STATUSES = ['requested', 'approved', 'rejected', 'lapsed'] as const;

export const ratingColumns = (db: Conn) => [
  'r.id',
  'r.agency_principal_id',
  'p.name as agency_name',
  'r.organization',
  'r.subject_uscc',
  'r.categories',
  'r.purpose',
  'r.status',
  isoColumn(db, 'r.requested_at'),
  'r.decision_deadline',
  isoColumn(db, 'r.decision_due_at'),
  db.raw('(r.calendar_pending_year IS NOT NULL) AS decision_deadline_provisional'),
  isoColumn(db, 'r.decided_at'),
  'r.decision_reason',
  isoColumn(db, 'r.valid_until'),
  'r.workflow_id',
];

export async function createRatingRequest(
  db: Db,
  q: QuerierInfo,
  r: { subjectUscc: string; categories: string[]; purpose: string },
): Promise<{ id: string; workflowId: string }> {
  const id = crypto.randomUUID();
  const workflowId = ratingWorkflowId(id);
  await db.transaction(async (trx) => {
    // requested_at from the application's clock: the decision deadline counts from it.
    await trx('rating_requests').insert({
      id,
      agency_principal_id: q.id,
      organization: q.organization,
      subject_uscc: r.subjectUscc,
      categories: r.categories,
      purpose: r.purpose,
      requested_at: new Date(),
      workflow_id: workflowId,
    });
    await recordAudit(trx, {
      principalId: q.id,
      actor: querierActor(q),
      action: 'rating_request.file',
      entity: 'rating_request',
      id,
      article: 'E14(3)',
      detail: { subject_uscc: r.subjectUscc, categories: r.categories },
    });
  });
  return { id, workflowId };
}

/** Requests with their agency; only this agency's with `agencyPrincipalId` (a rating agency sees its own only). */
const visible = (db: Conn, agencyPrincipalId: string | undefined) =>
  db('rating_requests as r')
    .join('principals as p', 'p.id', 'r.agency_principal_id')
    .modify((b) => {
      if (agencyPrincipalId) b.where('r.agency_principal_id', agencyPrincipalId);
    });

export interface RatingRequestFilter {
  agencyPrincipalId?: string;
  status?: string;
  limit: number;
  offset: number;
}

export async function listRatingRequests(db: Conn, f: RatingRequestFilter): Promise<Record<string, unknown>[]> {
  return visible(db, f.agencyPrincipalId)
    .modify((b) => {
      if (f.status) b.where('r.status', f.status);
    })
    .orderBy('r.requested_at', 'desc')
    .limit(f.limit)
    .offset(f.offset)
    .select(ratingColumns(db));
}

/** One request; undefined when there is none or (with `agencyPrincipalId`) it is another agency's. */
export async function getRatingRequest(db: Conn, id: string, agencyPrincipalId?: string) {
  return visible(db, agencyPrincipalId).where('r.id', id).first(ratingColumns(db));
}

/** A request as a query's basis (an approval of staff, E14(3)). */
export async function ratingApprovalBasis(db: Conn, id: string): Promise<RatingApprovalFacts | null> {
  const row = await db('rating_requests').where('id', id).first();
  return row
    ? {
        id: row.id,
        agencyPrincipalId: row.agency_principal_id,
        subjectUscc: row.subject_uscc,
        categories: row.categories,
        status: row.status,
        validUntil: isoInstant(row.valid_until),
      }
    : null;
}
