/**
 * Reporting obligations (E7, P9) as the database holds them: opening, fulfilment, overdue, and what the API reads.
 * Every write is idempotent (unique keys, `ON CONFLICT`, `WHERE state = …` guards) and writes its step to the
 * events table and the audit log in the same transaction.
 *
 * A little over 400 lines: fulfilment weighs a batch against a nil return, and both paths resolve the same case.
 */
import type { Knex } from 'knex';
import type { Db } from './knex';
import { isoColumn, isoSql, type Conn } from './time';
import { recordAudit, systemActor } from './audit';
import { notify } from './notifications';
import { loadCalendar } from './calendar';
import { ensureInitialCadences } from './provider-cadences';
import { missingPeriods, missingPeriodsSql, missingWorkflowIdSql } from './obligation-periods';
import { insertComplianceCase, resolveCaseRow } from './compliance-cases';
import type { Cadence } from '../domain/catalog';
import { UnknownCalendarYearError, type WorkingCalendar } from '../domain/calendar';
import { obligationSettings } from '../domain/config';
import { parsePeriod } from '../domain/periods';
import type { Principal } from '../domain/roles';
import { dueDateOf, endOfShanghaiDay, periodLabelZh, type ObligationState } from '../domain/obligations';
import { obligationOverdue, obligationOverdueToAdmin } from '../domain/notices/obligations';

/** The actor of the obligations' own steps (`system:obligations`). */
export const SYSTEM_ACTOR = systemActor('obligations');

// ─── Opening obligations ─────────────────────────────────────────────────────────────────────────────────────

export interface OpenedObligation {
  id: number;
  providerId: number;
  period: string;
  workflowId: string;
}

/**
 * Opens, in set-based SQL, every missing obligation of the active providers (all, or `providerIds`) for the
 * periods that have begun by `today`. The due date is computed from the working-day calendar; a year not loaded
 * yet leaves it empty (the obligation's workflow fills it in once an admin loads the year). Opening twice opens
 * nothing more: (provider_id, period) is unique.
 */
export async function openMissingObligations(
  db: Db,
  input: { today: string; dueWorkingDays: number; calendar: WorkingCalendar; providerIds?: number[]; actor?: string },
): Promise<OpenedObligation[]> {
  const binds = { today: input.today, ids: input.providerIds ?? null };
  const withIds = input.providerIds !== undefined;
  return db.transaction(async (trx) => {
    await ensureInitialCadences(trx, input.today, input.providerIds);
    const missing = await missingPeriods(trx, withIds, binds);
    if (!missing.periods.length) return [];
    const dues: Record<string, string | null> = {};
    const pending: Record<string, number | null> = {};
    for (const period of missing.periods) {
      try {
        dues[period] = dueDateOf(input.calendar, parsePeriod(period)!, input.dueWorkingDays);
        pending[period] = null;
      } catch (e) {
        if (!(e instanceof UnknownCalendarYearError)) throw e;
        dues[period] = null;
        pending[period] = e.year;
      }
    }
    // A period that appeared since `missingPeriods` looked (it has no workflow id yet) is opened next time.
    const res = await trx.raw(
      `${missingPeriodsSql(withIds)}
       , ins AS (
         INSERT INTO obligations (provider_id, period, cadence, period_start, period_end, due_date, calendar_pending_year, due_working_days, workflow_id, opened_by)
         SELECT m.provider_id, m.period, m.cadence, m.period_start, m.period_end, (:dues::jsonb ->> m.period)::date, (:pending::jsonb ->> m.period)::int, :n,
                ${missingWorkflowIdSql}, :actor
           FROM missing m
          WHERE ${missingWorkflowIdSql} IS NOT NULL
         ON CONFLICT (provider_id, period) DO NOTHING
         RETURNING id, provider_id, period, workflow_id, due_date)
       , ev AS (
         INSERT INTO obligation_events (obligation_id, kind, actor, detail)
         SELECT ins.id, 'opened', :actor, jsonb_build_object('period', ins.period, 'dueDate', ins.due_date, 'article', 'E7, P9') FROM ins)
       SELECT id, provider_id, period, workflow_id FROM ins ORDER BY id`,
      {
        ...binds,
        dues: JSON.stringify(dues),
        pending: JSON.stringify(pending),
        workflowIds: missing.workflowIds,
        n: input.dueWorkingDays,
        actor: input.actor ?? SYSTEM_ACTOR,
      },
    );
    const opened: OpenedObligation[] = res.rows.map((r: { id: number; provider_id: number; period: string; workflow_id: string }) => ({
      id: Number(r.id),
      providerId: r.provider_id,
      period: r.period,
      workflowId: r.workflow_id,
    }));
    if (opened.length) {
      const byPeriod: Record<string, number> = {};
      for (const o of opened) byPeriod[o.period] = (byPeriod[o.period] ?? 0) + 1;
      await recordAudit(trx, {
        actor: input.actor ?? SYSTEM_ACTOR,
        action: 'obligations.open',
        entity: 'obligation',
        article: 'E7, P9',
        detail: { count: opened.length, periods: byPeriod, today: input.today },
      });
    }
    return opened;
  });
}

/**
 * Opens the period in progress of one provider (registered, or reactivated): its current period is owed, not the
 * earlier ones. The due date comes from the calendar as loaded now.
 */
export async function openObligationsOfProvider(
  db: Db,
  input: { providerId: number; today: string; actor: string },
): Promise<OpenedObligation[]> {
  const calendar = await loadCalendar(db);
  return openMissingObligations(db, {
    today: input.today,
    dueWorkingDays: obligationSettings().obligationDueWorkingDays,
    calendar,
    providerIds: [input.providerId],
    actor: input.actor,
  });
}

/** Obligations whose workflow has not been started yet (a crash between opening and starting). */
export async function unstartedObligations(db: Db, limit = 1000): Promise<Array<{ id: number; workflowId: string }>> {
  const rows = await db('obligations').whereNull('workflow_started_at').orderBy('id').limit(limit).select('id', 'workflow_id');
  return rows.map((r) => ({ id: Number(r.id), workflowId: r.workflow_id }));
}

/**
 * Obligations still waiting for a submission although the database holds one (its signal was lost: Temporal
 * unreachable when the batch came). Their workflows are told again. So are those fulfilled in the past week by a
 * nil return after they were overdue: their workflow waits for no timer any more, only for that signal.
 */
export async function obligationsWithUnnoticedSubmissions(db: Db, limit = 1000): Promise<Array<{ id: number; workflowId: string }>> {
  const rows = await db.raw(
    `SELECT o.id, o.workflow_id FROM obligations o
      WHERE o.workflow_started_at IS NOT NULL
        AND ((o.state <> 'fulfilled'
              AND EXISTS (SELECT 1 FROM submissions s WHERE s.provider_id = o.provider_id AND s.period = o.period
                           AND s.received_at < ?::timestamptz))
          OR (o.overdue_at IS NOT NULL
              AND EXISTS (SELECT 1 FROM nil_returns n WHERE n.obligation_id = o.id
                           AND n.declared_at < ?::timestamptz AND n.declared_at > ?::timestamptz)))
      ORDER BY o.id LIMIT ?`,
    [new Date(Date.now() - 60_000), new Date(Date.now() - 60_000), new Date(Date.now() - 7 * 86_400_000), limit],
  );
  return rows.rows.map((r: { id: number; workflow_id: string }) => ({ id: Number(r.id), workflowId: r.workflow_id }));
}

// ─── One obligation ──────────────────────────────────────────────────────────────────────────────────────────

export interface ObligationRow {
  id: number;
  provider_id: number;
  provider_code: string;
  provider_name: string;
  period: string;
  cadence: Cadence;
  period_start: string;
  period_end: string;
  due_date: string | null;
  due_working_days: number;
  state: ObligationState;
  on_time: boolean | null;
  case_id: string | null;
  workflow_id: string;
}

export async function obligationById(db: Conn, id: number, lock = false): Promise<ObligationRow | undefined> {
  const q = db('obligations as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .where('o.id', id)
    .first('o.*', 'p.code as provider_code', 'p.name_zh as provider_name');
  if (lock) q.forUpdate('o');
  return q;
}

export interface FulfilmentResult {
  fulfilled: boolean;
  /** The provider was deactivated before it was due: nothing is owed any more. */
  waived: boolean;
  onTime: boolean | null;
  submissionId: string | null;
  /** Fulfilled by a declaration that there was nothing to report (零报送), not by a batch. */
  nilReturn?: boolean;
  /** The case this fulfilment resolved (its workflow is to be told), if any. */
  resolvedCase: { id: string; workflowId: string } | null;
}

/**
 * On time when received before the due date ended. While the due date waits on a year's calendar, a batch received
 * before the earliest day the due date can be is on time whatever the calendar says; a later one is decided when
 * the year is loaded (null until then: never "late" on a guess).
 */
async function receivedInTime(trx: Knex.Transaction, o: ObligationRow, receivedAt: Date): Promise<boolean | null> {
  if (o.due_date !== null) return receivedAt < new Date(endOfShanghaiDay(o.due_date));
  const earliest = (await loadCalendar(trx)).addWorkingDaysOrEarliest(o.period_end, o.due_working_days);
  return receivedAt < new Date(endOfShanghaiDay(earliest.date)) ? true : null;
}

/**
 * Records the obligation as fulfilled by the first submission of that provider and period, or by its declaration
 * that there was nothing to report (零报送, `nil_returns`), whichever came first: on time when received (declared)
 * before its due date ended. A case still open without a missed rectification deadline is
 * resolved with it (the provider rectified, E20, P24). Idempotent: the second call changes nothing.
 */
export async function fulfilObligation(trx: Knex.Transaction, o: ObligationRow): Promise<FulfilmentResult> {
  if (o.state === 'fulfilled') {
    const row = await trx('obligations').where('id', o.id).first('on_time', 'fulfilled_submission_id');
    return { fulfilled: true, waived: false, onTime: row.on_time, submissionId: row.fulfilled_submission_id, resolvedCase: null };
  }
  if (o.state === 'waived') return { fulfilled: false, waived: true, onTime: null, submissionId: null, resolvedCase: null };
  const batch = await trx('submissions')
    .where({ provider_id: o.provider_id, period: o.period })
    .orderBy([{ column: 'received_at' }, { column: 'id' }])
    .first('id', 'received_at');
  const nil = await trx('nil_returns').where('obligation_id', o.id).first('declared_at');
  const byNil = !!nil && (!batch || new Date(nil.declared_at) < new Date(batch.received_at));
  const sub: { id: string | null; received_at: Date } | undefined = byNil ? { id: null, received_at: nil.declared_at } : batch;
  if (!sub) return { fulfilled: false, waived: false, onTime: null, submissionId: null, resolvedCase: null };
  const receivedAt = new Date(sub.received_at);
  const onTime = await receivedInTime(trx, o, receivedAt);
  const updated = await trx('obligations')
    .where('id', o.id)
    .whereNot('state', 'fulfilled')
    .update({ state: 'fulfilled', fulfilled_at: receivedAt, fulfilled_submission_id: sub.id, on_time: onTime })
    .returning('id');
  if (!updated.length) return { fulfilled: true, waived: false, onTime, submissionId: sub.id, nilReturn: byNil, resolvedCase: null };
  const article = 'E7, P9';
  const detail = {
    ...(byNil ? { nilReturn: true } : {}),
    submissionId: sub.id,
    receivedAt: receivedAt.toISOString(),
    dueDate: o.due_date,
    onTime,
    article,
  };
  const kind = onTime ? 'fulfilled_on_time' : onTime === null ? 'fulfilled' : 'fulfilled_late';
  await trx('obligation_events').insert({ obligation_id: o.id, kind, actor: SYSTEM_ACTOR, detail });
  await recordAudit(trx, { actor: SYSTEM_ACTOR, action: 'obligation.fulfilled', entity: 'obligation', id: o.id, article, detail });
  let resolvedCase: FulfilmentResult['resolvedCase'] = null;
  if (o.case_id) {
    const c = await trx('compliance_cases').where('id', o.case_id).forUpdate().first('id', 'state', 'order_deadline', 'workflow_id');
    const inTime = c.state === 'overdue' || (c.state === 'ordered' && receivedAt < new Date(endOfShanghaiDay(c.order_deadline)));
    if (inTime) {
      await resolveCaseRow(trx, c.id, {
        actor: SYSTEM_ACTOR,
        resolution: byNil ? 'nil_return' : 'submitted',
        detail: { submissionId: sub.id, receivedAt: receivedAt.toISOString(), ...(byNil ? { nilReturn: true } : {}) },
      });
      resolvedCase = { id: c.id, workflowId: c.workflow_id };
    } else {
      await trx('compliance_case_events').insert({
        case_id: c.id,
        kind: 'submitted_after_deadline',
        actor: SYSTEM_ACTOR,
        detail: { submissionId: sub.id, receivedAt: receivedAt.toISOString(), state: c.state, ...(byNil ? { nilReturn: true } : {}) },
      });
    }
  }
  return { fulfilled: true, waived: false, onTime, submissionId: sub.id, nilReturn: byNil, resolvedCase };
}

export interface OverdueResult {
  state: 'fulfilled' | 'overdue' | 'waived';
  onTime: boolean | null;
  caseId: string | null;
  caseWorkflowId: string | null;
  resolvedCase: FulfilmentResult['resolvedCase'];
}

/**
 * The due date has passed: fulfilled if the database holds a submission (its signal may have been lost), else
 * overdue, with a compliance case opened, the provider and the administrators told (E20, P24).
 */
export async function declareOverdue(db: Db, id: number): Promise<OverdueResult> {
  return db.transaction(async (trx) => {
    const o = (await obligationById(trx, id, true))!;
    if (o.state === 'overdue') {
      const c = await trx('compliance_cases').where('id', o.case_id).first('workflow_id');
      return { state: 'overdue', onTime: null, caseId: o.case_id, caseWorkflowId: c?.workflow_id ?? null, resolvedCase: null };
    }
    const f = await fulfilObligation(trx, o);
    if (f.fulfilled) return { state: 'fulfilled', onTime: f.onTime, caseId: null, caseWorkflowId: null, resolvedCase: f.resolvedCase };
    if (f.waived) return { state: 'waived', onTime: null, caseId: null, caseWorkflowId: null, resolvedCase: null };
    const label = periodLabelZh(o.period);
    const c = await insertComplianceCase(trx, {
      providerId: o.provider_id,
      kind: 'reporting',
      referenceId: String(o.id),
      missedDeadline: o.due_date,
      summary: `${o.provider_name}未在 ${o.due_date} 前报送${label}（${o.period}）的信用信息`,
    });
    await trx('obligations').where({ id: o.id, state: 'open' }).update({ state: 'overdue', overdue_at: trx.fn.now(), case_id: c.id });
    const article = 'E7, E20, P9, P24';
    const detail = { period: o.period, dueDate: o.due_date, caseId: c.id, article };
    await trx('obligation_events').insert({ obligation_id: o.id, kind: 'overdue', actor: SYSTEM_ACTOR, detail });
    await recordAudit(trx, { actor: SYSTEM_ACTOR, action: 'obligation.overdue', entity: 'obligation', id: o.id, article, detail });
    await notify(trx, {
      to: { providerId: o.provider_id },
      ...obligationOverdue({ period: o.period, dueDate: o.due_date }),
      entity: 'obligation',
      entityId: String(o.id),
      data: { period: o.period, dueDate: o.due_date, caseId: c.id },
      dedupeKey: `obligation-overdue-${o.id}`,
    });
    await notify(trx, {
      to: { role: 'admin' },
      ...obligationOverdueToAdmin({ providerName: o.provider_name, providerCode: o.provider_code, period: o.period, dueDate: o.due_date }),
      entity: 'obligation',
      entityId: String(o.id),
      data: { provider: o.provider_code, period: o.period, dueDate: o.due_date, caseId: c.id },
      dedupeKey: `obligation-overdue-admin-${o.id}`,
    });
    return { state: 'overdue', onTime: null, caseId: c.id, caseWorkflowId: c.workflowId, resolvedCase: null };
  });
}

// ─── What the API reads ──────────────────────────────────────────────────────────────────────────────────────

/** An obligation as the API answers it (`obligations as o` joined to `providers as p`, `compliance_cases as c`). */
export function obligationColumns(db: Conn) {
  return [
    'o.id',
    'p.code as provider',
    'p.name_zh as provider_name',
    'o.period',
    'o.cadence',
    'o.period_start',
    'o.period_end',
    'o.due_date',
    'o.state',
    'o.on_time',
    isoColumn(db, 'o.fulfilled_at'),
    'o.fulfilled_submission_id',
    isoColumn(db, 'o.overdue_at'),
    'o.case_id',
    'c.state as case_state',
    isoColumn(db, 'o.opened_at'),
    isoColumn(db, 'o.waived_at'),
    'o.waived_reason',
    'o.calendar_pending_year',
  ];
}

const obligationsSeenBy = (db: Conn, p: Principal) =>
  db('obligations as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .leftJoin('compliance_cases as c', 'c.id', 'o.case_id')
    .leftJoin('nil_returns as n', 'n.obligation_id', 'o.id')
    .modify((b) => {
      // A provider sees only its own obligations (E10, E23).
      if (p.role === 'provider') b.where('o.provider_id', p.providerId);
    });

/** Its declaration that there was nothing to report (零报送, `nil_returns as n`): `{ at, note }` or null. */
export const nilReturnColumn = (db: Conn) =>
  db.raw(
    `CASE WHEN n.obligation_id IS NULL THEN NULL ELSE json_build_object('at', ${isoSql('n.declared_at')}, 'note', n.note) END AS nil_return`,
  );

/** A page of the obligations the caller may see, newest period first, and their total. */
export async function listObligations(
  db: Db,
  p: Principal,
  q: { provider?: string[]; period?: string; state?: ObligationState; limit: number; offset: number },
) {
  const base = obligationsSeenBy(db, p).modify((b) => {
    if (p.role !== 'provider' && q.provider) b.whereIn('p.code', q.provider);
    if (q.period) b.where('o.period', q.period);
    if (q.state) b.where('o.state', q.state);
  });
  const [{ n }] = await base.clone().count({ n: '*' });
  const rows = await base
    .orderBy([{ column: 'o.period_start', order: 'desc' }, { column: 'p.code' }])
    .limit(q.limit)
    .offset(q.offset)
    .select([...obligationColumns(db), nilReturnColumn(db)]);
  return { total: Number(n), obligations: rows };
}

/** One obligation the caller may see (a provider its own), or undefined. */
export async function visibleObligation(db: Db, p: Principal, id: number) {
  return obligationsSeenBy(db, p)
    .where('o.id', id)
    .first([...obligationColumns(db), nilReturnColumn(db)]);
}

/** The steps of an obligation, in order. */
export function obligationEvents(db: Db, id: number) {
  return db('obligation_events')
    .where('obligation_id', id)
    .orderBy([{ column: 'at' }, { column: 'id' }])
    .select(isoColumn(db, 'at'), 'kind', 'actor', 'detail');
}

/** The state of an obligation and its case, if there is one. */
export async function obligationCaseOf(db: Db, id: number): Promise<{ state: ObligationState; case_id: string | null } | undefined> {
  return db('obligations').where('id', id).first('state', 'case_id');
}

/** The reminders sent to a provider, newest first. */
export function providerReminders(db: Db, providerId: number | null, page: { limit: number; offset: number }) {
  return db('notifications')
    .where({ recipient_provider_id: providerId, kind: 'obligation.reminder' })
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .select('id', 'title', 'body', 'entity_id', 'data', isoColumn(db, 'created_at'), isoColumn(db, 'read_at'));
}
