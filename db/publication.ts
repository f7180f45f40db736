/**
 * Publication facts in PostgreSQL (E11–E15): one `publications` row per public enterprise record key, written
 * and swept in set-based SQL (never one workflow per record). Every statement here is idempotent: it only moves
 * rows out of the state it expects (`WHERE state = …`), so a retried activity or a repeated sweep changes nothing
 * the first run did not.
 */
import type { Knex } from 'knex';
import type { Client as PgClient } from 'pg';
import type { Db } from './knex';
import { notify } from './notifications';
import {
  AUTO_PUBLISHED_CATEGORIES,
  TERMINATED_STATUSES_SQL,
  periodBasisSql,
  periodEndSql,
  type PeriodSqlColumns,
} from '../domain/publication';

type Conn = Db | Knex.Transaction;

const rowsOf = <T>(r: { rows: T[] }) => r.rows;

/** The period rules applied to the current version `r` of a record of item `ci`, published on `pubDate`. */
const columns = (pubDate: string): PeriodSqlColumns => ({
  rule: 'ci.period_rule',
  defaultYears: 'ci.default_period_years',
  lawMonths: 'o.period_months',
  publicationDate: pubDate,
  validUntil: 'r.valid_until',
  liftedDate: 'r.lifted_date',
});

const AUTO_CATEGORIES_SQL = AUTO_PUBLISHED_CATEGORIES.map((c) => `'${c}'`).join(', ');

// ─── The submission workflow's steps ─────────────────────────────────────────────────────────────────────────

/**
 * Registers the public records of an accepted batch for publication (E12): enterprise records of the categories
 * basic, honor and warning. Restricted categories (E13) and personal records get no row, so they can never be
 * published. Answers how many rows the batch has (whether written now or by an earlier run).
 */
export async function registerBatch(db: Db, submissionId: string, dueDate: string): Promise<number> {
  await db.raw(
    `INSERT INTO publications (record_key, record_id, submission_id, provider_id, subject_id, item_code, category, state, due_date)
     SELECT r.record_key, r.id, r.submission_id, r.provider_id, r.subject_id, r.item_code, ci.category, 'pending', ?::date
       FROM records r JOIN catalog_items ci ON ci.code = r.item_code
      WHERE r.submission_id = ? AND r.subject_type = 'enterprise' AND ci.subject_type = 'enterprise'
        AND ci.disclosure = 'public' AND ci.category IN (${AUTO_CATEGORIES_SQL})
     ON CONFLICT (record_key) DO NOTHING`,
    [dueDate, submissionId],
  );
  const [{ n }] = rowsOf<{ n: number }>(await db.raw('SELECT count(*)::int AS n FROM publications WHERE submission_id = ?', [submissionId]));
  return n;
}

export interface PublishCounts {
  published: number;
  cancelled: number;
}

/**
 * Publishes pending rows (never held, rejected or already published ones) as of `asOf`, in chunks of `chunk`
 * rows: the current version of each record is published with its period end (E15); a record retracted before
 * publication is cancelled. `where` picks the rows: one batch (`submission_id`), or every row due by a date.
 */
async function publishChunk(db: Db, where: { submissionId: string } | { dueBy: string }, asOf: string, chunk: number): Promise<PublishCounts> {
  const pick = 'submissionId' in where ? 'p.submission_id = ?::uuid' : 'p.due_date <= ?::date';
  const pickArg = 'submissionId' in where ? where.submissionId : where.dueBy;
  const pubDate = `(?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date`;
  const cols = columns('x.pub_date');
  const result = await db.transaction(async (trx) => {
    const rows = rowsOf<{ state: string; n: number; submission_id: string | null }>(
      await trx.raw(
        `WITH c AS (
           SELECT p.record_key FROM publications p
            WHERE ${pick} AND p.state = 'pending'
            ORDER BY p.record_key LIMIT ? FOR UPDATE
         ), x AS (SELECT ?::timestamptz AS at, ${pubDate} AS pub_date),
         upd AS (
           UPDATE publications p SET
             record_id = r.id,
             state = CASE WHEN r.status = 'active' THEN 'published' ELSE 'cancelled' END,
             published_at = CASE WHEN r.status = 'active' THEN x.at END,
             publication_date = CASE WHEN r.status = 'active' THEN x.pub_date END,
             period_end = CASE WHEN r.status = 'active' THEN ${periodEndSql(cols)} END,
             period_basis = CASE WHEN r.status = 'active' THEN ${periodBasisSql(cols)} END
            FROM c, x, records r
            JOIN catalog_items ci ON ci.code = r.item_code
            LEFT JOIN publication_period_overrides o ON o.item_code = r.item_code
           WHERE p.record_key = c.record_key AND r.record_key = p.record_key AND r.is_current
           RETURNING p.state, p.submission_id
         )
         SELECT state, submission_id, count(*)::int AS n FROM upd GROUP BY state, submission_id`,
        [pickArg, chunk, asOf, asOf],
      ),
    );
    const bySubmission = new Map<string | null, Record<string, number>>();
    for (const r of rows) {
      const m = bySubmission.get(r.submission_id) ?? {};
      m[r.state] = r.n;
      bySubmission.set(r.submission_id, m);
    }
    for (const [sub, counts] of bySubmission) {
      await trx('audit_log').insert({
        actor: 'system:workflow',
        action: 'publication.publish',
        entity: 'submission',
        entity_id: sub,
        detail: { published: counts.published ?? 0, cancelled: counts.cancelled ?? 0, as_of: asOf, article: 'E12' },
      });
    }
    return {
      published: rows.filter((r) => r.state === 'published').reduce((a, r) => a + r.n, 0),
      cancelled: rows.filter((r) => r.state === 'cancelled').reduce((a, r) => a + r.n, 0),
    };
  });
  return result;
}

export async function publishPending(
  db: Db,
  where: { submissionId: string } | { dueBy: string },
  asOf: string,
  chunk = 50_000,
  onChunk?: () => void,
): Promise<PublishCounts> {
  const total = { published: 0, cancelled: 0 };
  for (;;) {
    const c = await publishChunk(db, where, asOf, chunk);
    total.published += c.published;
    total.cancelled += c.cancelled;
    onChunk?.();
    if (c.published + c.cancelled < chunk) return total;
  }
}

export interface BatchPublicationState {
  total: number;
  pending: number;
  held: number;
  published: number;
  rejected: number;
  cancelled: number;
  archived: number;
}

export async function batchState(db: Conn, submissionId: string): Promise<BatchPublicationState> {
  const rows = rowsOf<{ state: keyof BatchPublicationState; n: number }>(
    await db.raw('SELECT state, count(*)::int AS n FROM publications WHERE submission_id = ? GROUP BY state', [submissionId]),
  );
  const s: BatchPublicationState = { total: 0, pending: 0, held: 0, published: 0, rejected: 0, cancelled: 0, archived: 0 };
  for (const r of rows) {
    s[r.state] = r.n;
    s.total += r.n;
  }
  return s;
}

// ─── Staff review of a batch (hold, release, reject) ─────────────────────────────────────────────────────────

export type ReviewAction = 'hold' | 'release' | 'reject';

const FROM_STATES: Record<ReviewAction, string[]> = { hold: ['pending'], release: ['held'], reject: ['pending', 'held'] };
const TO_STATE: Record<ReviewAction, string> = { hold: 'held', release: 'pending', reject: 'rejected' };

export type ReviewOutcome =
  | { kind: 'ok'; changed: number; state: BatchPublicationState }
  | { kind: 'not_found' }
  | { kind: 'conflict'; problems: { recordKey: string; state: string | null }[] };

/**
 * Staff hold records of a batch before publication (with a reason), release them (they are published at the
 * next publication step, or at once when the batch's review window is over) or reject them for good (E11:
 * state secrets, trade secrets, privacy). All or nothing: one key in the wrong state refuses the whole request.
 */
export async function reviewRecords(
  db: Db,
  r: { submissionId: string; recordKeys: string[]; action: ReviewAction; reason: string | null; principalId: string; actor: string },
): Promise<ReviewOutcome> {
  return db.transaction(async (trx) => {
    const sub = await trx('submissions').where('id', r.submissionId).first('id');
    if (!sub) return { kind: 'not_found' } as const;
    const rows: { record_key: string; state: string }[] = await trx('publications')
      .where('submission_id', r.submissionId)
      .whereIn('record_key', r.recordKeys)
      .orderBy('record_key') // the order publishing locks in: no deadlock
      .forUpdate()
      .select('record_key', 'state');
    const found = new Map(rows.map((x) => [x.record_key, x.state]));
    const problems = r.recordKeys
      .filter((k) => !FROM_STATES[r.action].includes(found.get(k) ?? ''))
      .map((k) => ({ recordKey: k, state: found.get(k) ?? null }));
    if (problems.length) return { kind: 'conflict', problems } as const;
    const now = trx.fn.now();
    const patch: Record<string, unknown> = { state: TO_STATE[r.action] };
    if (r.action === 'hold') Object.assign(patch, { hold_reason: r.reason, held_by: r.principalId, held_at: now, decision: null, decision_reason: null, decided_by: null, decided_at: null });
    else Object.assign(patch, { decision: r.action, decision_reason: r.reason, decided_by: r.principalId, decided_at: now });
    const changed = await trx('publications').where('submission_id', r.submissionId).whereIn('record_key', r.recordKeys).whereIn('state', FROM_STATES[r.action]).update(patch);
    await trx('audit_log').insert(
      r.recordKeys.map((k) => ({
        principal_id: r.principalId,
        actor: r.actor,
        action: `publication.${r.action}`,
        entity: 'record',
        entity_id: k,
        detail: { submission_id: r.submissionId, from: found.get(k), to: TO_STATE[r.action], reason: r.reason, article: r.action === 'reject' ? 'E11' : 'E12' },
      })),
    );
    return { kind: 'ok', changed, state: await batchState(trx, r.submissionId) } as const;
  });
}

// ─── Alerts ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Tells staff that records of a batch are still held (day 4: the deadline is near; after the deadline: overdue). */
export async function alertHeld(db: Db, submissionId: string, stage: 'deadline_near' | 'deadline_passed'): Promise<number> {
  const held = await db('publications').where({ submission_id: submissionId, state: 'held' }).count<{ n: number }[]>({ n: '*' });
  const n = Number(held[0].n);
  if (!n) return 0;
  const sub = await db('submissions as s').join('providers as pr', 'pr.id', 's.provider_id').where('s.id', submissionId).first('s.publication_deadline', 's.period', 'pr.name_zh');
  const near = stage === 'deadline_near';
  await notify(db, {
    to: { role: 'staff' },
    kind: near ? 'publication.hold_deadline_near' : 'publication.hold_deadline_passed',
    title: near
      ? `暂缓发布的记录即将超过发布期限 / held records are near their publication deadline`
      : `暂缓发布的记录已超过发布期限 / held records are past their publication deadline`,
    body: `${sub.name_zh} ${sub.period} 报送批次中有 ${n} 条记录仍处于暂缓发布状态，发布期限为 ${sub.publication_deadline}（收到之日起5个工作日内，E12）。请及时放行或作出不予发布的决定。 / ${n} held record(s) of this batch; deadline ${sub.publication_deadline} (E12).`,
    entity: 'submission',
    entityId: submissionId,
    data: { held: n, deadline: sub.publication_deadline, article: 'E12' },
    dedupeKey: `publication-held:${submissionId}:${stage}`,
  });
  return n;
}

// ─── The daily sweep (E15) ───────────────────────────────────────────────────────────────────────────────────

export interface SweepCounts {
  publishedOverdue: number;
  refreshed: number;
  retracted: number;
  recomputed: number;
  terminated: number;
  expired: number;
}

/** Starts (or resumes) the sweep of a date; answers the lower bound of record ids to look at for corrections. */
export async function beginSweep(db: Db, runDate: string): Promise<{ sinceRecordId: number }> {
  await db.raw(
    `INSERT INTO publication_sweeps (run_date, max_record_id) SELECT ?::date, coalesce(max(id), 0) FROM records
     ON CONFLICT (run_date) DO NOTHING`,
    [runDate],
  );
  // The bound of the run before the previous one: a correction whose id was taken before the previous run but
  // committed after it is still seen (no transaction lasts a day).
  const prior = rowsOf<{ max_record_id: number }>(
    await db.raw('SELECT max_record_id FROM publication_sweeps WHERE run_date < ?::date ORDER BY run_date DESC OFFSET 1 LIMIT 1', [runDate]),
  );
  return { sinceRecordId: prior[0]?.max_record_id ?? 0 };
}

export async function finishSweep(db: Db, runDate: string, counts: SweepCounts): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('publication_sweeps').where('run_date', runDate).update({ finished_at: trx.fn.now(), counts: JSON.stringify(counts) });
    await trx('audit_log').insert({ actor: 'system:schedule', action: 'publication.sweep', entity: 'publication_sweep', entity_id: runDate, detail: { ...counts, article: 'E15' } });
  });
}

/**
 * Published records corrected or retracted since `sinceRecordId` (a correction is a new version, E10): the key
 * now points at the current version with its period end recomputed (a warning lifted early, an honor's new
 * validity); a retracted record is unpublished at once.
 */
export async function refreshCorrected(db: Db, sinceRecordId: number, runDate: string): Promise<{ refreshed: number; retracted: number }> {
  const cols = columns('p.publication_date');
  const rows = rowsOf<{ retracted: boolean; n: number }>(
    await db.raw(
      `WITH upd AS (
         UPDATE publications p SET
           record_id = r.id,
           period_end = CASE WHEN r.status = 'active' THEN ${periodEndSql(cols)} ELSE p.period_end END,
           period_basis = CASE WHEN r.status = 'active' THEN ${periodBasisSql(cols)} ELSE p.period_basis END,
           state = CASE WHEN r.status = 'active' THEN p.state ELSE 'archived' END,
           archive_reason = CASE WHEN r.status = 'active' THEN p.archive_reason ELSE 'retracted' END,
           archived_at = CASE WHEN r.status = 'active' THEN p.archived_at ELSE now() END,
           archived_on = CASE WHEN r.status = 'active' THEN p.archived_on ELSE ?::date END
          FROM records r
          JOIN catalog_items ci ON ci.code = r.item_code
          LEFT JOIN publication_period_overrides o ON o.item_code = r.item_code
         WHERE r.version > 1 AND r.id > ? AND r.is_current
           AND p.record_key = r.record_key AND p.state = 'published' AND p.record_id <> r.id
         RETURNING r.status <> 'active' AS retracted
       ) SELECT retracted, count(*)::int AS n FROM upd GROUP BY retracted`,
      [runDate, sinceRecordId],
    ),
  );
  return { refreshed: rows.find((r) => !r.retracted)?.n ?? 0, retracted: rows.find((r) => r.retracted)?.n ?? 0 };
}

/** Items whose law-specific period (E15.5) was set or removed: their published rows get their ends recomputed. */
export async function recomputeOverridden(db: Db, onItem?: () => void): Promise<number> {
  const items: { item_code: string; requested_at: string }[] = await db('publication_recompute_items').select('item_code', 'requested_at');
  const cols = columns('p.publication_date');
  let total = 0;
  for (const item of items) {
    const n = await db.transaction(async (trx) => {
      const res = await trx.raw(
        `UPDATE publications p SET period_end = ${periodEndSql(cols)}, period_basis = ${periodBasisSql(cols)}
           FROM records r
           JOIN catalog_items ci ON ci.code = r.item_code
           LEFT JOIN publication_period_overrides o ON o.item_code = r.item_code
          WHERE p.item_code = ? AND p.state = 'published' AND r.record_key = p.record_key AND r.is_current`,
        [item.item_code],
      );
      await trx('publication_recompute_items').where('item_code', item.item_code).where('requested_at', '<=', item.requested_at).delete();
      return res.rowCount as number;
    });
    total += n;
    onItem?.();
  }
  return total;
}

/**
 * Basic information of terminated enterprises (E15.1): the registry's state (注销, 吊销, 撤销) or a provider's
 * current registration record saying so ends the publication of the enterprise's basic records.
 */
export async function unpublishTerminated(db: Db, runDate: string, chunk: number, onChunk?: () => void): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.raw(
      `WITH t AS (
         SELECT uscc AS subject_id FROM enterprises WHERE status IN (${TERMINATED_STATUSES_SQL})
         UNION
         SELECT subject_id FROM records
          WHERE is_current AND status = 'active' AND item_code = 'E-BASIC-REG' AND (payload->>'status') IN (${TERMINATED_STATUSES_SQL})
       ), c AS (
         SELECT p.record_key FROM publications p JOIN t ON t.subject_id = p.subject_id
          WHERE p.state = 'published' AND p.category = 'basic'
          LIMIT ? FOR UPDATE OF p SKIP LOCKED
       )
       UPDATE publications p SET state = 'archived', archive_reason = 'enterprise_terminated', archived_at = now(), archived_on = ?::date
         FROM c WHERE p.record_key = c.record_key`,
      [chunk, runDate],
    );
    total += res.rowCount as number;
    onChunk?.();
    if ((res.rowCount as number) < chunk) return total;
  }
}

/** Everything whose period ended before `runDate` is unpublished and kept as archive (E15, last paragraph). */
export async function unpublishExpired(db: Db, runDate: string, chunk: number, onChunk?: () => void): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db.raw(
      `WITH c AS (
         SELECT record_key FROM publications
          WHERE state = 'published' AND period_end IS NOT NULL AND period_end < ?::date
          ORDER BY period_end LIMIT ? FOR UPDATE SKIP LOCKED
       )
       UPDATE publications p SET state = 'archived', archive_reason = 'period_ended', archived_at = now(), archived_on = ?::date
         FROM c WHERE p.record_key = c.record_key`,
      [runDate, chunk, runDate],
    );
    total += res.rowCount as number;
    onChunk?.();
    if ((res.rowCount as number) < chunk) return total;
  }
}

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

const liveCols = columns('p.publication_date');

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
                  to_char(p.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS published_at,
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
           SELECT id, title, content, to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS published_at, publication_date
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
  const [row] = await prepared<{ name: string | null; records: (PublicRecord & { category: string })[]; voluntary: Omit<PublicVoluntary, 'period_end' | 'period_basis'>[] }>(
    db,
    'qz_public_page',
    PAGE_SQL,
    [uscc, today],
  );
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
 * (3 characters or more, trigram index on its rarest fragments), or its beginning (1–2 characters). One row more
 * than asked tells whether there is a next page.
 */
export async function searchEnterprises(db: Db, q: { code?: string; name?: string; limit: number; offset: number }): Promise<{ items: SearchHit[]; hasMore: boolean }> {
  let rows: SearchHit[];
  if (q.code) {
    rows = await prepared<SearchHit>(db, 'qz_public_search_code', `SELECT e.uscc, e.name FROM enterprises e WHERE e.uscc = $1 AND ${HAS_PUBLIC} LIMIT $2 OFFSET $3`, [q.code, q.limit + 1, q.offset]);
  } else {
    const name = q.name ?? '';
    if ([...name].length >= 3) {
      rows = await prepared<SearchHit>(db, 'qz_public_search_part', NAME_SEARCH_SQL, [name, q.limit + 1, q.offset, `%${likeText(name)}%`]);
    } else {
      rows = await prepared<SearchHit>(
        db,
        'qz_public_search_prefix',
        `SELECT e.uscc, e.name FROM enterprises e WHERE e.name LIKE $1 AND ${HAS_PUBLIC} ORDER BY e.name, e.uscc LIMIT $2 OFFSET $3`,
        [`${likeText(name)}%`, q.limit + 1, q.offset],
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

// ─── Voluntary disclosures (E12.4, E15.4) ────────────────────────────────────────────────────────────────────

export interface VoluntaryRow {
  id: string;
  enterprise_uscc: string;
  title: string;
  content: string;
  state: string;
  submitted_at: string;
  reviewed_at: string | null;
  review_reason: string | null;
  published_at: string | null;
  publication_date: string | null;
  withdrawn_at: string | null;
  withdraw_reason: string | null;
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ${col}`;
export const VOLUNTARY_COLUMNS = [
  'id',
  'enterprise_uscc',
  'title',
  'content',
  'state',
  iso('submitted_at'),
  iso('reviewed_at'),
  'review_reason',
  iso('published_at'),
  'publication_date',
  iso('withdrawn_at'),
  'withdraw_reason',
].join(', ');

export async function voluntaryById(db: Conn, id: string): Promise<VoluntaryRow | undefined> {
  return rowsOf<VoluntaryRow>(await db.raw(`SELECT ${VOLUNTARY_COLUMNS} FROM voluntary_disclosures WHERE id = ?`, [id]))[0];
}

/** The enterprise files a disclosure of its own; staff are told it awaits review (审定). */
export async function submitVoluntary(db: Db, v: { uscc: string; title: string; content: string; principalId: string; actor: string }): Promise<VoluntaryRow> {
  return db.transaction(async (trx) => {
    const [{ id }] = await trx('voluntary_disclosures')
      .insert({ enterprise_uscc: v.uscc, title: v.title, content: v.content, submitted_by: v.principalId })
      .returning('id');
    await trx('audit_log').insert({ principal_id: v.principalId, actor: v.actor, action: 'voluntary.submit', entity: 'voluntary_disclosure', entity_id: id, detail: { enterprise: v.uscc, article: 'E12(4)' } });
    await notify(trx, {
      to: { role: 'staff' },
      kind: 'voluntary.to_review',
      title: '企业自愿公示信息待审定 / a voluntary disclosure awaits review',
      body: `企业 ${v.uscc} 提交了自愿公示信息《${v.title}》，经审定后发布（E12 第四项）。/ To be reviewed before publication (E12.4).`,
      entity: 'voluntary_disclosure',
      entityId: id,
      dedupeKey: `voluntary-submitted:${id}`,
    });
    return (await voluntaryById(trx, id))!;
  });
}

export type VoluntaryOutcome = { kind: 'ok'; row: VoluntaryRow } | { kind: 'not_found' } | { kind: 'conflict'; state: string };

/**
 * Staff approve (审定, then published at once) or reject (with a reason) a submitted disclosure; the enterprise
 * withdraws its own (E15.4: publication ends; a disclosure not yet reviewed is simply not published).
 */
export async function decideVoluntary(
  db: Db,
  d: { id: string; action: 'approve' | 'reject' | 'withdraw'; reason: string | null; principalId: string; actor: string; ownUscc?: string; asOf: Date },
): Promise<VoluntaryOutcome> {
  return db.transaction(async (trx) => {
    const cur = await trx('voluntary_disclosures')
      .where('id', d.id)
      .modify((b) => {
        if (d.ownUscc !== undefined) b.where('enterprise_uscc', d.ownUscc);
      })
      .forUpdate()
      .first('id', 'state', 'enterprise_uscc', 'title');
    if (!cur) return { kind: 'not_found' } as const;
    const allowed = d.action === 'withdraw' ? ['submitted', 'approved'] : ['submitted'];
    if (!allowed.includes(cur.state)) return { kind: 'conflict', state: cur.state } as const;
    const at = d.asOf.toISOString();
    const patch =
      d.action === 'approve'
        ? { state: 'approved', reviewed_by: d.principalId, reviewed_at: at, review_reason: d.reason, published_at: at, publication_date: trx.raw(`(?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date`, [at]) }
        : d.action === 'reject'
          ? { state: 'rejected', reviewed_by: d.principalId, reviewed_at: at, review_reason: d.reason }
          : { state: 'withdrawn', withdrawn_by: d.principalId, withdrawn_at: at, withdraw_reason: d.reason };
    await trx('voluntary_disclosures').where('id', d.id).update(patch);
    await trx('audit_log').insert({
      principal_id: d.principalId,
      actor: d.actor,
      action: `voluntary.${d.action}`,
      entity: 'voluntary_disclosure',
      entity_id: d.id,
      detail: { from: cur.state, reason: d.reason, enterprise: cur.enterprise_uscc, article: d.action === 'withdraw' ? 'E15(4)' : 'E12(4)' },
    });
    if (d.action !== 'withdraw') {
      const ok = d.action === 'approve';
      await notify(trx, {
        to: { subjectType: 'enterprise', subjectId: cur.enterprise_uscc },
        kind: ok ? 'voluntary.approved' : 'voluntary.rejected',
        title: ok ? '自愿公示信息已审定并发布 / your voluntary disclosure is published' : '自愿公示信息未通过审定 / your voluntary disclosure was not approved',
        body: ok
          ? `《${cur.title}》已经审定，向社会公开发布，至贵企业要求终止公示止（E12 第四项、E15 第四项）。`
          : `《${cur.title}》未通过审定，理由：${d.reason}（E12 第四项）。`,
        entity: 'voluntary_disclosure',
        entityId: d.id,
        dedupeKey: `voluntary-${d.action}:${d.id}`,
      });
    }
    return { kind: 'ok', row: (await voluntaryById(trx, d.id))! } as const;
  });
}

// ─── Law-specific periods (E15.5) ────────────────────────────────────────────────────────────────────────────

export async function setPeriodOverride(db: Db, o: { itemCode: string; months: number | null; legalBasis: string | null; principalId: string; actor: string }): Promise<boolean> {
  return db.transaction(async (trx) => {
    let changed: boolean;
    if (o.months === null) {
      changed = (await trx('publication_period_overrides').where('item_code', o.itemCode).delete()) > 0;
    } else {
      await trx('publication_period_overrides')
        .insert({ item_code: o.itemCode, period_months: o.months, legal_basis: o.legalBasis, set_by: o.principalId, set_at: trx.fn.now() })
        .onConflict('item_code')
        .merge();
      changed = true;
    }
    if (changed) {
      await trx('publication_recompute_items').insert({ item_code: o.itemCode, requested_at: trx.fn.now() }).onConflict('item_code').merge();
      await trx('audit_log').insert({
        principal_id: o.principalId,
        actor: o.actor,
        action: o.months === null ? 'publication.period_override_remove' : 'publication.period_override_set',
        entity: 'catalog_item',
        entity_id: o.itemCode,
        detail: { months: o.months, legal_basis: o.legalBasis, article: 'E15(5)' },
      });
    }
    return changed;
  });
}
