import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { acceptableRequestId, runWithRequest } from '../ops/context';
import { httpLogger, maskIdentifiers } from '../ops/log';
import { httpDuration } from '../ops/metrics';

/** The route's pattern (`/records/:key`), never the values in it; `unmatched` for a path no route has. */
export function routeOf(req: Request): string {
  const pattern = req.route?.path as string | undefined;
  return pattern === undefined ? 'unmatched' : `${req.baseUrl}${pattern}`;
}

/**
 * One log line per request (pino-http): its id (the client's `X-Request-Id` when well formed, else a new one; always
 * answered in `X-Request-Id`), method, path (citizen IDs masked), route, status, duration and principal — never a key
 * (the Authorization header is not logged) or a body. The id follows the request into the audit entries it writes and
 * the workflows it starts (ops/context.ts). Each request's duration goes to the
 * `qz_http_request_duration_seconds` histogram by route.
 */
export function requestLogging(): RequestHandler[] {
  const http = pinoHttp<Request, Response>({
    logger: httpLogger(),
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = acceptableRequestId(given) ? given : crypto.randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${maskIdentifiers(req.originalUrl ?? req.url)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${maskIdentifiers(req.originalUrl ?? req.url)} ${res.statusCode}`,
    customProps: (req) => ({ route: routeOf(req), principal_id: req.principal?.id }),
    customSuccessObject: (_req, res, val: Record<string, unknown>) => ({ ...val, status: res.statusCode }),
    customErrorObject: (_req, res, _err, val: Record<string, unknown>) => ({ ...val, status: res.statusCode }),
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: maskIdentifiers(req.url) }),
      // The status is logged as `status`; nothing else of the response (its headers) is.
      res: () => undefined,
    },
    quietReqLogger: true,
  });
  const context: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      httpDuration.observe(
        { method: req.method, route: routeOf(req), status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    runWithRequest({ requestId: String(req.id) }, next);
  };
  return [http, context];
}
