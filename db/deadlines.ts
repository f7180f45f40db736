import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { recordAudit, systemActor } from './audit';
import { isoInstant, type Conn } from './time';
import { UnknownCalendarYearError, shanghaiDate, workingDayDeadline, type WorkingCalendar } from '../domain/calendar';
import { noWaiting, type Waiting } from '../domain/calendar-gaps';
import { objectionDeadline, type ObjectionDeadline } from '../domain/objections';
import { dueDateOf, endOfShanghaiDay } from '../domain/obligations';
import { parsePeriod } from '../domain/periods';
import { judicialDeadlineSettled, objectionDeadlineSettled } from '../domain/notices/calendar';

/**
 * Deadlines counted in working days, as stored (migration 0013): each computed once, and again while it waits on a
 * year no calendar covers (`calendar_pending_year`) until that year is loaded. Provider-binding deadlines (an
 * obligation's due date) stay unset meanwhile; platform-binding ones (publication, judicial answer, verification,
 * rating decision) are provisional, the earliest they can be. Each function is idempotent: called again with the
 * same calendar it changes nothing.
 */

const CALENDAR_ACTOR = systemActor('calendar');
/** Runs `fn` in the caller's transaction, or in one of its own. */
const inTransaction = <T>(db: Conn, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> =>
  (db as Knex.Transaction).isTransaction ? fn(db as Knex.Transaction) : db.transaction(fn);

/** The audit entry of a deadline settled again (a year it waited on was loaded), `<entity>.deadline_settled`. */
const auditSettled = (trx: Knex.Transaction, entity: string, id: string, article: string, detail: Record<string, unknown>) =>
  recordAudit(trx, { actor: CALENDAR_ACTOR, action: `${entity}.deadline_settled`, entity, id, article, detail });

/** Whether an act at `at` met a deadline ending at `endsAt`: undecided (null) while a late-looking act meets only a provisional one. */
function metBy(at: unknown, endsAt: string, provisional: boolean): boolean | null {
  if (!at) return null;
  if (new Date(at as string).getTime() < Date.parse(endsAt)) return true;
  return provisional ? null : false;
}

// ─── Publication of a batch (E12) ─────────────────────────────────────────────────────────────────────────────

export interface SubmissionDeadline {
  receivedAt: string;
  receiptDate: string;
  deadline: string;
  provisional: boolean;
  pendingYear: number | null;
}

/**
 * Records a batch's receipt and its publication deadline, the `workingDays`-th working day after the day of
 * receipt (E12, last paragraph). Provisional while a year on the way has no calendar; a later call with a calendar
 * that has it settles it (the records not yet published take the new date).
 */
export async function settleSubmissionDeadline(
  db: Db,
  calendar: WorkingCalendar,
  submissionId: string,
  workingDays: number,
): Promise<SubmissionDeadline | null> {
  return db.transaction(async (trx) => {
    const sub = await trx('submissions')
      .where('id', submissionId)
      .forUpdate()
      .first('received_at', 'publication_deadline', 'receipt_recorded_at', 'calendar_pending_year');
    if (!sub) return null;
    const receivedAt = isoInstant(sub.received_at)!;
    const receiptDate = shanghaiDate(new Date(sub.received_at));
    const stored = (): SubmissionDeadline => ({
      receivedAt,
      receiptDate,
      deadline: sub.publication_deadline,
      provisional: sub.calendar_pending_year !== null,
      pendingYear: sub.calendar_pending_year,
    });
    if (sub.publication_deadline && sub.receipt_recorded_at && sub.calendar_pending_year === null) return stored();
    const d = calendar.addWorkingDaysOrEarliest(receiptDate, workingDays);
    if (sub.receipt_recorded_at && sub.publication_deadline === d.date && sub.calendar_pending_year === d.missingYear) return stored();
    const first = !sub.receipt_recorded_at;
    await trx('submissions')
      .where('id', submissionId)
      .update({
        receipt_recorded_at: sub.receipt_recorded_at ?? trx.fn.now(),
        publication_deadline: d.date,
        calendar_pending_year: d.missingYear,
      });
    if (!first)
      await trx('publications').where('submission_id', submissionId).whereIn('state', ['pending', 'held']).update({ due_date: d.date });
    await recordAudit(trx, {
      actor: first ? systemActor('publication') : CALENDAR_ACTOR,
      action: first ? 'submission.receipt_recorded' : 'submission.deadline_settled',
      entity: 'submission',
      id: submissionId,
      article: 'E12',
      detail: {
        receiptDate,
        publicationDeadline: d.date,
        provisional: d.provisional,
        pendingYear: d.missingYear,
        previous: sub.publication_deadline,
      },
    });
    return { receivedAt, receiptDate, deadline: d.date, provisional: d.provisional, pendingYear: d.missingYear };
  });
}

// ─── Objection verification (E18, P22) ─────────────────────────────────────────────────────────────────────────

/** The stored deadline of an accepted objection, settled first if it waits on a year `calendar` has. Null before it is opened. */
export async function settleObjectionDeadline(db: Db, calendar: WorkingCalendar, id: string): Promise<ObjectionDeadline | null> {
  return db.transaction(async (trx) => {
    const o = await trx('objections').where('id', id).forUpdate().first();
    if (!o?.deadline || !o.accepted_at) return null;
    const stored = (): ObjectionDeadline => ({
      acceptanceDate: o.acceptance_date,
      deadline: o.deadline,
      dueAt: isoInstant(o.due_at)!,
      provisional: o.calendar_pending_year !== null,
      pendingYear: o.calendar_pending_year,
    });
    if (o.calendar_pending_year === null) return stored();
    const d = objectionDeadline(calendar, new Date(o.accepted_at));
    if (d.deadline === o.deadline && (d.pendingYear ?? null) === o.calendar_pending_year) return stored();
    const answeredInTime = o.provider_answered_at ? metBy(o.provider_answered_at, d.dueAt, !!d.provisional) : o.answered_in_time;
    await trx('objections')
      .where('id', id)
      .update({ deadline: d.deadline, due_at: d.dueAt, calendar_pending_year: d.pendingYear ?? null, answered_in_time: answeredInTime });
    await auditSettled(trx, 'objection', id, o.subject_type === 'person' ? 'P22' : 'E18', {
      deadline: d.deadline,
      provisional: d.provisional,
      previous: o.deadline,
      answered_in_time: answeredInTime,
    });
    if (!d.provisional) {
      const text = objectionDeadlineSettled({ id, previous: o.deadline, pendingYear: o.calendar_pending_year, deadline: d.deadline });
      for (const [to, key] of [
        [{ providerId: o.provider_id as number }, 'provider'],
        [{ principalId: o.applicant_principal_id as string }, 'applicant'],
      ] as const) {
        await notify(trx, {
          to,
          ...text,
          entity: 'objection',
          entityId: id,
          data: { deadline: d.deadline },
          dedupeKey: `objection-deadline-settled:${id}:${key}`,
        });
      }
    }
    return {
      acceptanceDate: d.acceptanceDate,
      deadline: d.deadline,
      dueAt: d.dueAt,
      provisional: d.provisional,
      pendingYear: d.pendingYear ?? null,
    };
  });
}

// ─── Judicial requests (E14.4, P13) ───────────────────────────────────────────────────────────────────────────

export interface JudicialScheduleRow {
  receiptDate: string;
  answerDue: string;
  dueAt: string;
  alertDate: string;
  provisional: boolean;
  pendingYear: number | null;
  /** First computed by this call (the caller tells staff). */
  first: boolean;
}

/** The answer deadline (the `answerDays`-th working day after receipt) and the staff's alert day, stored; settled when provisional. */
export async function settleJudicialSchedule(
  db: Conn,
  calendar: WorkingCalendar,
  id: string,
  answerDays: number,
  alertDaysBefore: number,
): Promise<JudicialScheduleRow | null> {
  const run = async (trx: Knex.Transaction) => {
    const j = await trx('judicial_requests').where('id', id).forUpdate().first();
    if (!j) return null;
    const stored = (first = false): JudicialScheduleRow => ({
      receiptDate: j.receipt_date,
      answerDue: j.answer_due,
      dueAt: isoInstant(j.due_at)!,
      alertDate: j.alert_date,
      provisional: j.calendar_pending_year !== null,
      pendingYear: j.calendar_pending_year,
      first,
    });
    if (j.answer_due && j.calendar_pending_year === null) return stored();
    const receiptDate = shanghaiDate(new Date(j.received_at));
    const due = workingDayDeadline(calendar, receiptDate, answerDays);
    const alert = calendar.addWorkingDaysOrEarliest(receiptDate, answerDays - alertDaysBefore);
    const pendingYear = due.missingYear ?? alert.missingYear;
    if (j.answer_due === due.date && j.alert_date === alert.date && j.calendar_pending_year === pendingYear) return stored();
    const met = j.status !== 'pending' && j.met === null ? metBy(j.answered_at, due.endsAt, due.provisional) : j.met;
    await trx('judicial_requests').where('id', id).update({
      receipt_date: receiptDate,
      answer_due: due.date,
      due_at: due.endsAt,
      alert_date: alert.date,
      calendar_pending_year: pendingYear,
      met,
    });
    if (j.answer_due && !due.provisional) {
      await notify(trx, {
        to: { role: 'staff' },
        ...judicialDeadlineSettled({
          organization: j.organization,
          caseNo: j.case_no,
          previous: j.answer_due,
          pendingYear: j.calendar_pending_year,
          deadline: due.date,
          answerDays,
        }),
        entity: 'judicial_request',
        entityId: id,
        data: { answer_due: due.date },
        dedupeKey: `judicial-request:${id}:settled:${due.date}`,
      });
    }
    if (j.answer_due)
      await auditSettled(trx, 'judicial_request', id, 'E14(4), P13', {
        answer_due: due.date,
        provisional: due.provisional,
        previous: j.answer_due,
        met,
      });
    return {
      receiptDate,
      answerDue: due.date,
      dueAt: due.endsAt,
      alertDate: alert.date,
      provisional: due.provisional,
      pendingYear,
      first: !j.answer_due,
    };
  };
  return inTransaction(db, run);
}

// ─── Rating-agency requests (E14.3) ───────────────────────────────────────────────────────────────────────────

export interface RatingDeadlineRow {
  decisionDeadline: string;
  dueAt: string;
  provisional: boolean;
  pendingYear: number | null;
  first: boolean;
}

/** The staff's decision deadline (`workingDays` working days after the request), stored; settled when provisional. */
export async function settleRatingDeadline(
  db: Conn,
  calendar: WorkingCalendar,
  id: string,
  workingDays: number,
): Promise<RatingDeadlineRow | null> {
  const run = async (trx: Knex.Transaction) => {
    const r = await trx('rating_requests').where('id', id).forUpdate().first();
    if (!r) return null;
    const stored = (): RatingDeadlineRow => ({
      decisionDeadline: r.decision_deadline,
      dueAt: isoInstant(r.decision_due_at)!,
      provisional: r.calendar_pending_year !== null,
      pendingYear: r.calendar_pending_year,
      first: false,
    });
    if (r.decision_deadline && r.calendar_pending_year === null) return stored();
    const d = workingDayDeadline(calendar, shanghaiDate(new Date(r.requested_at)), workingDays);
    if (r.decision_deadline === d.date && r.calendar_pending_year === d.missingYear) return stored();
    await trx('rating_requests')
      .where('id', id)
      .update({ decision_deadline: d.date, decision_due_at: d.endsAt, calendar_pending_year: d.missingYear });
    if (r.decision_deadline)
      await auditSettled(trx, 'rating_request', id, 'E14(3)', {
        decision_deadline: d.date,
        provisional: d.provisional,
        previous: r.decision_deadline,
      });
    return {
      decisionDeadline: d.date,
      dueAt: d.endsAt,
      provisional: d.provisional,
      pendingYear: d.missingYear,
      first: !r.decision_deadline,
    };
  };
  return inTransaction(db, run);
}

// ─── Reporting obligations (E7, P9) ───────────────────────────────────────────────────────────────────────────

export interface ObligationDue {
  dueDate: string | null;
  /** The year whose calendar the due date waits for (never guessed: it binds the provider). */
  pendingYear: number | null;
}

/**
 * Sets an obligation's due date once the calendar of every year it counts through is known, else records which
 * year it waits for. An obligation fulfilled meanwhile (on time or late not yet decidable) is decided with it.
 */
export async function settleObligationDueDate(db: Db, calendar: WorkingCalendar, id: number, actor: string): Promise<ObligationDue | null> {
  return db.transaction(async (trx) => {
    const o = await trx('obligations').where('id', id).forUpdate().first();
    if (!o) return null;
    if (o.due_date) {
      if (o.calendar_pending_year !== null) await trx('obligations').where('id', id).update({ calendar_pending_year: null });
      return { dueDate: o.due_date, pendingYear: null };
    }
    let dueDate: string;
    try {
      dueDate = dueDateOf(calendar, parsePeriod(o.period)!, o.due_working_days);
    } catch (e) {
      if (!(e instanceof UnknownCalendarYearError)) throw e;
      if (o.calendar_pending_year !== e.year) await trx('obligations').where('id', id).update({ calendar_pending_year: e.year });
      return { dueDate: null, pendingYear: e.year };
    }
    const onTime =
      o.state === 'fulfilled' && o.on_time === null
        ? new Date(o.fulfilled_at).getTime() < Date.parse(endOfShanghaiDay(dueDate))
        : o.on_time;
    await trx('obligations').where('id', id).update({ due_date: dueDate, calendar_pending_year: null, on_time: onTime });
    await trx('obligation_events').insert({ obligation_id: id, kind: 'due_date_set', actor, detail: { dueDate } });
    await recordAudit(trx, { actor, action: 'obligation.due_date', entity: 'obligation', id, article: 'E7, P9', detail: { dueDate } });
    if (o.state === 'fulfilled' && o.on_time === null) {
      const detail = { dueDate, onTime, fulfilledAt: isoInstant(o.fulfilled_at), article: 'E7, P9' };
      await trx('obligation_events').insert({ obligation_id: id, kind: onTime ? 'decided_on_time' : 'decided_late', actor, detail });
    }
    return { dueDate, pendingYear: null };
  });
}

// ─── Everything that waited on a year ─────────────────────────────────────────────────────────────────────────

export interface SettledYear {
  /** Rows no longer waiting on the year (settled, or now waiting on a later one). */
  settled: Waiting;
  /** Workflows still running that wait on the year: to be told it is loaded. */
  workflows: string[];
}

/** Settles every deadline that waits on `year` with `calendar` (which has it); answers what to wake. */
export async function settleYear(
  db: Db,
  calendar: WorkingCalendar,
  year: number,
  opts: { publicationWorkingDays: number; ratingWorkingDays: number; judicialDays: number; judicialAlertBefore: number },
): Promise<SettledYear> {
  const settled = noWaiting();
  const workflows: string[] = [];
  const moved = (r: { pendingYear?: number | null } | null) => !r || r.pendingYear !== year;

  for (const o of await db('obligations').where('calendar_pending_year', year).select('id', 'state', 'workflow_id')) {
    const r = await settleObligationDueDate(db, calendar, Number(o.id), CALENDAR_ACTOR);
    if (moved(r)) settled.obligations++;
    if (o.state === 'open') workflows.push(o.workflow_id);
  }
  for (const s of await db('submissions').where('calendar_pending_year', year).select('id')) {
    if (moved(await settleSubmissionDeadline(db, calendar, s.id, opts.publicationWorkingDays))) settled.batches++;
  }
  for (const o of await db('objections').where('calendar_pending_year', year).select('id', 'state', 'workflow_id')) {
    if (moved(await settleObjectionDeadline(db, calendar, o.id))) settled.objections++;
    if (o.workflow_id && !['corrected', 'upheld', 'refused'].includes(o.state)) workflows.push(o.workflow_id);
  }
  for (const j of await db('judicial_requests').where('calendar_pending_year', year).select('id', 'status', 'workflow_id')) {
    if (moved(await settleJudicialSchedule(db, calendar, j.id, opts.judicialDays, opts.judicialAlertBefore))) settled.judicial_requests++;
    if (j.status === 'pending') workflows.push(j.workflow_id);
  }
  for (const r of await db('rating_requests').where('calendar_pending_year', year).select('id', 'status', 'workflow_id')) {
    if (moved(await settleRatingDeadline(db, calendar, r.id, opts.ratingWorkingDays))) settled.rating_requests++;
    if (r.status === 'requested') workflows.push(r.workflow_id);
  }
  return { settled, workflows };
}
