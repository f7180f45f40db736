import type { Knex } from 'knex';
import type { Principal, Role } from '../domain/roles';
import { isoColumn, isoInstant } from './time';

export interface NewNotification {
  /** One of these addresses the notification. */
  to: { principalId: string } | { role: Role } | { providerId: number } | { subjectType: 'enterprise' | 'person'; subjectId: string };
  kind: string;
  /** Chinese first, English beside it. */
  title: string;
  body: string;
  entity?: string;
  entityId?: string;
  data?: Record<string, unknown>;
  /** The same key never notifies twice (an activity retried, a workflow replayed). */
  dedupeKey: string;
}

/** Stores a notification once per dedupe key; answers true when it was new. */
export async function notify(db: Knex | Knex.Transaction, n: NewNotification): Promise<boolean> {
  const to = n.to;
  const rows = await db('notifications')
    .insert({
      recipient_principal_id: 'principalId' in to ? to.principalId : null,
      recipient_role: 'role' in to ? to.role : null,
      recipient_provider_id: 'providerId' in to ? to.providerId : null,
      recipient_subject_type: 'subjectType' in to ? to.subjectType : null,
      recipient_subject_id: 'subjectType' in to ? to.subjectId : null,
      kind: n.kind,
      title: n.title,
      body: n.body,
      entity: n.entity ?? null,
      entity_id: n.entityId ?? null,
      data: JSON.stringify(n.data ?? {}),
      dedupe_key: n.dedupeKey,
    })
    .onConflict('dedupe_key')
    .ignore()
    .returning('id');
  return rows.length > 0;
}

/** The notifications a principal may read: its own, its role's, its provider's, its subject's. */
export function notificationsFor(db: Knex, p: Principal) {
  return db('notifications').where((b) => {
    b.where('recipient_principal_id', p.id).orWhere('recipient_role', p.role);
    if (p.providerId !== null) b.orWhere('recipient_provider_id', p.providerId);
    if (p.enterpriseUscc) b.orWhere((w) => w.where({ recipient_subject_type: 'enterprise', recipient_subject_id: p.enterpriseUscc }));
    if (p.personId) b.orWhere((w) => w.where({ recipient_subject_type: 'person', recipient_subject_id: p.personId }));
  });
}

/** A principal's notifications, newest first (`open`: only those still true; `unread`: not read yet). */
export function listNotifications(
  db: Knex,
  p: Principal,
  f: { kind?: string; unread?: boolean; open?: boolean; limit: number; offset: number },
) {
  return notificationsFor(db, p)
    .modify((b) => {
      if (f.kind) b.where('kind', f.kind);
      if (f.unread) b.whereNull('read_at');
      if (f.open) b.whereNull('resolved_at');
    })
    .orderBy('id', 'desc')
    .limit(f.limit)
    .offset(f.offset)
    .select(
      'id',
      'kind',
      'title',
      'body',
      'entity',
      'entity_id',
      'data',
      isoColumn(db, 'created_at'),
      isoColumn(db, 'read_at'),
      isoColumn(db, 'resolved_at'),
    );
}

/** Marks one of the principal's notifications read (once); undefined when it is not theirs. */
export async function markNotificationRead(db: Knex, p: Principal, id: number): Promise<{ id: number; read_at: string } | undefined> {
  const visible = await notificationsFor(db, p).where('id', id).first('id');
  if (!visible) return undefined;
  const [row] = await db('notifications')
    .where('id', id)
    .update({ read_at: db.raw('coalesce(read_at, now())') })
    .returning(['id', 'read_at']);
  return { id: row.id, read_at: isoInstant(row.read_at)! };
}
