/**
 * Voluntary disclosures (E12.4, E15.4): an enterprise files information of its own, staff review it (审定) and it
 * is published at once when approved, until the enterprise withdraws it.
 */
import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit } from './audit';
import { isoSql, type Conn } from './time';
import type { VoluntaryState } from '../domain/publication';
import { voluntaryApproved, voluntaryRejected, voluntaryToReview } from '../domain/notices/voluntary-disclosures';

const rowsOf = <T>(r: { rows: T[] }) => r.rows;

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

const instant = (col: string) => `${isoSql(col)} AS ${col}`;
const VOLUNTARY_COLUMNS = [
  'id',
  'enterprise_uscc',
  'title',
  'content',
  'state',
  instant('submitted_at'),
  instant('reviewed_at'),
  'review_reason',
  instant('published_at'),
  'publication_date',
  instant('withdrawn_at'),
  'withdraw_reason',
].join(', ');

export async function voluntaryById(db: Conn, id: string): Promise<VoluntaryRow | undefined> {
  return rowsOf<VoluntaryRow>(await db.raw(`SELECT ${VOLUNTARY_COLUMNS} FROM voluntary_disclosures WHERE id = ?`, [id]))[0];
}

/** Disclosures, newest first: of one enterprise (`uscc`) or all, optionally of one state. */
export async function listVoluntary(
  db: Db,
  q: { uscc?: string | null; state?: VoluntaryState; limit: number; offset: number },
): Promise<VoluntaryRow[]> {
  return db('voluntary_disclosures')
    .modify((b) => {
      if (q.uscc !== undefined) b.where('enterprise_uscc', q.uscc);
      if (q.state) b.where('state', q.state);
    })
    .orderBy([{ column: 'submitted_at', order: 'desc' }, { column: 'id' }])
    .limit(q.limit)
    .offset(q.offset)
    .select(db.raw(VOLUNTARY_COLUMNS));
}

/** The enterprise files a disclosure of its own; staff are told it awaits review (审定). */
export async function submitVoluntary(
  db: Db,
  v: { uscc: string; title: string; content: string; principalId: string; actor: string },
): Promise<VoluntaryRow> {
  return db.transaction(async (trx) => {
    const [{ id }] = await trx('voluntary_disclosures')
      .insert({ enterprise_uscc: v.uscc, title: v.title, content: v.content, submitted_by: v.principalId })
      .returning('id');
    await recordAudit(trx, {
      principalId: v.principalId,
      actor: v.actor,
      action: 'voluntary.submit',
      entity: 'voluntary_disclosure',
      id,
      article: 'E12(4)',
      detail: { enterprise: v.uscc },
    });
    await notify(trx, {
      to: { role: 'staff' },
      ...voluntaryToReview({ uscc: v.uscc, title: v.title }),
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
  d: {
    id: string;
    action: 'approve' | 'reject' | 'withdraw';
    reason: string | null;
    principalId: string;
    actor: string;
    ownUscc?: string;
    asOf: Date;
  },
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
        ? {
            state: 'approved',
            reviewed_by: d.principalId,
            reviewed_at: at,
            review_reason: d.reason,
            published_at: at,
            publication_date: trx.raw(`(?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date`, [at]),
          }
        : d.action === 'reject'
          ? { state: 'rejected', reviewed_by: d.principalId, reviewed_at: at, review_reason: d.reason }
          : { state: 'withdrawn', withdrawn_by: d.principalId, withdrawn_at: at, withdraw_reason: d.reason };
    await trx('voluntary_disclosures').where('id', d.id).update(patch);
    await recordAudit(trx, {
      principalId: d.principalId,
      actor: d.actor,
      action: `voluntary.${d.action}`,
      entity: 'voluntary_disclosure',
      id: d.id,
      article: d.action === 'withdraw' ? 'E15(4)' : 'E12(4)',
      detail: { from: cur.state, reason: d.reason, enterprise: cur.enterprise_uscc },
    });
    if (d.action !== 'withdraw') {
      await notify(trx, {
        to: { subjectType: 'enterprise', subjectId: cur.enterprise_uscc },
        ...(d.action === 'approve' ? voluntaryApproved({ title: cur.title }) : voluntaryRejected({ title: cur.title, reason: d.reason })),
        entity: 'voluntary_disclosure',
        entityId: d.id,
        dedupeKey: `voluntary-${d.action}:${d.id}`,
      });
    }
    return { kind: 'ok', row: (await voluntaryById(trx, d.id))! } as const;
  });
}
