/**
 * Reading an uploaded Excel workbook (.xlsx) as the rows of a table, streaming, for intake (db/intake.ts).
 *
 * exceljs's streaming WorkbookReader (exceljs 4.4.0, pinned exactly) does the parsing: workbook, relationships,
 * styles (number formats: which cells are dates), shared strings, and the worksheet SAX-parsed row by row. The zip
 * loop is driven here rather than by its `parse()`, so that what is unzipped is bounded — an .xlsx is a zip, and a
 * few MB of zip can inflate to many GB:
 *
 * - A worksheet comes before the shared strings and the workbook part in the zips Excel and exceljs write, so it
 *   cannot be read as it arrives (exceljs spools it to a temp file too). Every worksheet is spooled, inflated, to a
 *   temp folder of its own, removed when reading ends however it ends; the first sheet (the first visible one in the
 *   workbook's tab order) is then parsed from disk, row by row. Disk use is at most `maxUnzippedBytes`, the sum of
 *   every part inflated; beyond it the upload is refused (413) and reading stops.
 * - The shared strings (every distinct text of the workbook), styles, workbook and relationships are held in memory
 *   while the sheet is read: together at most `maxSharedBytes` inflated (413 beyond).
 * - A row whose text is longer than the CSV line cap is refused (413, naming the row), and so is a row whose XML
 *   alone runs past eight times that cap before it closes: one row is never held whole beyond that.
 *
 * Cells become text as db/xlsx-cells.ts says. A file that is not a workbook (not a zip, an old .xls, cut off,
 * broken XML) is UnreadableWorkbook, never an unexpected error; a bound passed is WorkbookTooLarge.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import { Parse, type Entry } from 'unzipper';
import type { CellProblem, TabularRow } from '../domain/tabular';
import { cellText } from './xlsx-cells';

export interface XlsxLimits {
  /** Every part of the zip inflated, worksheets included (what may be written to the temp folder). */
  maxUnzippedBytes: number;
  /** The parts held in memory while the sheet is read: shared strings, styles, workbook, relationships. */
  maxSharedBytes: number;
  /** The longest row, as CSV text (the CSV line cap). */
  maxLineBytes: number;
}

/** The body is not a workbook intake can read: not a zip, an old .xls, no worksheet, broken XML. */
export class UnreadableWorkbook extends Error {
  constructor(readonly reason: string) {
    super('不是可读取的 Excel 工作簿（.xlsx），整批未入库 / not a readable Excel workbook (.xlsx): nothing was stored');
  }
}

/** Over a limit: the upload is refused as too large; `row` is the data row (0: not within a row, -1: not known yet). */
export class WorkbookTooLarge extends Error {
  constructor(
    message: string,
    readonly row: number,
    readonly reason: string,
  ) {
    super(message);
  }
}

const rowTooLong = (row: number, max: number) =>
  new WorkbookTooLarge(
    `第 ${row} 行超过 ${max} 字节，整批未入库 / row ${row} is longer than ${max} bytes: nothing was stored`,
    row,
    `一行（一条记录）最长 ${max} 字节 / a row (record) may be at most ${max} bytes`,
  );

/** Excel's largest row number. */
const MAX_ROW = 1_048_576;
/** A zip with more members than this is not a workbook anyone made by hand. */
const MAX_ENTRIES = 10_000;
/** Built-in number formats that Chinese, Japanese and Korean Excel show as dates or times (exceljs knows only their codes per locale). */
const CJK_DATE_FORMATS = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58];
const IN_MEMORY = new Set(['xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/sharedStrings.xml']);

/** The internals of exceljs's WorkbookReader this module drives (exceljs 4.4.0). */
interface ReaderInternals {
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(iterator: AsyncIterable<Buffer>, sheetNo: string): Generator<{ eventType: string; value: AsyncIterable<ExcelJS.Row> }>;
  workbookRels?: Array<{ Id: string; Target: string }>;
  model?: { sheets?: Array<{ id: number; name: string; rId: string; state?: string }> };
  properties?: { model?: { date1904?: boolean } };
  styles: { index?: { numFmt?: Record<number, string> } };
}

const sizeText = (n: number, unit: string) => (n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB` : `${n} ${unit}`);

function countingStage(onChunk: (n: number) => Error | null): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const err = onChunk(chunk.length);
      if (err) cb(err);
      else cb(null, chunk);
    },
  });
}

/** Where a relationship's target lies in the zip (`worksheets/sheet1.xml` or `/xl/worksheets/sheet1.xml`). */
function partOf(target: string): string {
  const p = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  return path.posix.normalize(p);
}

/** Writes `input` into the zip reader with back-pressure; once the zip has ended, the rest is read (and so hashed) to its end. */
async function feed(input: Readable, zip: Duplex, head: Buffer[]): Promise<void> {
  let done = false;
  const stop = () => (done = true);
  // unzipper does not end its readable side when the bytes end before a zip does (an empty body, a cut-off file).
  zip.once('finish', () => {
    stop();
    zip.push(null);
  });
  zip.once('close', stop);
  zip.once('error', stop);
  let seen = 0;
  for await (const chunk of input) {
    if (seen < 8) head.push((chunk as Buffer).subarray(0, 8 - seen));
    seen += (chunk as Buffer).length;
    // An empty chunk would never be acknowledged by unzipper (it calls back once bytes are used), and end would wait for it.
    if (done || (chunk as Buffer).length === 0) continue;
    if (!zip.write(chunk)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          zip.off('drain', go);
          zip.off('close', go);
          zip.off('error', go);
          resolve();
        };
        zip.on('drain', go);
        zip.on('close', go);
        zip.on('error', go);
      });
    }
  }
  if (!done) zip.end();
}

/** Why the bytes are not a workbook, in words for the clerk. */
function notAWorkbook(head: Buffer, e: unknown): UnreadableWorkbook {
  if (head.length === 0) return new UnreadableWorkbook('请求体为空 / the body is empty: nothing was stored');
  if (head.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0])))
    return new UnreadableWorkbook(
      '这是旧版 .xls（Excel 97–2003）或加密的工作簿，请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”并取消密码，或另存为 CSV / an .xls (Excel 97–2003) or password-protected workbook: save it as "Excel Workbook (*.xlsx)" without a password, or as CSV; nothing was stored',
    );
  if (!head.subarray(0, 2).equals(Buffer.from('PK')))
    return new UnreadableWorkbook('不是 .xlsx 文件（.xlsx 是 zip 格式）/ not an .xlsx file (an .xlsx is a zip): nothing was stored');
  const detail = e instanceof Error ? e.message.slice(0, 200) : String(e);
  return new UnreadableWorkbook(`文件已损坏或不完整（${detail}）/ the file is damaged or incomplete (${detail}): nothing was stored`);
}

/**
 * The rows of the first worksheet of the workbook `input` (exceljs Rows, in order). Reading the body to its end is
 * part of it (the batch's hash is over every byte).
 */
async function* firstSheetRows(input: Readable, limits: XlsxLimits): AsyncGenerator<{ row: ExcelJS.Row; date1904: boolean }> {
  const head: Buffer[] = [];
  const zip = Parse({ forceStream: true });
  let inputError: unknown = null;
  // An error of the zip (truncated, bad deflate data) ends the entry being read, which would otherwise wait for ever.
  // It may come before an entry already handed out is read: every later entry fails with it too.
  let current: Transform | null = null;
  let zipError: Error | null = null;
  zip.on('error', (err) => {
    zipError = err;
    current?.destroy(err);
  });
  // The body failed (the client went away): the entry being read fails too, rather than wait for bytes that never come.
  const feeding = feed(input, zip, head).catch((e) => {
    inputError = e;
    current?.destroy(e);
    zip.destroy();
  });
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache',
    entries: 'ignore',
  }) as unknown as ReaderInternals;
  let dir: string | null = null;
  let rows: AsyncIterator<ExcelJS.Row> | null = null;
  let unzipped = 0;
  let inMemory = 0;
  const sheets = new Map<string, string>();
  const tooLarge = (what: { zh: string; en: string }, limit: number) =>
    new WorkbookTooLarge(
      `工作簿${what.zh}解压后超过 ${sizeText(limit, '字节')}，整批未入库 / the workbook's ${what.en} unzip to more than ${sizeText(limit, 'bytes')}: nothing was stored`,
      0,
      `解压后上限 ${limit} 字节 / at most ${limit} bytes unzipped`,
    );
  try {
    let entries = 0;
    let sheetRows: AsyncIterable<ExcelJS.Row> | null = null;
    let sinceRow = 0;
    const rowXmlLimit = 8 * limits.maxLineBytes;
    try {
      for await (const e of zip as AsyncIterable<Entry>) {
        if (++entries > MAX_ENTRIES)
          throw new UnreadableWorkbook(`zip 中的成员超过 ${MAX_ENTRIES} 个 / more than ${MAX_ENTRIES} members in the zip`);
        const part = e.path.replace(/^\/+/, '');
        const held = IN_MEMORY.has(part);
        const entry = e.pipe(
          countingStage((n) => {
            unzipped += n;
            if (unzipped > limits.maxUnzippedBytes) return tooLarge({ zh: '', en: 'parts' }, limits.maxUnzippedBytes);
            if (held && (inMemory += n) > limits.maxSharedBytes)
              return tooLarge({ zh: '的共享字符串和样式', en: 'shared strings and styles' }, limits.maxSharedBytes);
            return null;
          }),
        );
        // Whoever reads `entry` sees its error; one left unread when reading stops must not crash the process.
        e.on('error', (err) => entry.destroy(err));
        entry.on('error', () => {});
        current = entry;
        if (inputError) throw inputError;
        if (zipError) throw zipError;
        if (part === 'xl/_rels/workbook.xml.rels') await reader._parseRels(entry);
        else if (part === 'xl/workbook.xml') await reader._parseWorkbook(entry);
        else if (part === 'xl/styles.xml') {
          await reader._parseStyles(entry);
          const formats = reader.styles.index?.numFmt;
          if (formats) for (const id of CJK_DATE_FORMATS) formats[id] ??= 'yyyy-mm-dd';
        } else if (part === 'xl/sharedStrings.xml') {
          for await (const _ of reader._parseSharedStrings(entry));
        } else if (/^xl\/worksheets\/[^/]+\.xml$/.test(part)) {
          dir ??= await fs.promises.mkdtemp(path.join(os.tmpdir(), 'qz-xlsx-'));
          const file = path.join(dir, `sheet-${sheets.size + 1}.xml`);
          await pipeline(entry, fs.createWriteStream(file));
          sheets.set(part, file);
        } else {
          for await (const _ of entry);
        }
      }
      await feeding;
      if (inputError) throw inputError;
      if (zipError) throw zipError;
      const listed = reader.model?.sheets ?? [];
      if (!listed.length || !reader.workbookRels) {
        const bytes = Buffer.concat(head);
        if (!bytes.subarray(0, 2).equals(Buffer.from('PK'))) throw notAWorkbook(bytes, null);
        throw new UnreadableWorkbook(
          '这是 zip 文件，但其中没有工作簿（xl/workbook.xml）/ a zip, but it holds no workbook (xl/workbook.xml)',
        );
      }
      const first = listed.find((s) => s.state !== 'hidden' && s.state !== 'veryHidden') ?? listed[0];
      const rel = reader.workbookRels.find((r) => r.Id === first.rId);
      const file = rel && sheets.get(partOf(rel.Target));
      if (!file) throw new UnreadableWorkbook(`缺少第一个工作表“${first.name}” / its first worksheet "${first.name}" is missing`);
      const guarded = async function* () {
        for await (const chunk of fs.createReadStream(file)) {
          sinceRow += (chunk as Buffer).length;
          if (sinceRow > rowXmlLimit) throw rowTooLong(-1, limits.maxLineBytes);
          yield chunk as Buffer;
        }
      };
      const sheetNo = /(\d+)\.xml$/.exec(partOf(rel.Target))?.[1] ?? String(first.id);
      sheetRows = [...reader._parseWorksheet(guarded(), sheetNo)][0].value;
    } catch (e) {
      if (inputError) throw inputError;
      if (e instanceof UnreadableWorkbook || e instanceof WorkbookTooLarge) throw e;
      throw notAWorkbook(Buffer.concat(head), e);
    }
    const date1904 = reader.properties?.model?.date1904 === true;
    rows = sheetRows[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<ExcelJS.Row>;
      try {
        next = await rows.next();
      } catch (e) {
        if (e instanceof WorkbookTooLarge) throw e;
        throw notAWorkbook(Buffer.from('PK'), e);
      }
      if (next.done) break;
      sinceRow = 0;
      yield { row: next.value, date1904 };
    }
  } finally {
    // Reading stopped early (a refused batch): the sheet's file is closed before its folder is removed.
    await rows?.return?.(undefined).catch(() => undefined);
    zip.destroy();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

// ─── Rows ───────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A pipeline stage: the request body (an .xlsx) in, the rows of its first worksheet out as text, the header first.
 * The header is the first row with a value; the data row N is the Nth Excel row after it, so a clerk finds row N in
 * Excel as row N + (the header's row number). A blank Excel row (or one absent from the file) comes out as an empty
 * row: intake skips it and keeps counting. Values in columns beyond the header's last are problems of their row.
 */
export function xlsxRows(limits: XlsxLimits): (source: AsyncIterable<Buffer>) => AsyncGenerator<TabularRow> {
  return async function* (source) {
    const input = source instanceof Readable ? source : Readable.from(source);
    let headerAt = 0;
    let width = 0;
    let last = 0;
    try {
      for await (const { row, date1904 } of firstSheetRows(input, limits)) {
        const n = Number.isFinite(row.number) && row.number > 0 ? row.number : last + 1;
        if (n <= last || n > MAX_ROW)
          throw new UnreadableWorkbook(
            `工作表的行号 ${row.number} 无效或不是递增的 / row number ${row.number} is out of order or out of range`,
          );
        const cells: string[] = [];
        const problems: CellProblem[] = [];
        let bytes = 0;
        row.eachCell({ includeEmpty: false }, (cell, col) => {
          const t = cellText(cell.value, cell.numFmt, date1904);
          const text = 'text' in t ? t.text : '';
          if ('problem' in t) problems.push({ column: col - 1, reason: t.problem });
          cells[col - 1] = text;
          bytes += Buffer.byteLength(text) + 1;
        });
        for (let i = 0; i < cells.length; i++) cells[i] ??= '';
        const dataRow = headerAt ? n - headerAt : 0;
        if (bytes > limits.maxLineBytes) throw rowTooLong(dataRow, limits.maxLineBytes);
        if (!headerAt) {
          last = n;
          const filled = cells.map((c) => c.trim() !== '');
          if (!filled.includes(true)) continue; // blank rows above the header
          headerAt = n;
          width = filled.lastIndexOf(true) + 1;
          yield cells.slice(0, width);
          continue;
        }
        for (let blank = last + 1; blank < n; blank++) yield [];
        last = n;
        const out: TabularRow = Array.from({ length: width }, (_, i) => cells[i] ?? '');
        for (let i = width; i < cells.length; i++)
          if (cells[i] !== '') problems.push({ column: i, reason: '该列没有表头 / a value in a column without a header' });
        if (problems.length) out.problems = problems;
        yield out;
      }
    } catch (e) {
      // The row whose XML ran past the bound is the one after the last row read.
      if (e instanceof WorkbookTooLarge && e.row < 0) throw rowTooLong(headerAt ? last - headerAt + 1 : 0, limits.maxLineBytes);
      throw e;
    }
  };
}
