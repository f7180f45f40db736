/**
 * The information providers (E7–E9, P8) as the reporting obligations see them: registration, deactivation (a
 * department merged or abolished) and reactivation, and a provider's compliance history. Cadences are in
 * db/provider-cadences.ts. Every change writes the audit log in the same transaction.
 */
import type { Db } from './knex';
import { queueSignals } from './signal-outbox';
import { isoColumn } from './time';
import { recordAudit } from './audit';
import { missingPeriods, missingPeriodsSql, missingWorkflowIdSql } from './obligation-periods';
import { cadenceHistory, cadenceState } from './provider-cadences';
import { nilReturnColumn, obligationColumns } from './obligations';
import { casesOfProvider } from './compliance-cases';
import type { Cadence } from '../domain/catalog';
import { addCalendarDays } from '../domain/calendar';
import { periodContaining } from '../domain/obligations';

/** The id of the provider with this code, or undefined. */
export async function providerIdByCode(db: Db, code: string): Promise<number | undefined> {
  const row = await db('providers').where('code', code).first('id');
  return row?.id;
}

/** Whether a provider is active, and since when and why not. */
export function providerActivity(db: Db, code: string) {
  return db('providers').where('code', code).first('code', 'active', isoColumn(db, 'deactivated_at'), 'deactivation_reason');
}

export interface NewProvider {
  code: string;
  name_zh: string;
  name_en: string;
  kind: string;
  legal_basis: string;
  items: string[];
  cadence: Cadence;
}

/**
 * Registers a provider with its catalog items and starts tracking its cadence from its period in progress (E7, E8,
 * E9, P8). Answers its id, or null when a provider with that code exists (nothing is written).
 */
export async function registerProvider(
  db: Db,
  b: NewProvider,
  input: { today: string; principalId: string; actor: string },
): Promise<number | null> {
  return db.transaction(async (trx) => {
    const [row] = await trx('providers')
      .insert({ code: b.code, name_zh: b.name_zh, name_en: b.name_en, kind: b.kind, legal_basis: b.legal_basis, cadence: b.cadence })
      .onConflict('code')
      .ignore()
      .returning('id');
    if (!row) return null;
    await trx('provider_items').insert([...new Set(b.items)].map((item_code) => ({ provider_id: row.id, item_code })));
    await trx('provider_cadence_changes').insert({
      provider_id: row.id,
      kind: 'initial',
      cadence: b.cadence,
      effective_from: periodContaining(input.today, b.cadence).start,
      agreed_on: b.cadence === 'monthly' ? null : input.today,
      note: '登记时开始跟踪报送义务 / tracking begins at registration',
      principal_id: input.principalId,
      actor: input.actor,
    });
    await recordAudit(trx, {
      principalId: input.principalId,
      actor: input.actor,
      action: 'provider.register',
      entity: 'provider',
      id: b.code,
      article: 'E7, E8, E9, P8',
      detail: { name_zh: b.name_zh, kind: b.kind, legal_basis: b.legal_basis, items: b.items, cadence: b.cadence },
    });
    return row.id as number;
  });
}

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
  /** The waived obligations' signals, queued in the transaction (to deliver after the commit). */
  signalIds: string[];
}

/**
 * Deactivates a provider (a department merged or abolished): it gets no new obligations and may not submit;
 * its open obligations with nothing submitted are waived; overdue ones stay, with their cases. One transaction,
 * the audit entry last.
 */
export async function deactivateProvider(
  db: Db,
  input: { providerId: number; reason: string; principalId: string; actor: string },
): Promise<ProviderDeactivation> {
  return db.transaction(async (trx) => {
    const p = await trx('providers').where('id', input.providerId).forUpdate().first('id', 'code', 'active');
    if (!p.active) throw new ProviderStateError('PROVIDER_INACTIVE', '该信息提供单位已停用 / the provider is already inactive');
    await trx('providers')
      .where('id', p.id)
      .update({ active: false, deactivated_at: trx.fn.now(), deactivated_by: input.principalId, deactivation_reason: input.reason });
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
    ).rows.map((r: { id: number; period: string; workflow_id: string }) => ({
      id: Number(r.id),
      period: r.period,
      workflowId: r.workflow_id,
    }));
    const kept = await trx('obligations')
      .where('provider_id', p.id)
      .whereIn('state', ['open', 'overdue'])
      .orderBy('period')
      .select('period', 'state');
    const result: ProviderDeactivation = {
      waived,
      overdueKept: kept.filter((k) => k.state === 'overdue').map((k) => k.period),
      submittedKept: kept.filter((k) => k.state === 'open').map((k) => k.period),
      signalIds: [],
    };
    // The waived obligations' workflows end when they hear of it (each reads the database): queued with the change.
    result.signalIds = await queueSignals(
      trx,
      waived.map((w) => ({ workflowId: w.workflowId, signal: 'submissionReceived' as const, args: ['provider-deactivated'] })),
    );
    await recordAudit(trx, {
      principalId: input.principalId,
      actor: input.actor,
      action: 'provider.deactivate',
      entity: 'provider',
      id: p.code,
      article: 'E7, P9',
      detail: { reason: input.reason, waived: waived.map((w) => w.period), overdue_kept: result.overdueKept },
    });
    return result;
  });
}

/**
 * Reactivates a provider. The periods that began while it was inactive are recorded as waived (never owed); the
 * period in progress is owed from now on if it was not waived already (the caller opens it, as at registration).
 */
export async function reactivateProvider(
  db: Db,
  input: { providerId: number; today: string; reason: string | null; principalId: string; actor: string },
): Promise<{ waivedWhileInactive: string[] }> {
  return db.transaction(async (trx) => {
    const p = await trx('providers').where('id', input.providerId).forUpdate().first('id', 'code', 'active', 'cadence');
    if (p.active) throw new ProviderStateError('PROVIDER_ACTIVE', '该信息提供单位已是启用状态 / the provider is already active');
    await trx('providers')
      .where('id', p.id)
      .update({ active: true, deactivated_at: null, deactivated_by: null, deactivation_reason: null });
    const beforeCurrent = addCalendarDays(periodContaining(input.today, p.cadence as Cadence).start, -1);
    const binds = { today: beforeCurrent, ids: [p.id] };
    const missing = await missingPeriods(trx, true, binds);
    const res = await trx.raw(
      `${missingPeriodsSql(true)}
       , ins AS (
         INSERT INTO obligations (provider_id, period, cadence, period_start, period_end, due_working_days, workflow_id, opened_by,
                                  state, waived_at, waived_reason, workflow_started_at)
         SELECT m.provider_id, m.period, m.cadence, m.period_start, m.period_end, 0, ${missingWorkflowIdSql}, :actor,
                'waived', now(), '单位停用期间的报送期，不需报送 / a period while the provider was inactive', now()
           FROM missing m
          WHERE ${missingWorkflowIdSql} IS NOT NULL
         ON CONFLICT (provider_id, period) DO NOTHING
         RETURNING id, period)
       , ev AS (
         INSERT INTO obligation_events (obligation_id, kind, principal_id, actor, detail)
         SELECT ins.id, 'waived', :principal, :actor, jsonb_build_object('reason', 'inactive', 'article', 'E7, P9') FROM ins)
       SELECT period FROM ins ORDER BY period`,
      { ...binds, workflowIds: missing.workflowIds, actor: input.actor, principal: input.principalId },
    );
    const waivedWhileInactive = res.rows.map((r: { period: string }) => r.period);
    await recordAudit(trx, {
      principalId: input.principalId,
      actor: input.actor,
      action: 'provider.activate',
      entity: 'provider',
      id: p.code,
      article: 'E7, P9',
      detail: { reason: input.reason, waived_while_inactive: waivedWhileInactive },
    });
    return { waivedWhileInactive };
  });
}

/** A provider's compliance history (admin, supervisor): its cadences, obligations and cases; undefined if unknown. */
export async function providerCompliance(db: Db, code: string, today: string) {
  const provider = await db('providers')
    .where('code', code)
    .first('id', 'code', 'name_zh', 'kind', 'cadence', 'active', isoColumn(db, 'deactivated_at'), 'deactivation_reason');
  if (!provider) return undefined;
  const state = await cadenceState(db, provider.id, today);
  const changes = await cadenceHistory(db, provider.id);
  const obligations = await db('obligations as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .leftJoin('compliance_cases as c', 'c.id', 'o.case_id')
    .leftJoin('nil_returns as n', 'n.obligation_id', 'o.id')
    .where('o.provider_id', provider.id)
    .orderBy('o.period_start', 'desc')
    .select([...obligationColumns(db), nilReturnColumn(db)]);
  const cases = await casesOfProvider(db, provider.id);
  return { provider, state, changes, obligations, cases };
}
