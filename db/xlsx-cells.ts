/**
 * An Excel cell as the text it shows, for intake (db/xlsx.ts reads the cells with exceljs).
 *
 * Cells become text as Excel shows them: a date cell YYYY-MM-DD (exceljs gives a Date at UTC midnight: read in UTC),
 * with " HH:mm:ss" when it has a time of day; a number its decimal text at Excel's 15 significant digits (never an
 * exponent); rich text its plain text; a formula its cached result; a boolean true/false; a hyperlink its text. A
 * number of 16 digits or more (an ID or credit code typed as a number: Excel itself has already cut it to 15 digits,
 * 4.50700198506150E+17) and an Excel error value (#N/A) cannot be read faithfully: each is a problem of its cell.
 */
import type ExcelJS from 'exceljs';

export type CellText = { text: string } | { problem: string };

/** Excel's own test of a number format showing a date or time (quoted text and [..] sections aside). */
function isDateFormat(fmt: string | undefined): boolean {
  if (!fmt) return false;
  return /[ymdhsb]/i.test(
    fmt
      .replace(/\[[^\]]*]/g, '')
      .replace(/"[^"]*"/g, '')
      .replace(/General/gi, ''),
  );
}

/** `1.5e-7` → `0.00000015`; `1.2e+21` → `1200000000000000000000`. */
function plainDecimal(s: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, rest = '', exp] = m;
  const digits = lead + rest;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function numberText(n: number): CellText {
  if (!Number.isFinite(n)) return { problem: '单元格是 Excel 错误值或无效数字 / the cell holds an Excel error or an invalid number' };
  if (Math.abs(n) >= 1e15)
    return {
      problem: `数字 ${plainDecimal(n.toExponential())} 超过 15 位：Excel 只保留 15 位有效数字，末几位已丢失；证件号码、信用代码、文号请设为文本格式（或以英文单引号 ' 开头）重新填写 / a number of 16 or more digits: Excel keeps only 15 significant digits and has lost the last ones; type IDs, credit codes and document numbers as text (format the cells as Text, or begin with ')`,
    };
  return { text: plainDecimal(String(Number(n.toPrecision(15)))) };
}

function dateText(d: Date): CellText {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) return { problem: '无效的日期 / not a valid date' };
  const day = Math.floor(ms / 86_400_000);
  let seconds = Math.round((ms - day * 86_400_000) / 1000);
  const date = new Date((day + (seconds === 86_400 ? 1 : 0)) * 86_400_000);
  if (seconds === 86_400) seconds = 0;
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) return { problem: '无效的日期 / not a valid date' };
  const ymd = date.toISOString().slice(0, 10);
  if (seconds === 0) return { text: ymd };
  const hms = new Date(seconds * 1000).toISOString().slice(11, 19);
  return { text: `${ymd} ${hms}` };
}

/** One cell's value as the text it shows. */
export function cellText(value: ExcelJS.CellValue, numFmt: string | undefined, date1904: boolean): CellText {
  if (value === null || value === undefined) return { text: '' };
  if (typeof value === 'string') return { text: value };
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return { text: value ? 'true' : 'false' };
  if (value instanceof Date) return dateText(value);
  if ('error' in value) return { problem: `单元格是 Excel 错误值 ${value.error} / the cell holds the Excel error ${value.error}` };
  if ('richText' in value) return { text: value.richText.map((r) => r.text ?? '').join('') };
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as { result?: unknown }).result;
    if (result === undefined || result === null)
      return {
        problem:
          '公式没有计算结果：请在 Excel 中打开并保存后再提交 / the formula has no computed value: open and save the file in Excel first',
      };
    if (typeof result === 'number' && isDateFormat(numFmt)) {
      return dateText(new Date(Math.round((result - 25569 + (date1904 ? 1462 : 0)) * 86_400_000)));
    }
    if (typeof result === 'object' && result !== null && 'error' in result)
      return { problem: `公式结果是 Excel 错误值 ${(result as { error: string }).error} / the formula's result is an Excel error` };
    return cellText(result as ExcelJS.CellValue, undefined, date1904);
  }
  if ('text' in value) {
    const text = (value as { text: unknown }).text;
    return typeof text === 'string' ? { text } : cellText(text as ExcelJS.CellValue, numFmt, date1904);
  }
  return { problem: '无法识别的单元格内容 / a cell this reader does not know' };
}
