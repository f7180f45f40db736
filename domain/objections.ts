import { shanghaiDate, workingDayDeadline, type WorkingCalendar } from './calendar';

/**
 * Objections (异议, E18, P21–P23): the vocabulary shared by the API, the activities and the tests.
 *
 * Life of an objection:
 *   submitted ──staff refuse──► refused
 *       │ staff accept (the 10-working-day clock starts, E18, P22)
 *       ▼
 *   accepted ─► verifying ──provider answers──► answered ──staff: corrected | upheld──► corrected | upheld
 *                   │ no answer by the deadline
 *                   ▼
 *                overdue ──provider answers late──► answered …
 */

/** E18, P22: the platform verifies with the provider within 10 working days of acceptance (fixed by law). */
export const OBJECTION_WORKING_DAYS = 10;

export const OBJECTION_STATES = ['submitted', 'refused', 'accepted', 'verifying', 'overdue', 'answered', 'corrected', 'upheld'] as const;
export type ObjectionState = (typeof OBJECTION_STATES)[number];
/** Accepted and not concluded: the record is "under objection" (P22 disputed mark, E18 suspension). */
export const OPEN_STATES: readonly ObjectionState[] = ['accepted', 'verifying', 'overdue', 'answered'];
export const CONCLUDED_STATES: readonly ObjectionState[] = ['corrected', 'upheld'];

export const OBJECTION_STATE_ZH: Record<ObjectionState, string> = {
  submitted: '已提交，待受理',
  refused: '不予受理',
  accepted: '已受理',
  verifying: '核实中',
  overdue: '信息提供单位逾期未核实',
  answered: '信息提供单位已答复，待处理',
  corrected: '已更正',
  upheld: '核实无误，予以维持',
};

export const VERDICTS = ['confirmed_wrong', 'confirmed_right'] as const;
export type Verdict = (typeof VERDICTS)[number];
export const OUTCOMES = ['corrected', 'upheld'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Roles that may file an objection (E18: citizens, legal persons and other organizations; P21: the person). */
export const OBJECTOR_ROLES = ['enterprise', 'person', 'rating_agency', 'government', 'judicial'] as const;

/** The provider's correction of one record named in the objection (P23: corrected or deleted). */
export interface RecordCorrection {
  record_key: string;
  action: 'correct' | 'delete';
  changes?: {
    payload?: Record<string, unknown>;
    event_date?: string;
    concluded_date?: string | null;
    valid_until?: string | null;
    lifted_date?: string | null;
  };
}

export interface ObjectionDeadline {
  /** The day of acceptance (Asia/Shanghai). */
  acceptanceDate: string;
  /** The 10th working day after it: the last day of verification. */
  deadline: string;
  /** The instant the deadline day ends (ISO, UTC). */
  dueAt: string;
  /**
   * A year on the way has no calendar: `deadline` is the earliest the true one can be. The platform acts by it
   * (staff are told when it comes); the provider is not late before the true one, known when the year is loaded.
   * Absent in what was stored before provisional deadlines existed: read as false.
   */
  provisional?: boolean;
  /** The year whose calendar is awaited, when provisional. */
  pendingYear?: number | null;
}

/**
 * The verification deadline of an objection accepted at `acceptedAt`: the 10th working day after the day of
 * acceptance (the day itself not counted), ending at midnight Asia/Shanghai; provisional when a year on the way
 * has no calendar.
 */
export function objectionDeadline(calendar: WorkingCalendar, acceptedAt: Date): ObjectionDeadline {
  const acceptanceDate = shanghaiDate(acceptedAt);
  const d = workingDayDeadline(calendar, acceptanceDate, OBJECTION_WORKING_DAYS);
  return { acceptanceDate, deadline: d.date, dueAt: d.endsAt, provisional: d.provisional, pendingYear: d.missingYear };
}

/**
 * Working days left to a deadline on `today`: the working days after today up to and including the deadline
 * (0 on the deadline day itself and after it). Null when there is no deadline yet.
 */
export function workingDaysLeft(calendar: WorkingCalendar, today: string, deadline: string | null): number | null {
  if (!deadline) return null;
  if (today >= deadline) return 0;
  return calendar.workingDaysBetween(today, deadline);
}

/** The article of an objection's step: E18 for enterprises, the personal article `p` for persons. */
export const articleOf = (subjectType: string, e: string, p: string) => (subjectType === 'enterprise' ? e : p);
