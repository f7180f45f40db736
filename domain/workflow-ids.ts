import crypto from 'node:crypto';
import type { CaseKind } from './obligations';

/**
 * Workflow ids are business keys, built here and nowhere else: the same business object always maps to the same
 * workflow, so a retried start is a no-op (`processes/` starts them with REJECT_DUPLICATE). The database stores
 * them next to the rows they run for, which is why they live in `domain/`.
 */

/** One workflow per accepted batch. The Idempotency-Key is hashed so a client's key text never ends up in Temporal. */
export function submissionWorkflowId(providerCode: string, idempotencyKey: string): string {
  const h = crypto.createHash('sha256').update(`${providerCode}\u0000${idempotencyKey}`).digest('hex').slice(0, 32);
  return `submission-${providerCode}-${h}`;
}

/** One obligation workflow per provider and period (E7, P9). */
export const OBLIGATION_WORKFLOW_PREFIX = 'obligation-';
export const obligationWorkflowId = (providerCode: string, period: string) => `${OBLIGATION_WORKFLOW_PREFIX}${providerCode}-${period}`;

/** One case workflow per compliance case (E23, P25). */
export const complianceCaseWorkflowId = (kind: CaseKind, referenceId: string) => `compliance-${kind}-${referenceId}`;

/** One verification workflow per accepted objection (E18, P22). */
export const objectionWorkflowId = (id: string) => `objection-${id}`;

/** One workflow per rating-agency request and per judicial request. */
export const ratingWorkflowId = (id: string) => `rating-request-${id}`;
export const judicialWorkflowId = (id: string) => `judicial-request-${id}`;

/** One run per load of a calendar year (the load's stamp), so loading it again wakes again. */
export const calendarLoadedWorkflowId = (year: number, stamp: string) => `calendar-loaded-${year}-${stamp}`;

/** Schedules. */
export const OBLIGATION_OPENER_SCHEDULE_ID = 'obligation-opener';
export const CALENDAR_WATCH_SCHEDULE_ID = 'calendar-watch';
