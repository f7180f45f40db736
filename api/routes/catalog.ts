import { Router } from 'express';
import { z } from '../../domain/z';
import { CADENCES, CATEGORIES, DISCLOSURE_LEVELS, FIELD_TYPES, PERIOD_RULES, SUBJECT_TYPES } from '../../domain/catalog';
import { catalogRows, providerDirectory } from '../../db/catalog';
import type { AppDeps } from '../app';
import { document, registry } from '../openapi';

const CatalogItemSchema = registry.register(
  'CatalogItem',
  z.object({
    code: z.string().openapi({ example: 'E-PENALTY' }),
    subject_type: z.enum(SUBJECT_TYPES),
    category: z.enum(CATEGORIES),
    disclosure: z.enum(DISCLOSURE_LEVELS),
    period_rule: z.enum(PERIOD_RULES),
    default_period_years: z.number().int().nullable(),
    legal_basis: z.string(),
    name_zh: z.string().openapi({ example: '企业行政处罚记录' }),
    name_en: z.string(),
    fields: z.array(
      z.object({
        name: z.string(),
        name_zh: z.string(),
        type: z.enum(FIELD_TYPES),
        required: z.boolean(),
        values: z.array(z.string()).optional(),
      }),
    ),
  }),
);

const ProviderSchema = registry.register(
  'Provider',
  z.object({
    code: z.string().openapi({ example: 'QZ-GSJ' }),
    name_zh: z.string(),
    name_en: z.string(),
    kind: z.string(),
    legal_basis: z.string(),
    cadence: z.enum(CADENCES),
    active: z.boolean(),
    items: z.array(z.string()),
  }),
);

document({
  method: 'get',
  path: '/catalog',
  tags: ['目录 Catalog'],
  summary: '信用信息目录（公开）/ the information catalog (P6)',
  responses: {
    200: { description: 'catalog items', content: { 'application/json': { schema: z.object({ items: z.array(CatalogItemSchema) }) } } },
  },
});
document({
  method: 'get',
  path: '/providers',
  tags: ['目录 Catalog'],
  summary: '信息提供单位名录（公开）/ the registry of information providers (E7–E9, P8)',
  responses: {
    200: { description: 'providers', content: { 'application/json': { schema: z.object({ providers: z.array(ProviderSchema) }) } } },
  },
});

export function catalogRouter({ db }: AppDeps): Router {
  const r = Router();
  r.get('/catalog', async (_req, res) => {
    const rows = await catalogRows(db);
    res.json({
      items: rows.map((i) => ({
        code: i.code,
        subject_type: i.subject_type,
        category: i.category,
        disclosure: i.disclosure,
        period_rule: i.period_rule,
        default_period_years: i.default_period_years,
        legal_basis: i.legal_basis,
        name_zh: i.name_zh,
        name_en: i.name_en,
        fields: (i.fields as Array<{ name: string; nameZh: string; type: string; required: boolean; values?: string[] }>).map((f) => ({
          name: f.name,
          name_zh: f.nameZh,
          type: f.type,
          required: f.required,
          ...(f.values ? { values: f.values } : {}),
        })),
      })),
    });
  });
  r.get('/providers', async (_req, res) => {
    res.json({ providers: await providerDirectory(db) });
  });
  return r;
}
