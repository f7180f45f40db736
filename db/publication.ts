/**
 * Publication facts in PostgreSQL (E11–E15): one `publications` row per public enterprise record key, written
 * and swept in set-based SQL (never one workflow per record). This file: a batch's publication (E12) — its
 * records registered, published, reviewed by staff (hold, release, reject) and read. The daily sweep is in
 * db/publication-sweep.ts, the public pages in db/public-pages.ts, the periods in db/publication-periods.ts.
 * Every statement is idempotent: it only moves rows out of the state it expects (`WHERE state = …`), so a retried
 * activity or a repeated sweep changes nothing the first run did not.
 */
import type { Db } from './knex';
import { queueSignals, type QueuedSignal } from './signal-outbox';
import { notify } from './notifications';
import { recordAudit, systemActor } from './audit';
import { isoColumn, type Conn } from './time';
import { periodColumns } from './publication-periods';
import { AUTO_PUBLISHED_CATEGORIES, periodBasisSql, periodEndSql, type PublicationState } from '../domain/publication';
import { heldRecordsAlert } from '../domain/notices/publication';

const rowsOf = <T>(r: { rows: T[] }) => r.rows;

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
  const [{ n }] = rowsOf<{ n: number }>(
    await db.raw('SELECT count(*)::int AS n FROM publications WHERE submission_id = ?', [submissionId]),
  );
  return n;
}

/** A batch's receipt and its stored deadline, as the publication plan needs them. */
export async function batchReceipt(
  db: Db,
  submissionId: string,
): Promise<{ received_at: Date | string; publication_deadline: string | null; calendar_pending_year: number | null } | undefined> {
  return db('submissions').where('id', submissionId).first('received_at', 'publication_deadline', 'calendar_pending_year');
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
async function publishChunk(
  db: Db,
  where: { submissionId: string } | { dueBy: string },
  asOf: string,
  chunk: number,
): Promise<PublishCounts> {
  const pick = 'submissionId' in where ? 'p.submission_id = ?::uuid' : 'p.due_date <= ?::date';
  const pickArg = 'submissionId' in where ? where.submissionId : where.dueBy;
  const pubDate = `(?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date`;
  const cols = periodColumns('x.pub_date');
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
      await recordAudit(trx, {
        actor: systemActor('publication'),
        action: 'publication.publish',
        entity: 'submission',
        id: sub,
        article: 'E12',
        detail: { published: counts.published ?? 0, cancelled: counts.cancelled ?? 0, as_of: asOf },
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

/** The batch staff review (or its provider reads): its workflow and deadline. */
export interface ReviewedBatch {
  id: string;
  provider_id: number;
  workflow_id: string;
  publication_deadline: string | null;
}

export async function batchForReview(db: Db, submissionId: string): Promise<ReviewedBatch | undefined> {
  return db('submissions').where('id', submissionId).first('id', 'provider_id', 'workflow_id', 'publication_deadline');
}

/** A publication row as staff and providers read it. */
export interface PublicationRow {
  record_key: string;
  submission_id: string | null;
  item_code: string;
  subject_id: string;
  category: string;
  state: PublicationState;
  due_date: string;
  hold_reason: string | null;
  decision: string | null;
  decision_reason: string | null;
  published_at: string | null;
  period_end: string | null;
  period_basis: string | null;
  archived_on: string | null;
  archive_reason: string | null;
}

const publicationColumns = (db: Db) => [
  'record_key',
  'submission_id',
  'item_code',
  'subject_id',
  'category',
  'state',
  'due_date',
  'hold_reason',
  'decision',
  'decision_reason',
  isoColumn(db, 'published_at'),
  'period_end',
  'period_basis',
  'archived_on',
  'archive_reason',
];

/** The publication rows of a batch, by record key, optionally of one state. */
export async function batchPublications(
  db: Db,
  submissionId: string,
  q: { state?: PublicationState; limit: number; offset: number },
): Promise<PublicationRow[]> {
  return db('publications')
    .where('submission_id', submissionId)
    .modify((b) => {
      if (q.state) b.where('state', q.state);
    })
    .orderBy('record_key')
    .limit(q.limit)
    .offset(q.offset)
    .select(publicationColumns(db));
}

/** Every held row, earliest deadline first. */
export async function heldPublications(db: Db, q: { limit: number; offset: number }): Promise<PublicationRow[]> {
  return db('publications')
    .where('state', 'held')
    .orderBy([{ column: 'due_date' }, { column: 'record_key' }])
    .limit(q.limit)
    .offset(q.offset)
    .select(publicationColumns(db));
}

/** Staff finished reviewing a batch and asked for its publication now (the batch workflow is told). */
/** Staff are done reviewing: audited, and the batch workflow's signal queued in the same transaction (its ids). */
export async function notePublishNow(
  db: Db,
  n: { submissionId: string; principalId: string; actor: string; workflowId: string },
): Promise<string[]> {
  return db.transaction(async (trx) => {
    await recordAudit(trx, {
      principalId: n.principalId,
      actor: n.actor,
      action: 'publication.publish_now',
      entity: 'submission',
      id: n.submissionId,
      article: 'E12',
    });
    return queueSignals(trx, [{ workflowId: n.workflowId, signal: 'publishNow' }]);
  });
}

export type ReviewAction = 'hold' | 'release' | 'reject';

const FROM_STATES: Record<ReviewAction, string[]> = { hold: ['pending'], release: ['held'], reject: ['pending', 'held'] };
const TO_STATE: Record<ReviewAction, string> = { hold: 'held', release: 'pending', reject: 'rejected' };

export type ReviewOutcome =
  | { kind: 'ok'; changed: number; state: BatchPublicationState; signalIds: string[] }
  | { kind: 'not_found' }
  | { kind: 'conflict'; problems: { recordKey: string; state: string | null }[] };

/**
 * Staff hold records of a batch before publication (with a reason), release them (they are published at the
 * next publication step, or at once when the batch's review window is over) or reject them for good (E11:
 * state secrets, trade secrets, privacy). All or nothing: one key in the wrong state refuses the whole request.
 */
export async function reviewRecords(
  db: Db,
  r: {
    submissionId: string;
    recordKeys: string[];
    action: ReviewAction;
    reason: string | null;
    principalId: string;
    actor: string;
    /** Queued with the decisions (the batch workflow publishes what was released). */
    signals?: QueuedSignal[];
  },
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
    if (r.action === 'hold')
      Object.assign(patch, {
        hold_reason: r.reason,
        held_by: r.principalId,
        held_at: now,
        decision: null,
        decision_reason: null,
        decided_by: null,
        decided_at: null,
      });
    else Object.assign(patch, { decision: r.action, decision_reason: r.reason, decided_by: r.principalId, decided_at: now });
    const changed = await trx('publications')
      .where('submission_id', r.submissionId)
      .whereIn('record_key', r.recordKeys)
      .whereIn('state', FROM_STATES[r.action])
      .update(patch);
    await recordAudit(
      trx,
      r.recordKeys.map((k) => ({
        principalId: r.principalId,
        actor: r.actor,
        action: `publication.${r.action}`,
        entity: 'record',
        id: k,
        article: r.action === 'reject' ? 'E11' : 'E12',
        detail: { submission_id: r.submissionId, from: found.get(k), to: TO_STATE[r.action], reason: r.reason },
      })),
    );
    const signalIds = await queueSignals(trx, r.signals ?? []);
    return { kind: 'ok', changed, state: await batchState(trx, r.submissionId), signalIds } as const;
  });
}

// ─── Alerts ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Tells staff that records of a batch are still held (day 4: the deadline is near; after the deadline: overdue). */
export async function alertHeld(db: Db, submissionId: string, stage: 'deadline_near' | 'deadline_passed'): Promise<number> {
  const held = await db('publications').where({ submission_id: submissionId, state: 'held' }).count<{ n: number }[]>({ n: '*' });
  const n = Number(held[0].n);
  if (!n) return 0;
  const sub = await db('submissions as s')
    .join('providers as pr', 'pr.id', 's.provider_id')
    .where('s.id', submissionId)
    .first('s.publication_deadline', 's.period', 'pr.name_zh');
  await notify(db, {
    to: { role: 'staff' },
    ...heldRecordsAlert({ stage, providerName: sub.name_zh, period: sub.period, held: n, deadline: sub.publication_deadline }),
    entity: 'submission',
    entityId: submissionId,
    data: { held: n, deadline: sub.publication_deadline, article: 'E12' },
    dedupeKey: `publication-held:${submissionId}:${stage}`,
  });
  return n;
}
