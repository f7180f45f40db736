import crypto from 'node:crypto';
import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn, type Conn } from './time';
import { judicialWorkflowId } from '../domain/workflow-ids';
import { querierActor, type QuerierInfo } from '../domain/querier';
import type { JudicialRequestFacts } from '../domain/access';

/**
 * A judicial body's query request, answered by staff within 3 working days (E14(4), P13) (its workflow:
 * workflows/query.ts; its steps: activities/judicial-requests.ts).
 */

export const JUDICIAL_REQUEST_STATUSES = ['pending', 'answered', 'rejected'] as const;

export const judicialColumns = (db: Conn) => [
  'j.id',
  'j.requester_principal_id',
  'p.name as requester_name',
  'j.organization',
  'j.subject_type',
  'j.subject_id',
  'j.categories',
  'j.case_no',
  'j.purpose',
  'j.document_id',
  isoColumn(db, 'j.received_at'),
  'j.receipt_date',
  'j.answer_due',
  isoColumn(db, 'j.due_at'),
  db.raw('(j.calendar_pending_year IS NOT NULL) AS answer_due_provisional'),
  'j.alert_date',
  isoColumn(db, 'j.alerted_at'),
  isoColumn(db, 'j.overdue_at'),
  'j.status',
  isoColumn(db, 'j.answered_at'),
  'j.answer_reason',
  'j.query_log_id',
  'j.met',
  'j.workflow_id',
];

export async function createJudicialRequest(
  db: Db,
  q: QuerierInfo,
  r: {
    subjectType: 'enterprise' | 'person';
    subjectId: string;
    categories: string[] | null;
    caseNo: string;
    purpose: string;
    documentId: string;
  },
): Promise<{ id: string; workflowId: string }> {
  const id = crypto.randomUUID();
  const workflowId = judicialWorkflowId(id);
  await db.transaction(async (trx) => {
    await trx('judicial_requests').insert({
      id,
      requester_principal_id: q.id,
      organization: q.organization,
      subject_type: r.subjectType,
      subject_id: r.subjectId,
      categories: r.categories,
      case_no: r.caseNo,
      purpose: r.purpose,
      document_id: r.documentId,
      // The application's clock: the 3 working days count from it.
      received_at: new Date(),
      workflow_id: workflowId,
    });
    await recordAudit(trx, {
      principalId: q.id,
      actor: querierActor(q),
      action: 'judicial_request.file',
      entity: 'judicial_request',
      id,
      article: r.subjectType === 'enterprise' ? 'E14(4)' : 'P13',
      detail: { subject_type: r.subjectType, subject_id: r.subjectId, case_no: r.caseNo, document_id: r.documentId },
    });
  });
  return { id, workflowId };
}

/** Requests with their requester; only this body's with `requesterPrincipalId` (a judicial body sees its own only). */
const visible = (db: Conn, requesterPrincipalId: string | undefined) =>
  db('judicial_requests as j')
    .join('principals as p', 'p.id', 'j.requester_principal_id')
    .modify((b) => {
      if (requesterPrincipalId) b.where('j.requester_principal_id', requesterPrincipalId);
    });

export interface JudicialRequestFilter {
  requesterPrincipalId?: string;
  status?: string;
  limit: number;
  offset: number;
}

export async function listJudicialRequests(db: Conn, f: JudicialRequestFilter): Promise<Record<string, unknown>[]> {
  return visible(db, f.requesterPrincipalId)
    .modify((b) => {
      if (f.status) b.where('j.status', f.status);
    })
    .orderBy('j.received_at', 'desc')
    .limit(f.limit)
    .offset(f.offset)
    .select(judicialColumns(db));
}

/** One request; undefined when there is none or (with `requesterPrincipalId`) it is another body's. */
export async function getJudicialRequest(db: Conn, id: string, requesterPrincipalId?: string) {
  return visible(db, requesterPrincipalId).where('j.id', id).first(judicialColumns(db));
}

/** A request as the basis of the query that answers it, with its proof of duty. */
export async function judicialRequestBasis(
  db: Conn,
  id: string,
): Promise<{ request: JudicialRequestFacts | null; documentId: string | null; documentSha256: string | null }> {
  const row = await db('judicial_requests as j')
    .leftJoin('documents as d', 'd.id', 'j.document_id')
    .where('j.id', id)
    .first('j.*', 'd.sha256');
  return {
    request: row
      ? { id: row.id, requesterPrincipalId: row.requester_principal_id, subjectType: row.subject_type, subjectId: row.subject_id }
      : null,
    documentId: row?.document_id ?? null,
    documentSha256: row?.sha256 ?? null,
  };
}
