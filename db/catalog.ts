import type { Db } from './knex';
import type { CatalogItem } from '../domain/catalog';

/** The active catalog as the database holds it. */
export async function loadCatalog(db: Db): Promise<Map<string, CatalogItem>> {
  const rows = await db('catalog_items').where('active', true);
  return new Map(
    rows.map((i) => [
      i.code,
      {
        code: i.code,
        subjectType: i.subject_type,
        category: i.category,
        disclosure: i.disclosure,
        periodRule: i.period_rule,
        defaultPeriodYears: i.default_period_years,
        legalBasis: i.legal_basis,
        nameZh: i.name_zh,
        nameEn: i.name_en,
        fields: i.fields,
      } satisfies CatalogItem,
    ]),
  );
}

export async function providerItems(db: Db, providerId: number): Promise<Set<string>> {
  const rows = await db('provider_items').where('provider_id', providerId).select('item_code');
  return new Set(rows.map((r: { item_code: string }) => r.item_code));
}
