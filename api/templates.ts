/**
 * The Excel template of a catalog item (报送模板, domain/templates.ts has its layout and the CSV one): sheet 数据 with
 * the header (required columns marked * and in red, each header cell with a note saying what it holds), the example
 * row (a note row intake never stores) and dropdowns for item_code and every field with a list of values; sheet
 * 说明 with the rules and a table of the columns. Identifier and text columns are formatted as Text, so that Excel
 * keeps an 18-digit ID as typed instead of turning it into 4.50700198506150E+17; date columns show YYYY-MM-DD.
 */
import ExcelJS from 'exceljs';
import type { CatalogItem } from '../domain/catalog';
import { headerCell, templateColumns, type TemplateColumn } from '../domain/templates';
import { NOTE_MARK, columnLetters } from '../domain/tabular';

/** The data rows the dropdowns cover (a longer range costs tools that expand it cell by cell, exceljs among them). */
export const VALIDATED_ROWS = 10_000;
export const DATA_SHEET = '数据';
export const NOTES_SHEET = '说明';
const LISTS_SHEET = '取值';

const TYPE_ZH = { string: '文本', number: '数字', date: '日期', boolean: '是/否' } as const;

/** A list validation's formula: the values inline when Excel allows (255 characters, no comma or quote), else a range of sheet 取值. */
function listFormula(values: string[], listColumn: () => { sheet: ExcelJS.Worksheet; col: number }): string {
  const inline = values.join(',');
  if (inline.length <= 250 && !values.some((v) => /[,"]/.test(v))) return `"${inline}"`;
  const { sheet, col } = listColumn();
  values.forEach((v, i) => (sheet.getCell(i + 1, col).value = v));
  const letter = columnLetters(col - 1);
  return `'${LISTS_SHEET}'!$${letter}$1:$${letter}$${values.length}`;
}

function exampleValue(c: TemplateColumn): ExcelJS.CellValue {
  if (c.example === '') return null;
  if (c.type === 'date') return new Date(`${c.example}T00:00:00Z`);
  if (c.type === 'number') return Number(c.example);
  return c.example;
}

/** The workbook of `item`'s template, as the bytes of an .xlsx. */
export async function xlsxTemplate(item: CatalogItem): Promise<Buffer> {
  const cols = templateColumns(item);
  const wb = new ExcelJS.Workbook();
  wb.creator = '钦州市信用信息共享平台';
  wb.title = `${item.nameZh}（${item.code}）报送模板`;
  const ws = wb.addWorksheet(DATA_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  let lists: ExcelJS.Worksheet | null = null;
  let listCols = 0;
  const listColumn = () => {
    lists ??= wb.addWorksheet(LISTS_SHEET);
    return { sheet: lists, col: ++listCols };
  };

  const header = ws.getRow(1);
  const example = ws.getRow(2);
  const validations = (ws as unknown as { dataValidations: { add(address: string, v: ExcelJS.DataValidation): void } }).dataValidations;
  cols.forEach((c, i) => {
    const column = ws.getColumn(i + 1);
    column.width = Math.max(14, Math.min(60, headerCell(c).length * 2));
    if (c.type === 'date') column.numFmt = 'yyyy-mm-dd';
    else if (c.type === 'string') column.numFmt = '@';
    const h = header.getCell(i + 1);
    h.value = headerCell(c);
    h.numFmt = '@';
    h.font = { bold: true, color: { argb: c.required ? 'FFC00000' : 'FF000000' } };
    h.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };
    h.note = `${c.required ? '必填 / required. ' : '选填 / optional. '}${c.hint}`;
    const e = example.getCell(i + 1);
    e.value = exampleValue(c);
    e.font = { italic: true, color: { argb: 'FF808080' } };
    if (c.values?.length) {
      const letter = columnLetters(i);
      validations.add(`${letter}2:${letter}${VALIDATED_ROWS + 1}`, {
        type: 'list',
        allowBlank: true,
        formulae: [listFormula(c.values, listColumn)],
        showErrorMessage: true,
        // item_code accepts a note (# …) after a warning; a field's value must be one of its list.
        errorStyle: c.code === 'item_code' ? 'warning' : 'stop',
        errorTitle: '取值无效 / not in the list',
        error: `请从下拉列表中选择 / choose one of: ${c.values.join('、')}`,
        showInputMessage: true,
        promptTitle: c.labelZh,
        prompt: c.values.join('、').slice(0, 250),
      });
    }
  });

  const notes = wb.addWorksheet(NOTES_SHEET);
  notes.getColumn(1).width = 28;
  notes.getColumn(2).width = 22;
  notes.getColumn(3).width = 10;
  notes.getColumn(4).width = 8;
  notes.getColumn(5).width = 90;
  const lines: string[] = [
    `${item.nameZh}（${item.code}）报送模板 / ${item.nameEn}: submission template`,
    `法规依据 / legal basis：${item.legalBasis}`,
    '',
    `1. 在“${DATA_SHEET}”工作表第 2 行起每行填一条记录；平台只读第一个工作表，第 1 行是表头，请勿改动表头。`,
    `   One record per row of sheet "${DATA_SHEET}" from row 2; only the first worksheet is read, its row 1 is the header: keep it.`,
    '2. 表头带 * 的列必填；表头可写“中文名（字段代码）”或只写字段代码。 / Columns marked * are required; a header is "label (code)" or the bare code.',
    `3. 信息项代码（item_code）以 ${NOTE_MARK} 开头的行是说明行，不入库（第 2 行的示例行即是），可保留或删除。`,
    `   A row whose item_code begins with ${NOTE_MARK} is a note row and is never stored (the example in row 2 is one): keep it or delete it.`,
    '4. 行号：表头之后的第 N 行即错误提示中的第 N 行（Excel 行号减 1）；空行跳过，但照常计数。',
    '   Row numbers: the Nth row after the header is row N in error messages (the Excel row number minus 1); blank rows are skipped but counted.',
    '5. 日期填日期单元格或 YYYY-MM-DD 文本；统一社会信用代码、身份证号、文号等请保持文本格式（本模板已设为文本），勿填成数字：Excel 只保留 15 位数字。',
    '   Dates: a date cell or YYYY-MM-DD text. Keep IDs, credit codes and document numbers as text (the template formats them so): Excel keeps only 15 digits of a number.',
    '6. 提交：POST /submissions?period=报送期，Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet，请求头 Idempotency-Key。',
    '   Submit: POST /submissions?period=<period> with that Content-Type and an Idempotency-Key header. Any invalid row refuses the whole batch (nothing stored).',
    '',
  ];
  for (const line of lines) notes.addRow([line]);
  notes.getRow(1).font = { bold: true, size: 14 };
  const tableHeader = notes.addRow(['列 / column', '字段代码 / code', '类型 / type', '必填 / required', '说明 / what it holds']);
  tableHeader.font = { bold: true };
  cols.forEach((c, i) =>
    notes.addRow([`${columnLetters(i)}：${c.labelZh}`, c.code, TYPE_ZH[c.type], c.required ? '是 / yes' : '否 / no', c.hint]),
  );

  return Buffer.from(await wb.xlsx.writeBuffer());
}
