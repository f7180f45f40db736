/**
 * The notices of the reporting obligations (E7, P9): what a provider and the administrators are told, Chinese first,
 * English beside it. The repositories in `db/` send them (`notify`), adding the recipient, entity and dedupe key.
 */
import type { Cadence } from '../catalog';
import { CADENCE_ZH, periodLabelZh } from '../obligations';

/** An agreed cadence, to the provider (E7, P9). */
export const cadenceChanged = (c: { cadence: Cadence; firstPeriod: string; effectiveFrom: string; agreedOn: string }) => ({
  kind: 'obligation.cadence_change',
  title: `报送周期变更：自${periodLabelZh(c.firstPeriod)}起${CADENCE_ZH[c.cadence]}报送 / reporting cadence: ${c.cadence} from ${c.firstPeriod}`,
  body: `经与市信用信息征集机构协商同意（${c.agreedOn}），本单位自 ${c.effectiveFrom} 起${CADENCE_ZH[c.cadence]}报送信用信息（E7、P9）。`,
});

/** An obligation overdue, to its provider (E20, P24). */
export const obligationOverdue = (o: { period: string; dueDate: string | null }) => {
  const label = periodLabelZh(o.period);
  return {
    kind: 'obligation.overdue',
    title: `逾期未报送：${label}信用信息 / overdue: the submission for ${o.period}`,
    body: `本单位${label}（${o.period}）的信用信息应于 ${o.dueDate} 前报送，至今未收到。请尽快报送；拖延报送的，由市社会信用体系建设管理机构责令限期改正（E20、P24）。`,
  };
};

/** An obligation overdue, to the administrators (E20, P24). */
export const obligationOverdueToAdmin = (o: { providerName: string; providerCode: string; period: string; dueDate: string | null }) => {
  const label = periodLabelZh(o.period);
  return {
    kind: 'obligation.overdue',
    title: `${o.providerName}逾期未报送${label}信用信息 / ${o.providerCode} overdue for ${o.period}`,
    body: `${o.providerName}（${o.providerCode}）${label}的信用信息应于 ${o.dueDate} 前报送，已逾期，可责令限期改正（E20、P24）。`,
  };
};

/** A reminder before the due date, to the provider (E7, P9). */
export const obligationReminder = (o: { period: string; dueDate: string | null; workingDaysBefore: number }) => {
  const label = periodLabelZh(o.period);
  return {
    kind: 'obligation.reminder',
    title: `报送提醒：${label}信用信息应于 ${o.dueDate} 前报送 / reminder: submission for ${o.period} due ${o.dueDate}`,
    body: `本单位${label}（${o.period}）的信用信息应于 ${o.dueDate} 前报送，距截止还有 ${o.workingDaysBefore} 个工作日（E7、P9）。`,
  };
};
