/**
 * Batches as tables (CSV and Excel): what a header cell names, which rows are not records, and one row's cells as
 * a record input. Both formats go through here, so a table means the same whichever way it is sent.
 *
 * - A header cell is a column's code (`event_date`), or the templates' label with the code: `*事件日期（event_date）`,
 *   `事件日期(event_date)`, `事件日期 event_date`; a leading `*` (required, in the templates) is dropped.
 * - A row whose `item_code` cell begins with `#` is a note row (the templates' example row is one): skipped, never
 *   stored, and still counted, so the rows after it keep their numbers. A row whose every cell is empty is skipped
 *   and counted the same way (an Excel row left blank; in CSV a line of only commas).
 * - A cell the reader could not turn into text faithfully (an Excel error value, a number Excel had already cut to
 *   15 digits) is a problem of that row and field, reported with the others.
 */
import { checkCsvHeader, csvRowMapper, RECORD_COLUMNS, type RecordValidator, type RowError, type ValidRecord } from './records';
import { forbiddenKindOfField, forbiddenReason } from './forbidden';

/** A cell that could not be read as the text it shows: which column (from 0) and why. */
export interface CellProblem {
  column: number;
  reason: string;
}

/** One row's cells in header order; a reader may attach the problems of its cells. */
export type TabularRow = string[] & { problems?: CellProblem[] };

/** The marker that begins a note row's `item_code` cell. */
export const NOTE_MARK = '#';

const CODE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABELLED = /[（(]\s*([A-Za-z_][A-Za-z0-9_]*)\s*[）)]\s*$/;
const SPACED = /\s([A-Za-z_][A-Za-z0-9_]*)\s*$/;

/** The column a header cell names: its code when the cell carries one (`*事件日期（event_date）` → event_date), else the cell trimmed. */
export function columnOfHeader(cell: string): string {
  const text = cell.trim().replace(/^\*\s*/, '');
  if (CODE.test(text)) return text;
  // `label code` only with a Chinese (non-ASCII) label: `decision no` stays what it is, an unknown column.
  const m = LABELLED.exec(text) ?? (/[^\x00-\x7f]/.test(text) ? SPACED.exec(text) : null);
  return m ? m[1] : text;
}

/** Spreadsheet column letters of a column counted from 0 (0 → A, 27 → AB). */
export function columnLetters(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/**
 * A header row read: the columns it names and its problems (row 0). Forbidden personal data (P7) is looked for in
 * the whole cell as well as in its code, so `血型（remark）` is refused like `blood_type`.
 */
export function readTabularHeader(cells: string[]): { columns: string[]; errors: RowError[] } {
  const columns = cells.map(columnOfHeader);
  const errors = checkCsvHeader(columns);
  cells.forEach((cell, i) => {
    const text = cell.trim();
    if (text === columns[i] || forbiddenKindOfField(columns[i])) return; // reported under its code already
    const kind = forbiddenKindOfField(text);
    if (kind) errors.unshift({ row: 0, field: text, reason: forbiddenReason(kind, 'name'), article: 'P7' });
  });
  return { columns, errors };
}

/** How the rows under a header are read. */
export interface TabularRows {
  /** A note row (its item_code begins with #) or a row with no value: skipped, still numbered. */
  skip(cells: string[]): boolean;
  /** The row validated as a record; problems of its cells come first and stand for the field's own errors. */
  validate(
    validator: RecordValidator,
    cells: TabularRow,
    row: number,
  ): { ok: true; record: ValidRecord } | { ok: false; errors: RowError[] };
}

export function tabularRows(columns: string[]): TabularRows {
  const toInput = csvRowMapper(columns);
  const itemCodeAt = columns.indexOf('item_code');
  const fieldOf = (column: number) => {
    if (column >= columns.length || columns[column] === '') return `(列 ${columnLetters(column)} / column ${columnLetters(column)})`;
    const c = columns[column];
    return (RECORD_COLUMNS as readonly string[]).includes(c) ? c : `payload.${c}`;
  };
  return {
    skip(cells) {
      if (itemCodeAt !== -1 && (cells[itemCodeAt] ?? '').trimStart().startsWith(NOTE_MARK)) return true;
      return cells.every((c) => c === '' || c === undefined);
    },
    validate(validator, cells, row) {
      // A CSV row's keys are the header's columns, checked for forbidden personal data (P7) with the header.
      const v = validator.validate(toInput(cells), row, { keysChecked: true });
      if (!cells.problems?.length) return v;
      const problems: RowError[] = cells.problems.map((p) => ({ row, field: fieldOf(p.column), reason: p.reason }));
      const named = new Set(problems.map((p) => p.field));
      return { ok: false, errors: [...problems, ...(v.ok ? [] : v.errors.filter((e) => !named.has(e.field)))] };
    },
  };
}
