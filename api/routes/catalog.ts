import { Router } from 'express';
import { z } from '../../domain/z';
import { CADENCES, CATEGORIES, DISCLOSURE_LEVELS, FIELD_TYPES, PERIOD_RULES, SUBJECT_TYPES } from '../../domain/catalog';
import { catalogRows, providerDirectory } from '../../db/catalog';
import { STATEMENT_PATTERNS } from '../../domain/forbidden';
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
  operationId: 'getCatalog',
  tags: ['目录 Catalog'],
  publicLimit: true,
  outage: true,
  summary: '信用信息目录（公开）/ the information catalog (P6)',
  responses: {
    200: { description: 'catalog items', content: { 'application/json': { schema: z.object({ items: z.array(CatalogItemSchema) }) } } },
  },
});
document({
  method: 'get',
  path: '/providers',
  operationId: 'listProviders',
  tags: ['目录 Catalog'],
  outage: true,
  summary: '信息提供单位名录（公开）/ the registry of information providers (E7–E9, P8)',
  responses: {
    200: { description: 'providers', content: { 'application/json': { schema: z.object({ providers: z.array(ProviderSchema) }) } } },
  },
});

const ForbiddenCategorySchema = registry.register(
  'ForbiddenPersonalDataCategory',
  z.object({
    kind: z.string().openapi({ example: 'blood_type' }),
    label_zh: z.string().openapi({ example: '血型' }),
    label_en: z.string().openapi({ example: 'blood type' }),
    article: z.literal('P7'),
    field_names: z.array(z.string()).openapi({ description: '字段名中出现即拒收的词 / words refused anywhere in a field name' }),
    field_name_words: z
      .array(z.string())
      .openapi({ description: '作为字段名的完整单词时拒收 / English words refused as a whole word of a field name' }),
    statement_labels_zh: z
      .array(z.string())
      .openapi({ description: '值中的标注词（后接：、是、为和取值）/ labels of a statement in a value' }),
    statement_labels_en: z.array(z.string()).openapi({ description: 'labels of an English statement (followed by a colon and a value)' }),
    statement_pattern: z
      .string()
      .openapi({ description: '在规范化文本上匹配的正则表达式 / the regular expression matched on normalized text' }),
  }),
);

/** How names and values are normalized before matching (NFKC, zero-width removed, traditional → simplified, lower case). */
const NORMALIZATION =
  'Unicode NFKC；去除零宽字符 U+200B–U+200D、U+2060、U+00AD、U+FEFF；所列词的繁体转简体；转小写；字段名另去除空格和 _ - . : / \\ / NFKC, zero-width characters removed, traditional forms of the listed words simplified, lower case; field names also lose spaces and _ - . : / \\';

document({
  method: 'get',
  path: '/catalog/forbidden-personal-data',
  operationId: 'getForbiddenPersonalData',
  tags: ['目录 Catalog'],
  publicLimit: true,
  summary: '禁止采集的个人信息词表（公开）/ the vocabulary of forbidden personal data (P7)',
  description:
    '平台拒收民族、家庭出身、宗教信仰、基因、指纹、血型、疾病和病史（P7）：字段名含所列词，或字符串值中出现“标注词 + 冒号/是/为 + 取值”的陈述，整批以 422 拒收。/ A field name with a listed word, or a string value stating such data, refuses the batch with 422, article P7.',
  responses: {
    200: {
      description: 'categories',
      content: {
        'application/json': {
          schema: z.object({ article: z.literal('P7'), normalization: z.string(), categories: z.array(ForbiddenCategorySchema) }),
        },
      },
    },
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
  r.get('/catalog/forbidden-personal-data', (_req, res) => {
    res.json({
      article: 'P7',
      normalization: NORMALIZATION,
      categories: STATEMENT_PATTERNS.map(({ kind: c, pattern }) => ({
        kind: c.kind,
        label_zh: c.labelZh,
        label_en: c.labelEn,
        article: c.article,
        field_names: c.names,
        field_name_words: c.nameWords,
        statement_labels_zh: c.statementLabelsZh,
        statement_labels_en: c.statementLabelsEn,
        statement_pattern: pattern.source,
      })),
    });
  });
  r.get('/providers', async (_req, res) => {
    res.json({ providers: await providerDirectory(db) });
  });
  return r;
}
