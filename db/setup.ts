import type { Db } from './knex';
import { recordAudit, systemActor } from './audit';
import { migrationSource } from '../migrations';
import { applyRuntimeGrants } from './roles';
import { CATALOG, PROVIDERS } from '../domain/catalog';
import { builtInCalendarYears } from '../domain/calendar';

/** Brings the schema up to date (as the owner) and grants the runtime role what it may do (db/roles.ts). */
export async function migrate(db: Db): Promise<void> {
  await db.migrate.latest({ migrationSource });
  await applyRuntimeGrants(db);
}

/** Loads the catalog and the providers that E7, E8, E9 and P8 name into an empty database. Safe to call again. */
export async function seedIfEmpty(db: Db): Promise<{ seeded: boolean }> {
  let seeded = false;
  await db.transaction(async (trx) => {
    await trx.raw('LOCK TABLE catalog_items IN EXCLUSIVE MODE');
    const [{ count }] = await trx('catalog_items').count<{ count: string }[]>({ count: '*' });
    if (Number(count) > 0) return;
    seeded = true;
    await trx('catalog_items').insert(
      CATALOG.map((i) => ({
        code: i.code,
        subject_type: i.subjectType,
        category: i.category,
        disclosure: i.disclosure,
        period_rule: i.periodRule,
        default_period_years: i.defaultPeriodYears,
        legal_basis: i.legalBasis,
        name_zh: i.nameZh,
        name_en: i.nameEn,
        fields: JSON.stringify(i.fields),
      })),
    );
    for (const p of PROVIDERS) {
      const [{ id }] = await trx('providers')
        .insert({ code: p.code, name_zh: p.nameZh, name_en: p.nameEn, kind: p.kind, legal_basis: p.legalBasis })
        .returning('id');
      await trx('provider_items').insert(p.items.map((item_code) => ({ provider_id: id, item_code })));
    }
    await recordAudit(trx, {
      actor: systemActor('setup'),
      action: 'seed',
      entity: 'catalog',
      article: 'P6, E7, E8, E9, P8',
      detail: { items: CATALOG.length, providers: PROVIDERS.length },
    });
  });
  await loadBuiltInCalendar(db);
  return { seeded };
}

/** Adds the years the chinese-days package knows and the database does not; years an admin loaded are kept. */
export async function loadBuiltInCalendar(db: Db): Promise<number[]> {
  const added: number[] = [];
  for (const y of builtInCalendarYears()) {
    await db.transaction(async (trx) => {
      const inserted = await trx('calendar_years')
        .insert({ year: y.year, source: 'chinese-days' })
        .onConflict('year')
        .ignore()
        .returning('year');
      if (inserted.length === 0) return;
      added.push(y.year);
      const rows = [
        ...y.holidays.map((d) => ({ day: d.date, year: y.year, kind: 'holiday', name: d.name })),
        ...y.workdays.map((d) => ({ day: d.date, year: y.year, kind: 'workday', name: d.name })),
      ];
      if (rows.length) await trx('calendar_days').insert(rows);
    });
  }
  return added;
}
