/**
 * The texts a rating agency's query request sends (E14(3)): each template answers the notification's kind, title
 * and body (Chinese first, English beside it); activities/rating-requests.ts adds the recipient, data and dedupe key.
 */

/** To staff: a request waits for approval by `deadline` (provisional while a year on the way has no calendar). */
export const ratingRequestPending = (o: {
  organization: string | null;
  agencyName: string;
  subjectUscc: string;
  categories: string[];
  decisionDeadline: string;
  provisional: boolean;
  pendingYear?: number | null;
}) => {
  const by = `${o.decisionDeadline}${o.provisional ? `（暂定，${o.pendingYear} 年工作日历尚未载入）` : ''}`;
  return {
    kind: 'rating_request.pending',
    title: `信用评级机构查询申请待审批 / a rating agency's query request awaits approval`,
    body: `${o.organization ?? o.agencyName} 申请查询企业 ${o.subjectUscc} 的限制公开信息（${o.categories.join('、')}），请于 ${by} 前审批（E14(3)）。/ decide by ${o.decisionDeadline}${o.provisional ? ' (provisional)' : ''}.`,
  };
};

/** To the agency: staff approved (valid until `validUntil`) or rejected its request. */
export const ratingRequestDecided = (o: { approve: boolean; subjectUscc: string; validUntil: string | null; reason: string }) => ({
  kind: o.approve ? 'rating_request.approved' : 'rating_request.rejected',
  title: o.approve ? '查询申请已获批准 / your query request was approved' : '查询申请未获批准 / your query request was rejected',
  body: o.approve
    ? `对企业 ${o.subjectUscc} 的查询申请已批准，可于 ${o.validUntil} 前查询（E14(3)）。理由：${o.reason} / approved; valid until ${o.validUntil}.`
    : `对企业 ${o.subjectUscc} 的查询申请未获批准。理由：${o.reason} / rejected: ${o.reason}`,
});

/** To the agency: its request was not decided by the deadline and lapsed. */
export const ratingRequestLapsed = (o: { subjectUscc: string; decisionDeadline: string }) => ({
  kind: 'rating_request.lapsed',
  title: '查询申请逾期未审批，已失效 / your query request lapsed',
  body: `对企业 ${o.subjectUscc} 的查询申请未在 ${o.decisionDeadline} 前获审批，已失效；如仍需查询请重新申请（E14(3)）。/ not decided by ${o.decisionDeadline}; file a new request if needed.`,
});
