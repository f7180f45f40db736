/**
 * Temporal's answers, as HTTP answers: the one mapping. A workflow's Update validator refuses with an
 * `ApplicationFailure` whose type names the reason; the refusal is the caller's 4xx (with the workflow's message),
 * never a 500. A workflow that has ended (or is not running) is a 409.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { HttpError, type ErrorDetail } from '../api/errors';

interface Refusal {
  status: number;
  code: string;
  field: string;
  /** The failure's first detail is the error table (e.g. the rows of an invalid correction). */
  detailsFromFailure?: boolean;
}

export interface RefusalMap {
  /** Prefix of the message (`${prefix}：${reason}`); none: the reason alone. */
  prefix?: string;
  /** The article the refused step is taken under; named in the details. */
  article?: string;
  /** Failure types of the workflow's validators and their answers. */
  known?: Record<string, Refusal>;
  /** Any other refusal. */
  otherwise: Refusal;
  /** The workflow is not running (it has ended, or never started). */
  ended: { code: string; message: string; field: string; reason: string; whenCompleted?: boolean };
}

/** The innermost failure of a chain (an activity's failure inside the Update's). */
function innermost(e: unknown): { message: string; type?: string; details?: unknown } {
  let cur = e as { message?: string; cause?: unknown; type?: string; details?: unknown[] } | undefined;
  let last: { message: string; type?: string; details?: unknown } = { message: (e as Error)?.message ?? String(e) };
  while (cur) {
    if (cur.message) last = { message: cur.message, type: cur.type, details: cur.details?.[0] };
    cur = cur.cause as typeof cur;
  }
  return last;
}

const withArticle = (d: ErrorDetail, article?: string): ErrorDetail => (article ? { ...d, article } : d);

/** The HTTP error for a refused Update or an ended workflow; null for anything else (rethrow it). */
export function refusalOf(e: unknown, map: RefusalMap): HttpError | null {
  const text = (reason: string) => (map.prefix ? `${map.prefix}：${reason}` : reason);
  if (e instanceof WorkflowUpdateFailedError) {
    const f = innermost(e);
    const r = (f.type && map.known?.[f.type]) || map.otherwise;
    const details =
      r.detailsFromFailure && Array.isArray(f.details)
        ? (f.details as ErrorDetail[])
        : [withArticle({ field: r.field, reason: f.message }, map.article)];
    return new HttpError(r.status, r.code, text(f.message), details);
  }
  const completed = e instanceof Error && /already completed/i.test(e.message);
  if (e instanceof WorkflowNotFoundError || (map.ended.whenCompleted && completed)) {
    return new HttpError(409, map.ended.code, map.ended.message, [
      withArticle({ field: map.ended.field, reason: map.ended.reason }, map.article),
    ]);
  }
  return null;
}

/** Runs a step that sends an Update; a refusal becomes its HTTP error. */
export async function orRefusal<R>(step: () => Promise<R>, map: RefusalMap): Promise<R> {
  try {
    return await step();
  } catch (e) {
    throw refusalOf(e, map) ?? e;
  }
}

// ─── The refusals of each process ───────────────────────────────────────────────────────────────────────────

/** An objection's `verify` and `decide` Updates: 422 when a correction no longer fits, else 409 with the reason. */
export const objectionRefusals = (what: string): RefusalMap => ({
  prefix: what,
  known: { CorrectionInvalid: { status: 422, code: 'INVALID_CORRECTION', field: 'corrections', detailsFromFailure: true } },
  otherwise: { status: 409, code: 'OBJECTION_STATE_CONFLICT', field: '(request)' },
  ended: {
    code: 'OBJECTION_STATE_CONFLICT',
    message: `${what}：异议已处理完毕 / the objection is concluded`,
    field: '(request)',
    reason: '流程已结束 / the process has ended',
    whenCompleted: true,
  },
});

/** A compliance case's `orderRectification` and `escalate` Updates (E20, P24). */
export const caseRefusals = (article: string): RefusalMap => ({
  article,
  known: {
    DeadlineNotInFuture: { status: 422, code: 'DEADLINE_NOT_IN_FUTURE', field: 'deadline' },
    BadDeadline: { status: 422, code: 'BAD_DEADLINE', field: 'deadline' },
    CaseNotOverdue: { status: 409, code: 'CASE_NOT_OVERDUE', field: 'state' },
    CaseNotEscalationDue: { status: 409, code: 'CASE_NOT_ESCALATION_DUE', field: 'state' },
    CaseStateConflict: { status: 409, code: 'CASE_STATE_CONFLICT', field: 'state' },
    BadRequest: { status: 400, code: 'BAD_REQUEST', field: '(body)' },
  },
  otherwise: { status: 409, code: 'CASE_STATE_CONFLICT', field: 'state' },
  ended: {
    code: 'CASE_NOT_RUNNING',
    message: "该案件的督办流程未在运行，请稍后再试 / the case's process is not running; try again shortly",
    field: 'id',
    reason: '流程未运行 / process not running',
  },
});

/** A rating-agency or judicial request's decision and answer Updates. */
export const requestRefusals = (what: string): RefusalMap => ({
  prefix: what,
  otherwise: { status: 409, code: 'CONFLICT', field: '(request)' },
  ended: {
    code: 'CONFLICT',
    message: `${what}：流程已结束 / the process has ended`,
    field: '(request)',
    reason: '流程已结束 / the process has ended',
    whenCompleted: true,
  },
});
