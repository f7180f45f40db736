import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit, systemActor } from './audit';
import { isoInstant } from './time';
import { loadCatalog, providerItems } from './catalog';
import { ObjectionStateError, objectionItems, objectionRow, type Actor, type ObjectionRow } from './objections';
import { shanghaiDate } from '../domain/calendar';
import { RecordValidator, type RowError } from '../domain/records';
import {
  objectionAccepted,
  outcomeOverdue,
  providerAnswered,
  provisionalDeadline,
  recordWithdrawn,
  verificationOverdue,
  verificationRequested,
} from '../domain/notices/objections';
import { OBJECTION_STATE_ZH, articleOf, type ObjectionDeadline, type RecordCorrection, type Verdict } from '../domain/objections';

/**
 * The provider's verification of an objection (E18, P22, P24): the deadline stored and the provider asked, its
 * answer, the deadline passing (overdue, a personal record withdrawn from queries), a provisional deadline coming.
 * Called by the objection's activities.
 */

const SYSTEM = systemActor('objection');

const deadlineOf = (o: ObjectionRow): ObjectionDeadline | null =>
  o.deadline && o.acceptance_date && o.due_at
    ? {
        acceptanceDate: o.acceptance_date,
        deadline: o.deadline,
        dueAt: isoInstant(o.due_at)!,
        provisional: o.calendar_pending_year !== null,
        pendingYear: o.calendar_pending_year,
      }
    : null;

/**
 * Opens the verification: stores the deadline, asks the provider to verify (a notification it reads through the
 * API) and tells the applicant the objection is accepted, with its deadline. Once; a repeat answers what was stored.
 */
export async function openVerification(db: Db, id: string, d: ObjectionDeadline): Promise<ObjectionDeadline> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    const stored = deadlineOf(o);
    if (stored) return stored;
    await trx('objections')
      .where('id', id)
      .update({
        acceptance_date: d.acceptanceDate,
        deadline: d.deadline,
        due_at: d.dueAt,
        calendar_pending_year: d.pendingYear ?? null,
        state: 'verifying',
        verification_requested_at: trx.fn.now(),
      });
    const items = await objectionItems(trx, id);
    const article = articleOf(o.subject_type, 'E18', 'P22');
    await notify(trx, {
      to: { providerId: o.provider_id },
      ...verificationRequested({
        id,
        applicantName: o.applicant_name,
        subjectType: o.subject_type,
        subjectId: o.subject_id,
        claim: o.claim,
        itemNames: items.map((i) => i.item_name),
        deadline: d,
      }),
      entity: 'objection',
      entityId: id,
      data: { deadline: d.deadline, due_at: d.dueAt, provisional: !!d.provisional, records: items.map((i) => i.record_key) },
      dedupeKey: `objection-verify:${id}`,
    });
    await notify(trx, {
      to: { principalId: o.applicant_principal_id },
      ...objectionAccepted({ id, subjectType: o.subject_type, deadline: d }),
      entity: 'objection',
      entityId: id,
      data: { acceptance_date: d.acceptanceDate, deadline: d.deadline },
      dedupeKey: `objection-accepted:${id}`,
    });
    await recordAudit(trx, {
      actor: SYSTEM,
      action: 'objection.verification_requested',
      entity: 'objection',
      id,
      article,
      detail: {
        provider_id: o.provider_id,
        acceptance_date: d.acceptanceDate,
        deadline: d.deadline,
        due_at: d.dueAt,
        provisional: !!d.provisional,
      },
    });
    return d;
  });
}

export interface AnswerResult {
  verdict: Verdict;
  answeredAt: string;
  /** Null: answered after a provisional deadline, decided when the year is loaded. */
  inTime: boolean | null;
  complianceCaseId: string | null;
}

/** Checks a provider's corrections against the records of the objection and the catalog (as a provider's own correction would be). */
export async function checkCorrections(
  db: Db,
  objectionId: string,
  providerId: number,
  corrections: RecordCorrection[],
  opts: { skipGone?: boolean } = {},
): Promise<RowError[]> {
  const items = await objectionItems(db, objectionId);
  const keys = new Set(items.map((i) => i.record_key));
  const records = new Map(
    (
      await db('records')
        .whereIn('record_key', [...keys])
        .where('is_current', true)
        .select('*')
    ).map((r: Record<string, unknown>) => [r.record_key as string, r]),
  );
  const catalog = await loadCatalog(db);
  const validator = new RecordValidator({ catalog, allowedItems: await providerItems(db, providerId), today: shanghaiDate(new Date()) });
  const errors: RowError[] = [];
  const seen = new Set<string>();
  corrections.forEach((c, i) => {
    const field = `corrections.${i}`;
    if (!keys.has(c.record_key))
      return void errors.push({
        row: i + 1,
        field: `${field}.record_key`,
        reason: '该记录不在本异议所涉记录之中 / not a record of this objection',
      });
    if (seen.has(c.record_key))
      return void errors.push({ row: i + 1, field: `${field}.record_key`, reason: '同一记录重复出现 / the same record twice' });
    seen.add(c.record_key);
    const cur = records.get(c.record_key);
    if ((!cur || cur.status !== 'active') && opts.skipGone) return;
    if (!cur || cur.status !== 'active')
      return void errors.push({
        row: i + 1,
        field: `${field}.record_key`,
        reason: '该记录已撤回或已删除 / the record is retracted or removed',
      });
    if (c.action === 'delete') return;
    const ch = c.changes ?? {};
    const next = {
      item_code: cur.item_code,
      subject_id: cur.subject_id,
      payload: ch.payload ?? cur.payload,
      event_date: ch.event_date ?? cur.event_date,
      concluded_date: ch.concluded_date !== undefined ? ch.concluded_date : cur.concluded_date,
      valid_until: ch.valid_until !== undefined ? ch.valid_until : cur.valid_until,
      lifted_date: ch.lifted_date !== undefined ? ch.lifted_date : cur.lifted_date,
    };
    const v = validator.validate(next, i + 1);
    if (!v.ok) errors.push(...v.errors.map((e) => ({ ...e, field: `${field}.changes.${e.field}` })));
  });
  return errors;
}

/**
 * Records the provider's verification (once). A late answer resolves the compliance case its delay opened
 * (the caller tells the case's workflow). `at` is the workflow's time of the answer.
 */
export async function recordProviderAnswer(
  db: Db,
  id: string,
  a: { verdict: Verdict; reason: string; corrections: RecordCorrection[] | null; by: Actor; at: string },
): Promise<AnswerResult> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    if (o.provider_verdict) {
      return {
        verdict: o.provider_verdict,
        answeredAt: isoInstant(o.provider_answered_at)!,
        inTime: o.answered_in_time,
        complianceCaseId: o.compliance_case_id,
      };
    }
    if (o.state !== 'verifying' && o.state !== 'overdue')
      throw new ObjectionStateError(o.state, `异议${OBJECTION_STATE_ZH[o.state]}，不能答复核实 / the objection is ${o.state}`);
    // After a provisional deadline the answer may still be in time: decided when the year is loaded.
    const beforeDue = !!o.due_at && Date.parse(a.at) < new Date(o.due_at).getTime();
    const inTime: boolean | null = beforeDue ? true : o.calendar_pending_year !== null ? null : false;
    await trx('objections')
      .where('id', id)
      .update({
        state: 'answered',
        provider_verdict: a.verdict,
        provider_reason: a.reason,
        provider_corrections: a.corrections ? JSON.stringify(a.corrections) : null,
        provider_answered_at: a.at,
        provider_answered_by: a.by.id,
        answered_in_time: inTime,
      });
    await notify(trx, {
      to: { role: 'staff' },
      ...providerAnswered({ id, subjectId: o.subject_id, verdict: a.verdict, reason: a.reason, inTime }),
      entity: 'objection',
      entityId: id,
      data: { verdict: a.verdict, in_time: inTime, corrections: a.corrections?.length ?? 0 },
      dedupeKey: `objection-answered:${id}`,
    });
    await recordAudit(trx, {
      principalId: a.by.id,
      actor: a.by.actor,
      action: 'objection.provider_answer',
      entity: 'objection',
      id,
      article: articleOf(o.subject_type, 'E18', 'P22'),
      detail: { verdict: a.verdict, reason: a.reason, corrections: a.corrections, in_time: inTime, deadline: o.deadline },
    });
    return { verdict: a.verdict, answeredAt: a.at, inTime, complianceCaseId: o.compliance_case_id };
  });
}

export interface DeadlineResult {
  /** The provider had not verified: the objection is overdue (and a personal record withdrawn from queries). */
  overdue: boolean;
  providerId: number;
  deadline: string | null;
  subjectType: 'enterprise' | 'person';
  subjectId: string;
}

/**
 * The deadline has passed (`at`, the workflow's time). Unverified: the objection is overdue — a personal record
 * is withdrawn from every query (P22 last para.), an enterprise record's objection goes to staff as overdue.
 * Verified but not concluded: staff are reminded. Once.
 */
export async function markDeadlinePassed(db: Db, id: string, at: string): Promise<DeadlineResult> {
  return db.transaction(async (trx) => {
    const o = (await objectionRow(trx, id, true))!;
    const base = { providerId: o.provider_id, deadline: o.deadline, subjectType: o.subject_type, subjectId: o.subject_id };
    // A provisional deadline binds the platform, never the provider: nothing is declared overdue on it.
    if (o.calendar_pending_year !== null) return { overdue: false, ...base };
    if (o.state === 'overdue') return { overdue: true, ...base };
    if (o.state === 'answered' && !o.answered_in_time) return { overdue: true, ...base };
    if (o.state === 'answered') {
      await notify(trx, {
        to: { role: 'staff' },
        ...outcomeOverdue({ id, subjectType: o.subject_type, subjectId: o.subject_id, deadline: o.deadline }),
        entity: 'objection',
        entityId: id,
        dedupeKey: `objection-outcome-overdue:${id}`,
      });
      return { overdue: false, ...base };
    }
    if (o.state !== 'verifying') return { overdue: false, ...base };
    const person = o.subject_type === 'person';
    await trx('objections')
      .where('id', id)
      .update({ state: 'overdue', verification_overdue_at: at, withdrawn_from_queries_at: person ? at : null });
    const provider = await trx('providers').where('id', o.provider_id).first('name_zh');
    await notify(trx, {
      to: { role: 'staff' },
      ...verificationOverdue({ id, providerName: provider.name_zh, deadline: o.deadline, person }),
      entity: 'objection',
      entityId: id,
      data: { deadline: o.deadline, provider_id: o.provider_id },
      dedupeKey: `objection-overdue:${id}`,
    });
    if (person) {
      await notify(trx, {
        to: { principalId: o.applicant_principal_id },
        ...recordWithdrawn({ id, deadline: o.deadline }),
        entity: 'objection',
        entityId: id,
        dedupeKey: `objection-withdrawn:${id}`,
      });
    }
    await recordAudit(trx, {
      actor: SYSTEM,
      action: 'objection.verification_overdue',
      entity: 'objection',
      id,
      article: person ? 'P22, P24' : 'E18, E20',
      detail: { deadline: o.deadline, provider_id: o.provider_id, withdrawn_from_queries: person },
    });
    return { overdue: true, ...base };
  });
}

/**
 * A provisional verification deadline has come (a year on the way has no calendar): staff are told once that the
 * platform's 10 working days may end today; the provider is not late before the deadline is settled.
 */
export async function noteProvisionalDeadline(db: Db, id: string): Promise<void> {
  const o = await objectionRow(db, id);
  if (!o?.deadline || o.calendar_pending_year === null) return;
  await notify(db, {
    to: { role: 'staff' },
    ...provisionalDeadline({
      id,
      subjectType: o.subject_type,
      subjectId: o.subject_id,
      deadline: o.deadline,
      pendingYear: o.calendar_pending_year,
    }),
    entity: 'objection',
    entityId: id,
    data: { deadline: o.deadline, pending_year: o.calendar_pending_year },
    dedupeKey: `objection-provisional-due:${id}:${o.deadline}`,
  });
}

export async function linkComplianceCase(db: Db, id: string, caseId: string): Promise<void> {
  await db('objections').where('id', id).whereNull('compliance_case_id').update({ compliance_case_id: caseId });
}
