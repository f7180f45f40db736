/**
 * What the platform's processes say to each other: every workflow's input, its signals, Updates and queries and
 * their payloads. Workflows register handlers for them; `processes/client.ts` sends them. Pure definitions
 * (no I/O), so both the workflow sandbox and the API and activities import this file.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReceiptResult } from '../activities/submission';
import type { PublicationPlan } from '../activities/publication';
import type { AnswerResult } from '../db/objection-verification';
import type { ConcludeResult } from '../db/objection-outcome';
import type { BatchPublicationState } from '../db/publication';
import type { CaseState } from '../domain/obligations';
import type { JudicialAnswerResult, JudicialSchedule } from '../activities/judicial-requests';
import type { RatingDeadline, RatingDecisionResult } from '../activities/rating-requests';
import type { ObjectionDeadline, Outcome, RecordCorrection, Verdict } from '../domain/objections';

// ─── Submission: one workflow per accepted batch (E12) ──────────────────────────────────────────────────────

export interface SubmissionInput {
  submissionId: string;
}

export interface SubmissionState {
  submissionId: string;
  stage: 'receiving' | 'received' | 'in_review' | 'published' | 'awaiting_held';
  receipt?: ReceiptResult;
  plan?: PublicationPlan;
  publication?: BatchPublicationState;
  alerted: Array<'deadline_near' | 'deadline_passed'>;
}

export const submissionStateQuery = defineQuery<SubmissionState>('state');
/** Staff finished reviewing the batch: publish what is not held now, without waiting for the review window. */
export const publishNowSignal = defineSignal('publishNow');
/** Staff released or rejected held records of the batch: publish the released ones (the database holds the decisions). */
export const publicationChangedSignal = defineSignal('publicationChanged');

// ─── Reporting obligation (E7, P9) ──────────────────────────────────────────────────────────────────────────

export interface ObligationInput {
  obligationId: number;
}

export interface ObligationStatus {
  obligationId: number;
  stage: 'planning' | 'awaiting_calendar' | 'waiting' | 'overdue' | 'fulfilled' | 'waived';
  period?: string;
  /** The year whose calendar the due date waits for (stage awaiting_calendar). */
  awaitingCalendarYear?: number | null;
  dueDate?: string;
  remindersSent: string[];
  onTime?: boolean | null;
  caseWorkflowId?: string | null;
}

/** A batch for this provider and period was accepted (its id; the database is checked). */
export const submissionReceivedSignal = defineSignal<[string]>('submissionReceived');
export const obligationStateQuery = defineQuery<ObligationStatus>('obligationState');

// ─── Compliance case: order → escalation (E20, E23, P24, P25) ───────────────────────────────────────────────

export interface CaseSnapshot {
  caseId: string;
  kind: string;
  state: CaseState;
  orderDeadline: string | null;
  /** When the order's deadline ends (ISO), if ordered. */
  deadlineEndsAt: string | null;
}

/** What an admin's order carries into the case workflow (the API has validated it). */
export interface OrderRequest {
  deadline: string;
  note: string | null;
  principalId: string;
  actor: string;
  requestId: string;
}

/** What a supervisor's escalation carries into the case workflow. */
export interface EscalationRequest {
  responsibleUnit: string;
  referredTo: string;
  note: string;
  principalId: string;
  actor: string;
  requestId: string;
}

export interface CaseInput {
  caseId: string;
}

export type CaseStatus = CaseSnapshot;

/** The case changed in the database (resolved by the provider's submission or answer): read it again. */
export const caseChangedSignal = defineSignal('caseChanged');
export const caseStateQuery = defineQuery<CaseStatus>('caseState');
/** 责令限期改正 (admin): refused at once unless the case is overdue and the deadline is a day after today. */
export const orderRectificationUpdate = defineUpdate<{ state: string; orderDeadline: string; deadlineEndsAt: string }, [OrderRequest]>(
  'orderRectification',
);
/** 提请监察部门 (supervisor): refused at once unless the order's deadline passed without rectification. */
export const escalateCaseUpdate = defineUpdate<{ state: string; escalatedAt: string }, [EscalationRequest]>('escalate');

// ─── Objection (E18, P21–P24) ───────────────────────────────────────────────────────────────────────────────

export interface ObjectionInput {
  objectionId: string;
}

/** The provider's verification (E18 会同信息提供单位核实, P22). */
export interface ProviderAnswer {
  verdict: Verdict;
  reason: string;
  /** confirmed_wrong: the corrections (or deletions) of the objected records. */
  corrections: RecordCorrection[] | null;
  providerPrincipalId: string;
  providerActor: string;
}

/** The staff's outcome. */
export interface OutcomeDecision {
  outcome: Outcome;
  reason: string;
  staffPrincipalId: string;
  staffActor: string;
}

export type ObjectionStage = 'opening' | 'verifying' | 'overdue' | 'answering' | 'answered' | 'concluding' | 'corrected' | 'upheld';

export interface ObjectionProcessState {
  objectionId: string;
  stage: ObjectionStage;
  deadline?: ObjectionDeadline;
  /** The provider did not verify by the deadline. */
  overdue: boolean;
  answer?: AnswerResult;
  result?: ConcludeResult;
}

export const verifyObjectionUpdate = defineUpdate<AnswerResult, [ProviderAnswer]>('verify');
export const decideObjectionUpdate = defineUpdate<ConcludeResult, [OutcomeDecision]>('decide');
export const objectionStateQuery = defineQuery<ObjectionProcessState>('state');

// ─── Rating-agency request (E14.3) ──────────────────────────────────────────────────────────────────────────

export interface RatingRequestInput {
  requestId: string;
}

export interface RatingDecision {
  approve: boolean;
  reason: string;
  staffPrincipalId: string;
  staffActor: string;
}

export interface RatingRequestState {
  requestId: string;
  stage: 'opening' | 'awaiting_decision' | 'deciding' | 'approved' | 'rejected' | 'lapsed';
  deadline?: RatingDeadline;
  result?: RatingDecisionResult;
}

export const decideRatingRequestUpdate = defineUpdate<RatingDecisionResult, [RatingDecision]>('decide');
export const ratingRequestStateQuery = defineQuery<RatingRequestState>('state');

// ─── Judicial request (E14.4, P13) ──────────────────────────────────────────────────────────────────────────

export interface JudicialRequestInput {
  requestId: string;
}

export interface JudicialAnswer {
  decision: 'answer' | 'reject';
  reason: string | null;
  staffPrincipalId: string;
  staffActor: string;
}

export interface JudicialRequestState {
  requestId: string;
  stage: 'opening' | 'pending' | 'alerted' | 'overdue' | 'answering' | 'answered' | 'rejected';
  schedule?: JudicialSchedule;
  overdue: boolean;
  result?: JudicialAnswerResult;
}

export const answerJudicialRequestUpdate = defineUpdate<JudicialAnswerResult, [JudicialAnswer]>('answer');
export const judicialRequestStateQuery = defineQuery<JudicialRequestState>('state');

// ─── Working-day calendar ───────────────────────────────────────────────────────────────────────────────────

/** A calendar year was loaded (its argument: the year): a workflow waiting on it looks again. */
export const calendarLoadedSignal = defineSignal<[number]>('calendarLoaded');
