import type { RequestHandler, Request } from 'express';
import type { Db } from '../db/knex';
import { parseApiKey, secretMatches } from '../domain/keys';
import type { Principal, Role } from '../domain/roles';
import { HttpError, forbidden } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const unauthorized = (why: string) =>
  new HttpError(401, 'UNAUTHORIZED', `未认证：${why} / authentication required`, [], {});

/** Resolves `Authorization: Bearer qzk_…` to a principal. Failed attempts are recorded, never the key itself. */
export function authenticate(db: Db): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const parsed = m ? parseApiKey(m[1]) : null;
    if (!parsed) return next(unauthorized('API 密钥格式错误 / malformed API key'));
    const row = await db('api_keys as k')
      .join('principals as p', 'p.id', 'k.principal_id')
      .leftJoin('providers as pr', 'pr.id', 'p.provider_id')
      .where('k.prefix', parsed.prefix)
      .first('k.id as key_id', 'k.secret_hash', 'k.expires_at', 'k.revoked_at', 'k.last_used_at', 'p.*', 'pr.code as provider_code');
    const now = new Date();
    const ok =
      row && secretMatches(parsed.secret, row.secret_hash) && !row.revoked_at && (!row.expires_at || new Date(row.expires_at) > now) && row.active;
    if (!ok) {
      await db('audit_log').insert({
        actor: 'anonymous',
        action: 'auth.failed',
        entity: 'api_key',
        entity_id: parsed.prefix,
        detail: { ip: req.ip, path: req.path, reason: !row ? 'unknown' : row.revoked_at ? 'revoked' : 'expired_or_invalid' },
      });
      return next(unauthorized('API 密钥无效、已过期或已吊销 / invalid, expired or revoked API key'));
    }
    // Last use to the minute: one write a minute per key, not one per request.
    if (!row.last_used_at || now.getTime() - new Date(row.last_used_at).getTime() > 60_000) {
      await db('api_keys').where('id', row.key_id).update({ last_used_at: now });
    }
    req.principal = {
      id: row.id,
      name: row.name,
      role: row.role,
      providerId: row.provider_id,
      providerCode: row.provider_code ?? null,
      enterpriseUscc: row.enterprise_uscc,
      personId: row.person_id,
      organization: row.organization,
    };
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
