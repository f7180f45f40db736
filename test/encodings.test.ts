/**
 * Files as Chinese offices make them (GBK/GB18030 from Excel on Chinese Windows, a UTF-8 BOM), bytes that are not
 * text, and inputs meant to exhaust the API (an endless CSV line, deeply nested JSON, a NUL in the public search).
 */
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import { decodingStage, firstInvalidUtf8 } from '../db/decoding';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow, uscc } from './support/fixtures';

let p: TestPlatform;
let gsj: string;

beforeAll(async () => {
  p = await startTestPlatform();
  gsj = (await principalWithKey(p.db, { name: '工商局报送员（编码）', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
}, 120000);
afterAll(async () => {
  await p?.stop();
});

let keySeq = 0;
const nextKey = () => `enc-${++keySeq}-${process.pid}`;

async function counts() {
  const [r] = await p.db('records').count({ n: '*' });
  const [s] = await p.db('submissions').count({ n: '*' });
  const [k] = await p.db('idempotency_keys').count({ n: '*' });
  return { records: Number(r.n), submissions: Number(s.n), keys: Number(k.n) };
}

function post(contentType: string, body: Buffer, period = '2026-10') {
  return request(p.app)
    .post(`/submissions?period=${period}`)
    .set('Authorization', gsj)
    .set('Idempotency-Key', nextKey())
    .set('Content-Type', contentType)
    .serialize((b: Buffer) => b as unknown as string) // the bytes as they are (not a JSON-encoded Buffer)
    .send(body);
}

const HEADER = 'item_code,subject_id,event_date,decision_no,violation,penalty,authority';
const csvText = (n: number, violation = '虚假宣传') =>
  `${HEADER}\r\nE-PENALTY,${uscc(n)},2026-10-09,钦市监罚〔2026〕${n}号,${violation},罚款,钦州市市场监督管理局\r\n`;

async function storedPayload(res: request.Response) {
  expect(res.status).toBe(202);
  const [row] = await p.db('records').where('submission_id', res.body.submission.id);
  return row.payload as Record<string, unknown>;
}

describe('declared and default charsets', () => {
  test('a GBK CSV (Excel on Chinese Windows) is stored with its Chinese intact', async () => {
    const body = iconv.encode(csvText(801, '无照经营'), 'gbk');
    expect(body.toString('utf8')).toContain('\ufffd'); // not UTF-8: the old intake stored this
    const payload = await storedPayload(await post('text/csv; charset=GBK', body));
    expect(payload).toMatchObject({ decision_no: '钦市监罚〔2026〕801号', violation: '无照经营', authority: '钦州市市场监督管理局' });
    expect(JSON.stringify(payload)).not.toContain('\ufffd');
  });

  test('a GBK JSON batch is stored with its Chinese intact', async () => {
    const json = JSON.stringify({ period: '2026-10', records: [penaltyRow(802, { event_date: '2026-10-10' })] });
    const payload = await storedPayload(await post('application/json; charset=gb2312', iconv.encode(json, 'gbk')));
    expect(payload.authority).toBe('钦州市市场监督管理局');
    expect(payload.decision_no).toBe('钦市监罚〔2026〕802号');
  });

  test('GB18030 declared: a character beyond GBK (four bytes) survives', async () => {
    const body = iconv.encode(csvText(803, '虚假宣传𠀀'), 'gb18030');
    const payload = await storedPayload(await post('text/csv;charset="gb18030"', body));
    expect(payload.violation).toBe('虚假宣传𠀀');
  });

  test('UTF-8 with a BOM, CSV and JSON, undeclared', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const csv = await storedPayload(await post('text/csv', Buffer.concat([bom, Buffer.from(csvText(804))])));
    expect(csv.violation).toBe('虚假宣传');
    const json = JSON.stringify({ period: '2026-10', records: [penaltyRow(805)] });
    const fromJson = await storedPayload(await post('application/json; charset=utf-8', Buffer.concat([bom, Buffer.from(json)])));
    expect(fromJson.authority).toBe('钦州市市场监督管理局');
  });

  test('the idempotency hash is over the bytes sent: the same GBK body replays', async () => {
    const body = iconv.encode(csvText(806), 'gbk');
    const key = nextKey();
    const send = () =>
      request(p.app)
        .post('/submissions?period=2026-10')
        .set('Authorization', gsj)
        .set('Idempotency-Key', key)
        .set('Content-Type', 'text/csv; charset=gbk')
        .send(body);
    const first = await send();
    expect(first.status).toBe(202);
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.submission.id).toBe(first.body.submission.id);
  });
});

describe('bytes that are not text are refused, naming the line; nothing stored', () => {
  test('a GBK CSV sent without a charset: 422 naming line 2 and how to send it', async () => {
    const before = await counts();
    const body = Buffer.concat([Buffer.from(`${HEADER}\n`), iconv.encode(csvText(807).split('\r\n')[1] + '\n', 'gbk')]);
    const res = await post('text/csv', body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_ENCODING');
    expect(res.body.error.message).toMatch(/第 2 行/);
    expect(res.body.error.message).toContain('charset=gb18030');
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 1, field: '(encoding)' })]);
    expect(await counts()).toEqual(before);
  });

  test('invalid UTF-8 far into a large CSV (across stream chunks), declared utf-8', async () => {
    const before = await counts();
    const good = `E-PENALTY,${uscc(808)},2026-10-09,钦市监罚〔2026〕808号,虚假宣传,罚款,钦州市市场监督管理局\n`;
    const lines = 3000; // ~400 KB: many chunks, multi-byte characters split between them
    const body = Buffer.concat([
      Buffer.from(`${HEADER}\n` + good.repeat(lines)),
      Buffer.from('E-PENALTY,x,2026-10-09,'),
      Buffer.from([0xc3, 0x28]), // a lead byte without its continuation
      Buffer.from(',b,c,d\n'),
    ]);
    const res = await post('text/csv; charset=UTF-8', body);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(new RegExp(`第 ${lines + 2} 行`));
    expect(await counts()).toEqual(before);
  });

  test('a truncated character at the very end is refused too', async () => {
    const before = await counts();
    const body = Buffer.concat([Buffer.from(csvText(809)), Buffer.from([0xe4, 0xb8])]);
    const res = await post('text/csv', body);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/第 3 行/);
    expect(await counts()).toEqual(before);
  });

  test('JSON not in UTF-8 and undeclared: 422, not stored as U+FFFD', async () => {
    const before = await counts();
    const json = JSON.stringify({ period: '2026-10', records: [penaltyRow(810)] }, null, 1);
    const res = await post('application/json', iconv.encode(json, 'gbk'));
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('charset=gb18030');
    expect(await counts()).toEqual(before);
  });

  test('bytes that are not GB18030 either, declared gbk: 422 naming the line', async () => {
    const before = await counts();
    const body = Buffer.concat([iconv.encode(csvText(811), 'gbk'), Buffer.from([0x81, 0x20, 0x0a])]);
    const res = await post('text/csv; charset=gbk', body);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/第 3 行.*GB18030/);
    expect(await counts()).toEqual(before);
  });

  test('an unknown charset: 415 naming it', async () => {
    const before = await counts();
    const res = await post('text/csv; charset=big5', Buffer.from(csvText(812)));
    expect(res.status).toBe(415);
    expect(res.body.error.message).toContain('big5');
    expect(await counts()).toEqual(before);
  });
});

describe('inputs that would exhaust the API', () => {
  test('a CSV line over the cap (4 MiB by default) is refused naming it; nothing stored', async () => {
    const before = await counts();
    const long = 'x'.repeat(5 * 1024 * 1024);
    const body = Buffer.from(`${csvText(813)}E-PENALTY,${uscc(814)},2026-10-09,${long},b,c,d\n`);
    const res = await post('text/csv', body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.body.error.message).toMatch(/第 3 行/);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 2, field: '(csv)' })]);
    expect(await counts()).toEqual(before);
  }, 30000);

  test('a payload nesting 100,000 arrays: 400 naming the row and field, not a 500', async () => {
    const before = await counts();
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const ok = JSON.stringify(penaltyRow(815));
    const bad = JSON.stringify(penaltyRow(816)).replace('"amount":5000', `"amount":5000,"notes":${deep}`);
    const res = await post('application/json', Buffer.from(`{"period":"2026-10","records":[${ok},${bad}]}`));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 2, field: 'payload.notes' })]);
    expect(await counts()).toEqual(before);
  });

  test('deep nesting beside the records (an unknown key of the batch): 400 naming it, not a 500', async () => {
    const before = await counts();
    const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    const res = await post(
      'application/json',
      Buffer.from(`{"period":"2026-10","records":[${JSON.stringify(penaltyRow(819))}],"extra":${deep}}`),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 0, field: 'extra.a' })]);
    expect(await counts()).toEqual(before);
  });

  test('nesting within the limit is judged by the ordinary rules (422: not a field of the item)', async () => {
    const nested = JSON.parse('['.repeat(20) + ']'.repeat(20));
    const res = await post(
      'application/json',
      Buffer.from(
        JSON.stringify({
          period: '2026-10',
          records: [penaltyRow(817, {}), { ...penaltyRow(818), payload: { ...penaltyRow(818).payload, notes: nested } }],
        }),
      ),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ row: 2, field: 'payload.notes' })]);
  });

  test('a NUL in the public search: 400 naming q', async () => {
    const res = await request(p.app).get('/public/enterprises').query({ q: '钦州\u0000企业' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'q' })]);
  });
});

describe('the decoding stage alone, fed one byte at a time', () => {
  const run = async (stage: Transform, bytes: Buffer) => {
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([...bytes].map((b) => Buffer.from([b]))),
      stage,
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    );
    return Buffer.concat(out).toString('utf8');
  };

  test('UTF-8 split anywhere passes through whole; GB18030 decodes to the same text', async () => {
    const text = '钦州市𠀀虚假宣传\n第二行，罚款\n';
    expect(await run(decodingStage('utf-8', false, 'text/csv'), Buffer.from(text))).toBe(text);
    expect(await run(decodingStage('gb18030', true, 'text/csv'), iconv.encode(text, 'gb18030'))).toBe(text);
  });

  test('GB18030: the euro sign of code page 936 (0x80) is read; an unassigned four-byte pointer is refused', async () => {
    expect(await run(decodingStage('gb18030', true, 'text/csv'), Buffer.from([0x41, 0x80, 0x0a]))).toBe('A€\n');
    // iconv-lite alone would decode these bytes to U+10000 (pillarjs/iconv-lite#417)
    const unassigned = Buffer.from([0x41, 0x0a, 0x84, 0x31, 0xa5, 0x30, 0x0a]);
    await expect(run(decodingStage('gb18030', true, 'text/csv'), unassigned)).rejects.toMatchObject({ line: 2 });
  });

  test('an overlong form, a surrogate and a stray continuation byte are each refused on their line', async () => {
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80]]) {
      const bytes = Buffer.concat([Buffer.from('一\n二\n'), Buffer.from(bad), Buffer.from('\n')]);
      await expect(run(decodingStage('utf-8', false, 'text/csv'), bytes)).rejects.toMatchObject({ line: 3 });
      expect(firstInvalidUtf8(bytes)).toBe(8);
    }
  });
});
