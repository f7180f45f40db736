/**
 * Reporting obligations (E7, P9) and compliance cases (E20, P24) as the database holds them. Every write is
 * idempotent (unique keys, `ON CONFLICT`, `WHERE state = …` guards) and writes its step to the events table and the
 * audit log in the same transaction.
 */
import type { Knex } from 'knex';
import type { Db } from './knex';
import { notify } from './notifications';
import { loadCalendar } from './calendar';
import type { Cadence } from '../domain/catalog';
import { UnknownCalendarYearError, addCalendarDays, type WorkingCalendar } from '../domain/calendar';
import { parsePeriod } from '../domain/periods';
import {
  CASE_ARTICLE,
  CASE_STATE_ZH,
  CADENCE_ZH,
  cadenceChangeEffectiveFrom,
  complianceCaseWorkflowId,
  dueDateOf,
  endOfShanghaiDay,
  periodContaining,
  periodLabelZh,
  type BoardState,
  type CaseKind,
  type CaseState,
  type ObligationState,
} from '../domain/obligations';

type Conn = Knex | Knex.Transaction;

export const SYSTEM_ACTOR = 'system:obligations';

/** The first day of the period of `cadence` containing the SQL date expression `d`. */
const periodStartSql = (cadence: string, d: string) =>
  `CASE ${cadence} WHEN 'monthly' THEN date_trunc('month', ${d})::date
                   WHEN 'quarterly' THEN date_trunc('quarter', ${d})::date
                   ELSE make_date(extract(year FROM ${d})::int, CASE WHEN extract(month FROM ${d}) <= 6 THEN 1 ELSE 7 END, 1) END`;
const monthsSql = (cadence: string) => `(CASE ${cadence} WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 6 END)`;
const periodCodeSql = (cadence: string, start: string) =>
  `CASE ${cadence} WHEN 'monthly' THEN to_char(${start}, 'YYYY-MM')
                   WHEN 'quarterly' THEN to_char(${start}, 'YYYY') || '-Q' || ((extract(month FROM ${start})::int - 1) / 3 + 1)
                   ELSE to_char(${start}, 'YYYY') || '-H' || ((extract(month FROM ${start})::int - 1) / 6 + 1) END`;

// ─── Cadences ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Starts the tracking of every active provider that has none: its cadence of today, from the first day of its
 * period in progress (a provider registered mid-year owes its current period, not the year's earlier ones).
 */
export async function ensureInitialCadences(db: Conn, today: string, providerIds?: number[]): Promise<number> {
  const res = await db.raw(
    `INSERT INTO provider_cadence_changes (provider_id, kind, cadence, effective_from, actor, note)
     SELECT p.id, 'initial', p.cadence, ${periodStartSql('p.cadence', ':today::date')}, :actor, '开始跟踪报送义务 / tracking begins'
       FROM providers p
      WHERE p.active ${providerIds ? 'AND p.id = ANY(:ids)' : ''}
        AND NOT EXISTS (SELECT 1 FROM provider_cadence_changes c WHERE c.provider_id = p.id)
     ON CONFLICT (provider_id, effective_from) WHERE superseded_at IS NULL DO NOTHING`,
    { today, actor: SYSTEM_ACTOR, ids: providerIds ?? null },
  );
  return res.rowCount ?? 0;
}

/** Brings `providers.cadence` (what intake checks periods against) to the cadence in force on `today`. */
export async function applyEffectiveCadences(db: Conn, today: string): Promise<Array<{ id: number; code: string; cadence: Cadence }>> {
  const res = await db.raw(
    `WITH cur AS (
       SELECT DISTINCT ON (provider_id) provider_id, cadence FROM provider_cadence_changes
        WHERE superseded_at IS NULL AND effective_from <= :today::date
        ORDER BY provider_id, effective_from DESC)
     , upd AS (
       UPDATE providers p SET cadence = cur.cadence FROM cur
        WHERE p.id = cur.provider_id AND p.cadence <> cur.cadence
       RETURNING p.id, p.code, p.cadence)
     , audit AS (
       INSERT INTO audit_log (actor, action, entity, entity_id, detail)
       SELECT :actor, 'provider.cadence_in_force', 'provider', upd.code, jsonb_build_object('cadence', upd.cadence, 'from', :today::text, 'article', 'E7, P9')
         FROM upd)
     SELECT * FROM upd`,
    { today, actor: SYSTEM_ACTOR },
  );
  return res.rows;
}

export interface CadenceState {
  inForce: Cadence;
  /** An agreed change that has not taken effect yet. */
  pending: { id: number; cadence: Cadence; effectiveFrom: string } | null;
}

export async function cadenceState(db: Conn, providerId: number, today: string): Promise<CadenceState> {
  const rows = await db('provider_cadence_changes')
    .where('provider_id', providerId)
    .whereNull('superseded_at')
    .orderBy('effective_from', 'desc')
    .select('id', 'cadence', 'effective_from');
  const current = rows.find((r) => r.effective_from <= today);
  const pending = rows.find((r) => r.effective_from > today);
  const provider = await db('providers').where('id', providerId).first('cadence');
  return {
    inForce: (current?.cadence ?? provider.cadence) as Cadence,
    pending: pending ? { id: Number(pending.id), cadence: pending.cadence, effectiveFrom: pending.effective_from } : null,
  };
}

export class CadenceChangeError extends Error {
  constructor(
    readonly code: 'NO_CHANGE' | 'PROVIDER_INACTIVE',
    message: string,
  ) {
    super(message);
  }
}

export interface CadenceChange {
  id: number;
  providerCode: string;
  previousCadence: Cadence;
  cadence: Cadence;
  effectiveFrom: string;
  firstPeriod: string;
  agreedOn: string;
  superseded: number[];
}

/**
 * Records a cadence agreed with the platform (E7, P9): it takes effect from the next period; an agreement made
 * before an earlier one took effect replaces it. The history keeps every agreement with its date and actor.
 */
export async function recordCadenceChange(
  db: Db,
  input: { providerId: number; cadence: Cadence; agreedOn: string; note?: string; today: string; principalId: string; actor: string },
): Promise<CadenceChange> {
  return db.transaction(async (trx) => {
    const provider = await trx('providers').where('id', input.providerId).forUpdate().first('id', 'code', 'cadence', 'active');
    if (!provider.active) throw new CadenceChangeError('PROVIDER_INACTIVE', '信息提供单位已停用 / the provider is not active');
    await ensureInitialCadences(trx, input.today, [provider.id]);
    const state = await cadenceState(trx, provider.id, input.today);
    if (input.cadence === state.inForce && !state.pending) {
      throw new CadenceChangeError('NO_CHANGE', `该单位已${CADENCE_ZH[input.cadence]}报送 / the provider already reports ${input.cadence}`);
    }
    const effectiveFrom = cadenceChangeEffectiveFrom(state.inForce, input.cadence, input.today);
    const superseded = await trx('provider_cadence_changes')
      .where('provider_id', provider.id)
      .whereNull('superseded_at')
      .where('effective_from', '>', input.today)
      .update({ superseded_at: trx.fn.now() })
      .returning('id');
    const [row] = await trx('provider_cadence_changes')
      .insert({
        provider_id: provider.id,
        kind: 'agreement',
        cadence: input.cadence,
        previous_cadence: state.inForce,
        effective_from: effectiveFrom,
        agreed_on: input.agreedOn,
        note: input.note ?? null,
        principal_id: input.principalId,
        actor: input.actor,
      })
      .returning('id');
    const ids = superseded.map((s: { id: number }) => Number(s.id));
    if (ids.length) await trx('provider_cadence_changes').whereIn('id', ids).update({ superseded_by: row.id });
    const firstPeriod = periodContaining(effectiveFrom, input.cadence).code;
    await trx('audit_log').insert({
      principal_id: input.principalId,
      actor: input.actor,
      action: 'provider.cadence_change',
      entity: 'provider',
      entity_id: provider.code,
      detail: { from: state.inForce, to: input.cadence, effectiveFrom, firstPeriod, agreedOn: input.agreedOn, superseded: ids, article: 'E7, P9' },
    });
    await notify(trx, {
      to: { providerId: provider.id },
      kind: 'obligation.cadence_change',
      title: `报送周期变更：自${periodLabelZh(firstPeriod)}起${CADENCE_ZH[input.cadence]}报送 / reporting cadence: ${input.cadence} from ${firstPeriod}`,
      body: `经与市信用信息征集机构协商同意（${input.agreedOn}），本单位自 ${effectiveFrom} 起${CADENCE_ZH[input.cadence]}报送信用信息（E7、P9）。`,
      entity: 'provider',
      entityId: provider.code,
      data: { cadence: input.cadence, effectiveFrom, firstPeriod },
      dedupeKey: `cadence-change-${row.id}`,
    });
    return {
      id: Number(row.id),
      providerCode: provider.code,
      previousCadence: state.inForce,
      cadence: input.cadence,
      effectiveFrom,
      firstPeriod,
      agreedOn: input.agreedOn,
      superseded: ids,
    };
  });
}

// ─── Deactivating and reactivating a provider ───────────────────────────────────────────────────────────────

export class ProviderStateError extends Error {
  constructor(
    readonly code: 'PROVIDER_INACTIVE' | 'PROVIDER_ACTIVE',
    message: string,
  ) {
    super(message);
  }
}

export interface ProviderDeactivation {
  /** Obligations no longer owed: open, nothing submitted for them. Their workflows are to be woken. */
  waived: Array<{ id: number; period: string; workflowId: string }>;
  /** Periods already overdue: the failure happened before; their compliance cases go on. */
  overdueKept: string[];
  /** Periods open with a batch already received: fulfilled by it, as usual. */
  submittedKept: string[];
}

/**
 * Deactivates a provider (a department merged or abolished): it gets no new obligations and may not submit;
 * its open obligations with nothing submitted are waived; overdue ones stay, with their cases. One transaction,
 * the audit entry last.
 */
export async function deactivateProvider(db: Db, input: { providerId: number; reason: string; principalId: string; actor: string }): Promise<ProviderDeactivation> {
  return db.transaction(async (trx) => {
    const p = await trx('providers').where('id', input.providerId).forUpdate().first('id', 'code', 'active');
    if (!p.active) throw new ProviderStateError('PROVIDER_INACTIVE', '该信息提供单位已停用 / the provider is already inactive');
    await trx('providers').where('id', p.id).update({ active: false, deactivated_at: trx.fn.now(), deactivated_by: input.principalId, deactivation_reason: input.reason });
    const waived: ProviderDeactivation['waived'] = (
      await trx.raw(
        `WITH w AS (
           UPDATE obligations o SET state = 'waived', waived_at = now(), waived_reason = :reason
            WHERE o.provider_id = :id AND o.state = 'open'
              AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.provider_id = o.provider_id AND s.period = o.period)
           RETURNING o.id, o.period, o.workflow_id)
         , ev AS (
           INSERT INTO obligation_events (obligation_id, kind, principal_id, actor, detail)
           SELECT w.id, 'waived', :principal, :actor, jsonb_build_object('reason', :reason::text, 'article', 'E7, P9') FROM w)
         SELECT id, period, workflow_id FROM w ORDER BY period`,
        { id: p.id, reason: input.reason, principal: input.principalId, actor: input.actor },
      )
    ).rows.map((r: { id: number; period: string; workflow_id: string }) => ({ id: Number(r.id), period: r.period, workflowId: r.workflow_id }));
    const kept = await trx('obligations').where('provider_id', p.id).whereIn('state', ['open', 'overdue']).orderBy('period').select('period', 'state');
    const result: ProviderDeactivation = {
      waived,
      overdueKept: kept.filter((k) => k.state === 'overdue').map((k) => k.period),
      submittedKept: kept.filter((k) => k.state === 'open').map((k) => k.period),
    };
    await trx('audit_log').insert({
      principal_id: input.principalId,
      actor: input.actor,
      action: 'provider.deactivate',
      entity: 'provider',
      entity_id: p.code,
      detail: { reason: input.reason, waived: waived.map((w) => w.period), overdue_kept: result.overdueKept, article: 'E7, P9' },
    });
    return result;
  });
}

/**
 * Reactivates a provider. The periods that began while it was inactive are recorded as waived (never owed); the
 * period in progress is owed from now on if it was not waived already (the caller opens it, as at registration).
 */
export async function reactivateProvider(db: Db, input: { providerId: number; today: string; reason: string | null; principalId: string; actor: string }): Promise<{ waivedWhileInactive: string[] }> {
  return db.transaction(async (trx) => {
    const p = await trx('providers').where('id', input.providerId).forUpdate().first('id', 'code', 'active', 'cadence');
    if (p.active) throw new ProviderStateError('PROVIDER_ACTIVE', '该信息提供单位已是启用状态 / the provider is already active');
    await trx('providers').where('id', p.id).update({ active: true, deactivated_at: null, deactivated_by: null, deactivation_reason: null });
    const beforeCurrent = addCalendarDays(periodContaining(input.today, p.cadence as Cadence).start, -1);
    const res = await trx.raw(
      `${missingPeriodsSql(true)}
       , ins AS (
         INSERT INTO obligations (provider_id, period, cadence, period_start, period_end, due_working_days, workflow_id, opened_by,
                                  state, waived_at, waived_reason, workflow_started_at)
         SELECT m.provider_id, m.period, m.cadence, m.period_start, m.period_end, 0, 'obligation-' || m.code || '-' || m.period, :actor,
                'waived', now(), '单位停用期间的报送期，不需报送 / a period while the provider was inactive', now()
           FROM missing m
         ON CONFLICT (provider_id, period) DO NOTHING
         RETURNING id, period)
       , ev AS (
         INSERT INTO obligation_events (obligation_id, kind, principal_id, actor, detail)
         SELECT ins.id, 'waived', :principal, :actor, jsonb_build_object('reason', 'inactive', 'article', 'E7, P9') FROM ins)
       SELECT period FROM ins ORDER BY period`,
      { today: beforeCurrent, ids: [p.id], actor: input.actor, principal: input.principalId },
    );
    const waivedWhileInactive = res.rows.map((r: { period: string }) => r.period);
    await trx('audit_log').insert({
      principal_id: input.principalId,
      actor: input.actor,
      action: 'provider.activate',
      entity: 'provider',
      entity_id: p.code,
      detail: { reason: input.reason, waived_while_inactive: waivedWhileInactive, article: 'E7, P9' },
    });
    return { waivedWhileInactive };
  });
}

// ─── Opening obligations ─────────────────────────────────────────────────────────────────────────────────────

/** Every period of every active provider that has begun by `today` under the cadences in force, not yet opened. */
const missingPeriodsSql = (withIds: boolean) => `
  WITH seg AS (
    SELECT c.provider_id, p.code, c.cadence, c.effective_from,
           lead(c.effective_from) OVER (PARTITION BY c.provider_id ORDER BY c.effective_from) AS next_from
      FROM provider_cadence_changes c JOIN providers p ON p.id = c.provider_id AND p.active
     WHERE c.superseded_at IS NULL ${withIds ? 'AND p.id = ANY(:ids)' : ''}
  ), starts AS (
    SELECT seg.provider_id, seg.code, seg.cadence, gs::date AS period_start
      FROM seg, generate_series(seg.effective_from::timestamp,
                                LEAST(COALESCE(seg.next_from - 1, :today::date), :today::date)::timestamp,
                                ${monthsSql('seg.cadence')} * interval '1 month') gs
     WHERE seg.effective_from <= :today::date
  ), periods AS (
    SELECT provider_id, code, cadence, period_start,
           (period_start + ${monthsSql('cadence')} * interval '1 month' - interval '1 day')::date AS period_end,
           ${periodCodeSql('cadence', 'period_start')} AS period
      FROM starts
  ), missing AS (
    SELECT * FROM periods m
     WHERE NOT EXISTS (SELECT 1 FROM obligations o WHERE o.provider_id = m.provider_id AND o.period = m.period)
  )`;

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
    const distinct = (await trx.raw(`${missingPeriodsSql(withIds)} SELECT DISTINCT period FROM missing`, binds)).rows as { period: string }[];
    if (!distinct.length) return [];
    const dues: Record<string, string | null> = {};
    const pending: Record<string, number | null> = {};
    for (const { period } of distinct) {
      try {
        dues[period] = dueDateOf(input.calendar, parsePeriod(period)!, input.dueWorkingDays);
        pending[period] = null;
      } catch (e) {
        if (!(e instanceof UnknownCalendarYearError)) throw e;
        dues[period] = null;
        pending[period] = e.year;
      }
    }
    const res = await trx.raw(
      `${missingPeriodsSql(withIds)}
       , ins AS (
         INSERT INTO obligations (provider_id, period, cadence, period_start, period_end, due_date, calendar_pending_year, due_working_days, workflow_id, opened_by)
         SELECT m.provider_id, m.period, m.cadence, m.period_start, m.period_end, (:dues::jsonb ->> m.period)::date, (:pending::jsonb ->> m.period)::int, :n,
                'obligation-' || m.code || '-' || m.period, :actor
           FROM missing m
         ON CONFLICT (provider_id, period) DO NOTHING
         RETURNING id, provider_id, period, workflow_id, due_date)
       , ev AS (
         INSERT INTO obligation_events (obligation_id, kind, actor, detail)
         SELECT ins.id, 'opened', :actor, jsonb_build_object('period', ins.period, 'dueDate', ins.due_date, 'article', 'E7, P9') FROM ins)
       SELECT id, provider_id, period, workflow_id FROM ins ORDER BY id`,
      { ...binds, dues: JSON.stringify(dues), pending: JSON.stringify(pending), n: input.dueWorkingDays, actor: input.actor ?? SYSTEM_ACTOR },
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
      await trx('audit_log').insert({
        actor: input.actor ?? SYSTEM_ACTOR,
        action: 'obligations.open',
        entity: 'obligation',
        entity_id: null,
        detail: { count: opened.length, periods: byPeriod, today: input.today, article: 'E7, P9' },
      });
    }
    return opened;
  });
}

/** Obligations whose workflow has not been started yet (a crash between opening and starting). */
export async function unstartedObligations(db: Db, limit = 1000): Promise<Array<{ id: number; workflowId: string }>> {
  const rows = await db('obligations').whereNull('workflow_started_at').orderBy('id').limit(limit).select('id', 'workflow_id');
  return rows.map((r) => ({ id: Number(r.id), workflowId: r.workflow_id }));
}

/**
 * Obligations still waiting for a submission although the database holds one (its signal was lost: Temporal
 * unreachable when the batch came). Their workflows are told again.
 */
export async function obligationsWithUnnoticedSubmissions(db: Db, limit = 1000): Promise<Array<{ id: number; workflowId: string }>> {
  const rows = await db.raw(
    `SELECT o.id, o.workflow_id FROM obligations o
      WHERE o.state <> 'fulfilled' AND o.workflow_started_at IS NOT NULL
        AND EXISTS (SELECT 1 FROM submissions s WHERE s.provider_id = o.provider_id AND s.period = o.period
                     AND s.received_at < ?::timestamptz)
      ORDER BY o.id LIMIT ?`,
    [new Date(Date.now() - 60_000), limit],
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
 * Records the obligation as fulfilled by the first submission of that provider and period, if there is one: on
 * time when received before its due date ended. A case still open without a missed rectification deadline is
 * resolved with it (the provider rectified, E20, P24). Idempotent: the second call changes nothing.
 */
export async function fulfilObligation(trx: Knex.Transaction, o: ObligationRow): Promise<FulfilmentResult> {
  if (o.state === 'fulfilled') {
    const row = await trx('obligations').where('id', o.id).first('on_time', 'fulfilled_submission_id');
    return { fulfilled: true, waived: false, onTime: row.on_time, submissionId: row.fulfilled_submission_id, resolvedCase: null };
  }
  if (o.state === 'waived') return { fulfilled: false, waived: true, onTime: null, submissionId: null, resolvedCase: null };
  const sub = await trx('submissions')
    .where({ provider_id: o.provider_id, period: o.period })
    .orderBy([{ column: 'received_at' }, { column: 'id' }])
    .first('id', 'received_at');
  if (!sub) return { fulfilled: false, waived: false, onTime: null, submissionId: null, resolvedCase: null };
  const receivedAt = new Date(sub.received_at);
  const onTime = await receivedInTime(trx, o, receivedAt);
  const updated = await trx('obligations')
    .where('id', o.id)
    .whereNot('state', 'fulfilled')
    .update({ state: 'fulfilled', fulfilled_at: receivedAt, fulfilled_submission_id: sub.id, on_time: onTime })
    .returning('id');
  if (!updated.length) return { fulfilled: true, waived: false, onTime, submissionId: sub.id, resolvedCase: null };
  const detail = { submissionId: sub.id, receivedAt: receivedAt.toISOString(), dueDate: o.due_date, onTime, article: 'E7, P9' };
  await trx('obligation_events').insert({ obligation_id: o.id, kind: onTime ? 'fulfilled_on_time' : onTime === null ? 'fulfilled' : 'fulfilled_late', actor: SYSTEM_ACTOR, detail });
  await trx('audit_log').insert({ actor: SYSTEM_ACTOR, action: 'obligation.fulfilled', entity: 'obligation', entity_id: String(o.id), detail });
  let resolvedCase: FulfilmentResult['resolvedCase'] = null;
  if (o.case_id) {
    const c = await trx('compliance_cases').where('id', o.case_id).forUpdate().first('id', 'state', 'order_deadline', 'workflow_id');
    const inTime = c.state === 'overdue' || (c.state === 'ordered' && receivedAt < new Date(endOfShanghaiDay(c.order_deadline)));
    if (inTime) {
      await resolveCaseRow(trx, c.id, { actor: SYSTEM_ACTOR, resolution: 'submitted', detail: { submissionId: sub.id, receivedAt: receivedAt.toISOString() } });
      resolvedCase = { id: c.id, workflowId: c.workflow_id };
    } else {
      await trx('compliance_case_events').insert({
        case_id: c.id,
        kind: 'submitted_after_deadline',
        actor: SYSTEM_ACTOR,
        detail: { submissionId: sub.id, receivedAt: receivedAt.toISOString(), state: c.state },
      });
    }
  }
  return { fulfilled: true, waived: false, onTime, submissionId: sub.id, resolvedCase };
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
    const detail = { period: o.period, dueDate: o.due_date, caseId: c.id, article: 'E7, E20, P9, P24' };
    await trx('obligation_events').insert({ obligation_id: o.id, kind: 'overdue', actor: SYSTEM_ACTOR, detail });
    await trx('audit_log').insert({ actor: SYSTEM_ACTOR, action: 'obligation.overdue', entity: 'obligation', entity_id: String(o.id), detail });
    await notify(trx, {
      to: { providerId: o.provider_id },
      kind: 'obligation.overdue',
      title: `逾期未报送：${label}信用信息 / overdue: the submission for ${o.period}`,
      body: `本单位${label}（${o.period}）的信用信息应于 ${o.due_date} 前报送，至今未收到。请尽快报送；拖延报送的，由市社会信用体系建设管理机构责令限期改正（E20、P24）。`,
      entity: 'obligation',
      entityId: String(o.id),
      data: { period: o.period, dueDate: o.due_date, caseId: c.id },
      dedupeKey: `obligation-overdue-${o.id}`,
    });
    await notify(trx, {
      to: { role: 'admin' },
      kind: 'obligation.overdue',
      title: `${o.provider_name}逾期未报送${label}信用信息 / ${o.provider_code} overdue for ${o.period}`,
      body: `${o.provider_name}（${o.provider_code}）${label}的信用信息应于 ${o.due_date} 前报送，已逾期，可责令限期改正（E20、P24）。`,
      entity: 'obligation',
      entityId: String(o.id),
      data: { provider: o.provider_code, period: o.period, dueDate: o.due_date, caseId: c.id },
      dedupeKey: `obligation-overdue-admin-${o.id}`,
    });
    return { state: 'overdue', onTime: null, caseId: c.id, caseWorkflowId: c.workflowId, resolvedCase: null };
  });
}

// ─── Compliance cases ────────────────────────────────────────────────────────────────────────────────────────

export interface NewComplianceCase {
  providerId: number;
  kind: CaseKind;
  /** The obligation's id, the objection's id… — one case per kind and reference. */
  referenceId: string;
  /** The deadline the provider missed (YYYY-MM-DD). */
  missedDeadline: string | null;
  /** What the provider failed to do, in Chinese. */
  summary: string;
  actor?: string;
}

/** Opens a case (or finds the one already open for that kind and reference), with its event and audit entry. */
export async function insertComplianceCase(trx: Knex.Transaction, c: NewComplianceCase): Promise<{ id: string; workflowId: string; created: boolean }> {
  const workflowId = complianceCaseWorkflowId(c.kind, c.referenceId);
  const actor = c.actor ?? SYSTEM_ACTOR;
  const inserted = await trx('compliance_cases')
    .insert({
      provider_id: c.providerId,
      kind: c.kind,
      reference_id: c.referenceId,
      article: CASE_ARTICLE[c.kind],
      summary: c.summary,
      missed_deadline: c.missedDeadline,
      workflow_id: workflowId,
    })
    .onConflict(['kind', 'reference_id'])
    .ignore()
    .returning('id');
  if (!inserted.length) {
    const existing = await trx('compliance_cases').where({ kind: c.kind, reference_id: c.referenceId }).first('id', 'workflow_id');
    return { id: existing.id, workflowId: existing.workflow_id, created: false };
  }
  const id = inserted[0].id as string;
  const detail = { kind: c.kind, referenceId: c.referenceId, missedDeadline: c.missedDeadline, summary: c.summary, article: CASE_ARTICLE[c.kind] };
  await trx('compliance_case_events').insert({ case_id: id, kind: 'opened', actor, detail });
  await trx('audit_log').insert({ actor, action: 'compliance_case.open', entity: 'compliance_case', entity_id: id, detail });
  return { id, workflowId, created: true };
}

export interface CaseRow {
  id: string;
  provider_id: number;
  provider_code: string;
  provider_name: string;
  kind: CaseKind;
  reference_id: string;
  state: CaseState;
  summary: string;
  article: string;
  missed_deadline: string | null;
  order_deadline: string | null;
  workflow_id: string;
}

export async function caseById(db: Conn, id: string, lock = false): Promise<CaseRow | undefined> {
  const q = db('compliance_cases as c')
    .join('providers as p', 'p.id', 'c.provider_id')
    .where('c.id', id)
    .first('c.*', 'p.code as provider_code', 'p.name_zh as provider_name');
  if (lock) q.forUpdate('c');
  return q;
}

async function resolveCaseRow(
  trx: Knex.Transaction,
  caseId: string,
  r: { actor: string; principalId?: string | null; resolution: string; detail?: Record<string, unknown> },
): Promise<boolean> {
  const done = await trx('compliance_cases')
    .where('id', caseId)
    .whereIn('state', ['overdue', 'ordered'])
    .update({ state: 'resolved', resolved_at: trx.fn.now(), resolved_by: r.actor, resolution: r.resolution })
    .returning(['id', 'provider_id', 'summary']);
  if (!done.length) return false;
  const detail = { resolution: r.resolution, ...r.detail };
  await trx('compliance_case_events').insert({ case_id: caseId, kind: 'resolved', principal_id: r.principalId ?? null, actor: r.actor, detail });
  await trx('audit_log').insert({ principal_id: r.principalId ?? null, actor: r.actor, action: 'compliance_case.resolve', entity: 'compliance_case', entity_id: caseId, detail });
  return true;
}

/**
 * The provider did what it failed to do (e.g. answered the objection verification): the case is resolved, if it
 * is still overdue or ordered and the order's deadline has not passed. Answers the case's workflow id when it
 * changed (tell the workflow: `caseChangedSignal`), or null.
 */
export async function resolveComplianceCase(
  db: Db,
  input: { caseId: string; actor: string; principalId?: string | null; resolution: string; at?: Date; detail?: Record<string, unknown> },
): Promise<string | null> {
  return db.transaction(async (trx) => {
    const c = await caseById(trx, input.caseId, true);
    if (!c) return null;
    const at = input.at ?? new Date();
    if (c.state === 'ordered' && c.order_deadline && at >= new Date(endOfShanghaiDay(c.order_deadline))) return null;
    const changed = await resolveCaseRow(trx, c.id, { actor: input.actor, principalId: input.principalId, resolution: input.resolution, detail: input.detail });
    return changed ? c.workflow_id : null;
  });
}

export class CaseStateError extends Error {
  constructor(
    readonly state: CaseState,
    message: string,
  ) {
    super(message);
  }
}

export interface OrderInput {
  deadline: string;
  note: string | null;
  principalId: string;
  actor: string;
  requestId: string;
}

/** 责令限期改正 (E20, P24): an overdue case gets a deadline. The same request again answers what was stored. */
export async function recordOrder(db: Db, caseId: string, input: OrderInput): Promise<{ state: CaseState; orderDeadline: string; deadlineEndsAt: string }> {
  return db.transaction(async (trx) => {
    const c = await trx('compliance_cases').where('id', caseId).forUpdate().first('*');
    if (!c) throw new CaseStateError('resolved', `案件 ${caseId} 不存在 / no such case`);
    if (c.state === 'ordered' && c.order_request_id === input.requestId) {
      return { state: 'ordered', orderDeadline: c.order_deadline, deadlineEndsAt: endOfShanghaiDay(c.order_deadline) };
    }
    if (c.state !== 'overdue') {
      throw new CaseStateError(c.state, `案件当前状态为"${CASE_STATE_ZH[c.state as CaseState]}"，只能对逾期案件责令限期改正 / only an overdue case can be ordered (state: ${c.state})`);
    }
    await trx('compliance_cases').where({ id: caseId, state: 'overdue' }).update({
      state: 'ordered',
      order_deadline: input.deadline,
      order_note: input.note,
      ordered_at: trx.fn.now(),
      ordered_by_principal: input.principalId,
      ordered_by: input.actor,
      order_request_id: input.requestId,
    });
    const detail = { deadline: input.deadline, note: input.note, article: c.article };
    await trx('compliance_case_events').insert({ case_id: caseId, kind: 'ordered', principal_id: input.principalId, actor: input.actor, detail });
    await trx('audit_log').insert({ principal_id: input.principalId, actor: input.actor, action: 'compliance_case.order', entity: 'compliance_case', entity_id: caseId, detail });
    await notify(trx, {
      to: { providerId: c.provider_id },
      kind: 'compliance.ordered',
      title: `责令限期改正：请于 ${input.deadline} 前改正 / rectification order: rectify by ${input.deadline}`,
      body: `${c.summary}。依据${c.article}，市社会信用体系建设管理机构责令本单位于 ${input.deadline} 前改正${input.note ? `（${input.note}）` : ''}；拒不改正的，将提请监察部门追究直接责任人的行政责任。`,
      entity: 'compliance_case',
      entityId: caseId,
      data: { deadline: input.deadline, kind: c.kind, referenceId: c.reference_id },
      dedupeKey: `compliance-ordered-${caseId}`,
    });
    return { state: 'ordered', orderDeadline: input.deadline, deadlineEndsAt: endOfShanghaiDay(input.deadline) };
  });
}

/**
 * The order's deadline has passed. A reporting case whose submission came in time is resolved (the obligation
 * is fulfilled); otherwise the case is due for escalation and the supervisors are told (E20, P24: 拒不改正的).
 */
export async function orderDeadlinePassed(db: Db, caseId: string): Promise<{ state: CaseState; resolvedObligation: boolean }> {
  return db.transaction(async (trx) => {
    const c = (await caseById(trx, caseId, true))!;
    if (c.state !== 'ordered') return { state: c.state, resolvedObligation: false };
    if (c.kind === 'reporting') {
      const o = await obligationById(trx, Number(c.reference_id), true);
      if (o) {
        const f = await fulfilObligation(trx, o);
        if (f.resolvedCase) return { state: 'resolved', resolvedObligation: true };
      }
    }
    await trx('compliance_cases').where({ id: caseId, state: 'ordered' }).update({ state: 'escalation_due', escalation_due_at: trx.fn.now() });
    const detail = { orderDeadline: c.order_deadline, article: c.article };
    await trx('compliance_case_events').insert({ case_id: caseId, kind: 'escalation_due', actor: SYSTEM_ACTOR, detail });
    await trx('audit_log').insert({ actor: SYSTEM_ACTOR, action: 'compliance_case.escalation_due', entity: 'compliance_case', entity_id: caseId, detail });
    await notify(trx, {
      to: { role: 'supervisor' },
      kind: 'compliance.escalation_due',
      title: `${c.provider_name}逾期未改正，待提请监察 / ${c.provider_code} ignored a rectification order`,
      body: `${c.summary}。责令改正期限 ${c.order_deadline} 已过仍未改正，可提请监察部门追究直接责任人的行政责任（${c.article}）。`,
      entity: 'compliance_case',
      entityId: caseId,
      data: { provider: c.provider_code, kind: c.kind, orderDeadline: c.order_deadline },
      dedupeKey: `compliance-escalation-due-${caseId}`,
    });
    return { state: 'escalation_due', resolvedObligation: false };
  });
}

export interface EscalationInput {
  responsibleUnit: string;
  referredTo: string;
  note: string;
  principalId: string;
  actor: string;
  requestId: string;
}

/** 提请监察部门追究直接责任人的行政责任 (E20, P24). The same request again answers what was stored. */
export async function recordEscalation(db: Db, caseId: string, input: EscalationInput): Promise<{ state: CaseState; escalatedAt: string }> {
  return db.transaction(async (trx) => {
    const c = await trx('compliance_cases').where('id', caseId).forUpdate().first('*');
    if (!c) throw new CaseStateError('resolved', `案件 ${caseId} 不存在 / no such case`);
    if (c.state === 'escalated' && c.escalation_request_id === input.requestId) return { state: 'escalated', escalatedAt: new Date(c.escalated_at).toISOString() };
    if (c.state !== 'escalation_due') {
      throw new CaseStateError(c.state, `案件当前状态为"${CASE_STATE_ZH[c.state as CaseState]}"，只有逾期未改正的案件可提请监察 / only a case whose order was ignored can be escalated (state: ${c.state})`);
    }
    const [row] = await trx('compliance_cases')
      .where({ id: caseId, state: 'escalation_due' })
      .update({
        state: 'escalated',
        escalated_at: trx.fn.now(),
        escalated_by_principal: input.principalId,
        escalated_by: input.actor,
        responsible_unit: input.responsibleUnit,
        referred_to: input.referredTo,
        escalation_note: input.note,
        escalation_request_id: input.requestId,
      })
      .returning(['escalated_at']);
    const detail = { responsibleUnit: input.responsibleUnit, referredTo: input.referredTo, note: input.note, article: c.article };
    await trx('compliance_case_events').insert({ case_id: caseId, kind: 'escalated', principal_id: input.principalId, actor: input.actor, detail });
    await trx('audit_log').insert({ principal_id: input.principalId, actor: input.actor, action: 'compliance_case.escalate', entity: 'compliance_case', entity_id: caseId, detail });
    await notify(trx, {
      to: { providerId: c.provider_id },
      kind: 'compliance.escalated',
      title: `已提请${input.referredTo}追究责任 / referred to ${input.referredTo}`,
      body: `${c.summary}。逾期未按责令改正（期限 ${c.order_deadline}），已提请${input.referredTo}追究直接责任人的行政责任（${c.article}）。`,
      entity: 'compliance_case',
      entityId: caseId,
      data: { referredTo: input.referredTo, responsibleUnit: input.responsibleUnit },
      dedupeKey: `compliance-escalated-${caseId}`,
    });
    await notify(trx, {
      to: { role: 'admin' },
      kind: 'compliance.escalated',
      title: `${c.summary}：已提请${input.referredTo} / escalated`,
      body: `责任单位：${input.responsibleUnit}。${input.note}`,
      entity: 'compliance_case',
      entityId: caseId,
      data: { referredTo: input.referredTo, responsibleUnit: input.responsibleUnit },
      dedupeKey: `compliance-escalated-admin-${caseId}`,
    });
    return { state: 'escalated', escalatedAt: new Date(row.escalated_at).toISOString() };
  });
}

/** Open obligations whose due date waits on a calendar year, per year (optionally for some providers). */
export async function obligationsAwaitingCalendar(db: Db, providerCodes?: string[]): Promise<Array<{ year: number; obligations: number }>> {
  const rows = await db('obligations as o')
    .where('o.state', 'open')
    .whereNotNull('o.calendar_pending_year')
    .modify((b) => {
      if (providerCodes) b.whereIn('o.provider_id', db('providers').whereIn('code', providerCodes).select('id'));
    })
    .groupBy('o.calendar_pending_year')
    .orderBy('o.calendar_pending_year')
    .select('o.calendar_pending_year as year', db.raw('count(*)::int AS obligations'));
  return rows as Array<{ year: number; obligations: number }>;
}

// ─── The overdue board and the dashboard ────────────────────────────────────────────────────────────────────

export const BOARD_SORTS = ['working_days_overdue', 'due_date', 'provider', 'period', 'state'] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];

export interface BoardFilter {
  providers?: string[];
  kind?: string;
  period?: string;
  state?: BoardState;
  sort: BoardSort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/**
 * The overdue board as one SQL statement (the API runs it; the benchmark runs it bare): each obligation still
 * overdue with its provider, due date and its case's order and escalation state; the total in the same pass.
 */
export function boardQuery(f: BoardFilter): { sql: string; bindings: unknown[] } {
  const where = [`o.state = 'overdue'`];
  const bindings: unknown[] = [];
  if (f.providers?.length) {
    where.push('p.code = ANY(?)');
    bindings.push(f.providers);
  }
  if (f.kind) {
    where.push('p.kind = ?');
    bindings.push(f.kind);
  }
  if (f.period) {
    where.push('o.period = ?');
    bindings.push(f.period);
  }
  if (f.state) {
    where.push('c.state = ?');
    bindings.push(f.state);
  }
  const dir = f.order === 'asc' ? 'ASC' : 'DESC';
  // More working days overdue = an earlier due date.
  const orderBy = {
    working_days_overdue: `o.due_date ${f.order === 'asc' ? 'DESC' : 'ASC'}, p.code, o.id`,
    due_date: `o.due_date ${dir}, p.code, o.id`,
    provider: `p.code ${dir}, o.period_start, o.id`,
    period: `o.period_start ${dir}, p.code, o.id`,
    state: `c.state ${dir}, o.due_date, o.id`,
  }[f.sort];
  bindings.push(f.limit, f.offset);
  return {
    sql: `SELECT o.id, p.code AS provider, p.name_zh AS provider_name, p.kind AS provider_kind, o.period, o.cadence,
                 o.due_date, to_char(o.overdue_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS overdue_at,
                 c.id AS case_id, c.state, c.order_deadline,
                 to_char(c.ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ordered_at,
                 to_char(c.escalation_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS escalation_due_at,
                 to_char(c.escalated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS escalated_at,
                 c.referred_to, count(*) OVER () AS total
            FROM obligations o
            JOIN providers p ON p.id = o.provider_id
            JOIN compliance_cases c ON c.id = o.case_id
           WHERE ${where.join(' AND ')}
           ORDER BY ${orderBy}
           LIMIT ? OFFSET ?`,
    bindings,
  };
}

/** Counts per period for the dashboard: open (not due yet), on time, late, overdue, escalated. */
export async function obligationStats(db: Db, f: { from?: string; to?: string; providers?: string[] }) {
  const rows = await db.raw(
    `SELECT o.period, o.cadence, min(o.period_start) AS period_start,
            count(*) AS total,
            count(*) FILTER (WHERE o.state = 'open') AS open,
            count(*) FILTER (WHERE o.state = 'fulfilled' AND o.on_time) AS on_time,
            count(*) FILTER (WHERE o.state = 'fulfilled' AND NOT o.on_time) AS late,
            count(*) FILTER (WHERE o.state = 'overdue') AS overdue,
            count(*) FILTER (WHERE o.state = 'waived') AS waived,
            count(*) FILTER (WHERE c.state = 'ordered') AS ordered,
            count(*) FILTER (WHERE c.state = 'escalation_due') AS escalation_due,
            count(*) FILTER (WHERE c.state = 'escalated') AS escalated
       FROM obligations o
       JOIN providers p ON p.id = o.provider_id
       LEFT JOIN compliance_cases c ON c.id = o.case_id
      WHERE (?::date IS NULL OR o.period_start >= ?::date) AND (?::date IS NULL OR o.period_start <= ?::date)
        AND (?::text[] IS NULL OR p.code = ANY(?::text[]))
      GROUP BY o.period, o.cadence
      ORDER BY min(o.period_start), o.cadence`,
    [f.from ?? null, f.from ?? null, f.to ?? null, f.to ?? null, f.providers ?? null, f.providers ?? null],
  );
  return rows.rows as Array<Record<string, number | string>>;
}
