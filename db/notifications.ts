import type { Knex } from 'knex';
import type { Principal, Role } from '../domain/roles';

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
