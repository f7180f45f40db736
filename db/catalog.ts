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

// ─── The public catalog and registry of providers (api/routes/catalog.ts) ────────────────────────────────────

/** The active catalog items as stored (snake_case columns), by code. */
export async function catalogRows(db: Db): Promise<Record<string, any>[]> {
  return db('catalog_items').where('active', true).orderBy('code');
}

export interface ProviderEntry {
  code: string;
  name_zh: string;
  name_en: string;
  kind: string;
  legal_basis: string;
  cadence: string;
  active: boolean;
  items: string[];
}

/** Every provider with the catalog items it may submit, by code. */
export async function providerDirectory(db: Db): Promise<ProviderEntry[]> {
  return db('providers as p')
    .leftJoin('provider_items as pi', 'pi.provider_id', 'p.id')
    .groupBy('p.id')
    .orderBy('p.code')
    .select(
      'p.code',
      'p.name_zh',
      'p.name_en',
      'p.kind',
      'p.legal_basis',
      'p.cadence',
      'p.active',
      db.raw(`coalesce(array_agg(pi.item_code ORDER BY pi.item_code) FILTER (WHERE pi.item_code IS NOT NULL), '{}') AS items`),
    );
}
