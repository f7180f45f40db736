/**
 * What the public sees (E11, E12): an enterprise's page of published records and approved voluntary disclosures,
 * and the search of enterprises with something published, by code or by name (with the fragment counts that
 * steer the name search). Hot public reads: named prepared statements on pooled connections.
 */
import type { Client as PgClient } from 'pg';
import type { Db } from './knex';
import { isoSql } from './time';
import { periodColumns } from './publication-periods';
import { TERMINATED_STATUSES_SQL, periodBasisSql, periodEndSql } from '../domain/publication';
// ─── The public view (E11, E12): published, in period, current, active, never restricted ───────────────────

export interface PublicRecord {
  record_key: string;
  item_code: string;
  item_name: string;
  provider: string;
  event_date: string;
  valid_until: string | null;
  lifted_date: string | null;
  published_at: string;
  publication_date: string;
  period_end: string | null;
  period_basis: string;
  content: Record<string, unknown>;
}

export interface PublicVoluntary {
  id: string;
  title: string;
  content: string;
  published_at: string;
  publication_date: string;
  period_end: null;
  period_basis: 'until_withdrawn';
}

export interface EnterprisePage {
  enterprise: { uscc: string; name: string | null };
  basic: PublicRecord[];
  honors: PublicRecord[];
  warnings: PublicRecord[];
  voluntary: PublicVoluntary[];
}

const liveCols = periodColumns('p.publication_date');

/**
 * The public page of an enterprise in one statement ($1 the code, $2 today in Shanghai): published rows whose
 * current version is active, of a public enterprise item, still in their period (the live end: a correction
 * or a law-specific period counts at once, before the sweep stores it), basic information only while the
 * enterprise is not terminated; and its approved voluntary disclosures.
 */
export const PAGE_SQL = `
  SELECT (SELECT name FROM enterprises WHERE uscc = $1) AS name,
         coalesce((SELECT json_agg(x ORDER BY x.category, x.event_date DESC, x.record_key) FROM (
           SELECT r.record_key, r.item_code, ci.name_zh AS item_name, pr.name_zh AS provider, p.category,
                  r.event_date, r.valid_until, r.lifted_date,
                  ${isoSql('p.published_at')} AS published_at,
                  p.publication_date, e.end AS period_end, e.basis AS period_basis, r.payload AS content
             FROM publications p
             JOIN records r ON r.record_key = p.record_key AND r.is_current AND r.status = 'active'
             JOIN catalog_items ci ON ci.code = r.item_code AND ci.disclosure = 'public' AND ci.subject_type = 'enterprise'
             JOIN providers pr ON pr.id = r.provider_id
             LEFT JOIN publication_period_overrides o ON o.item_code = r.item_code
             CROSS JOIN LATERAL (SELECT ${periodEndSql(liveCols)} AS end, ${periodBasisSql(liveCols)} AS basis) e
            WHERE p.subject_id = $1 AND p.state = 'published' AND p.suspended_at IS NULL AND r.subject_type = 'enterprise' AND r.subject_id = p.subject_id
              AND (e.end IS NULL OR e.end >= $2::date)
              AND (p.category <> 'basic' OR NOT (
                    EXISTS (SELECT 1 FROM enterprises t WHERE t.uscc = p.subject_id AND t.status IN (${TERMINATED_STATUSES_SQL}))
                 OR EXISTS (SELECT 1 FROM records t WHERE t.subject_id = p.subject_id AND t.is_current AND t.status = 'active'
                               AND t.item_code = 'E-BASIC-REG' AND (t.payload->>'status') IN (${TERMINATED_STATUSES_SQL}))))
         ) x), '[]') AS records,
         coalesce((SELECT json_agg(v ORDER BY v.published_at DESC, v.id) FROM (
           SELECT id, title, content, ${isoSql('published_at')} AS published_at, publication_date
             FROM voluntary_disclosures WHERE enterprise_uscc = $1 AND state = 'approved'
         ) v), '[]') AS voluntary`;

/**
 * Runs a read as a named prepared statement on a pooled connection: the plan of a hot public query is made
 * once per connection, not on every request.
 */
async function prepared<T>(db: Db, name: string, text: string, values: unknown[]): Promise<T[]> {
  const conn = (await db.client.acquireConnection()) as PgClient;
  try {
    return (await conn.query({ name, text, values })).rows as T[];
  } finally {
    await db.client.releaseConnection(conn);
  }
}

/** What the public sees of an enterprise today (`today` in Shanghai); null when nothing of it is public. */
export async function enterprisePage(db: Db, uscc: string, today: string): Promise<EnterprisePage | null> {
  const [row] = await prepared<{
    name: string | null;
    records: (PublicRecord & { category: string })[];
    voluntary: Omit<PublicVoluntary, 'period_end' | 'period_basis'>[];
  }>(db, 'qz_public_page', PAGE_SQL, [uscc, today]);
  const recs = row.records;
  const vols = row.voluntary;
  if (!recs.length && !vols.length) return null;
  const strip = ({ category: _c, ...r }: PublicRecord & { category: string }): PublicRecord => r;
  return {
    enterprise: { uscc, name: row.name },
    basic: recs.filter((r) => r.category === 'basic').map(strip),
    honors: recs.filter((r) => r.category === 'honor').map(strip),
    warnings: recs.filter((r) => r.category === 'warning').map(strip),
    voluntary: vols.map((v) => ({ ...v, period_end: null, period_basis: 'until_withdrawn' as const })),
  };
}

export interface SearchHit {
  uscc: string;
  name: string | null;
}

/** Escapes LIKE wildcards of a user's text. */
const likeText = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const HAS_PUBLIC = `(EXISTS (SELECT 1 FROM publications p WHERE p.subject_id = e.uscc AND p.state = 'published' AND p.suspended_at IS NULL)
   OR EXISTS (SELECT 1 FROM voluntary_disclosures v WHERE v.enterprise_uscc = e.uscc AND v.state = 'approved'))`;

/** A fragment in at least this many names is listed in enterprise_name_grams (rarer ones count as rare). */
export const COMMON_GRAM_MIN_NAMES = 20;

/**
 * The name search asks the trigram index only for the two rarest 3-character fragments of the text (counts from
 * enterprise_name_grams; an unlisted fragment is rare) and checks the whole text with strpos on the rows found:
 * `LIKE '%fragment%'` holds for every name containing the text, so the answer is the same as `LIKE '%text%'`,
 * without walking the long lists of fragments every name shares. A text without a fragment of three letters or
 * digits falls back to the whole pattern ($4).
 */
export const NAME_SEARCH_SQL = `
  WITH w AS MATERIALIZED (
    SELECT i, coalesce(g.names, 0) AS names
      FROM generate_series(1, char_length($1) - 2) AS i
      LEFT JOIN enterprise_name_grams g ON g.gram = substr($1, i, 3)
     WHERE substr($1, i, 3) ~ '^[[:alnum:]]{3}$'
     ORDER BY names, i
     LIMIT 2
  ), pick AS (
    SELECT (SELECT '%' || substr($1, i, 3) || '%' FROM w ORDER BY names, i LIMIT 1) AS rarest,
           (SELECT '%' || substr($1, i, 3) || '%' FROM w ORDER BY names, i OFFSET 1 LIMIT 1) AS next
  )
  SELECT e.uscc, e.name FROM enterprises e
   WHERE e.name LIKE coalesce((SELECT rarest FROM pick), $4)
     AND e.name LIKE coalesce((SELECT next FROM pick), (SELECT rarest FROM pick), $4)
     AND strpos(e.name, $1) > 0
     AND ${HAS_PUBLIC}
   ORDER BY e.name, e.uscc LIMIT $2 OFFSET $3`;

/**
 * Enterprises with something published, by unified social credit code (exact) or by name: a part of the name
 * (3 characters or more, trigram index on its rarest fragments; 1–2 characters, the index of short pieces). One row more
 * than asked tells whether there is a next page.
 */
export async function searchEnterprises(
  db: Db,
  q: { code?: string; name?: string; limit: number; offset: number },
): Promise<{ items: SearchHit[]; hasMore: boolean }> {
  let rows: SearchHit[];
  if (q.code) {
    rows = await prepared<SearchHit>(
      db,
      'qz_public_search_code',
      `SELECT e.uscc, e.name FROM enterprises e WHERE e.uscc = $1 AND ${HAS_PUBLIC} LIMIT $2 OFFSET $3`,
      [q.code, q.limit + 1, q.offset],
    );
  } else {
    const name = q.name ?? '';
    if ([...name].length >= 3) {
      rows = await prepared<SearchHit>(db, 'qz_public_search_part', NAME_SEARCH_SQL, [name, q.limit + 1, q.offset, `%${likeText(name)}%`]);
    } else {
      // One or two characters: the index of every 1- and 2-character piece of a name (migration 0017).
      rows = await prepared<SearchHit>(
        db,
        'qz_public_search_short',
        `SELECT e.uscc, e.name FROM enterprises e
          WHERE qz_name_grams(e.name) @> ARRAY[$1::text] AND strpos(e.name, $1) > 0 AND ${HAS_PUBLIC}
          ORDER BY e.name, e.uscc LIMIT $2 OFFSET $3`,
        [name, q.limit + 1, q.offset],
      );
    }
  }
  return { items: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

export interface NameSearchRefresh {
  enterprises: number;
  grams: number;
  ms: number;
}

/**
 * Rebuilds enterprise_name_grams from the register: for every fragment of three letters or digits in at least
 * COMMON_GRAM_MIN_NAMES names, how many names contain it. One statement that changes only what changed (readers
 * keep the old counts until it commits); running it twice gives the same table.
 */
export async function refreshNameSearchStatistics(db: Db): Promise<NameSearchRefresh> {
  const started = new Date();
  const t = performance.now();
  const { enterprises, grams } = await db.transaction(async (trx) => {
    // One refresh at a time (two workers may both run the schedule's catch-up); the second waits, then redoes it.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['qz:name-search-statistics']);
    await trx.raw(
      `WITH fresh AS (
         SELECT gram, count(*)::int AS names
           FROM (SELECT DISTINCT e.uscc, substr(e.name, i, 3) AS gram
                   FROM enterprises e, generate_series(1, char_length(e.name) - 2) AS i
                  WHERE e.name IS NOT NULL) f
          WHERE gram ~ '^[[:alnum:]]{3}$'
          GROUP BY gram
         HAVING count(*) >= ?
       ), gone AS (
         DELETE FROM enterprise_name_grams g WHERE NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.gram = g.gram)
       )
       INSERT INTO enterprise_name_grams (gram, names)
       SELECT gram, names FROM fresh
       ON CONFLICT (gram) DO UPDATE SET names = EXCLUDED.names WHERE enterprise_name_grams.names <> EXCLUDED.names`,
      [COMMON_GRAM_MIN_NAMES],
    );
    const [{ n: e }] = (await trx.raw('SELECT count(*)::int AS n FROM enterprises')).rows;
    const [{ n: g }] = (await trx.raw('SELECT count(*)::int AS n FROM enterprise_name_grams')).rows;
    await trx('name_search_refreshes').insert({ started_at: started, finished_at: trx.fn.now(), enterprises: e, grams: g });
    return { enterprises: e as number, grams: g as number };
  });
  return { enterprises, grams, ms: Math.round(performance.now() - t) };
}
