import { errorField, logger } from '../ops/log';
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { UnknownCalendarYearError } from '../domain/calendar';

/** One problem in a request: which row (batch rows count from 1), which field, why, and the article broken. */
export interface ErrorDetail {
  row?: number;
  field: string;
  reason: string;
  article?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details: ErrorDetail[] = []) => new HttpError(400, 'BAD_REQUEST', message, details);
export const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', `${what} 不存在或无权访问 / not found`);
export const forbidden = (message = '无权执行此操作 / not allowed for your role') => new HttpError(403, 'FORBIDDEN', message);

export function zodDetails(err: ZodError, base = ''): ErrorDetail[] {
  return err.issues.map((i) => ({ field: [base, ...i.path.map(String)].filter(Boolean).join('.') || '(body)', reason: i.message }));
}

/** Seconds a client is asked to wait after an outage answer (503). */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
// SQLSTATEs of a database that cannot serve now: connection exceptions (08…), shutting down or starting (57P01–03),
// too many connections, a statement or lock wait past its bound, an idle transaction ended by the server.
const DB_UNAVAILABLE = /^(08...|57P0[123]|53300|57014|55P03|25P03)$/;

/**
 * Whether an error means a part the platform depends on cannot serve now (not the request's fault): PostgreSQL
 * unreachable, its connection pool or a statement timed out, a lock not granted in time; Temporal unavailable or
 * past its deadline. Follows `cause` links (the Temporal client wraps gRPC errors).
 */
export function outageOf(err: unknown): 'database' | 'temporal' | null {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = e.code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || DB_UNAVAILABLE.test(code))) return 'database';
    if (e.name === 'KnexTimeoutError' || /^Connection terminated|timeout expired|the database system is/.test(String(e.message ?? '')))
      return 'database';
    // gRPC status of a Temporal call: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED.
    if (typeof code === 'number' && (code === 14 || code === 4) && 'metadata' in e) return 'temporal';
    if (e.name === 'ServiceError' && /UNAVAILABLE|DEADLINE_EXCEEDED|Failed to connect/i.test(String(e.message ?? ''))) return 'temporal';
  }
  return null;
}

/** Turns every error into a JSON answer; a user's mistake is a 4xx, only the platform's own failure is a 500. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (res.headersSent) return;
  if (err instanceof HttpError) {
    res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details, ...err.extra } });
    return;
  }
  if (err instanceof ZodError) {
    res.status(400).json({ error: { code: 'BAD_REQUEST', message: '请求参数无效 / invalid request', details: zodDetails(err) } });
    return;
  }
  if (err instanceof UnknownCalendarYearError) {
    res.status(422).json({ error: { code: err.code, message: err.message, details: [{ field: 'date', reason: err.message }] } });
    return;
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    // body-parser: malformed JSON, body too large, bad charset.
    const reason =
      e.type === 'entity.too.large'
        ? '请求体过大，大批量请用 CSV / body too large; send large batches as CSV'
        : '请求体无法解析 / malformed request body';
    res
      .status(e.status)
      .json({ error: { code: 'BAD_REQUEST', message: reason, details: [{ field: '(body)', reason: e.message ?? reason }] } });
    return;
  }
  const outage = outageOf(err);
  if (outage) {
    // The database's transaction rolled back; a workflow's Update did not reach it: the client may try again.
    logger('api').warn({ outage, route: req.path, err: errorField(err) }, `${req.method} ${req.path}: ${outage} unavailable`);
    const message =
      outage === 'database'
        ? '平台暂时无法处理请求（数据库不可用），未做任何更改，请稍后重试 / temporarily unavailable (database): nothing was changed, try again later'
        : '平台暂时无法处理请求（流程引擎不可用），请求未完成，请稍后重试 / temporarily unavailable (process engine): the request was not completed, try again later';
    res
      .status(503)
      .set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS))
      .json({ error: { code: 'SERVICE_UNAVAILABLE', message, details: [{ field: '(service)', reason: `${outage} unavailable` }] } });
    return;
  }
  logger('api').error({ route: req.path, err: errorField(err) }, `${req.method} ${req.path} failed`);
  res.status(500).json({ error: { code: 'INTERNAL', message: '平台内部错误 / internal error' } });
};
