import type { Knex } from 'knex';
import type { Principal } from '../domain/roles';
import { isoColumn } from './time';

/**
 * Reading batches (E10, E12): a provider sees only its own (another's answers as absent, revealing nothing); staff
 * and administrators see all. Storing a batch is `db/intake.ts`.
 */

const columns = (db: Knex) => [
  's.id',
  'p.code as provider',
  's.period',
  's.format',
  's.row_count',
  isoColumn(db, 's.received_at'),
  's.workflow_id',
  db.raw(`(s.workflow_started_at IS NOT NULL) as workflow_started`),
  's.publication_deadline',
  db.raw(`(s.calendar_pending_year IS NOT NULL) as publication_deadline_provisional`),
  's.calendar_pending_year',
];

const visibleTo = (db: Knex, p: Principal) =>
  db('submissions as s')
    .join('providers as p', 'p.id', 's.provider_id')
    .modify((b) => {
      if (p.role === 'provider') b.where('s.provider_id', p.providerId);
    });

export function listSubmissions(db: Knex, p: Principal, f: { period?: string; limit: number; offset: number }) {
  return visibleTo(db, p)
    .modify((b) => {
      if (f.period) b.where('s.period', f.period);
    })
    .orderBy('s.received_at', 'desc')
    .limit(f.limit)
    .offset(f.offset)
    .select(columns(db));
}

export function submissionVisibleTo(db: Knex, p: Principal, id: string) {
  return visibleTo(db, p).where('s.id', id).first(columns(db));
}

/** The provider a batch is sent for, and whether it may send (an inactive provider may not). */
export function submittingProvider(
  db: Knex,
  providerId: number,
): Promise<{ id: number; code: string; cadence: string; active: boolean } | undefined> {
  return db('providers').where('id', providerId).first('id', 'code', 'cadence', 'active');
}
