import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit, systemActor } from '../db/audit';
import { notify } from '../db/notifications';
import { isoInstant } from '../db/time';
import { querySettings } from '../domain/config';
import { ratingRequestDecided, ratingRequestLapsed, ratingRequestPending } from '../domain/notices/rating-requests';
import { settleWithCalendar } from './calendar';
import { settleRatingDeadline } from '../db/deadlines';
import type { ActivityDeps } from './deps';

export interface RatingDeadline {
  requestId: string;
  decisionDeadline: string;
  /** End of the deadline day (ISO instant): the request lapses when it is still undecided then. */
  dueAt: string;
  /** A year on the way has no calendar: the earliest the deadline can be; the request does not lapse on it. */
  provisional?: boolean;
}

export interface RatingDecisionInput {
  requestId: string;
  approve: boolean;
  reason: string;
  staffPrincipalId: string;
  staffActor: string;
  /** The decision's instant (workflow time, ISO). */
  decidedAt: string;
}

export interface RatingDecisionResult {
  requestId: string;
  status: 'requested' | 'approved' | 'rejected' | 'lapsed';
  decidedAt: string | null;
  validUntil: string | null;
}

/** Rating-agency requests (E14(3)): the staff's decision deadline, the decision, the lapse. */
export const ratingRequestActivities = (deps: ActivityDeps) => ({
  /**
   * Computes and stores the staff's decision deadline of a rating request (provisional while a year on the way has
   * no calendar: the request never lapses on it) and tells staff a request waits, in one transaction.
   */
  async ratingRequestOpen(requestId: string): Promise<RatingDeadline> {
    const what = `评级机构查询申请 ${requestId} 的审批期限 / the decision deadline of rating request ${requestId}`;
    const d = await settleWithCalendar(deps.db, what, (calendar) =>
      deps.db.transaction(async (trx) => {
        const settled = await settleRatingDeadline(trx, calendar, requestId, querySettings().ratingDecisionWorkingDays);
        if (!settled) return null;
        const r = await trx('rating_requests as r')
          .join('principals as p', 'p.id', 'r.agency_principal_id')
          .where('r.id', requestId)
          .first('r.*', 'p.name as agency_name');
        await notify(trx, {
          to: { role: 'staff' },
          ...ratingRequestPending({
            organization: r.organization,
            agencyName: r.agency_name,
            subjectUscc: r.subject_uscc,
            categories: r.categories as string[],
            decisionDeadline: r.decision_deadline,
            provisional: settled.provisional,
            pendingYear: settled.pendingYear,
          }),
          entity: 'rating_request',
          entityId: requestId,
          data: { subject_uscc: r.subject_uscc, decision_deadline: r.decision_deadline, provisional: settled.provisional },
          dedupeKey: `rating-request:${requestId}:pending`,
        });
        return settled;
      }),
    );
    if (!d) throw ApplicationFailure.nonRetryable(`rating request ${requestId} not found`, 'RatingRequestNotFound');
    return { requestId, decisionDeadline: d.decisionDeadline, dueAt: d.dueAt, provisional: d.provisional };
  },

  /** Staff approve or reject a rating request (once); the agency is told. */
  async ratingRequestDecide(input: RatingDecisionInput): Promise<RatingDecisionResult> {
    const validDays = querySettings().ratingApprovalValidDays;
    const result = await deps.db.transaction(async (trx) => {
      const cur = await trx('rating_requests').where('id', input.requestId).forUpdate().first();
      if (!cur) throw ApplicationFailure.nonRetryable(`rating request ${input.requestId} not found`, 'RatingRequestNotFound');
      if (cur.status !== 'requested')
        return {
          requestId: input.requestId,
          status: cur.status,
          decidedAt: isoInstant(cur.decided_at),
          validUntil: isoInstant(cur.valid_until),
          fresh: false,
        };
      const status = input.approve ? 'approved' : 'rejected';
      const validUntil = input.approve ? new Date(Date.parse(input.decidedAt) + validDays * 86_400_000).toISOString() : null;
      await trx('rating_requests').where({ id: input.requestId, status: 'requested' }).update({
        status,
        decided_at: input.decidedAt,
        decided_by: input.staffPrincipalId,
        decision_reason: input.reason,
        valid_until: validUntil,
      });
      await recordAudit(trx, {
        principalId: input.staffPrincipalId,
        actor: input.staffActor,
        action: input.approve ? 'rating_request.approve' : 'rating_request.reject',
        entity: 'rating_request',
        id: input.requestId,
        article: 'E14(3)',
        detail: { reason: input.reason, valid_until: validUntil },
      });
      return {
        requestId: input.requestId,
        status,
        decidedAt: input.decidedAt,
        validUntil,
        fresh: true,
        agency: cur.agency_principal_id as string,
        subject: cur.subject_uscc as string,
      };
    });
    if ('agency' in result) {
      await notify(deps.db, {
        to: { principalId: result.agency! },
        ...ratingRequestDecided({
          approve: input.approve,
          subjectUscc: result.subject!,
          validUntil: result.validUntil,
          reason: input.reason,
        }),
        entity: 'rating_request',
        entityId: input.requestId,
        dedupeKey: `rating-request:${input.requestId}:decided`,
      });
    }
    return { requestId: result.requestId, status: result.status, decidedAt: result.decidedAt, validUntil: result.validUntil };
  },

  /** An undecided rating request lapses at its deadline; the agency is told. */
  async ratingRequestLapse(requestId: string): Promise<RatingDecisionResult> {
    const lapsed = await deps.db.transaction(async (trx) => {
      const rows = await trx('rating_requests')
        .where({ id: requestId, status: 'requested' })
        .update({ status: 'lapsed' })
        .returning(['agency_principal_id', 'subject_uscc', 'decision_deadline']);
      if (rows.length) {
        await recordAudit(trx, {
          actor: systemActor('queries'),
          action: 'rating_request.lapse',
          entity: 'rating_request',
          id: requestId,
          article: 'E14(3)',
          detail: { decision_deadline: rows[0].decision_deadline },
        });
      }
      return rows[0] as { agency_principal_id: string; subject_uscc: string; decision_deadline: string } | undefined;
    });
    if (lapsed) {
      await notify(deps.db, {
        to: { principalId: lapsed.agency_principal_id },
        ...ratingRequestLapsed({ subjectUscc: lapsed.subject_uscc, decisionDeadline: lapsed.decision_deadline }),
        entity: 'rating_request',
        entityId: requestId,
        dedupeKey: `rating-request:${requestId}:lapsed`,
      });
    }
    const cur = await deps.db('rating_requests').where('id', requestId).first('status', 'decided_at', 'valid_until');
    return { requestId, status: cur.status, decidedAt: isoInstant(cur.decided_at), validUntil: isoInstant(cur.valid_until) };
  },
});
