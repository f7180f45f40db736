/**
 * The one public rate limit (per client address and minute, counted across every API process through PostgreSQL,
 * api/rate-store.ts): every route a person reaches without a key — enterprise search and pages, public correction
 * notices, the catalog and its templates, the working-day calendar — counts against the same allowance. A request
 * with a valid key (a department's clerk, staff) is not counted: keys are limited by who holds them, not by address.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Db } from '../db/knex';
import { publicationSettings } from '../domain/config';
import { SharedRateStore } from './rate-store';

/** The public limiter of one app (createApp makes one: every public route of the app shares its count). */
export function createPublicLimit(db: Db): RequestHandler {
  const { publicRateLimit: perMinute, publicRateSyncMs } = publicationSettings();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    store: new SharedRateStore(db, publicRateSyncMs),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req) => !!req.principal,
    // Which proxies name the client is configured on purpose (TRUST_PROXY); a header from an untrusted peer is ignored.
    validate: { xForwardedForHeader: false },
    handler: (_req, res) => {
      res.status(429).json({
        error: {
          code: 'TOO_MANY_REQUESTS',
          message: `请求过于频繁，请稍后再试（每分钟最多 ${perMinute} 次）/ too many requests: at most ${perMinute} a minute, try again later`,
          details: [{ field: '(request)', reason: '超出访问频率限制 / rate limit exceeded' }],
        },
      });
    },
  });
}
