/**
 * The reporting periods (E7, P9) in SQL: the periods every active provider owes by a day under the cadences in
 * force, for the set-based opening of obligations (db/obligations.ts) and the periods waived while a provider was
 * inactive (db/providers.ts).
 */
import type { Conn } from './time';
import { obligationWorkflowId } from '../domain/workflow-ids';

/** The first day of the period of `cadence` containing the SQL date expression `d`. */
export const periodStartSql = (cadence: string, d: string) =>
  `CASE ${cadence} WHEN 'monthly' THEN date_trunc('month', ${d})::date
                   WHEN 'quarterly' THEN date_trunc('quarter', ${d})::date
                   ELSE make_date(extract(year FROM ${d})::int, CASE WHEN extract(month FROM ${d}) <= 6 THEN 1 ELSE 7 END, 1) END`;
const monthsSql = (cadence: string) => `(CASE ${cadence} WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 6 END)`;
const periodCodeSql = (cadence: string, start: string) =>
  `CASE ${cadence} WHEN 'monthly' THEN to_char(${start}, 'YYYY-MM')
                   WHEN 'quarterly' THEN to_char(${start}, 'YYYY') || '-Q' || ((extract(month FROM ${start})::int - 1) / 3 + 1)
                   ELSE to_char(${start}, 'YYYY') || '-H' || ((extract(month FROM ${start})::int - 1) / 6 + 1) END`;

/**
 * Every period of every active provider that has begun by `:today` under the cadences in force, not yet opened: the
 * CTE `missing` (provider_id, code, cadence, period_start, period_end, period); with `withIds`, of the providers
 * `:ids` only.
 */
export const missingPeriodsSql = (withIds: boolean) => `
  WITH seg AS (
    SELECT c.provider_id, p.code, c.cadence, c.effective_from,
           lead(c.effective_from) OVER (PARTITION BY c.provider_id ORDER BY c.effective_from) AS next_from
      FROM provider_cadence_changes c JOIN providers p ON p.id = c.provider_id AND p.active
     WHERE c.superseded_at IS NULL ${withIds ? 'AND p.id = ANY(:ids)' : ''}
  ), starts AS (
    SELECT seg.provider_id, seg.code, seg.cadence, gs::date AS period_start
      FROM seg, generate_series(seg.effective_from::timestamp,
                                LEAST(COALESCE(seg.next_from - 1, :today::date), :today::date)::timestamp,
                                ${monthsSql('seg.cadence')} * interval '1 month') gs
     WHERE seg.effective_from <= :today::date
  ), periods AS (
    SELECT provider_id, code, cadence, period_start,
           (period_start + ${monthsSql('cadence')} * interval '1 month' - interval '1 day')::date AS period_end,
           ${periodCodeSql('cadence', 'period_start')} AS period
      FROM starts
  ), missing AS (
    SELECT * FROM periods m
     WHERE NOT EXISTS (SELECT 1 FROM obligations o WHERE o.provider_id = m.provider_id AND o.period = m.period)
  )`;

/** The SQL expression of the workflow id of the `missing` row `m`, from the `:workflowIds` map of `missingPeriods`. */
export const missingWorkflowIdSql = `(:workflowIds::jsonb -> m.code ->> m.period)`;

export interface MissingPeriods {
  /** The distinct periods missing. */
  periods: string[];
  /** JSON of { providerCode: { period: workflowId } }, bound as `:workflowIds` (see `missingWorkflowIdSql`). */
  workflowIds: string;
}

/**
 * The periods `missingPeriodsSql` finds, with the workflow id of each (provider, period) built by
 * `obligationWorkflowId`, the one spelling of it.
 */
export async function missingPeriods(db: Conn, withIds: boolean, binds: { today: string; ids: number[] | null }): Promise<MissingPeriods> {
  const rows = (await db.raw(`${missingPeriodsSql(withIds)} SELECT DISTINCT code, period FROM missing`, binds)).rows as {
    code: string;
    period: string;
  }[];
  const workflowIds: Record<string, Record<string, string>> = {};
  for (const { code, period } of rows) (workflowIds[code] ??= {})[period] = obligationWorkflowId(code, period);
  return { periods: [...new Set(rows.map((r) => r.period))], workflowIds: JSON.stringify(workflowIds) };
}
