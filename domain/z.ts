import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// One zod, extended once for OpenAPI, shared by every schema of the platform.
extendZodWithOpenApi(z);

/** Chinese names of the value types a reason may name. */
const TYPE_ZH: Record<string, string> = {
  string: '文本',
  number: '数字',
  int: '整数',
  bigint: '整数',
  boolean: '布尔值（true/false）',
  object: '对象',
  array: '数组',
  date: '日期',
  null: '空值 null',
  undefined: '无',
  nan: '非数字 NaN',
};

/** The JSON type of a value, as a reason names it. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'nan';
  return typeof v;
}

const zhType = (t: string) => TYPE_ZH[t] ?? t;

const ZH = z.locales.zhCN().localeError;
const EN = z.locales.en().localeError;
type RawIssue = Parameters<typeof EN>[0];
const text = (m: ReturnType<typeof EN>) => (typeof m === 'string' ? m : m?.message);

/**
 * Every reason in Chinese first, then English: a missing value is "missing", a value of the wrong type names the
 * type expected and the type received; the rest from zod's zh-CN and en locales. A schema's own message (the
 * platform writes those bilingual) comes before this map.
 */
export function bilingualReason(issue: RawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return '缺少必填字段 / required field is missing';
    const got = typeName(issue.input);
    const expected = issue.expected === 'record' || issue.expected === 'map' ? 'object' : issue.expected;
    return `类型错误：应为${zhType(expected)}，收到的是${zhType(got)} / wrong type: expected ${expected}, received ${got}`;
  }
  const zh = text(ZH(issue));
  const en = text(EN(issue));
  return zh && en ? `${zh} / ${en}` : (en ?? zh);
}

z.config({ customError: bilingualReason });

export { z };
