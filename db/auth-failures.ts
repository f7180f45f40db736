/**
 * Failed authentications, counted where they are recorded: the audit log's `auth.failed` entries of the last 60
 * seconds from one client address (a sliding minute, the same for every API process). A failure is recorded only
 * while the address is under AUTH_FAILURE_LIMIT; the count and the entry are made under a transaction lock of that
 * address (an advisory lock: the same for every process, and no other address or audited write waits on it), so
 * concurrent processes cannot both take the last place. Beyond the limit, one `auth.throttled` entry a minute per
 * address.
 */
import type { Db } from './knex';
import { recordAudit } from './audit';

const ACCESS_MONITORING = 'P11, E19';

export interface FailureOutcome {
  /** `recorded`: under the limit, an auth.failed entry written; `throttled`: over it (nothing more than one notice a minute). */
  kind: 'recorded' | 'throttled';
  /** Failures from the address in the last 60 s, this one included when recorded. */
  inWindow: number;
  /** Seconds until the oldest of them leaves the window. */
  retryAfterSeconds: number;
}

export async function recordAuthFailure(
  db: Db,
  f: { address: string; prefix: string; path: string; reason: string; limit: number },
): Promise<FailureOutcome> {
  return db.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtextextended('qz.auth-failures:' || ?, 0))`, [f.address]);
    const [w] = (
      await trx.raw(
        `SELECT count(*)::int AS n, ceil(extract(epoch FROM (min(at) + interval '60 seconds' - now())))::int AS wait
           FROM audit_log WHERE action = 'auth.failed' AND at > now() - interval '60 seconds' AND detail->>'ip' = ?`,
        [f.address],
      )
    ).rows as Array<{ n: number; wait: number | null }>;
    if (w.n >= f.limit) {
      const notified = await trx('audit_log')
        .where({ action: 'auth.throttled', entity: 'client_address', entity_id: f.address })
        .where('at', '>', trx.raw(`now() - interval '60 seconds'`))
        .first('id');
      if (!notified)
        await recordAudit(trx, {
          actor: 'anonymous',
          action: 'auth.throttled',
          entity: 'client_address',
          id: f.address,
          article: ACCESS_MONITORING,
          detail: { ip: f.address, limit_per_minute: f.limit, path: f.path },
        });
      return { kind: 'throttled', inWindow: w.n, retryAfterSeconds: Math.max(1, w.wait ?? 60) };
    }
    await recordAudit(trx, {
      actor: 'anonymous',
      action: 'auth.failed',
      entity: 'api_key',
      id: f.prefix,
      article: ACCESS_MONITORING,
      detail: { ip: f.address, path: f.path, reason: f.reason },
    });
    return { kind: 'recorded', inWindow: w.n + 1, retryAfterSeconds: Math.max(1, w.wait ?? 60) };
  });
}
