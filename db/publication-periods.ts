/**
 * Publication periods (E15): the period rules as SQL columns for the statements that publish, sweep and show
 * records, and the law-specific periods (E15.5) an administrator sets for a catalog item.
 */
import type { Db } from './knex';
import { recordAudit } from './audit';
import { isoColumn } from './time';
import type { PeriodSqlColumns } from '../domain/publication';

/** The period rules applied to the current version `r` of a record of item `ci`, published on `pubDate`. */
export const periodColumns = (pubDate: string): PeriodSqlColumns => ({
  rule: 'ci.period_rule',
  defaultYears: 'ci.default_period_years',
  lawMonths: 'o.period_months',
  publicationDate: pubDate,
  validUntil: 'r.valid_until',
  liftedDate: 'r.lifted_date',
});

// ─── Law-specific periods (E15.5) ────────────────────────────────────────────────────────────────────────────

export interface PeriodOverrideRow {
  item_code: string;
  period_months: number;
  legal_basis: string;
  set_at: string;
}

const overrideColumns = (db: Db) => ['item_code', 'period_months', 'legal_basis', isoColumn(db, 'set_at')];

export async function listPeriodOverrides(db: Db): Promise<PeriodOverrideRow[]> {
  return db('publication_period_overrides').orderBy('item_code').select(overrideColumns(db));
}

export async function periodOverride(db: Db, itemCode: string): Promise<PeriodOverrideRow | undefined> {
  return db('publication_period_overrides').where('item_code', itemCode).first(overrideColumns(db));
}

/** The catalog item a period is set for: only public enterprise items are published (E13). */
export async function periodItem(db: Db, code: string): Promise<{ code: string; disclosure: string; subject_type: string } | undefined> {
  return db('catalog_items').where('code', code).first('code', 'disclosure', 'subject_type');
}

export async function setPeriodOverride(
  db: Db,
  o: { itemCode: string; months: number | null; legalBasis: string | null; principalId: string; actor: string },
): Promise<boolean> {
  return db.transaction(async (trx) => {
    let changed: boolean;
    if (o.months === null) {
      changed = (await trx('publication_period_overrides').where('item_code', o.itemCode).delete()) > 0;
    } else {
      await trx('publication_period_overrides')
        .insert({ item_code: o.itemCode, period_months: o.months, legal_basis: o.legalBasis, set_by: o.principalId, set_at: trx.fn.now() })
        .onConflict('item_code')
        .merge();
      changed = true;
    }
    if (changed) {
      await trx('publication_recompute_items')
        .insert({ item_code: o.itemCode, requested_at: trx.fn.now() })
        .onConflict('item_code')
        .merge();
      await recordAudit(trx, {
        principalId: o.principalId,
        actor: o.actor,
        action: o.months === null ? 'publication.period_override_remove' : 'publication.period_override_set',
        entity: 'catalog_item',
        id: o.itemCode,
        article: 'E15(5)',
        detail: { months: o.months, legal_basis: o.legalBasis },
      });
    }
    return changed;
  });
}
