/**
 * The texts a judicial query request sends (E14(4), P13): each template answers the notification's kind, title
 * and body (Chinese first, English beside it); activities/judicial-requests.ts adds the recipient, data and dedupe key.
 */

const requester = (organization: string | null) => organization ?? '司法机关';

/** To staff: a request was received, to be answered by `answerDue` (provisional while a year has no calendar). */
export const judicialRequestReceived = (o: {
  organization: string | null;
  caseNo: string;
  subjectType: string;
  subjectId: string;
  answerDue: string;
  provisional: boolean;
  pendingYear?: number | null;
}) => {
  const by = `${o.answerDue}${o.provisional ? `（暂定，${o.pendingYear} 年工作日历尚未载入）` : ''}`;
  return {
    kind: 'judicial_request.received',
    title: `司法机关查询申请，请于 ${by} 前答复 / a judicial query request: answer by ${o.answerDue}${o.provisional ? ' (provisional)' : ''}`,
    body: `${requester(o.organization)}（案号 ${o.caseNo}）申请查询 ${o.subjectType === 'enterprise' ? '企业' : '个人'} ${o.subjectId} 的信用信息，应于 ${by}（收到后第 3 个工作日）前查询完毕并反馈（E14(4)、P13）。`,
  };
};

/** To staff and administrators: the provisional deadline (the earliest the 3 working days can end) has come. */
export const judicialRequestProvisionalDue = (o: {
  organization: string | null;
  caseNo: string;
  answerDue: string;
  pendingYear: number | string | null;
}) => ({
  kind: 'judicial_request.provisional_due',
  title: `司法查询申请答复期限（暂定）${o.answerDue} 已到 / a judicial request's provisional deadline has come`,
  body: `${requester(o.organization)}（案号 ${o.caseNo}）的查询申请尚未答复；${o.pendingYear} 年工作日历尚未载入，3 个工作日的答复期限最早于 ${o.answerDue} 届满，请尽快答复（E14(4)、P13）。/ Not answered; the 3 working days may end on ${o.answerDue}.`,
});

/** To staff: one working day before the due date, the request is still unanswered. */
export const judicialRequestDueSoon = (o: { organization: string | null; caseNo: string; answerDue: string }) => ({
  kind: 'judicial_request.due_soon',
  title: `司法查询申请明日到期 / a judicial query request is due on ${o.answerDue}`,
  body: `${requester(o.organization)}（案号 ${o.caseNo}）的查询申请尚未答复，答复期限为 ${o.answerDue}（E14(4)、P13）。/ not answered yet; due ${o.answerDue}.`,
});

/** To staff and administrators: the deadline passed unanswered. */
export const judicialRequestOverdue = (o: { organization: string | null; caseNo: string; answerDue: string }) => ({
  kind: 'judicial_request.overdue',
  title: `司法查询申请逾期未答复 / a judicial query request is overdue`,
  body: `${requester(o.organization)}（案号 ${o.caseNo}）的查询申请未在 ${o.answerDue} 前答复（E14(4)、P13）。/ not answered by ${o.answerDue}.`,
});

/** To the requester: the request was answered (with the number of records) or rejected (with the reason). */
export const judicialRequestAnswered = (o: {
  status: 'answered' | 'rejected';
  requestId: string;
  caseNo: string;
  itemCount: number;
  reason: string | null;
}) => ({
  kind: o.status === 'answered' ? 'judicial_request.answered' : 'judicial_request.rejected',
  title:
    o.status === 'answered'
      ? `查询申请已答复（案号 ${o.caseNo}）/ your query request was answered`
      : `查询申请不予受理（案号 ${o.caseNo}）/ your query request was rejected`,
  body:
    o.status === 'answered'
      ? `查询结果共 ${o.itemCount} 条，请通过 GET /judicial-requests/${o.requestId} 查看。/ ${o.itemCount} records; see GET /judicial-requests/${o.requestId}.`
      : `理由：${o.reason ?? ''} / reason: ${o.reason ?? ''}`,
});
