/**
 * Errors a clerk can act on and records as departments really send them (issue "intake that holds"): a wrong type
 * is a wrong type, reasons come in Chinese and English, an exact duplicate of a stored record is refused with the
 * record's key, and a warning with a fixed term (a lifting date ahead, E15(3)) is accepted and ends on its day.
 *
 * "Today" is the platform's own clock (the intake refuses events after it); every date below is counted from it,
 * so the file passes on any day (README, "Tests on any day").
 */
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow, registrationRow, uscc } from './support/fixtures';
import { addCalendarDays, shanghaiDate } from '../domain/calendar';
import { RecordValidator } from '../domain/records';
import { CATALOG } from '../domain/catalog';
import { bilingualReason } from '../domain/z';
import { registerBatch, publishPending } from '../db/publication';
import { createActivities } from '../activities';

let p: TestPlatform;
let gsj: string;
let court: string;

beforeAll(async () => {
  p = await startTestPlatform();
  gsj = (await principalWithKey(p.db, { name: '工商局报送员（规则）', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
  court = (await principalWithKey(p.db, { name: '法院报送员（规则）', role: 'provider', providerCode: 'QZ-COURT' })).auth;
}, 120000);
afterAll(async () => {
  await p?.stop();
});

let keySeq = 0;
const nextKey = () => `rules-${++keySeq}-${process.pid}`;
const today = () => shanghaiDate(new Date());

function submit(auth: string, records: unknown[], key = nextKey()) {
  return request(p.app).post('/submissions').set('Authorization', auth).set('Idempotency-Key', key).send({ period: '2026-10', records });
}

function submitCsv(auth: string, csv: string, key = nextKey()) {
  return request(p.app)
    .post('/submissions?period=2026-10')
    .set('Authorization', auth)
    .set('Idempotency-Key', key)
    .set('Content-Type', 'text/csv; charset=utf-8')
    .send(csv);
}

async function recordCount() {
  const [r] = await p.db('records').count({ n: '*' });
  return Number(r.n);
}

type Detail = { row: number; field: string; reason: string; article?: string; record_key?: string };
const details = (res: request.Response): Detail[] => res.body.error.details;

describe('a wrong type is reported as a wrong type, a missing field as missing', () => {
  test.each([
    [
      'event_date as a number',
      { event_date: 20261012 },
      'event_date',
      /类型错误：应为文本，收到的是数字 \/ wrong type: expected string, received number/,
    ],
    ['subject_id as null', { subject_id: null }, 'subject_id', /类型错误.*空值 null.*received null/],
    ['payload as an array', { payload: [1, 2] }, 'payload', /类型错误.*received array/],
    ['payload as text', { payload: '罚款' }, 'payload', /类型错误：应为对象，收到的是文本/],
  ])('%s', async (_name, override, field, reason) => {
    const before = await recordCount();
    const res = await submit(gsj, [penaltyRow(9001, override)]);
    expect(res.status).toBe(422);
    const d = details(res).find((x) => x.field === field);
    expect(d).toBeDefined();
    expect(d!.row).toBe(1);
    expect(d!.reason).toMatch(reason);
    expect(d!.reason).not.toMatch(/缺少必填字段/);
    expect(await recordCount()).toBe(before);
  });

  test('a payload number given as text that is not a number, and a true/false field given otherwise', async () => {
    const amount = await submit(gsj, [penaltyRow(9002, { payload: { ...penaltyRow(9002).payload, amount: '五千' } })]);
    expect(amount.status).toBe(422);
    expect(details(amount)).toEqual([
      expect.objectContaining({
        row: 1,
        field: 'payload.amount',
        reason: expect.stringMatching(/^应为数字，收到的是 "五千" \/ must be a number$/),
      }),
    ]);
    const obj = await submit(gsj, [penaltyRow(9002, { payload: { ...penaltyRow(9002).payload, amount: { v: 1 } } })]);
    expect(details(obj)[0].reason).toMatch(/^应为数字/);
  });

  test('a field that is missing says so, with the row', async () => {
    const { event_date: _e, ...noDate } = penaltyRow(9003);
    const { amount: _a, decision_no: _d, ...payload } = penaltyRow(9003).payload;
    const res = await submit(gsj, [registrationRow(9003), { ...noDate }, penaltyRow(9004, { payload })]);
    expect(res.status).toBe(422);
    expect(details(res)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ row: 2, field: 'event_date', reason: '缺少必填字段 / required field is missing' }),
        expect.objectContaining({ row: 3, field: 'payload.decision_no', reason: '缺少必填字段 / required field is missing' }),
      ]),
    );
    // amount is optional: no error for it.
    expect(details(res).some((d) => d.field === 'payload.amount')).toBe(false);
  });

  test('CSV: a number column with text is a wrong value, an empty required cell is missing', async () => {
    const header = 'item_code,subject_id,event_date,decision_no,violation,penalty,authority,amount';
    const csv = `${header}\nE-PENALTY,${uscc(9005)},2026-10-09,钦市监罚〔2026〕9005号,虚假宣传,罚款,钦州市市场监督管理局,很多\nE-PENALTY,${uscc(9006)},2026-10-09,,虚假宣传,罚款,钦州市市场监督管理局,100\n`;
    const res = await submitCsv(gsj, csv);
    expect(res.status).toBe(422);
    expect(details(res)).toEqual([
      expect.objectContaining({ row: 1, field: 'payload.amount', reason: expect.stringMatching(/^应为数字/) }),
      expect.objectContaining({ row: 2, field: 'payload.decision_no', reason: '缺少必填字段 / required field is missing' }),
    ]);
  });
});

describe('reasons in Chinese and English (zod zh-CN and en locales)', () => {
  test('an API query parameter out of range is answered in both languages', async () => {
    const res = await request(p.app).get('/submissions?limit=abc').set('Authorization', gsj);
    expect(res.status).toBe(400);
    const reason: string = res.body.error.details[0].reason;
    expect(reason).toMatch(/[\u4e00-\u9fff]/);
    expect(reason).toMatch(/ \/ [A-Za-z]/);
  });

  test('the error map: missing, wrong type, and the locales for the rest', () => {
    expect(bilingualReason({ code: 'invalid_type', expected: 'string', input: undefined, path: [] } as never)).toBe(
      '缺少必填字段 / required field is missing',
    );
    expect(bilingualReason({ code: 'invalid_type', expected: 'number', input: 'x', path: [] } as never)).toBe(
      '类型错误：应为数字，收到的是文本 / wrong type: expected number, received string',
    );
    const tooSmall = bilingualReason({ code: 'too_small', origin: 'string', minimum: 3, inclusive: true, input: 'x', path: [] } as never)!;
    const [zh, en] = tooSmall.split(' / ');
    expect(zh).toMatch(/[\u4e00-\u9fff]/);
    expect(en).toMatch(/Too small/);
  });
});

describe('an exact duplicate of a stored current record is refused, naming the record (E10)', () => {
  test('the same record under a new Idempotency-Key: 422 DUPLICATE_RECORDS with the stored key; nothing of the batch stored', async () => {
    const first = await submit(gsj, [penaltyRow(9101), penaltyRow(9102)]);
    expect(first.status).toBe(202);
    const [stored] = await p
      .db('records')
      .where({ submission_id: first.body.submission.id, subject_id: uscc(9102) })
      .select('record_key');
    const before = await recordCount();
    // Payload keys in another order are the same content (JSON equality).
    const reordered = penaltyRow(9102);
    const payload = Object.fromEntries(Object.entries(reordered.payload).reverse());
    const again = await submit(gsj, [penaltyRow(9103), { ...reordered, payload }]);
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('DUPLICATE_RECORDS');
    expect(details(again)).toEqual([
      expect.objectContaining({
        row: 2,
        field: '(record)',
        article: 'E10',
        record_key: stored.record_key,
        reason: expect.stringContaining(stored.record_key),
      }),
    ]);
    expect(await recordCount()).toBe(before);
    // The public page would have shown it twice: only one record of 9102 exists.
    expect(
      await p
        .db('records')
        .where({ subject_id: uscc(9102), is_current: true })
        .count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
  });

  test('two identical rows in one batch: the second names the first', async () => {
    const res = await submit(gsj, [penaltyRow(9111), registrationRow(9111), penaltyRow(9111)]);
    expect(res.status).toBe(422);
    expect(details(res)).toEqual([expect.objectContaining({ row: 3, field: '(record)', reason: expect.stringContaining('第 1 行') })]);
    expect(await p.db('records').where('subject_id', uscc(9111)).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  test('CSV: the same rule, with CSV row numbers', async () => {
    const header = 'item_code,subject_id,event_date,decision_no,violation,penalty,authority';
    const line = (n: number) => `E-PENALTY,${uscc(n)},2026-10-09,钦市监罚〔2026〕${n}号,虚假宣传,罚款,钦州市市场监督管理局`;
    expect((await submitCsv(gsj, `${header}\n${line(9121)}\n`)).status).toBe(202);
    const res = await submitCsv(gsj, `${header}\n${line(9122)}\n${line(9123)}\n${line(9121)}\n`);
    expect(res.status).toBe(422);
    expect(details(res)).toEqual([expect.objectContaining({ row: 3, field: '(record)', record_key: expect.any(String) })]);
    // Note rows and blank rows are skipped but keep their numbers: the duplicate is still named by its own row.
    const noted = await submitCsv(gsj, `${header}\n#示例行，不入库,,,,,,\n,,,,,,\n${line(9124)}\n${line(9121)}\n`);
    expect(noted.status).toBe(422);
    expect(details(noted)).toEqual([expect.objectContaining({ row: 4, field: '(record)', record_key: expect.any(String) })]);
  });

  test('not a duplicate: a different date or detail, another provider, a record since corrected, or one retracted', async () => {
    const base = penaltyRow(9131);
    expect((await submit(gsj, [base])).status).toBe(202);
    // A different event date or another detail is another record.
    expect((await submit(gsj, [{ ...base, event_date: '2026-10-11' }])).status).toBe(202);
    expect((await submit(gsj, [{ ...base, payload: { ...base.payload, amount: 6000 } }])).status).toBe(202);
    // Another provider reporting the same facts is not this provider's duplicate (QZ-COURT reports E-DISHONEST).
    const dishonest = {
      item_code: 'E-DISHONEST',
      subject_id: uscc(9131),
      event_date: '2026-10-10',
      payload: { case_no: '（2026）桂0702执9131号', obligation: '支付货款', court: '钦州市钦南区人民法院' },
    };
    expect((await submit(court, [dishonest])).status).toBe(202);
    // A retracted record no longer stands: sending it again is not a duplicate.
    const [rec] = await p
      .db('records')
      .where({ subject_id: uscc(9131), event_date: '2026-10-12', is_current: true })
      .whereRaw("payload->>'amount' = '5000'");
    const retract = await request(p.app)
      .post(`/records/${rec.record_key}/retraction`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '重复报送，撤回' });
    expect(retract.status).toBe(201);
    expect((await submit(gsj, [base])).status).toBe(202);
  });
});

describe('a warning with a fixed term: a lifting date ahead is accepted, and publication ends on that day (E15(3))', () => {
  const sweep = (runDate: string) =>
    createActivities({ db: p.db, publicationWorkingDays: 5, temporal: p.env.client, taskQueue: p.taskQueue }).sweepPublications({
      runDate,
      asOf: new Date().toISOString(),
    });

  async function publishNow(submissionId: string) {
    await registerBatch(p.db, submissionId, today());
    await publishPending(p.db, { submissionId }, new Date().toISOString());
  }

  test('accepted; shown with its end; still public the day before; unpublished and archived on the lifting day', async () => {
    const lifted = addCalendarDays(today(), 40);
    const res = await submit(gsj, [registrationRow(9201), penaltyRow(9201, { lifted_date: lifted })]);
    expect(res.status).toBe(202);
    await publishNow(res.body.submission.id);
    const page = await request(p.app).get(`/public/enterprises/${uscc(9201)}`);
    expect(page.status).toBe(200);
    expect(page.body.warnings).toEqual([
      expect.objectContaining({ lifted_date: lifted, period_end: addCalendarDays(lifted, -1), period_basis: 'lifted' }),
    ]);
    const [warning] = await p
      .db('records')
      .where({ subject_id: uscc(9201), item_code: 'E-PENALTY' })
      .select('record_key');
    await sweep(addCalendarDays(lifted, -1));
    expect(await p.db('publications').where('record_key', warning.record_key).first('state')).toEqual({ state: 'published' });
    await sweep(lifted);
    expect(await p.db('publications').where('record_key', warning.record_key).first('state', 'archive_reason', 'archived_on')).toEqual({
      state: 'archived',
      archive_reason: 'period_ended',
      archived_on: lifted,
    });
    expect((await request(p.app).get(`/public/enterprises/${uscc(9201)}`)).body.warnings).toEqual([]);
  });

  test('the provider may correct the lifting date, nearer or further; the sweep follows the correction', async () => {
    const lifted = addCalendarDays(today(), 90);
    const res = await submit(gsj, [registrationRow(9202), penaltyRow(9202, { lifted_date: lifted })]);
    expect(res.status).toBe(202);
    await publishNow(res.body.submission.id);
    const [warning] = await p
      .db('records')
      .where({ subject_id: uscc(9202), item_code: 'E-PENALTY' })
      .select('record_key');
    const nearer = addCalendarDays(today(), 20);
    const fix = await request(p.app)
      .post(`/records/${warning.record_key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '处罚期限变更', changes: { lifted_date: nearer } });
    expect(fix.status).toBe(201);
    expect((await request(p.app).get(`/public/enterprises/${uscc(9202)}`)).body.warnings[0]).toMatchObject({
      lifted_date: nearer,
      period_end: addCalendarDays(nearer, -1),
    });
    await sweep(addCalendarDays(nearer, -1));
    expect(await p.db('publications').where('record_key', warning.record_key).first('state', 'period_end')).toEqual({
      state: 'published',
      period_end: addCalendarDays(nearer, -1),
    });
    await sweep(nearer);
    expect((await p.db('publications').where('record_key', warning.record_key).first('state')).state).toBe('archived');
  });

  test('an honor with a validity end ahead is accepted; a lifting date on an honor is still refused', async () => {
    const honor = {
      item_code: 'E-HONOR',
      subject_id: uscc(9203),
      event_date: '2026-06-01',
      valid_until: addCalendarDays(today(), 400),
      payload: { title: '守合同重信用企业', kind: '表彰', issuer: '钦州市人民政府' },
    };
    expect((await submit(gsj, [honor])).status).toBe(202);
    const wrong = await submit(gsj, [{ ...honor, subject_id: uscc(9204), lifted_date: addCalendarDays(today(), 10) }]);
    expect(wrong.status).toBe(422);
    expect(details(wrong)).toEqual([expect.objectContaining({ field: 'lifted_date', article: 'E15' })]);
  });

  test('an item whose publication does not end at lifting keeps refusing a lifting date ahead', () => {
    const item = { ...CATALOG.find((i) => i.code === 'E-PENALTY')!, periodRule: 'validity_or_default' as const };
    const v = new RecordValidator({ catalog: new Map([[item.code, item]]), allowedItems: new Set([item.code]), today: '2026-12-02' });
    const row = penaltyRow(9205, { lifted_date: '2027-01-15' });
    expect(v.validate(row, 1)).toEqual({
      ok: false,
      errors: [expect.objectContaining({ row: 1, field: 'lifted_date', article: 'E15', reason: expect.stringContaining('2026-12-02') })],
    });
    const lawful = new RecordValidator({
      catalog: new Map(CATALOG.map((i) => [i.code, i])),
      allowedItems: new Set(['E-PENALTY']),
      today: '2026-12-02',
    });
    expect(lawful.validate(row, 1).ok).toBe(true);
    // Lifted before the event is still wrong.
    expect(lawful.validate(penaltyRow(9205, { lifted_date: '2026-10-01' }), 1).ok).toBe(false);
  });
});
