import type { Knex } from 'knex';
import { querySettings } from '../domain/config';

/** The platform's oversight of queries: chargeable queries (E16) and access monitoring (P11, E19). */

/** E16: chargeable answered queries of a period, per month and querier, with the period's totals. */
export async function feeReport(db: Knex, from: string, to: string) {
  const range = (b: Knex.QueryBuilder) =>
    b
      .where('q.at', '>=', db.raw(`(?::date)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [from]))
      .where('q.at', '<', db.raw(`(?::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [to]));
  const rows = await db('query_log as q')
    .modify(range)
    .where({ 'q.fee': 'chargeable', 'q.outcome': 'answered' })
    .groupByRaw(`1, 2, 3, 4, 5`)
    .orderByRaw('1, 6 desc, 3')
    .select(
      db.raw(`to_char(q.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') as month`),
      'q.principal_id',
      'q.principal_name',
      'q.principal_role',
      'q.organization',
      db.raw('count(*)::int as queries'),
      db.raw('sum(q.item_count)::int as items'),
    );
  const totals = await db('query_log as q')
    .modify(range)
    .groupBy('q.fee', 'q.outcome')
    .select('q.fee', 'q.outcome', db.raw('count(*)::int as n'));
  const count = (fee: string, outcome: string) =>
    totals.find((t: { fee: string; outcome: string; n: number }) => t.fee === fee && t.outcome === outcome)?.n ?? 0;
  return {
    from,
    to,
    rows,
    totals: {
      chargeable: count('chargeable', 'answered'),
      free: count('free', 'answered'),
      refused: count('free', 'refused') + count('chargeable', 'refused'),
    },
  };
}

// ─── Access monitoring (P11, E19) ────────────────────────────────────────────────────────────────────────────

export interface MonitoringRow {
  principal_id: string | null;
  name: string | null;
  role: string | null;
  organization: string | null;
  failed_auth: number;
  refused_queries: number;
  queries: number;
  /** Per day in the window, with the unusual days flagged. */
  days: { date: string; queries: number; unusual: boolean }[];
  /** Average queries per day over the 30 days before the window. */
  baseline_daily_average: number;
  unusual: boolean;
}

/**
 * Per principal over the days `from`..`to` (Shanghai): failed authentications (by the key prefix that was
 * tried), refused queries, queries per day; a day is unusual above the daily limit or above `factor` times the
 * principal's own daily average of the 30 days before the window.
 */
export async function accessMonitoring(
  db: Knex,
  from: string,
  to: string,
): Promise<{ from: string; to: string; limit: number; factor: number; principals: MonitoringRow[]; failed_auth_unknown_keys: number }> {
  const { queryVolumeDailyLimit: limit, queryVolumeFactor: factor } = querySettings();
  const start = db.raw(`(?::date)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [from]);
  const end = db.raw(`(?::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [to]);
  const failed = (await db('audit_log as a')
    .leftJoin('api_keys as k', 'k.prefix', 'a.entity_id')
    .where('a.action', 'auth.failed')
    .where('a.at', '>=', start)
    .where('a.at', '<', end)
    .groupBy('k.principal_id')
    .select('k.principal_id', db.raw('count(*)::int as n'))) as { principal_id: string | null; n: number }[];
  const perDay = (await db('query_log as q')
    .where('q.at', '>=', start)
    .where('q.at', '<', end)
    .groupByRaw('1, 2')
    .select(
      'q.principal_id',
      db.raw(`to_char(q.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') as day`),
      db.raw('count(*)::int as n'),
      db.raw(`count(*) FILTER (WHERE q.outcome = 'refused')::int as refused`),
    )) as {
    principal_id: string;
    day: string;
    n: number;
    refused: number;
  }[];
  const baseline = (await db('query_log as q')
    .where('q.at', '>=', db.raw(`(?::date - 30)::timestamp AT TIME ZONE 'Asia/Shanghai'`, [from]))
    .where('q.at', '<', start)
    .groupBy('q.principal_id')
    .select('q.principal_id', db.raw('count(*)::int as n'))) as { principal_id: string; n: number }[];

  const ids = new Set<string>([...perDay.map((d) => d.principal_id), ...failed.filter((f) => f.principal_id).map((f) => f.principal_id!)]);
  const principals = ids.size
    ? ((await db('principals')
        .whereIn('id', [...ids])
        .select('id', 'name', 'role', 'organization')) as { id: string; name: string; role: string; organization: string | null }[])
    : [];
  const rows: MonitoringRow[] = principals.map((p) => {
    const days = perDay.filter((d) => d.principal_id === p.id).sort((a, b) => (a.day < b.day ? -1 : 1));
    const avg = (baseline.find((b) => b.principal_id === p.id)?.n ?? 0) / 30;
    const flagged = days.map((d) => ({ date: d.day, queries: d.n, unusual: d.n > limit || (avg > 0 && d.n > factor * avg && d.n >= 10) }));
    return {
      principal_id: p.id,
      name: p.name,
      role: p.role,
      organization: p.organization,
      failed_auth: failed.find((f) => f.principal_id === p.id)?.n ?? 0,
      refused_queries: days.reduce((s, d) => s + d.refused, 0),
      queries: days.reduce((s, d) => s + d.n, 0),
      days: flagged,
      baseline_daily_average: Math.round(avg * 100) / 100,
      unusual: flagged.some((d) => d.unusual),
    };
  });
  rows.sort(
    (a, b) =>
      Number(b.unusual) - Number(a.unusual) ||
      b.failed_auth + b.refused_queries - (a.failed_auth + a.refused_queries) ||
      b.queries - a.queries,
  );
  return { from, to, limit, factor, principals: rows, failed_auth_unknown_keys: failed.find((f) => f.principal_id === null)?.n ?? 0 };
}
