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
  console.error(`[api] ${req.method} ${req.path} failed:`, err instanceof Error ? err.stack : err);
  res.status(500).json({ error: { code: 'INTERNAL', message: '平台内部错误 / internal error' } });
};
