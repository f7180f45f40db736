import { ApplicationFailure } from '@temporalio/activity';
import { recordAudit, systemActor } from '../db/audit';
import { notify } from '../db/notifications';
import { runQuery } from '../db/query-log';
import { isoInstant } from '../db/time';
import { shanghaiStartOfDay } from '../domain/calendar';
import {
  judicialRequestAnswered,
  judicialRequestDueSoon,
  judicialRequestOverdue,
  judicialRequestProvisionalDue,
  judicialRequestReceived,
} from '../domain/notices/judicial-requests';
import { querierOf } from '../domain/querier';
import type { Principal } from '../domain/roles';
import { settleWithCalendar } from './calendar';
import { settleJudicialSchedule } from '../db/deadlines';
import type { ActivityDeps } from './deps';

import { JUDICIAL_ANSWER_WORKING_DAYS, JUDICIAL_ALERT_WORKING_DAYS_BEFORE } from '../domain/access';

export interface JudicialSchedule {
  requestId: string;
  receiptDate: string;
  /** The 3rd working day after the day of receipt; its end (ISO instant) is the deadline. */
  answerDue: string;
  dueAt: string;
  /** The working day before the due date, and the instant staff are alerted (09:00 that day, Shanghai). */
  alertDate: string;
  alertAt: string;
  /** A year on the way has no calendar: the earliest the deadline can be (the platform answers by it; it is not recorded as missed on it). */
  provisional?: boolean;
}

export interface JudicialAnswerInput {
  requestId: string;
  decision: 'answer' | 'reject';
  reason: string | null;
  staffPrincipalId: string;
  staffActor: string;
  /** The answer's instant (workflow time, ISO): it decides whether the deadline was met. */
  answeredAt: string;
}

export interface JudicialAnswerResult {
  requestId: string;
  status: 'answered' | 'rejected';
  /** Null: answered after a provisional deadline, decided when the year is loaded. */
  met: boolean | null;
  answeredAt: string;
  queryLogId: number | null;
  itemCount: number;
}

async function principalById(deps: ActivityDeps, id: string): Promise<Principal> {
  const row = await deps.db('principals').where('id', id).first();
  if (!row) throw ApplicationFailure.nonRetryable(`principal ${id} not found`, 'PrincipalNotFound');
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    providerId: row.provider_id,
    providerCode: null,
    enterpriseUscc: row.enterprise_uscc,
    personId: row.person_id,
    organization: row.organization,
  };
}

/** Judicial requests (E14(4), P13): the 3-working-day schedule, the alert, the missed deadline, the answer. */
export const judicialRequestActivities = (deps: ActivityDeps) => ({
  /**
   * The answer deadline of a judicial request: the 3rd working day after receipt (E14.4, P13), provisional (the
   * earliest it can be) while a year on the way has no calendar; staff are told, in the same transaction.
   */
  async judicialRequestOpen(requestId: string): Promise<JudicialSchedule> {
    const what = `司法查询申请 ${requestId} 的答复期限 / the answer deadline of judicial request ${requestId}`;
    const s = await settleWithCalendar(deps.db, what, (calendar) =>
      deps.db.transaction(async (trx) => {
        const settled = await settleJudicialSchedule(
          trx,
          calendar,
          requestId,
          JUDICIAL_ANSWER_WORKING_DAYS,
          JUDICIAL_ALERT_WORKING_DAYS_BEFORE,
        );
        if (!settled) return null;
        const jr = await trx('judicial_requests').where('id', requestId).first();
        await notify(trx, {
          to: { role: 'staff' },
          ...judicialRequestReceived({
            organization: jr.organization,
            caseNo: jr.case_no,
            subjectType: jr.subject_type,
            subjectId: jr.subject_id,
            answerDue: jr.answer_due,
            provisional: settled.provisional,
            pendingYear: settled.pendingYear,
          }),
          entity: 'judicial_request',
          entityId: requestId,
          data: { answer_due: jr.answer_due, provisional: settled.provisional },
          dedupeKey: `judicial-request:${requestId}:received`,
        });
        return settled;
      }),
    );
    if (!s) throw ApplicationFailure.nonRetryable(`judicial request ${requestId} not found`, 'JudicialRequestNotFound');
    const alertAt = new Date(shanghaiStartOfDay(s.alertDate).getTime() + 9 * 3_600_000).toISOString();
    return {
      requestId,
      receiptDate: s.receiptDate,
      answerDue: s.answerDue,
      dueAt: s.dueAt,
      alertDate: s.alertDate,
      alertAt,
      provisional: s.provisional,
    };
  },

  /** A provisional answer deadline has come: staff and administrators are told; the request is not recorded as missed on it. */
  async judicialRequestProvisionalDue(requestId: string): Promise<void> {
    const j = await deps
      .db('judicial_requests')
      .where({ id: requestId, status: 'pending' })
      .whereNotNull('calendar_pending_year')
      .first('answer_due', 'case_no', 'organization', 'calendar_pending_year');
    if (!j) return;
    for (const role of ['staff', 'admin'] as const) {
      await notify(deps.db, {
        to: { role },
        ...judicialRequestProvisionalDue({
          organization: j.organization,
          caseNo: j.case_no,
          answerDue: j.answer_due,
          pendingYear: j.calendar_pending_year,
        }),
        entity: 'judicial_request',
        entityId: requestId,
        data: { answer_due: j.answer_due },
        dedupeKey: `judicial-request:${requestId}:provisional-due:${j.answer_due}:${role}`,
      });
    }
  },

  /** One working day before the due date, an unanswered request is brought to the staff's attention again. */
  async judicialRequestAlert(requestId: string): Promise<void> {
    const rows = await deps
      .db('judicial_requests')
      .where({ id: requestId, status: 'pending' })
      .whereNull('alerted_at')
      .update({ alerted_at: deps.db.fn.now() })
      .returning(['answer_due', 'case_no', 'organization']);
    const j =
      rows[0] ??
      (await deps.db('judicial_requests').where({ id: requestId, status: 'pending' }).first('answer_due', 'case_no', 'organization'));
    if (!j) return;
    await notify(deps.db, {
      to: { role: 'staff' },
      ...judicialRequestDueSoon({ organization: j.organization, caseNo: j.case_no, answerDue: j.answer_due }),
      entity: 'judicial_request',
      entityId: requestId,
      data: { answer_due: j.answer_due },
      dedupeKey: `judicial-request:${requestId}:due-soon`,
    });
  },

  /** The deadline passed unanswered: recorded as missed; staff and administrators are told. */
  async judicialRequestOverdue(requestId: string): Promise<void> {
    const rows = await deps.db.transaction(async (trx) => {
      const updated = await trx('judicial_requests')
        .where({ id: requestId, status: 'pending' })
        .whereNull('overdue_at')
        .update({ overdue_at: trx.fn.now(), met: false })
        .returning(['answer_due', 'case_no', 'organization']);
      if (updated.length) {
        await recordAudit(trx, {
          actor: systemActor('queries'),
          action: 'judicial_request.overdue',
          entity: 'judicial_request',
          id: requestId,
          article: 'E14(4), P13',
          detail: { answer_due: updated[0].answer_due },
        });
      }
      return updated;
    });
    if (!rows.length) return;
    const j = rows[0];
    for (const role of ['staff', 'admin'] as const) {
      await notify(deps.db, {
        to: { role },
        ...judicialRequestOverdue({ organization: j.organization, caseNo: j.case_no, answerDue: j.answer_due }),
        entity: 'judicial_request',
        entityId: requestId,
        data: { answer_due: j.answer_due },
        dedupeKey: `judicial-request:${requestId}:overdue:${role}`,
      });
    }
  },

  /**
   * Staff answer a judicial request: the query runs on the request's basis and is logged (P20) in the same
   * transaction as the answer; or staff reject it (it does not meet the conditions of acceptance) with a reason.
   * Whether the deadline was met is decided by the answer's instant. Answered once: a repeat gives the stored
   * outcome.
   */
  async judicialRequestAnswer(input: JudicialAnswerInput): Promise<JudicialAnswerResult> {
    const result = await deps.db.transaction(async (trx) => {
      const cur = await trx('judicial_requests').where('id', input.requestId).forUpdate().first();
      if (!cur) throw ApplicationFailure.nonRetryable(`judicial request ${input.requestId} not found`, 'JudicialRequestNotFound');
      if (cur.status !== 'pending') {
        return {
          requestId: input.requestId,
          status: cur.status,
          met: cur.met,
          answeredAt: isoInstant(cur.answered_at)!,
          queryLogId: cur.query_log_id,
          itemCount: 0,
          fresh: false,
        };
      }
      const at = new Date(input.answeredAt);
      const beforeDue = cur.due_at ? at.getTime() < new Date(cur.due_at).getTime() : true;
      const met: boolean | null = beforeDue ? true : cur.calendar_pending_year !== null ? null : false;
      let queryLogId: number | null = null;
      let itemCount = 0;
      if (input.decision === 'answer') {
        const requester = await principalById(deps, cur.requester_principal_id);
        const outcome = await runQuery(trx, {
          querier: querierOf(requester),
          subject: { type: cur.subject_type, id: cur.subject_id },
          categories: cur.categories ?? [],
          basis: { kind: 'judicial_request', requestId: input.requestId },
          purpose: `${cur.case_no}：${cur.purpose}`,
          channel: 'judicial_request',
          handledBy: { id: input.staffPrincipalId, actor: input.staffActor },
          at,
        });
        queryLogId = outcome.queryId;
        itemCount = outcome.kind === 'answered' ? outcome.records.length : 0;
      }
      const status = input.decision === 'answer' ? 'answered' : 'rejected';
      await trx('judicial_requests').where({ id: input.requestId, status: 'pending' }).update({
        status,
        answered_at: at,
        answered_by: input.staffPrincipalId,
        answer_reason: input.reason,
        query_log_id: queryLogId,
        met,
      });
      await recordAudit(trx, {
        principalId: input.staffPrincipalId,
        actor: input.staffActor,
        action: input.decision === 'answer' ? 'judicial_request.answer' : 'judicial_request.reject',
        entity: 'judicial_request',
        id: input.requestId,
        article: 'E14(4), P13',
        detail: { met, answer_due: cur.answer_due, query_log_id: queryLogId, items: itemCount, reason: input.reason },
      });
      return {
        requestId: input.requestId,
        status,
        met,
        answeredAt: at.toISOString(),
        queryLogId,
        itemCount,
        fresh: true,
        requester: cur.requester_principal_id as string,
        caseNo: cur.case_no as string,
      };
    });
    if ('requester' in result) {
      await notify(deps.db, {
        to: { principalId: result.requester! },
        ...judicialRequestAnswered({
          status: result.status,
          requestId: result.requestId,
          caseNo: result.caseNo!,
          itemCount: result.itemCount,
          reason: input.reason,
        }),
        entity: 'judicial_request',
        entityId: result.requestId,
        dedupeKey: `judicial-request:${result.requestId}:answered`,
      });
    }
    return {
      requestId: result.requestId,
      status: result.status,
      met: result.met,
      answeredAt: result.answeredAt,
      queryLogId: result.queryLogId,
      itemCount: result.itemCount,
    };
  },
});
