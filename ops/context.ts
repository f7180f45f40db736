import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a request carries through every call it makes (the audit entry it writes, the workflow it starts, the lines it
 * logs): its id. Set by the API for each request (api/http-log.ts).
 */
export interface RequestContext {
  requestId: string;
}

const store = new AsyncLocalStorage<RequestContext>();

export const runWithRequest = <T>(ctx: RequestContext, fn: () => T): T => store.run(ctx, fn);

/** The request being served, if any (none in the worker, the scripts, or outside a request). */
export const currentRequest = (): RequestContext | undefined => store.getStore();

/** An id a client may give in `X-Request-Id`: 1–64 letters, digits, `-`, `_`, `.` (anything else gets a new id). */
export const acceptableRequestId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v);
