import type { Db } from './knex';

/**
 * What the operators watch, as the database has it now (exported as gauges at each scrape, api/metrics.ts): open and
 * overdue obligations, compliance cases and objections by state, open objections by working days left to their
 * verification deadline, batches with records still unpublished by how near their E12 deadline is, and how long
 * records took from receipt to publication over the last day.
 */
export interface PlatformGauges {
  obligations: Array<{ state: string; n: number }>;
  cases: Array<{ state: string; n: number }>;
  objections: Array<{ state: string; n: number }>;
  /** Open objections with a verification deadline, by calendar days left (negative: past it), bucketed. */
  objectionDaysLeft: Array<{ bucket: string; n: number }>;
  /** Batches with records pending or held: `in_time`, `due_today` (past day 4 of E12), `overdue`. */
  unpublishedBatches: Array<{ stage: string; n: number }>;
  /** Receipt → publication of records published in the last 24 hours, seconds: p50, p95, max (null when none). */
  publicationLag: { p50: number | null; p95: number | null; max: number | null; n: number };
}

export async function platformGauges(db: Db, today: string): Promise<PlatformGauges> {
  const rows = async <T>(sql: string, b: unknown[] = []) => ((await db.raw(sql, b as never)) as { rows: T[] }).rows;
  const [obligations, cases, objections, objectionDaysLeft, unpublishedBatches, lag] = await Promise.all([
    rows<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM obligations GROUP BY state'),
    rows<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM compliance_cases GROUP BY state'),
    rows<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM objections GROUP BY state'),
    rows<{ bucket: string; n: number }>(
      `SELECT CASE WHEN d < 0 THEN 'past' WHEN d <= 2 THEN '0-2' WHEN d <= 5 THEN '3-5' ELSE '6+' END AS bucket, count(*)::int AS n
         FROM (SELECT deadline - ?::date AS d FROM objections
                WHERE deadline IS NOT NULL AND state IN ('accepted', 'verifying', 'overdue', 'answered')) o
        GROUP BY 1`,
      [today],
    ),
    rows<{ stage: string; n: number }>(
      `SELECT CASE WHEN s.publication_deadline > ?::date THEN 'in_time' WHEN s.publication_deadline = ?::date THEN 'due_today' ELSE 'overdue' END
              AS stage, count(*)::int AS n
         FROM submissions s
        WHERE s.publication_deadline IS NOT NULL
          AND EXISTS (SELECT 1 FROM publications p WHERE p.submission_id = s.id AND p.state IN ('pending', 'held'))
        GROUP BY 1`,
      [today, today],
    ),
    rows<{ p50: number | null; p95: number | null; max: number | null; n: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY lag) AS p95,
              max(lag) AS max, count(*)::int AS n
         FROM (SELECT extract(epoch FROM p.published_at - s.received_at)::float8 AS lag
                 FROM submissions s JOIN publications p ON p.submission_id = s.id AND p.state IN ('published', 'archived')
                -- what was published in the last day was received in the last weeks (E12: 5 working days): the
                -- batches of those weeks, read through publications_submission, not the whole publications table
                WHERE s.received_at > now() - interval '21 days' AND p.published_at > now() - interval '24 hours') l`,
    ),
  ]);
  return { obligations, cases, objections, objectionDaysLeft, unpublishedBatches, publicationLag: lag[0] };
}
