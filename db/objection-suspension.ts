import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit } from './audit';
import type { Conn } from './time';
import { ObjectionStateError, objectionRow, type Actor } from './objections';
import { publicationSuspended, stillDisputed, suspensionRequested } from '../domain/notices/objections';
import { OBJECTION_STATE_ZH, OPEN_STATES } from '../domain/objections';

/**
 * What an open objection does to its records: the suspension of an enterprise record's publication (E18 2nd
 * para.), the disputed mark of a personal record and its withdrawal from queries (P22), seen by every query.
 */

// ─── Suspension (E18 2nd para.) ──────────────────────────────────────────────────────────────────────────────

/** Recomputes the suspension of these records' publications from the open suspensions of objections naming them. */
export async function refreshSuspension(trx: Knex.Transaction, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await trx.raw(
    `UPDATE publications p SET suspended_at = s.at
       FROM (SELECT k.key AS record_key,
                    (SELECT min(o.suspended_at) FROM objection_items i JOIN objections o ON o.id = i.objection_id
                      WHERE i.record_key = k.key AND o.suspended_at IS NOT NULL AND o.suspension_ended_at IS NULL) AS at
               FROM unnest(?::uuid[]) AS k(key)) s
      WHERE p.record_key = s.record_key AND p.suspended_at IS DISTINCT FROM s.at`,
    [keys],
  );
}

/** The applicant asks staff to suspend publication while the objection is open. */
export async function requestSuspension(db: Db, id: string, reason: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (!['submitted', ...OPEN_STATES].includes(o.state))
      throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，不能申请暂停公开 / the objection is ${o.state}`);
    await trx('objections').where('id', id).update({ suspension_requested: true, suspension_request_reason: reason });
    await notify(trx, {
      to: { role: 'staff' },
      ...suspensionRequested({ id, subjectId: o.subject_id, reason }),
      entity: 'objection',
      entityId: id,
      dedupeKey: `objection-suspension-request:${id}:${crypto.createHash('sha256').update(reason).digest('hex').slice(0, 12)}`,
    });
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'objection.request_suspension',
      entity: 'objection',
      id,
      article: 'E18',
      detail: { reason },
    });
  });
}

/**
 * Staff suspend the publication of the objection's published records while it is open (E18 2nd para.): hidden
 * from the public pages and search until the outcome (or until staff end it). Answers the suspended record keys.
 */
export async function suspendPublication(db: Db, id: string, s: { reason: string; onRequest: boolean; by: Actor }): Promise<string[]> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (o.subject_type !== 'enterprise')
      throw new ObjectionStateError(
        o.state,
        '个人信用信息不公开发布，无需暂停公开；异议期间作存在异议标注（P22）/ personal records are never published',
      );
    if (!OPEN_STATES.includes(o.state))
      throw new ObjectionStateError(
        o.state,
        `异议${OBJECTION_STATE_ZH[o.state]}，只有受理后、处理完毕前可暂停公开（E18 第二款）/ only while the objection is open`,
      );
    if (o.suspended_at && !o.suspension_ended_at) throw new ObjectionStateError(o.state, '已暂停公开 / publication is suspended already');
    if (s.onRequest && !(await trx('objections').where({ id, suspension_requested: true }).first('id'))) {
      throw new ObjectionStateError(o.state, '申请人未申请暂停公开 / the applicant has not asked for a suspension');
    }
    const keys = (
      await trx('objection_items as i')
        .join('publications as p', 'p.record_key', 'i.record_key')
        .where('i.objection_id', id)
        .whereIn('p.state', ['pending', 'held', 'published'])
        .select('i.record_key')
    ).map((r: { record_key: string }) => r.record_key);
    if (!keys.length)
      throw new ObjectionStateError(o.state, '所涉记录不是公开发布的信息，无需暂停公开（E13、E18）/ none of the records is published');
    await trx('objections').where('id', id).update({
      suspended_at: trx.fn.now(),
      suspended_by: s.by.id,
      suspension_reason: s.reason,
      suspension_on_request: s.onRequest,
      suspension_ended_at: null,
      suspension_end_reason: null,
    });
    await refreshSuspension(trx, keys);
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      ...publicationSuspended({ id, reason: s.reason }),
      entity: 'objection',
      entityId: id,
      dedupeKey: `objection-suspended:${id}:${Date.now()}`,
    });
    await recordAudit(trx, {
      principalId: s.by.id,
      actor: s.by.actor,
      action: 'objection.suspend_publication',
      entity: 'objection',
      id,
      article: 'E18',
      detail: { reason: s.reason, on_request: s.onRequest, records: keys },
    });
    return keys;
  });
}

/** Staff end a suspension before the outcome (the outcome ends it by itself). */
export async function endSuspension(db: Db, id: string, reason: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (!o.suspended_at || o.suspension_ended_at) throw new ObjectionStateError(o.state, '未暂停公开 / publication is not suspended');
    await trx('objections').where('id', id).update({ suspension_ended_at: trx.fn.now(), suspension_end_reason: reason });
    await refreshSuspension(
      trx,
      (await trx('objection_items').where('objection_id', id).select('record_key')).map((r: { record_key: string }) => r.record_key),
    );
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'objection.end_suspension',
      entity: 'objection',
      id,
      article: 'E18',
      detail: { reason },
    });
  });
}

// ─── Continued disagreement and the marks seen by every query (P22) ──────────────────────────────────────────

/** P22: after the outcome, the person still disagrees — the record keeps its disputed mark. */
export async function recordDisagreement(db: Db, id: string, statement: string, by: Actor): Promise<void> {
  await db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (o.subject_type !== 'person')
      throw new ObjectionStateError(o.state, '存在异议标注适用于个人信用信息（P22）/ the disputed mark is for personal records');
    if (o.state !== 'upheld' && o.state !== 'corrected')
      throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，处理完毕后方可声明仍有异议 / only after the outcome`);
    const done = await trx('objections')
      .where('id', id)
      .whereNull('still_disagrees_at')
      .update({ still_disagrees_at: trx.fn.now(), still_disagrees_statement: statement })
      .returning('id');
    if (!done.length) throw new ObjectionStateError(o.state, '已声明仍有异议 / already stated');
    await notify(trx, {
      to: { role: 'staff' },
      ...stillDisputed({ id, subjectId: o.subject_id, statement }),
      entity: 'objection',
      entityId: id,
      dedupeKey: `objection-still-disputed:${id}`,
    });
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'objection.still_disagrees',
      entity: 'objection',
      id,
      article: 'P22',
      detail: { statement },
    });
  });
}

/**
 * P22 on personal records: disputed while an accepted objection is open, and after its outcome when the applicant
 * still disagrees; withdrawn from every query while the provider has not verified in time (until the outcome).
 */
export async function recordMarks(db: Conn, recordKeys: string[]): Promise<{ disputed: Set<string>; withdrawn: Set<string> }> {
  const disputed = new Set<string>();
  const withdrawn = new Set<string>();
  if (!recordKeys.length) return { disputed, withdrawn };
  const { rows } = (await db.raw(
    `SELECT i.record_key::text AS k,
            bool_or(o.state IN ('accepted', 'verifying', 'overdue', 'answered') OR o.still_disagrees_at IS NOT NULL) AS disputed,
            bool_or(o.withdrawn_from_queries_at IS NOT NULL AND o.outcome IS NULL) AS withdrawn
       FROM objection_items i JOIN objections o ON o.id = i.objection_id
      WHERE i.record_key = ANY(?::uuid[]) AND o.subject_type = 'person'
        AND (o.state IN ('accepted', 'verifying', 'overdue', 'answered') OR o.still_disagrees_at IS NOT NULL)
      GROUP BY i.record_key`,
    [recordKeys],
  )) as { rows: { k: string; disputed: boolean; withdrawn: boolean }[] };
  for (const r of rows) {
    if (r.disputed) disputed.add(r.k);
    if (r.withdrawn) withdrawn.add(r.k);
  }
  return { disputed, withdrawn };
}
