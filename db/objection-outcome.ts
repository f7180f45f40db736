import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit } from './audit';
import { isoInstant } from './time';
import { changeRecord } from './records';
import { ObjectionStateError, objectionItems, objectionRow, type Actor, type ObjectionRow } from './objections';
import { refreshSuspension } from './objection-suspension';
import { correctionNoticeCount, publishCorrectionNotices } from './correction-notices';
import { shanghaiDate } from '../domain/calendar';
import type { RowError } from '../domain/records';
import { articleOf } from '../domain/objections';
import { objectionAnswer, recordCorrected, recordCorrectedAfterQuery, writtenAnswer, type ItemOutcome } from '../domain/notices/objections';
import { OBJECTION_STATE_ZH, type Outcome } from '../domain/objections';

/**
 * The outcome of an objection (E18, P22, P23): the provider's corrections applied as new record versions, the
 * objection concluded with its written answer, the correction notices published, the subject and past queriers told.
 * Called by the objection's activities.
 */

export type ItemResult = ItemOutcome;

export interface ConcludeResult {
  outcome: Outcome;
  decidedAt: string;
  items: ItemResult[];
  correctionNotices: number;
  queriersNotified: number;
}

export type ApplyFailure = { recordKey: string; errors: RowError[] };

/**
 * Applies the provider's corrections as new record versions (E10, P23: corrected, or deleted as a retraction),
 * each once: a version already written for this objection (its reason names the objection) is recognized.
 * Answers the records that could not be corrected (the correction is no longer valid).
 */
export async function applyCorrections(db: Db, o: ObjectionRow, by: Actor & { id: string }): Promise<ApplyFailure[]> {
  const failures: ApplyFailure[] = [];
  const marker = `（异议 ${o.id}）`;
  for (const c of o.provider_corrections ?? []) {
    const item = await db('objection_items').where({ objection_id: o.id, record_key: c.record_key }).first('result');
    if (!item || item.result) continue;
    const done = async (result: ItemResult['result'], version: number | null) => {
      await db('objection_items')
        .where({ objection_id: o.id, record_key: c.record_key })
        .whereNull('result')
        .update({ result, result_version: version });
    };
    for (let attempt = 0; ; attempt++) {
      const cur = await db('records')
        .where({ record_key: c.record_key, is_current: true })
        .first('version', 'status', 'change_reason', 'provider_id');
      if (!cur) {
        await done('gone', null);
        break;
      }
      if (typeof cur.change_reason === 'string' && cur.change_reason.includes(marker)) {
        await done(c.action === 'delete' ? 'deleted' : 'corrected', cur.version);
        break;
      }
      if (cur.status !== 'active' || cur.provider_id !== o.provider_id) {
        await done('gone', cur.version);
        break;
      }
      const out = await changeRecord(db, o.provider_id, by.id, by.actor, c.record_key, {
        baseVersion: cur.version,
        reason: `经异议核实${c.action === 'delete' ? '删除' : '更正'}${marker}：${o.provider_reason ?? ''}`,
        changes: c.action === 'delete' ? undefined : c.changes,
        retract: c.action === 'delete',
      });
      if (out.kind === 'ok') {
        await done(c.action === 'delete' ? 'deleted' : 'corrected', out.version);
        break;
      }
      if (out.kind === 'invalid') {
        failures.push({ recordKey: c.record_key, errors: out.errors });
        break;
      }
      if (out.kind === 'not_found') {
        await done('gone', null);
        break;
      }
      if (attempt >= 3) throw new Error(`record ${c.record_key} keeps changing; try again`);
    }
  }
  return failures;
}

/** Splits the P23 querier notice around its count, which the SQL computes per principal. */
const COUNT_MARK = '\u0000';

/**
 * P23: every principal who was given a corrected record before is told, once each (the subject's own accounts are
 * told separately). Answers how many were told.
 */
async function tellQueriers(trx: Knex.Transaction, o: ObjectionRow, recordKeys: string[]): Promise<number> {
  const notice = recordCorrectedAfterQuery({ subjectType: o.subject_type, subjectId: o.subject_id, count: COUNT_MARK });
  const [bodyHead, bodyTail] = notice.body.split(COUNT_MARK);
  const { rowCount } = (await trx.raw(
    `INSERT INTO notifications (recipient_principal_id, kind, title, body, entity, entity_id, data, dedupe_key)
     SELECT q.principal_id, ?::text, ?::text,
            ?::text || count(DISTINCT i.record_key) || ?::text,
            'objection', ?, jsonb_build_object('subject_type', ?::text, 'subject_id', ?::text, 'records', jsonb_agg(DISTINCT i.record_key)),
            'objection-corrected-querier:' || ? || ':' || q.principal_id
       FROM query_log_items i
       JOIN query_log q ON q.id = i.query_log_id AND q.outcome = 'answered'
       JOIN principals pr ON pr.id = q.principal_id
      WHERE i.record_key = ANY(?::uuid[])
        AND coalesce(pr.enterprise_uscc, '') <> ? AND coalesce(pr.person_id, '') <> ?
      GROUP BY q.principal_id
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [notice.kind, notice.title, bodyHead, bodyTail, o.id, o.subject_type, o.subject_id, o.id, recordKeys, o.subject_id, o.subject_id],
  )) as { rowCount: number };
  return rowCount;
}

/**
 * Concludes an objection (once): records the outcome and the written answer, ends a suspension, publishes the
 * correction notices of public enterprise records (E18), tells the applicant, the subject and every principal
 * who queried a corrected record (P23). The corrections themselves are applied before (applyCorrections).
 */
export async function concludeObjection(
  db: Db,
  id: string,
  d: { outcome: Outcome; reason: string; by: Actor; at: string },
): Promise<ConcludeResult> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    const stored = async (): Promise<ConcludeResult> => {
      const items = await objectionItems(trx, id);
      const n = await correctionNoticeCount(trx, id);
      const [{ q }] = await trx('notifications').where({ kind: 'record.corrected_after_query', entity_id: id }).count({ q: '*' });
      return {
        outcome: o.outcome!,
        decidedAt: isoInstant(o.decided_at)!,
        items: items.map((i) => ({
          record_key: i.record_key,
          item_name: i.item_name,
          result: (i.result ?? 'unchanged') as ItemResult['result'],
          version: i.result_version,
        })),
        correctionNotices: n,
        queriersNotified: Number(q),
      };
    };
    if (o.outcome) return stored();
    if (o.state !== 'answered')
      throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，不能作出结论 / the objection is ${o.state}`);
    if ((d.outcome === 'corrected') !== (o.provider_verdict === 'confirmed_wrong')) {
      throw new ObjectionStateError(
        o.state,
        `处理结论须与信息提供单位的核实结果一致（${o.provider_verdict}）/ the outcome must follow the verification`,
      );
    }

    await trx('objection_items').where('objection_id', id).whereNull('result').update({ result: 'unchanged' });
    const itemRows = await objectionItems(trx, id);
    const items: ItemResult[] = itemRows.map((i) => ({
      record_key: i.record_key,
      item_name: i.item_name,
      result: i.result as ItemResult['result'],
      version: i.result_version,
    }));
    const provider = await trx('providers').where('id', o.provider_id).first('name_zh');
    const day = shanghaiDate(new Date(d.at));
    const answer = writtenAnswer(o, d.outcome, d.reason, items, provider.name_zh, day);
    const suspended = o.suspended_at && !o.suspension_ended_at;
    await trx('objections')
      .where('id', id)
      .update({
        state: d.outcome,
        outcome: d.outcome,
        outcome_reason: d.reason,
        decided_at: d.at,
        decided_by: d.by.id,
        written_answer: answer,
        concluded_at: d.at,
        ...(suspended ? { suspension_ended_at: d.at, suspension_end_reason: '异议处理完毕 / the objection is concluded' } : {}),
      });
    await refreshSuspension(
      trx,
      itemRows.map((i) => i.record_key),
    );

    const changed = items.filter((i) => i.result === 'corrected' || i.result === 'deleted');
    let notices = 0;
    let queriers = 0;
    if (d.outcome === 'corrected' && changed.length) {
      // E18: public enterprise records that were published get a public correction notice.
      notices = await publishCorrectionNotices(trx, id, d.at);
      await notify(trx, {
        to: { subjectType: o.subject_type, subjectId: o.subject_id },
        ...recordCorrected({ id, subjectType: o.subject_type, changed }),
        entity: 'objection',
        entityId: id,
        data: { records: changed },
        dedupeKey: `objection-corrected-subject:${id}`,
      });
      queriers = await tellQueriers(
        trx,
        o,
        changed.map((i) => i.record_key),
      );
    }
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      ...objectionAnswer({ outcome: d.outcome, answer }),
      entity: 'objection',
      entityId: id,
      data: { outcome: d.outcome },
      dedupeKey: `objection-answer:${id}`,
    });
    await recordAudit(trx, {
      principalId: d.by.id,
      actor: d.by.actor,
      action: `objection.${d.outcome}`,
      entity: 'objection',
      id,
      article: d.outcome === 'corrected' ? articleOf(o.subject_type, 'E18', 'P22, P23') : articleOf(o.subject_type, 'E18', 'P22'),
      detail: {
        outcome: d.outcome,
        reason: d.reason,
        items,
        correction_notices: notices,
        queriers_notified: queriers,
        suspension_ended: !!suspended,
      },
    });
    return { outcome: d.outcome, decidedAt: d.at, items, correctionNotices: notices, queriersNotified: queriers };
  });
}
