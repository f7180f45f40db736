import { ApplicationFailure } from '@temporalio/activity';
import { notify } from '../db/notifications';
import { purgeRetentionBatch, querierOf, recordRetentionRun, runQuery } from '../db/queries';
import { shanghaiDate, shanghaiStartOfDay } from '../domain/calendar';
import { querySettings } from '../domain/config';
import type { Principal } from '../domain/roles';
import { settleWithCalendar } from './calendar';
import { settleJudicialSchedule, settleRatingDeadline } from '../db/deadlines';
import type { ActivityDeps } from './deps';

export { JUDICIAL_ANSWER_WORKING_DAYS, JUDICIAL_ALERT_WORKING_DAYS_BEFORE } from '../domain/access';
import { JUDICIAL_ANSWER_WORKING_DAYS, JUDICIAL_ALERT_WORKING_DAYS_BEFORE } from '../domain/access';

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

export interface RetentionBatch {
  recordKeys: number;
  rows: number;
  persons: number;
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

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

/** Rating-agency requests (E14.3), judicial requests (E14.4, P13) and the retention sweep (P19). */
export const queryActivities = (deps: ActivityDeps) => ({
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
        const r = await trx('rating_requests as r').join('principals as p', 'p.id', 'r.agency_principal_id').where('r.id', requestId).first('r.*', 'p.name as agency_name');
        const by = `${r.decision_deadline}${settled.provisional ? `（暂定，${settled.pendingYear} 年工作日历尚未载入）` : ''}`;
        await notify(trx, {
          to: { role: 'staff' },
          kind: 'rating_request.pending',
          title: `信用评级机构查询申请待审批 / a rating agency's query request awaits approval`,
          body: `${r.organization ?? r.agency_name} 申请查询企业 ${r.subject_uscc} 的限制公开信息（${(r.categories as string[]).join('、')}），请于 ${by} 前审批（E14(3)）。/ decide by ${r.decision_deadline}${settled.provisional ? ' (provisional)' : ''}.`,
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
      if (cur.status !== 'requested') return { requestId: input.requestId, status: cur.status, decidedAt: iso(cur.decided_at), validUntil: iso(cur.valid_until), fresh: false };
      const status = input.approve ? 'approved' : 'rejected';
      const validUntil = input.approve ? new Date(Date.parse(input.decidedAt) + validDays * 86_400_000).toISOString() : null;
      await trx('rating_requests')
        .where({ id: input.requestId, status: 'requested' })
        .update({ status, decided_at: input.decidedAt, decided_by: input.staffPrincipalId, decision_reason: input.reason, valid_until: validUntil });
      await trx('audit_log').insert({
        principal_id: input.staffPrincipalId,
        actor: input.staffActor,
        action: input.approve ? 'rating_request.approve' : 'rating_request.reject',
        entity: 'rating_request',
        entity_id: input.requestId,
        detail: { reason: input.reason, valid_until: validUntil, article: 'E14(3)' },
      });
      return { requestId: input.requestId, status, decidedAt: input.decidedAt, validUntil, fresh: true, agency: cur.agency_principal_id as string, subject: cur.subject_uscc as string };
    });
    if ('agency' in result) {
      await notify(deps.db, {
        to: { principalId: result.agency! },
        kind: input.approve ? 'rating_request.approved' : 'rating_request.rejected',
        title: input.approve ? '查询申请已获批准 / your query request was approved' : '查询申请未获批准 / your query request was rejected',
        body: input.approve
          ? `对企业 ${result.subject} 的查询申请已批准，可于 ${result.validUntil} 前查询（E14(3)）。理由：${input.reason} / approved; valid until ${result.validUntil}.`
          : `对企业 ${result.subject} 的查询申请未获批准。理由：${input.reason} / rejected: ${input.reason}`,
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
      const rows = await trx('rating_requests').where({ id: requestId, status: 'requested' }).update({ status: 'lapsed' }).returning(['agency_principal_id', 'subject_uscc', 'decision_deadline']);
      if (rows.length) {
        await trx('audit_log').insert({
          actor: 'system:workflow',
          action: 'rating_request.lapse',
          entity: 'rating_request',
          entity_id: requestId,
          detail: { decision_deadline: rows[0].decision_deadline, article: 'E14(3)' },
        });
      }
      return rows[0] as { agency_principal_id: string; subject_uscc: string; decision_deadline: string } | undefined;
    });
    if (lapsed) {
      await notify(deps.db, {
        to: { principalId: lapsed.agency_principal_id },
        kind: 'rating_request.lapsed',
        title: '查询申请逾期未审批，已失效 / your query request lapsed',
        body: `对企业 ${lapsed.subject_uscc} 的查询申请未在 ${lapsed.decision_deadline} 前获审批，已失效；如仍需查询请重新申请（E14(3)）。/ not decided by ${lapsed.decision_deadline}; file a new request if needed.`,
        entity: 'rating_request',
        entityId: requestId,
        dedupeKey: `rating-request:${requestId}:lapsed`,
      });
    }
    const cur = await deps.db('rating_requests').where('id', requestId).first('status', 'decided_at', 'valid_until');
    return { requestId, status: cur.status, decidedAt: iso(cur.decided_at), validUntil: iso(cur.valid_until) };
  },

  /**
   * The answer deadline of a judicial request: the 3rd working day after receipt (E14.4, P13), provisional (the
   * earliest it can be) while a year on the way has no calendar; staff are told, in the same transaction.
   */
  async judicialRequestOpen(requestId: string): Promise<JudicialSchedule> {
    const what = `司法查询申请 ${requestId} 的答复期限 / the answer deadline of judicial request ${requestId}`;
    const s = await settleWithCalendar(deps.db, what, (calendar) =>
      deps.db.transaction(async (trx) => {
        const settled = await settleJudicialSchedule(trx, calendar, requestId, JUDICIAL_ANSWER_WORKING_DAYS, JUDICIAL_ALERT_WORKING_DAYS_BEFORE);
        if (!settled) return null;
        const jr = await trx('judicial_requests').where('id', requestId).first();
        const by = `${jr.answer_due}${settled.provisional ? `（暂定，${settled.pendingYear} 年工作日历尚未载入）` : ''}`;
        await notify(trx, {
          to: { role: 'staff' },
          kind: 'judicial_request.received',
          title: `司法机关查询申请，请于 ${by} 前答复 / a judicial query request: answer by ${jr.answer_due}${settled.provisional ? ' (provisional)' : ''}`,
          body: `${jr.organization ?? '司法机关'}（案号 ${jr.case_no}）申请查询 ${jr.subject_type === 'enterprise' ? '企业' : '个人'} ${jr.subject_id} 的信用信息，应于 ${by}（收到后第 3 个工作日）前查询完毕并反馈（E14(4)、P13）。`,
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
    return { requestId, receiptDate: s.receiptDate, answerDue: s.answerDue, dueAt: s.dueAt, alertDate: s.alertDate, alertAt, provisional: s.provisional };
  },

  /** A provisional answer deadline has come: staff and administrators are told; the request is not recorded as missed on it. */
  async judicialRequestProvisionalDue(requestId: string): Promise<void> {
    const j = await deps.db('judicial_requests').where({ id: requestId, status: 'pending' }).whereNotNull('calendar_pending_year').first('answer_due', 'case_no', 'organization', 'calendar_pending_year');
    if (!j) return;
    for (const role of ['staff', 'admin'] as const) {
      await notify(deps.db, {
        to: { role },
        kind: 'judicial_request.provisional_due',
        title: `司法查询申请答复期限（暂定）${j.answer_due} 已到 / a judicial request's provisional deadline has come`,
        body: `${j.organization ?? '司法机关'}（案号 ${j.case_no}）的查询申请尚未答复；${j.calendar_pending_year} 年工作日历尚未载入，3 个工作日的答复期限最早于 ${j.answer_due} 届满，请尽快答复（E14(4)、P13）。/ Not answered; the 3 working days may end on ${j.answer_due}.`,
        entity: 'judicial_request',
        entityId: requestId,
        data: { answer_due: j.answer_due },
        dedupeKey: `judicial-request:${requestId}:provisional-due:${j.answer_due}:${role}`,
      });
    }
  },

  /** One working day before the due date, an unanswered request is brought to the staff's attention again. */
  async judicialRequestAlert(requestId: string): Promise<void> {
    const rows = await deps.db('judicial_requests').where({ id: requestId, status: 'pending' }).whereNull('alerted_at').update({ alerted_at: deps.db.fn.now() }).returning(['answer_due', 'case_no', 'organization']);
    const j = rows[0] ?? (await deps.db('judicial_requests').where({ id: requestId, status: 'pending' }).first('answer_due', 'case_no', 'organization'));
    if (!j) return;
    await notify(deps.db, {
      to: { role: 'staff' },
      kind: 'judicial_request.due_soon',
      title: `司法查询申请明日到期 / a judicial query request is due on ${j.answer_due}`,
      body: `${j.organization ?? '司法机关'}（案号 ${j.case_no}）的查询申请尚未答复，答复期限为 ${j.answer_due}（E14(4)、P13）。/ not answered yet; due ${j.answer_due}.`,
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
        await trx('audit_log').insert({
          actor: 'system:workflow',
          action: 'judicial_request.overdue',
          entity: 'judicial_request',
          entity_id: requestId,
          detail: { answer_due: updated[0].answer_due, article: 'E14(4), P13' },
        });
      }
      return updated;
    });
    if (!rows.length) return;
    const j = rows[0];
    for (const role of ['staff', 'admin'] as const) {
      await notify(deps.db, {
        to: { role },
        kind: 'judicial_request.overdue',
        title: `司法查询申请逾期未答复 / a judicial query request is overdue`,
        body: `${j.organization ?? '司法机关'}（案号 ${j.case_no}）的查询申请未在 ${j.answer_due} 前答复（E14(4)、P13）。/ not answered by ${j.answer_due}.`,
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
        return { requestId: input.requestId, status: cur.status, met: cur.met, answeredAt: iso(cur.answered_at)!, queryLogId: cur.query_log_id, itemCount: 0, fresh: false };
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
      await trx('judicial_requests')
        .where({ id: input.requestId, status: 'pending' })
        .update({ status, answered_at: at, answered_by: input.staffPrincipalId, answer_reason: input.reason, query_log_id: queryLogId, met });
      await trx('audit_log').insert({
        principal_id: input.staffPrincipalId,
        actor: input.staffActor,
        action: input.decision === 'answer' ? 'judicial_request.answer' : 'judicial_request.reject',
        entity: 'judicial_request',
        entity_id: input.requestId,
        detail: { met, answer_due: cur.answer_due, query_log_id: queryLogId, items: itemCount, reason: input.reason, article: 'E14(4), P13' },
      });
      return { requestId: input.requestId, status, met, answeredAt: at.toISOString(), queryLogId, itemCount, fresh: true, requester: cur.requester_principal_id as string, caseNo: cur.case_no as string };
    });
    if ('requester' in result) {
      await notify(deps.db, {
        to: { principalId: result.requester! },
        kind: result.status === 'answered' ? 'judicial_request.answered' : 'judicial_request.rejected',
        title: result.status === 'answered' ? `查询申请已答复（案号 ${result.caseNo}）/ your query request was answered` : `查询申请不予受理（案号 ${result.caseNo}）/ your query request was rejected`,
        body:
          result.status === 'answered'
            ? `查询结果共 ${result.itemCount} 条，请通过 GET /judicial-requests/${result.requestId} 查看。/ ${result.itemCount} records; see GET /judicial-requests/${result.requestId}.`
            : `理由：${input.reason ?? ''} / reason: ${input.reason ?? ''}`,
        entity: 'judicial_request',
        entityId: result.requestId,
        dedupeKey: `judicial-request:${result.requestId}:answered`,
      });
    }
    return { requestId: result.requestId, status: result.status, met: result.met, answeredAt: result.answeredAt, queryLogId: result.queryLogId, itemCount: result.itemCount };
  },

  /** Today in Asia/Shanghai, for the retention sweep. */
  async retentionToday(): Promise<string> {
    return shanghaiDate(new Date());
  },

  /** One batch of the retention sweep (P19): set-based, safe to repeat (what is gone stays gone). */
  async retentionPurgeBatch(input: { asOf: string; batchSize?: number }): Promise<RetentionBatch> {
    return purgeRetentionBatch(deps.db, input.asOf, input.batchSize ?? querySettings().retentionBatchSize);
  },

  /** Records a finished sweep once, with its audit entry. */
  async retentionRecordRun(run: { runId: string; asOf: string; recordKeys: number; rows: number; persons: number; batches: number }): Promise<boolean> {
    return recordRetentionRun(deps.db, run);
  },
});
