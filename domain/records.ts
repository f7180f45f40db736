import type { ZodIssue, ZodType } from 'zod';
import { z } from './z';
import type { CatalogItem, FieldSpec } from './catalog';
import { checkCitizenId, checkUscc } from './identifiers';
import { findForbiddenFields, forbiddenKindOfField, forbiddenReason } from './forbidden';
import { isIsoDate } from './calendar';

/** One problem with one row of a batch (rows count from 1; row 0 is a CSV header). */
export interface RowError {
  row: number;
  field: string;
  reason: string;
  article?: string;
}

/** A record ready to store. */
export interface ValidRecord {
  itemCode: string;
  subjectType: 'enterprise' | 'person';
  subjectId: string;
  payload: Record<string, unknown>;
  eventDate: string;
  concludedDate: string | null;
  validUntil: string | null;
  liftedDate: string | null;
}

export const RECORD_COLUMNS = ['item_code', 'subject_id', 'event_date', 'concluded_date', 'valid_until', 'lifted_date'] as const;

export const isoDate = z.string().refine(isIsoDate, { message: '日期格式应为 YYYY-MM-DD / date must be a real date written YYYY-MM-DD' });

/** What a correction of a record may change (a provider's correction, E10, or its answer to an objection, E18): at least one thing. */
export const RecordChanges = z
  .object({
    payload: z.record(z.string(), z.unknown()).optional(),
    event_date: isoDate.optional(),
    concluded_date: isoDate.nullable().optional(),
    valid_until: isoDate.nullable().optional(),
    lifted_date: isoDate.nullable().optional(),
  })
  .strict()
  .refine((c) => Object.keys(c).length > 0, { message: '没有需要更正的内容 / nothing to change' });

const noNul = (s: string) => !s.includes('\u0000');

/** One record as a provider sends it (JSON). CSV rows are turned into this shape first. */
export const RecordInput = z
  .object({
    item_code: z.string().min(1).openapi({ example: 'E-PENALTY', description: '目录项代码 / catalog item code (GET /catalog)' }),
    subject_id: z.string().openapi({ example: '91450700MA5KAAAA16', description: '统一社会信用代码或公民身份号码 / USCC or citizen ID' }),
    event_date: isoDate.openapi({ description: '行为或事件发生日期 / date of the act or event' }),
    concluded_date: isoDate
      .nullish()
      .openapi({ description: '行为或事件终结日期（个人信息保存期限自此起算，P19）/ date the act or event was concluded' }),
    valid_until: isoDate.nullish().openapi({ description: '有效期截止日（诚信信息，E15.2）/ end of validity (honors)' }),
    lifted_date: isoDate.nullish().openapi({ description: '警示解除日（E15.3）/ date the warning was lifted' }),
    payload: z.record(z.string(), z.unknown()).openapi({ description: '目录项规定的字段 / the fields of the catalog item' }),
  })
  .strict();
export type RecordInput = z.infer<typeof RecordInput>;

/** A value given for a field of `kind`, of the wrong type or missing (the alternatives of a union all failed). */
const unionError = (kind: { zh: string; en: string }) => (iss: { input?: unknown }) =>
  iss.input === undefined
    ? '缺少必填字段 / required field is missing'
    : `应为${kind.zh}，收到的是 ${JSON.stringify(iss.input)?.slice(0, 40)} / must be ${kind.en}`;

function fieldSchema(f: FieldSpec): ZodType {
  let s: ZodType;
  switch (f.type) {
    case 'string': {
      const str = z
        .string()
        .trim()
        .min(1, { message: '不能为空 / must not be empty' })
        .max(f.maxLength ?? 2000)
        .refine(noNul, { message: '含有非法字符 NUL / contains a NUL character' });
      s = f.values
        ? str.refine((v) => f.values!.includes(v), {
            message: `取值应为 ${f.values.join('、')} 之一 / must be one of ${f.values.join(', ')}`,
          })
        : str;
      break;
    }
    case 'number':
      s = z
        .union(
          [
            z.number(),
            z
              .string()
              .trim()
              .regex(/^-?\d+(\.\d+)?$/, { message: '应为数字 / must be a number' })
              .transform(Number),
          ],
          { error: unionError({ zh: '数字', en: 'a number' }) },
        )
        .pipe(z.number().finite());
      break;
    case 'date':
      s = isoDate;
      break;
    case 'boolean':
      s = z.union([z.boolean(), z.enum(['true', 'false', '是', '否']).transform((v) => v === 'true' || v === '是')], {
        error: unionError({ zh: '是或否（true/false、是/否）', en: 'true or false (是/否)' }),
      });
      break;
  }
  return f.required ? s : s.optional();
}

function reasonOf(issue: ZodIssue): string {
  // Missing and wrong-type reasons come from the platform's error map (domain/z.ts), which sees the input.
  if (issue.code === 'unrecognized_keys')
    return `目录项未定义的字段：${issue.keys.join('、')} / not a field of this catalog item: ${issue.keys.join(', ')}`;
  if (issue.code === 'too_big') return `超出长度或大小上限 ${String(issue.maximum)} / longer than ${String(issue.maximum)}`;
  return issue.message;
}

function issuesToErrors(row: number, issues: ZodIssue[], base: string, article?: string): RowError[] {
  const out: RowError[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys)
        out.push({
          row,
          field: [base, ...i.path.map(String), k].filter(Boolean).join('.'),
          reason: reasonOf({ ...i, keys: [k] }),
          article,
        });
      continue;
    }
    out.push({
      row,
      field: [base, ...i.path.map(String)].filter(Boolean).join('.') || base || '(row)',
      reason: reasonOf(i),
      article,
    });
  }
  return out;
}

export interface ValidatorContext {
  catalog: Map<string, CatalogItem>;
  /** Catalog items the submitting provider may report (E7, E10: within its own duties). */
  allowedItems: Set<string>;
  /** Today in Asia/Shanghai (YYYY-MM-DD): no event can be in the future. */
  today: string;
}

/**
 * Validates one record and everything the regulations ask of it. Never throws on a user's mistake: it returns
 * the list of problems.
 */
export class RecordValidator {
  private readonly payloadSchemas = new Map<string, ZodType>();

  constructor(private readonly ctx: ValidatorContext) {
    for (const item of ctx.catalog.values()) {
      this.payloadSchemas.set(item.code, z.object(Object.fromEntries(item.fields.map((f) => [f.name, fieldSchema(f)]))).strict());
    }
  }

  /**
   * `keysChecked`: every key of `raw` was already checked for forbidden personal data (a CSV row: its keys are the
   * header's columns, checked once by checkCsvHeader).
   */
  validate(
    raw: unknown,
    row: number,
    opts: { keysChecked?: boolean } = {},
  ): { ok: true; record: ValidRecord } | { ok: false; errors: RowError[] } {
    // P7 first, whatever else is wrong (before "not a field", P6): forbidden personal data anywhere in the row,
    // under any name, or stated in any string value ("血型：A型"). A CSV row's keys were checked with its header.
    const forbidden = findForbiddenFields(raw, '', { keys: !opts.keysChecked });
    if (forbidden.length) {
      return {
        ok: false,
        errors: forbidden.map((h) => ({ row, field: h.path, reason: forbiddenReason(h.kind, h.where), article: 'P7' })),
      };
    }
    const base = RecordInput.safeParse(raw);
    if (!base.success) return { ok: false, errors: issuesToErrors(row, base.error.issues, '') };
    const r = base.data;
    const errors: RowError[] = [];

    const item = this.ctx.catalog.get(r.item_code);
    if (!item) {
      return {
        ok: false,
        errors: [
          { row, field: 'item_code', reason: `目录中没有该信息项 ${r.item_code} / not an item of the information catalog`, article: 'P6' },
        ],
      };
    }
    if (!this.ctx.allowedItems.has(item.code)) {
      errors.push({
        row,
        field: 'item_code',
        reason: `本单位无权报送该信息项 ${item.code}（${item.nameZh}）/ this provider may not submit this item`,
        article: item.subjectType === 'person' ? 'P8' : 'E7',
      });
    }
    const id = item.subjectType === 'enterprise' ? checkUscc(r.subject_id) : checkCitizenId(r.subject_id);
    if (!id.ok)
      errors.push({
        row,
        field: 'subject_id',
        reason: id.reason,
        article: item.subjectType === 'enterprise' ? 'GB 32100-2015' : 'P9, GB 11643-1999',
      });

    const today = this.ctx.today;
    if (r.event_date > today) errors.push({ row, field: 'event_date', reason: `事件日期晚于今天 ${today} / event date is in the future` });
    if (r.concluded_date) {
      if (r.concluded_date < r.event_date)
        errors.push({ row, field: 'concluded_date', reason: '终结日期早于事件日期 / concluded before the event date' });
      if (r.concluded_date > today)
        errors.push({
          row,
          field: 'concluded_date',
          reason: `终结日期晚于今天 ${today} / concluded date is in the future`,
          article: 'P19',
        });
    }
    if (r.valid_until) {
      if (item.category !== 'honor')
        errors.push({ row, field: 'valid_until', reason: '只有诚信信息有有效期 / only honors carry a validity end', article: 'E15' });
      else if (r.valid_until < r.event_date)
        errors.push({
          row,
          field: 'valid_until',
          reason: '有效期截止日早于事件日期 / validity ends before the event date',
          article: 'E15',
        });
    }
    if (r.lifted_date) {
      if (item.category !== 'warning')
        errors.push({ row, field: 'lifted_date', reason: '只有警示信息有解除日 / only warnings can be lifted', article: 'E15' });
      else if (r.lifted_date < r.event_date)
        errors.push({ row, field: 'lifted_date', reason: '解除日早于事件日期 / lifted before the event date', article: 'E15' });
      // A warning with a fixed term (E15(3) "至警示解除日"): its lifting date may be ahead, where publication ends at
      // lifting; the daily sweep ends it on that day, and a correction may move the date.
      else if (r.lifted_date > today && item.periodRule !== 'until_lifted_or_default')
        errors.push({
          row,
          field: 'lifted_date',
          reason: `该信息项的解除日不能晚于今天 ${today} / this item's lifting date cannot be in the future`,
          article: 'E15',
        });
    }

    const payload = this.payloadSchemas.get(item.code)!.safeParse(r.payload);
    if (!payload.success) errors.push(...issuesToErrors(row, payload.error.issues, 'payload', 'P6'));

    if (errors.length || !payload.success) return { ok: false, errors };
    return {
      ok: true,
      record: {
        itemCode: item.code,
        subjectType: item.subjectType,
        subjectId: r.subject_id,
        payload: payload.data as Record<string, unknown>,
        eventDate: r.event_date,
        concludedDate: r.concluded_date ?? null,
        validUntil: r.valid_until ?? null,
        liftedDate: r.lifted_date ?? null,
      },
    };
  }
}

/**
 * CSV: the fixed columns of a record, every other column a payload field; an empty cell is an absent value. The
 * header is read once: the mapper turns each row (its cells in header order) into a record input.
 */
export function csvRowMapper(header: string[]): (cells: string[]) => Record<string, unknown> {
  const fixed = header.map((h) => (RECORD_COLUMNS as readonly string[]).includes(h));
  return (cells) => {
    const out: Record<string, unknown> = {};
    const payload: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      const v = cells[i];
      if (v === '' || v === undefined) continue;
      if (fixed[i]) out[header[i]] = v;
      else payload[header[i]] = v;
    }
    out.payload = payload;
    return out;
  };
}

/** Problems with a CSV header: forbidden columns (P7), duplicates, missing required columns. */
export function checkCsvHeader(columns: string[]): RowError[] {
  const errors: RowError[] = [];
  const seen = new Set<string>();
  for (const c of columns) {
    // A forbidden column is refused as such, even when every cell under it is empty.
    const kind = forbiddenKindOfField(c);
    if (kind) errors.push({ row: 0, field: c, reason: forbiddenReason(kind, 'name'), article: 'P7' });
    if (seen.has(c)) errors.push({ row: 0, field: c, reason: '列名重复 / duplicate column' });
    seen.add(c);
    if (c === 'payload')
      errors.push({ row: 0, field: c, reason: 'CSV 中目录项字段各占一列 / in CSV each payload field is its own column' });
  }
  for (const req of ['item_code', 'subject_id', 'event_date']) {
    if (!seen.has(req)) errors.push({ row: 0, field: req, reason: `缺少必需的列 ${req} / missing required column` });
  }
  return errors;
}
