/**
 * Excel at intake: the templates of each catalog item (.xlsx and .csv), and batches uploaded as .xlsx — the same
 * rows, numbers and rules as CSV, cells turned into text faithfully, and files that are not workbooks (or would
 * exhaust the API) refused with a 4xx, nothing stored, no temp file left.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { citizenId, uscc } from './support/fixtures';
import { CATALOG } from '../domain/catalog';
import { columnOfHeader, readTabularHeader } from '../domain/tabular';
import { templateColumns } from '../domain/templates';
import { WorkbookTooLarge, xlsxRows } from '../db/xlsx';
import { cellText } from '../db/xlsx-cells';
import { xlsxTemplate } from '../api/templates';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const LINE_CAP = 256 * 1024;

let p: TestPlatform;
let gsj: string;

beforeAll(async () => {
  // Read when the app is made: a smaller line cap and unzipped limit than the defaults, to test them quickly.
  process.env.CSV_MAX_LINE_BYTES = String(LINE_CAP);
  process.env.XLSX_MAX_UNZIPPED_BYTES = String(64 * 1024 * 1024);
  p = await startTestPlatform();
  gsj = (await principalWithKey(p.db, { name: '工商局报送员（Excel）', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
}, 120000);
afterAll(async () => {
  delete process.env.CSV_MAX_LINE_BYTES;
  delete process.env.XLSX_MAX_UNZIPPED_BYTES;
  await p?.stop();
});

let keySeq = 0;
const nextKey = () => `xlsx-${++keySeq}-${process.pid}`;

async function counts() {
  const [r] = await p.db('records').count({ n: '*' });
  const [s] = await p.db('submissions').count({ n: '*' });
  const [k] = await p.db('idempotency_keys').count({ n: '*' });
  return { records: Number(r.n), submissions: Number(s.n), keys: Number(k.n) };
}

const tempDirs = () => fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('qz-xlsx-')).length;

function post(contentType: string, body: Buffer, key = nextKey()) {
  return request(p.app)
    .post('/submissions?period=2026-10')
    .set('Authorization', gsj)
    .set('Idempotency-Key', key)
    .set('Content-Type', contentType)
    .serialize((b: Buffer) => b as unknown as string)
    .send(body);
}

/** A download as its bytes. */
function download(url: string) {
  return request(p.app)
    .get(url)
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
}

async function workbookOf(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  return wb;
}

/** A workbook of one sheet with these rows (a row `null` is left blank), as bytes. */
async function xlsxOf(rows: Array<ExcelJS.CellValue[] | null>, prepare?: (ws: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('数据');
  rows.forEach((r, i) => {
    if (r) ws.getRow(i + 1).values = r;
  });
  prepare?.(ws);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const csvOf = (rows: Array<string[] | null>, width: number) =>
  Buffer.from(
    rows.map((r) => (r ?? Array(width).fill('')).map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n') +
      '\n',
  );

const PENALTY_HEADER = ['item_code', 'subject_id', 'event_date', 'decision_no', 'violation', 'penalty', 'authority', 'amount'];
const penalty = (n: number, over: Partial<Record<string, string>> = {}) => {
  const row: Record<string, string> = {
    item_code: 'E-PENALTY',
    subject_id: uscc(n),
    event_date: '2026-10-09',
    decision_no: `钦市监罚〔2026〕X${n}号`,
    violation: '虚假宣传',
    penalty: '罚款',
    authority: '钦州市市场监督管理局',
    amount: '5000',
    ...over,
  };
  return PENALTY_HEADER.map((h) => row[h]);
};

/** A zip of these members, deflated, written by hand (no workbook library involved). */
function zipOf(files: Array<[string, Buffer]>): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const packed = zlib.deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length >>> 0, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(crc32(data), 16);
    dir.writeUInt32LE(packed.length, 20);
    dir.writeUInt32LE(data.length >>> 0, 24);
    dir.writeUInt16LE(nameBytes.length, 28);
    dir.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    central.push(dir, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe('templates (public, per catalog item)', () => {
  test('the Excel template of E-PENALTY: headers with codes, required marked, the example row, dropdowns, Text columns', async () => {
    const res = await download('/catalog/items/E-PENALTY/template.xlsx');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain(XLSX);
    const disposition = res.headers['content-disposition'] as string;
    expect(disposition).toContain('filename="E-PENALTY-template.xlsx"');
    const star = /filename\*=UTF-8''([^;]+)/.exec(disposition)![1];
    expect(star).not.toMatch(/[()'*]/); // RFC 5987 attr-chars only
    expect(decodeURIComponent(star)).toBe('企业行政处罚记录_E-PENALTY_报送模板.xlsx');

    const wb = await workbookOf(res.body);
    const ws = wb.worksheets[0];
    expect(ws.name).toBe('数据');
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual([
      '*信息项代码（item_code）',
      '*统一社会信用代码（subject_id）',
      '*事件日期（event_date）',
      '终结日期（concluded_date）',
      '警示解除日（lifted_date）', // a warning: lifted_date, no valid_until
      '*处罚决定书文号（decision_no）',
      '*违法事实（violation）',
      '*处罚内容（penalty）',
      '*处罚机关（authority）',
      '罚没金额（元）（amount）',
    ]);
    expect(ws.getCell('A1').font.color?.argb).toBe('FFC00000'); // required: red
    expect(ws.getCell('J1').font.color?.argb).toBe('FF000000');
    expect(String(ws.getCell('A2').value)).toMatch(/^#示例/);
    expect(ws.getCell('C2').value).toEqual(new Date('2026-01-05T00:00:00Z'));
    expect(ws.getCell('J2').value).toBe(1000);
    const itemCode = ws.getCell('A3').dataValidation;
    expect(itemCode).toMatchObject({ type: 'list', formulae: ['"E-PENALTY"'] });
    expect(ws.getCell(`A${10_001}`).dataValidation).toBeDefined();
    expect(ws.getColumn(2).numFmt).toBe('@'); // an ID stays text as typed
    expect(ws.getColumn(3).numFmt).toBe('yyyy-mm-dd');
    expect(wb.getWorksheet('说明')).toBeDefined();
  });

  test('an honor has valid_until and no lifted_date; enumerations and a person item get their dropdowns', async () => {
    const honor = (await workbookOf((await download('/catalog/items/E-HONOR/template.xlsx')).body)).worksheets[0];
    const codes = (honor.getRow(1).values as string[]).slice(1).map((h) => /（(\w+)）$/.exec(h)![1]);
    expect(codes).toEqual(['item_code', 'subject_id', 'event_date', 'concluded_date', 'valid_until', 'title', 'kind', 'issuer']);
    const kind = honor.getCell(`G3`).dataValidation;
    expect(kind.type).toBe('list');
    expect(kind.formulae[0]).toContain('驰名商标');
    expect(kind.errorStyle).toBe('stop');

    const reg = (await workbookOf((await download('/catalog/items/E-BASIC-REG/template.xlsx')).body)).worksheets[0];
    const status = (reg.getRow(1).values as string[]).findIndex((h) => h?.includes('（status）'));
    expect(reg.getCell(5, status).dataValidation).toMatchObject({ type: 'list', formulae: ['"存续,在业,迁出,注销,吊销,撤销"'] });

    const person = (await workbookOf((await download('/catalog/items/P-BASIC/template.xlsx')).body)).worksheets[0];
    expect(person.getCell('B1').value).toBe('*公民身份号码（subject_id）');
    const gender = (person.getRow(1).values as string[]).findIndex((h) => h?.includes('（gender）'));
    expect(person.getCell(2, gender).dataValidation).toMatchObject({ type: 'list', formulae: ['"男,女"'] });
  });

  test('the CSV template: UTF-8 with a BOM, the same header, the example row', async () => {
    const res = await download('/catalog/items/E-PENALTY/template.csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(decodeURIComponent(/filename\*=UTF-8''([^;]+)/.exec(res.headers['content-disposition'])![1])).toBe(
      '企业行政处罚记录_E-PENALTY_报送模板.csv',
    );
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, example, rest] = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(header).toBe(
      '*信息项代码（item_code）,*统一社会信用代码（subject_id）,*事件日期（event_date）,终结日期（concluded_date）,警示解除日（lifted_date）,*处罚决定书文号（decision_no）,*违法事实（violation）,*处罚内容（penalty）,*处罚机关（authority）,罚没金额（元）（amount）',
    );
    expect(example).toMatch(/^#示例 example：E-PENALTY/);
    expect(example.split(',')).toHaveLength(10);
    expect(rest).toBe('');
  });

  test('an unknown item: 404 with a bilingual message, for both templates', async () => {
    for (const ext of ['xlsx', 'csv']) {
      const res = await request(p.app).get(`/catalog/items/E-NOPE/template.${ext}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect(res.body.error.message).toBe('目录中没有信息项 E-NOPE / no catalog item E-NOPE');
    }
  });

  test('header cells: a code, a label with the code in brackets or after a space, a required mark', () => {
    expect(
      [
        'event_date',
        '*事件日期（event_date）',
        '事件日期(event_date)',
        ' 事件日期 event_date ',
        '罚没金额（元）（amount）',
        'decision no',
        '注册资本（万元）',
      ].map(columnOfHeader),
    ).toEqual(['event_date', 'event_date', 'event_date', 'event_date', 'amount', 'decision no', '注册资本（万元）']);
  });

  test("every item's template header reads back as its column codes, with no header problem (P7 included)", async () => {
    for (const item of CATALOG) {
      const rows: string[][] = [];
      for await (const r of xlsxRows({ maxLineBytes: LINE_CAP, maxUnzippedBytes: 1 << 26, maxSharedBytes: 1 << 24 })(
        Readable.from([await xlsxTemplate(item)]),
      ))
        rows.push(r);
      const { columns, errors } = readTabularHeader(rows[0]);
      expect({ item: item.code, errors }).toEqual({ item: item.code, errors: [] });
      expect(columns).toEqual(templateColumns(item).map((c) => c.code));
      expect(rows).toHaveLength(2);
      expect(rows[1][0]).toMatch(/^#/);
    }
  });
});

describe('uploading .xlsx', () => {
  test('the template filled in is stored (its example row left in is not), rows readable via GET /records', async () => {
    const before = await counts();
    const wb = await workbookOf((await download('/catalog/items/E-PENALTY/template.xlsx')).body);
    const ws = wb.getWorksheet('数据')!;
    ws.getRow(3).values = [
      'E-PENALTY',
      uscc(9101),
      new Date('2026-10-09T00:00:00Z'),
      null,
      null,
      '钦市监罚〔2026〕9101号',
      '虚假宣传',
      '罚款',
      '钦州市市场监督管理局',
      1200.5,
    ];
    ws.getRow(4).values = [
      'E-PENALTY',
      uscc(9102),
      '2026-10-10',
      null,
      null,
      '钦市监罚〔2026〕9102号',
      '无照经营',
      '警告',
      '钦州市市场监督管理局',
    ];
    ws.getRow(5).values = [
      'E-PENALTY',
      uscc(9103),
      new Date('2026-10-11T00:00:00Z'),
      null,
      new Date('2026-11-30T00:00:00Z'),
      '钦市监罚〔2026〕9103号',
      '虚假宣传',
      '罚款',
      '钦州市市场监督管理局',
      300,
    ];
    const res = await post(XLSX, Buffer.from(await wb.xlsx.writeBuffer()));
    expect(res.status).toBe(202);
    expect(res.body.submission).toMatchObject({ format: 'xlsx', row_count: 3, period: '2026-10' });
    const list = await request(p.app).get(`/records?submission_id=${res.body.submission.id}`).set('Authorization', gsj);
    expect(list.status).toBe(200);
    expect(
      list.body.records.map((r: Record<string, unknown>) => [
        r.subject_id,
        r.event_date,
        r.lifted_date ?? null,
        (r.payload as { amount?: number }).amount,
      ]),
    ).toEqual([
      [uscc(9101), '2026-10-09', null, 1200.5],
      [uscc(9102), '2026-10-10', null, undefined],
      [uscc(9103), '2026-10-11', '2026-11-30', 300],
    ]);
    expect(list.body.records[1].payload).toEqual({
      decision_no: '钦市监罚〔2026〕9102号',
      violation: '无照经营',
      penalty: '警告',
      authority: '钦州市市场监督管理局',
    });
    const after = await counts();
    expect(after.records - before.records).toBe(3);
  });

  test('the template unchanged (only its example row) is refused as empty, for Excel and CSV alike; nothing stored', async () => {
    const before = await counts();
    for (const [type, ext] of [
      [XLSX, 'xlsx'],
      ['text/csv', 'csv'],
    ]) {
      const res = await post(type, (await download(`/catalog/items/E-PENALTY/template.${ext}`)).body);
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain('批次为空');
      expect(res.body.error.details).toEqual([expect.objectContaining({ row: 0, field: 'records' })]);
    }
    expect(await counts()).toEqual(before);
  });

  test('a bad row is reported with the same row number and field as the same data in CSV (blank and note rows counted)', async () => {
    const before = await counts();
    const data: Array<string[] | null> = [
      PENALTY_HEADER,
      penalty(9201),
      null, // blank: skipped, still row 2
      ['#说明：以下两行待核 / note', '', '', '', '', '', '', ''], // note row 3
      penalty(9202, { subject_id: '91450700MA5K0000XX' }), // row 4
      penalty(9203, { amount: '五千' }), // row 5
    ];
    const fromXlsx = await post(XLSX, await xlsxOf(data));
    const fromCsv = await post('text/csv', csvOf(data, PENALTY_HEADER.length));
    for (const res of [fromXlsx, fromCsv]) expect(res.status).toBe(422);
    const where = (res: request.Response) => res.body.error.details.map((d: { row: number; field: string }) => [d.row, d.field]);
    expect(where(fromXlsx)).toEqual([
      [4, 'subject_id'],
      [5, 'payload.amount'],
    ]);
    expect(where(fromXlsx)).toEqual(where(fromCsv));
    expect(fromXlsx.body.error.details.map((d: { reason: string }) => d.reason)).toEqual(
      fromCsv.body.error.details.map((d: { reason: string }) => d.reason),
    );
    expect(await counts()).toEqual(before);
  });

  test('date, number, formula, rich-text and hyperlink cells are stored as the text they show', async () => {
    const header = [
      'item_code',
      'subject_id',
      'event_date',
      'name',
      'legal_representative',
      'registered_capital',
      'established_on',
      'address',
      'status',
    ];
    const body = await xlsxOf(
      [
        header,
        [
          'E-BASIC-REG',
          uscc(9301),
          new Date('2026-10-09T00:00:00Z'), // a date cell: UTC midnight, never shifted by the time zone
          { richText: [{ text: '钦州市', font: { bold: true } }, { text: '富文本有限公司' }] },
          { text: '张三', hyperlink: 'https://example.org/zhangsan' },
          { formula: '1000.1+200.2', result: 1200.3000000000002 }, // Excel's 15 digits: 1200.3
          { formula: 'DATE(2020,3,1)', result: 43891 }, // a formula with a date format: its result is a date
          12345678901234, // a number: decimal text, no exponent
          '存续',
        ],
      ],
      (ws) => {
        ws.getCell('C2').numFmt = 'yyyy"年"m"月"d"日"';
        ws.getCell('G2').numFmt = 'yyyy-mm-dd';
      },
    );
    const res = await post(XLSX, body);
    expect(res.status).toBe(202);
    const [row] = await p.db('records').where('submission_id', res.body.submission.id);
    expect(row.event_date).toBe('2026-10-09');
    expect(row.payload).toEqual({
      name: '钦州市富文本有限公司',
      legal_representative: '张三',
      registered_capital: 1200.3,
      established_on: '2020-03-01',
      address: '12345678901234',
      status: '存续',
    });
  });

  test('an ID typed as a number (Excel has cut it to 15 digits) and an error cell: refused naming the field and why', async () => {
    const before = await counts();
    const header = ['item_code', 'subject_id', 'event_date', 'name'];
    const res = await post(
      XLSX,
      await xlsxOf([
        header,
        ['P-BASIC', Number(citizenId(31).replace('X', '0')), '2026-10-09', '李四'],
        ['P-BASIC', citizenId(32), '2026-10-09', { error: '#N/A' }],
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ row: 1, field: 'subject_id', reason: expect.stringContaining('15 位有效数字') }),
      expect.objectContaining({ row: 2, field: 'payload.name', reason: expect.stringContaining('#N/A') }),
    ]);
    expect(await counts()).toEqual(before);
  });

  test('unit: cells to text (booleans, dates with a time, small and large numbers, 1904 dates, a formula without a result)', () => {
    // exceljs gives a date cell as a Date at UTC midnight: read in UTC, the day is the same in any time zone.
    const tz = process.env.TZ;
    try {
      for (const zone of ['America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Shanghai']) {
        process.env.TZ = zone;
        expect(cellText(new Date('2026-10-09T00:00:00Z'), 'yyyy-mm-dd', false)).toEqual({ text: '2026-10-09' });
      }
    } finally {
      process.env.TZ = tz;
    }
    expect(cellText(true, undefined, false)).toEqual({ text: 'true' });
    expect(cellText(false, undefined, false)).toEqual({ text: 'false' });
    expect(cellText(new Date('2026-10-09T08:30:00Z'), 'yyyy-mm-dd hh:mm', false)).toEqual({ text: '2026-10-09 08:30:00' });
    expect(cellText(1.5e-7, undefined, false)).toEqual({ text: '0.00000015' });
    expect(cellText(-42, undefined, false)).toEqual({ text: '-42' });
    expect(cellText(999999999999999, undefined, false)).toEqual({ text: '999999999999999' });
    expect(cellText(1e15, undefined, false)).toHaveProperty('problem');
    expect(cellText({ formula: 'A1', result: 42 } as ExcelJS.CellValue, 'yyyy-mm-dd', true)).toEqual({ text: '1904-02-12' });
    expect(cellText({ formula: 'A1' } as ExcelJS.CellValue, undefined, false)).toHaveProperty('problem');
    expect(cellText({ formula: 'A1', result: { error: '#DIV/0!' } } as ExcelJS.CellValue, undefined, false)).toHaveProperty('problem');
  });

  test('a forbidden column (P7) is refused as such: in a label with a code, and as a bare code', async () => {
    const before = await counts();
    for (const [column, field] of [
      ['血型（remark）', '血型（remark）'],
      ['blood_type', 'blood_type'],
    ]) {
      const res = await post(
        XLSX,
        await xlsxOf([
          [...PENALTY_HEADER, column],
          [...penalty(9401), ''],
        ]),
      );
      expect(res.status).toBe(422);
      expect(res.body.error.message).toContain('Excel 表头无效');
      expect(res.body.error.details).toEqual([expect.objectContaining({ row: 0, field, article: 'P7' })]);
    }
    expect(await counts()).toEqual(before);
  });

  test('an unknown column and a value beyond the header are refused (P6), naming the row', async () => {
    const body = await xlsxOf([
      [...PENALTY_HEADER, 'remark'],
      [...penalty(9402), '备注'],
      [...penalty(9403), '', '无表头的值'],
    ]);
    const res = await post(XLSX, body);
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ row: 1, field: 'payload.remark', article: 'P6' }),
      expect.objectContaining({ row: 2, field: '(列 J / column J)' }),
    ]);
  });

  test('Idempotency-Key: the same bytes replay the first answer; other bytes under the key are refused', async () => {
    const body = await xlsxOf([PENALTY_HEADER, penalty(9501)]);
    const key = nextKey();
    const first = await post(XLSX, body, key);
    expect(first.status).toBe(202);
    const again = await post(XLSX, body, key);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.submission.id).toBe(first.body.submission.id);
    const other = await post(XLSX, await xlsxOf([PENALTY_HEADER, penalty(9502)]), key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('files that are not workbooks, and workbooks that would exhaust the API: 4xx, nothing stored, no temp file left', () => {
  test('random bytes, an empty body, an old .xls, a zip that holds no workbook, a cut-off workbook, broken XML', async () => {
    const before = await counts();
    const dirs = tempDirs();
    const good = await xlsxOf([PENALTY_HEADER, penalty(9601)]);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['random', Buffer.from('item_code,subject_id\nE-PENALTY,x\n'), /不是 \.xlsx 文件/],
      ['empty', Buffer.alloc(0), /请求体为空/],
      ['xls', Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)]), /\.xls/],
      ['zip', zipOf([['readme.txt', Buffer.from('hello')]]), /没有工作簿/],
      ['cut', good.subarray(0, Math.floor(good.length * 0.6)), /损坏或不完整/],
      [
        'xml',
        zipOf([
          ['xl/workbook.xml', Buffer.from('<workbook><sheets><sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>')],
          [
            'xl/_rels/workbook.xml.rels',
            Buffer.from('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
          ],
          [
            'xl/worksheets/sheet1.xml',
            Buffer.from(
              '<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>item_code</t></is></c></rox></sheetData></worksheet>',
            ),
          ],
        ]),
        /损坏或不完整/,
      ],
    ];
    for (const [what, body, reason] of cases) {
      const res = await post(XLSX, body);
      expect({ what, status: res.status, code: res.body.error?.code }).toEqual({ what, status: 400, code: 'BAD_REQUEST' });
      expect(res.body.error.message).toContain('不是可读取的 Excel 工作簿');
      expect({ what, reason: res.body.error.details[0].reason }).toEqual({ what, reason: expect.stringMatching(reason) });
    }
    expect(await counts()).toEqual(before);
    expect(tempDirs()).toBe(dirs);
  });

  test('a zip bomb (100 MiB of zeros as the sheet, 100 KiB zipped) stops at the unzipped limit: 413', async () => {
    const before = await counts();
    const dirs = tempDirs();
    const bomb = zipOf([['xl/worksheets/sheet1.xml', Buffer.alloc(100 * 1024 * 1024)]]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    const res = await post(XLSX, bomb);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.body.error.message).toContain('64 MiB');
    expect(await counts()).toEqual(before);
    expect(tempDirs()).toBe(dirs);
  });

  test('a cell over the line cap is 413 naming its row, like a CSV line; so are shared strings over their limit', async () => {
    const before = await counts();
    const long = '长'.repeat(LINE_CAP / 3 + 10);
    const res = await post(XLSX, await xlsxOf([PENALTY_HEADER, penalty(9701), penalty(9702, { violation: long })]));
    expect(res.status).toBe(413);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 2, field: '(xlsx)' })]);
    expect(res.body.error.message).toMatch(/第 2 行/);
    expect(await counts()).toEqual(before);

    const shared = await xlsxOf([PENALTY_HEADER, penalty(9703, { violation: 'x'.repeat(5000) })]);
    const rows = xlsxRows({ maxLineBytes: LINE_CAP, maxUnzippedBytes: 1 << 26, maxSharedBytes: 4096 })(Readable.from([shared]));
    await expect(
      (async () => {
        for await (const _ of rows);
      })(),
    ).rejects.toBeInstanceOf(WorkbookTooLarge);
  });

  test('a row whose XML runs on past eight times the line cap is cut off there (413, the row named), even when its text is short', async () => {
    // The cells' text is a few bytes, but the row's XML holds 2.25 MiB (a comment): without the bound it would be
    // read whole, and stored.
    const inline = (cells: string[], r: number) =>
      cells.map((v, i) => `<c t="inlineStr" r="${String.fromCharCode(65 + i)}${r}"><is><t>${v}</t></is></c>`).join('');
    const sheet = `<worksheet><sheetData><row r="1">${inline(PENALTY_HEADER, 1)}</row><row r="2">${inline(penalty(9801), 2)}<!--${'a'.repeat(9 * LINE_CAP)}--></row></sheetData></worksheet>`;
    const body = zipOf([
      ['xl/workbook.xml', Buffer.from('<workbook><sheets><sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>')],
      [
        'xl/_rels/workbook.xml.rels',
        Buffer.from('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
      ],
      ['xl/worksheets/sheet1.xml', Buffer.from(sheet)],
    ]);
    const before = await counts();
    const res = await post(XLSX, body);
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/第 1 行/);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 1, field: '(xlsx)' })]);
    expect(await counts()).toEqual(before);
  });
});

describe('a large workbook', () => {
  test('100,000 rows written by exceljs streaming WorkbookWriter upload and are stored', async () => {
    const N = 100_000;
    const file = path.join(os.tmpdir(), `qz-test-${process.pid}-100k.xlsx`);
    try {
      const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
      const ws = writer.addWorksheet('数据');
      ws.addRow(PENALTY_HEADER).commit();
      for (let i = 1; i <= N; i++) ws.addRow(penalty(200_000 + i, { amount: String(i) }).map((v, c) => (c === 7 ? i : v))).commit();
      await writer.commit();
      const started = Date.now();
      const res = await post(XLSX, fs.readFileSync(file));
      expect(res.status).toBe(202);
      expect(res.body.submission.row_count).toBe(N);
      const [{ n }] = await p.db('records').where('submission_id', res.body.submission.id).count({ n: '*' });
      expect(Number(n)).toBe(N);
      const last = await p
        .db('records')
        .where({ submission_id: res.body.submission.id, subject_id: uscc(200_000 + N) })
        .first();
      expect(last.payload.amount).toBe(N);
      console.log(`[xlsx] ${N} rows uploaded in ${Date.now() - started} ms`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 120000);
});
