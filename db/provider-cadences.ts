/**
 * A provider's reporting cadence (E7, P9): monthly by default, quarterly or half-yearly by agreement, each change
 * effective from the next period. The history keeps every agreement with its date and actor.
 */
import type { Db } from './knex';
import { isoColumn, type Conn } from './time';
import { recordAudit, systemActor } from './audit';
import { notify } from './notifications';
import { periodStartSql } from './obligation-periods';
import type { Cadence } from '../domain/catalog';
import { CADENCE_ZH, cadenceChangeEffectiveFrom, periodContaining } from '../domain/obligations';
import { cadenceChanged } from '../domain/notices/obligations';

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
    { today, actor: systemActor('obligations'), ids: providerIds ?? null },
  );
  return res.rowCount ?? 0;
}

/** Brings `providers.cadence` (what intake checks periods against) to the cadence in force on `today`. */
export async function applyEffectiveCadences(db: Conn, today: string): Promise<Array<{ id: number; code: string; cadence: Cadence }>> {
  return db.transaction(async (trx) => {
    const res = await trx.raw(
      `WITH cur AS (
         SELECT DISTINCT ON (provider_id) provider_id, cadence FROM provider_cadence_changes
          WHERE superseded_at IS NULL AND effective_from <= :today::date
          ORDER BY provider_id, effective_from DESC)
       UPDATE providers p SET cadence = cur.cadence FROM cur
        WHERE p.id = cur.provider_id AND p.cadence <> cur.cadence
       RETURNING p.id, p.code, p.cadence`,
      { today },
    );
    const rows = res.rows as Array<{ id: number; code: string; cadence: Cadence }>;
    await recordAudit(
      trx,
      rows.map((u) => ({
        actor: systemActor('obligations'),
        action: 'provider.cadence_in_force',
        entity: 'provider',
        id: u.code,
        article: 'E7, P9',
        detail: { cadence: u.cadence, from: today },
      })),
    );
    return rows;
  });
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

/** Every cadence of a provider, superseded agreements included, in the order they were recorded. */
export async function cadenceHistory(db: Conn, providerId: number) {
  const rows = await db('provider_cadence_changes')
    .where('provider_id', providerId)
    .orderBy('id')
    .select(
      'id',
      'kind',
      'cadence',
      'previous_cadence',
      'effective_from',
      'agreed_on',
      'note',
      'actor',
      isoColumn(db, 'created_at'),
      isoColumn(db, 'superseded_at'),
    );
  return rows.map((c) => ({ ...c, id: Number(c.id) }));
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
    await recordAudit(trx, {
      principalId: input.principalId,
      actor: input.actor,
      action: 'provider.cadence_change',
      entity: 'provider',
      id: provider.code,
      article: 'E7, P9',
      detail: { from: state.inForce, to: input.cadence, effectiveFrom, firstPeriod, agreedOn: input.agreedOn, superseded: ids },
    });
    await notify(trx, {
      to: { providerId: provider.id },
      ...cadenceChanged({ cadence: input.cadence, firstPeriod, effectiveFrom, agreedOn: input.agreedOn }),
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
