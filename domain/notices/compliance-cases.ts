/**
 * The notices of the compliance cases (E20, P24): rectification orders and escalation to the supervision department,
 * Chinese first, English beside it. The repositories in `db/` send them (`notify`), adding the recipient, entity and
 * dedupe key.
 */
import { CASE_KIND_ZH, type CaseKind } from '../obligations';

/** 责令限期改正, to the provider. */
export const caseOrdered = (c: { summary: string; article: string; deadline: string; note: string | null }) => ({
  kind: 'compliance.ordered',
  title: `责令限期改正：请于 ${c.deadline} 前改正 / rectification order: rectify by ${c.deadline}`,
  body: `${c.summary}。依据${c.article}，市社会信用体系建设管理机构责令本单位于 ${c.deadline} 前改正${c.note ? `（${c.note}）` : ''}；拒不改正的，将提请监察部门追究直接责任人的行政责任。`,
});

/** The order's deadline passed without rectification, to the supervisors. */
export const caseEscalationDue = (c: {
  providerName: string;
  providerCode: string;
  summary: string;
  orderDeadline: string | null;
  article: string;
}) => ({
  kind: 'compliance.escalation_due',
  title: `${c.providerName}逾期未改正，待提请监察 / ${c.providerCode} ignored a rectification order`,
  body: `${c.summary}。责令改正期限 ${c.orderDeadline} 已过仍未改正，可提请监察部门追究直接责任人的行政责任（${c.article}）。`,
});

/** Referred to the supervision department, to the provider. */
export const caseEscalated = (c: { summary: string; orderDeadline: string | null; referredTo: string; article: string }) => ({
  kind: 'compliance.escalated',
  title: `已提请${c.referredTo}追究责任 / referred to ${c.referredTo}`,
  body: `${c.summary}。逾期未按责令改正（期限 ${c.orderDeadline}），已提请${c.referredTo}追究直接责任人的行政责任（${c.article}）。`,
});

/** Referred to the supervision department, to the administrators. */
export const caseEscalatedToAdmin = (c: { summary: string; referredTo: string; responsibleUnit: string; note: string }) => ({
  kind: 'compliance.escalated',
  title: `${c.summary}：已提请${c.referredTo} / escalated`,
  body: `责任单位：${c.responsibleUnit}。${c.note}`,
});

/** A compliance case opened, to the provider (E20, P24). */
export const caseOpenedToProvider = (c: { kind: CaseKind; summary: string }) => ({
  kind: 'compliance.opened',
  title: `${CASE_KIND_ZH[c.kind]}：${c.summary}`,
  body: `${c.summary}。拖延的，由市社会信用体系建设管理机构责令限期改正；拒不改正的，提请监察部门追究直接责任人的行政责任（E20、P24）。`,
});

/** A compliance case opened, to the administrators. */
export const caseOpenedToAdmins = (c: { kind: CaseKind; summary: string; providerName: string }) => ({
  kind: 'compliance.opened',
  title: `${c.providerName}：${CASE_KIND_ZH[c.kind]} / compliance case opened`,
  body: c.summary,
});
