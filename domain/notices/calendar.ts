/**
 * The notices of deadlines settled when a calendar year is loaded (SPEC "Working days"): a deadline provisional
 * while its year had no calendar is now fixed. Chinese first, English beside it. The repositories in `db/` send
 * them (`notify`), adding the recipient, entity and dedupe key.
 */

/** An objection's verification deadline is settled (E18, P22), to the provider and the applicant. */
export const objectionDeadlineSettled = (o: { id: string; previous: string; pendingYear: number; deadline: string }) => ({
  kind: 'objection.deadline_settled',
  title: `异议核实期限已确定为 ${o.deadline} / the verification deadline is now ${o.deadline}`,
  body: `异议 ${o.id} 的核实期限原暂定为 ${o.previous}（${o.pendingYear} 年工作日历当时尚未载入），现按放假安排确定为 ${o.deadline}（受理后第 10 个工作日）。/ The deadline, provisional until ${o.pendingYear}'s calendar was loaded, is ${o.deadline}.`,
});

/** A judicial request's answer deadline is settled (E14(4), P13), to staff. */
export const judicialDeadlineSettled = (j: {
  organization: string | null;
  caseNo: string;
  previous: string;
  pendingYear: number;
  deadline: string;
  answerDays: number;
}) => ({
  kind: 'judicial_request.deadline_settled',
  title: `司法查询申请答复期限已确定为 ${j.deadline} / a judicial request's answer deadline is now ${j.deadline}`,
  body: `${j.organization ?? '司法机关'}（案号 ${j.caseNo}）的查询申请，答复期限原暂定为 ${j.previous}，现按 ${j.pendingYear} 年放假安排确定为 ${j.deadline}（收到后第 ${j.answerDays} 个工作日，E14(4)、P13）。/ Provisional ${j.previous}, now ${j.deadline}.`,
});
