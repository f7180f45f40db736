/**
 * The templates of a catalog item (报送模板), one layout for Excel and CSV: the record columns that apply to the
 * item's category (valid_until only for honors, lifted_date only for warnings), then its payload fields; a header
 * cell `*事件日期（event_date）` (`*` marks a required column; intake reads the code in the brackets, or a bare code);
 * and one example row, a note row (its item_code cell begins with #) that intake skips if the clerk leaves it in.
 */
import type { CatalogItem, FieldType } from './catalog';
import { NOTE_MARK } from './tabular';
import { withCitizenIdCheck, withUsccCheck } from './identifiers';

export interface TemplateColumn {
  /** The column's code, what intake reads (`event_date`, `decision_no`). */
  code: string;
  labelZh: string;
  required: boolean;
  type: FieldType;
  /** The values allowed (a dropdown in the Excel template). */
  values?: string[];
  /** What the column holds, for the notes (bilingual). */
  hint: string;
  /** The example row's value (a date as YYYY-MM-DD). */
  example: string;
}

/** The header cell of a column: `*事件日期（event_date）`. */
export const headerCell = (c: TemplateColumn) => `${c.required ? '*' : ''}${c.labelZh}（${c.code}）`;

/** A date for the example row that is in the past on any day the template is made. */
const EXAMPLE_DATE = '2026-01-05';

const HINT: Record<FieldType, string> = {
  string: '文本 / text',
  number: '数字，如 1200.5 / a number, e.g. 1200.5',
  date: '日期 YYYY-MM-DD（Excel 中可填日期单元格）/ a date YYYY-MM-DD (an Excel date cell will do)',
  boolean: '是或否 / 是 or 否 (true, false)',
};

function exampleOf(type: FieldType, labelZh: string, values?: string[]): string {
  if (values?.length) return values[0];
  switch (type) {
    case 'number':
      return '1000';
    case 'date':
      return EXAMPLE_DATE;
    case 'boolean':
      return '否';
    case 'string':
      return `示例${labelZh}`;
  }
}

/** The columns of an item's template, in order. */
export function templateColumns(item: CatalogItem): TemplateColumn[] {
  const enterprise = item.subjectType === 'enterprise';
  const cols: TemplateColumn[] = [
    {
      code: 'item_code',
      labelZh: '信息项代码',
      required: true,
      type: 'string',
      values: [item.code],
      hint: `填 ${item.code}；以 # 开头的行是说明行，不入库 / ${item.code}; a row whose item_code begins with # is a note, never stored`,
      example: `${NOTE_MARK}示例 example：${item.code}（以 # 开头的行不入库，可删除 / rows beginning with # are not stored）`,
    },
    {
      code: 'subject_id',
      labelZh: enterprise ? '统一社会信用代码' : '公民身份号码',
      required: true,
      type: 'string',
      hint: enterprise
        ? '18 位统一社会信用代码（GB 32100-2015），请以文本填写 / the 18-character unified social credit code, as text'
        : '18 位公民身份号码（GB 11643-1999），请以文本填写，勿填成数字 / the 18-character citizen ID number, as text, never as a number',
      example: enterprise ? withUsccCheck('91450700MA5K00034') : withCitizenIdCheck('45070019850615001'),
    },
    {
      code: 'event_date',
      labelZh: '事件日期',
      required: true,
      type: 'date',
      hint: `行为或事件发生日期，${HINT.date}`,
      example: EXAMPLE_DATE,
    },
    {
      code: 'concluded_date',
      labelZh: '终结日期',
      required: false,
      type: 'date',
      hint: `行为或事件终结日期（个人信息保存期限自此起算，P19）；${HINT.date}`,
      example: '',
    },
  ];
  if (item.category === 'honor')
    cols.push({
      code: 'valid_until',
      labelZh: '有效期截止日',
      required: false,
      type: 'date',
      hint: `诚信信息的有效期截止日（E15）；${HINT.date}`,
      example: '',
    });
  if (item.category === 'warning')
    cols.push({
      code: 'lifted_date',
      labelZh: '警示解除日',
      required: false,
      type: 'date',
      hint: `警示信息的解除日（E15）；${HINT.date}`,
      example: '',
    });
  for (const f of item.fields) {
    cols.push({
      code: f.name,
      labelZh: f.nameZh,
      required: f.required,
      type: f.type,
      values: f.values ?? (f.type === 'boolean' ? ['是', '否'] : undefined),
      hint: f.values ? `取值：${f.values.join('、')} / one of ${f.values.join(', ')}` : HINT[f.type],
      example: exampleOf(f.type, f.nameZh, f.values),
    });
  }
  return cols;
}

/** The template's file name, without its extension: `企业行政处罚记录_E-PENALTY_报送模板`. */
export function templateFileName(item: CatalogItem): string {
  return `${item.nameZh.replace(/[\\/:*?"<>|\s]+/g, '')}_${item.code}_报送模板`;
}

/** A Content-Disposition for a download: an ASCII name, and the real one as RFC 5987 `filename*`. */
export function contentDisposition(asciiName: string, name: string): string {
  const encoded = encodeURIComponent(name).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${asciiName.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encoded}`;
}

const csvCell = (v: string) => (/[",\r\n]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The CSV template: UTF-8 with a BOM (so Excel on Chinese Windows opens it as UTF-8), CRLF lines, the header and
 * the example row.
 */
export function csvTemplate(item: CatalogItem): Buffer {
  const cols = templateColumns(item);
  const lines = [cols.map((c) => csvCell(headerCell(c))).join(','), cols.map((c) => csvCell(c.example)).join(',')];
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')]);
}
