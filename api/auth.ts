import type { RequestHandler, Request } from 'express';
import type { Db } from '../db/knex';
import { liveFeed } from '../db/changes';
import { recordAuthFailure } from '../db/auth-failures';
import { authSettings } from '../domain/config';
import { parseApiKey, secretMatches } from '../domain/keys';
import type { Principal, Role } from '../domain/roles';
import { HttpError, forbidden } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const unauthorized = (why: string) => new HttpError(401, 'UNAUTHORIZED', `未认证：${why} / authentication required`, [], {});

interface KeyRow {
  key_id: string;
  secret_hash: string;
  expires_at: string | Date | null;
  revoked_at: string | Date | null;
  last_used_at: string | Date | null;
  active: boolean;
  principal: Principal;
}

/** Tables whose change may change what a key resolves to (their triggers notify, migration 0007). */
const KEY_TABLES = ['api_keys', 'principals', 'providers'] as const;
const KEY_CACHE_MAX = 10_000;
const KEY_CACHE_MS = 60_000;
/** Failed and throttled authentications are recorded for access monitoring (P11, E19). */

/**
 * Keys resolved recently, by prefix, while the process hears changes (db/changes.ts): a request with a known key
 * then costs no query. Any change of api_keys, principals or providers (a revocation, a deactivation) empties it,
 * in every process; an entry is also dropped after a minute. Without a live feed nothing is kept.
 */
class KeyCache {
  private entries = new Map<string, { row: KeyRow; epoch: string; at: number }>();

  epoch(db: Db): string | null {
    const feed = liveFeed(db);
    return feed ? KEY_TABLES.map((t) => feed.epoch(t)).join('|') : null;
  }

  get(prefix: string, epoch: string | null, now: number): KeyRow | null {
    if (epoch === null) return null;
    const hit = this.entries.get(prefix);
    if (!hit) return null;
    if (hit.epoch !== epoch || now - hit.at > KEY_CACHE_MS) {
      this.entries.delete(prefix);
      return null;
    }
    return hit.row;
  }

  set(prefix: string, row: KeyRow, epoch: string | null, now: number): void {
    if (epoch === null) return;
    if (this.entries.size >= KEY_CACHE_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(prefix, { row, epoch, at: now });
  }
}

async function lookupKey(db: Db, prefix: string): Promise<KeyRow | null> {
  const row = await db('api_keys as k')
    .join('principals as p', 'p.id', 'k.principal_id')
    .leftJoin('providers as pr', 'pr.id', 'p.provider_id')
    .where('k.prefix', prefix)
    .first('k.id as key_id', 'k.secret_hash', 'k.expires_at', 'k.revoked_at', 'k.last_used_at', 'p.*', 'pr.code as provider_code');
  if (!row) return null;
  return {
    key_id: row.key_id,
    secret_hash: row.secret_hash,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    last_used_at: row.last_used_at,
    active: row.active,
    principal: {
      id: row.id,
      name: row.name,
      role: row.role,
      providerId: row.provider_id,
      providerCode: row.provider_code ?? null,
      enterpriseUscc: row.enterprise_uscc,
      personId: row.person_id,
      organization: row.organization,
    },
  };
}

/**
 * Resolves `Authorization: Bearer qzk_…` to a principal. Failed attempts are recorded, never the key itself: each
 * one up to AUTH_FAILURE_LIMIT in any 60 seconds from one address, counted across every API process (the audit
 * log's own entries, db/auth-failures.ts); beyond, the address gets 429 and one record a minute (a flood of bad keys
 * must not flood the audit log, whose entries are chained one after another).
 */
export function authenticate(db: Db): RequestHandler {
  const cache = new KeyCache();
  /**
   * Until when an address is known to be over the limit (the platform's count said so; its auth.throttled notice of
   * the minute exists): a flood is refused without a query, so it cannot queue on the audit chain's lock.
   */
  const throttledUntil = new Map<string, number>();
  const { authFailureLimit } = authSettings();
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const parsed = m ? parseApiKey(m[1]) : null;
    if (!parsed) return next(unauthorized('API 密钥格式错误 / malformed API key'));
    const now = new Date();
    // The epoch is read before the lookup: a change heard while it runs makes the stored entry stale at once.
    const epoch = cache.epoch(db);
    let row = cache.get(parsed.prefix, epoch, now.getTime());
    if (!row) {
      row = await lookupKey(db, parsed.prefix);
      if (row) cache.set(parsed.prefix, row, epoch, now.getTime());
    }
    const ok =
      !!row &&
      secretMatches(parsed.secret, row.secret_hash) &&
      !row.revoked_at &&
      (!row.expires_at || new Date(row.expires_at) > now) &&
      row.active;
    if (!ok || !row) {
      const address = req.ip ?? 'unknown';
      const t = now.getTime();
      const tooMany = (retryAfter: number) => {
        res.set('Retry-After', String(retryAfter));
        return next(
          new HttpError(
            429,
            'TOO_MANY_FAILED_AUTHENTICATIONS',
            `认证失败次数过多，请一分钟后再试（每分钟最多 ${authFailureLimit} 次）/ too many failed authentications from this address; try again in a minute`,
            [{ field: 'authorization', reason: '认证失败次数超限 / failed authentications over the limit' }],
          ),
        );
      };
      // Known to be over the limit: refused at once (the one notice a minute is written already).
      const until = throttledUntil.get(address) ?? 0;
      if (until > t) return tooMany(Math.max(1, Math.ceil((until - t) / 1000)));
      const outcome = await recordAuthFailure(db, {
        address,
        prefix: parsed.prefix,
        path: req.path,
        reason: !row ? 'unknown' : row.revoked_at ? 'revoked' : 'expired_or_invalid',
        limit: authFailureLimit,
      });
      if (outcome.kind === 'throttled') {
        // Until the oldest failure of the window leaves it (a minute at most: the notice is written once a minute).
        throttledUntil.set(address, t + Math.min(60, outcome.retryAfterSeconds) * 1000);
        if (throttledUntil.size > 10_000) for (const [a, u] of throttledUntil) if (u <= t) throttledUntil.delete(a);
        return tooMany(outcome.retryAfterSeconds);
      }
      return next(unauthorized('API 密钥无效、已过期或已吊销 / invalid, expired or revoked API key'));
    }
    // Last use to the minute: one write a minute per key, not one per request.
    if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > 60_000) {
      row.last_used_at = now;
      await db('api_keys').where('id', row.key_id).update({ last_used_at: now });
    }
    req.principal = { ...row.principal };
    next();
  };
}

/** Only these roles may call the route. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal) return next(unauthorized('需要 API 密钥 / an API key is required'));
    if (!roles.includes(req.principal.role)) return next(forbidden(`该操作仅限 ${roles.join('、')} / only for ${roles.join(', ')}`));
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized('需要 API 密钥 / an API key is required');
  return req.principal;
}

export function actorLabel(p: Principal): string {
  return `${p.role}:${p.name}`;
}
