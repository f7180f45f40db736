import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { startPendingSubmissionWorkflows } from '../processes/starts';
import { citizenId, penaltyRow, registrationRow, uscc } from './support/fixtures';

let p: TestPlatform;
let gsj: string; // 工商局: E-BASIC-REG, E-PENALTY, P-BASIC …
let court: string; // 法院: E-DISHONEST, P-DISHONEST
let tax: string; // 税务局 (monthly)

beforeAll(async () => {
  p = await startTestPlatform();
  gsj = (await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' })).auth;
  court = (await principalWithKey(p.db, { name: '法院报送员', role: 'provider', providerCode: 'QZ-COURT' })).auth;
  tax = (await principalWithKey(p.db, { name: '税务局报送员', role: 'provider', providerCode: 'QZ-TAX' })).auth;
}, 120000);
afterAll(async () => {
  await p?.stop();
});

let keySeq = 0;
const nextKey = () => `key-${++keySeq}-${Date.now()}`;

async function counts() {
  const [r] = await p.db('records').count({ n: '*' });
  const [s] = await p.db('submissions').count({ n: '*' });
  const [k] = await p.db('idempotency_keys').count({ n: '*' });
  return { records: Number(r.n), submissions: Number(s.n), keys: Number(k.n) };
}

function submit(auth: string, body: unknown, key: string | null = nextKey()) {
  const req = request(p.app).post('/submissions').set('Authorization', auth);
  if (key !== null) req.set('Idempotency-Key', key);
  return req.send(body as object);
}

function submitCsv(auth: string, csv: string, period = '2026-10', key = nextKey()) {
  return request(p.app)
    .post(`/submissions?period=${period}`)
    .set('Authorization', auth)
    .set('Idempotency-Key', key)
    .set('Content-Type', 'text/csv; charset=utf-8')
    .send(csv);
}

describe('a valid batch', () => {
  test('JSON: stored in one go, its workflow started and the publication deadline recorded (E12)', async () => {
    const res = await submit(gsj, { period: '2026-10', records: [registrationRow(1), penaltyRow(1)] });
    expect(res.status).toBe(202);
    expect(res.body.workflow).toBe('started');
    expect(res.body.submission).toMatchObject({ provider: 'QZ-GSJ', period: '2026-10', format: 'json', row_count: 2 });
    const id = res.body.submission.id;
    expect(res.headers.location).toBe(`/submissions/${id}`);
    const result = await p.env.client.workflow.getHandle(res.body.submission.workflow_id).result();
    const row = await p.db('submissions').where('id', id).first();
    expect(row.publication_deadline).toBe(result.receipt!.publicationDeadline);
    expect(row.publication_deadline > result.receipt!.receiptDate).toBe(true);
    const stored = await p.db('records').where('submission_id', id).orderBy('id');
    expect(stored.map((r) => [r.item_code, r.subject_id, r.version, r.is_current])).toEqual([
      ['E-BASIC-REG', uscc(1), 1, true],
      ['E-PENALTY', uscc(1), 1, true],
    ]);
    expect(stored[1].payload.amount).toBe(5000);
    expect(await p.db('enterprises').where('uscc', uscc(1)).first('name', 'status')).toEqual({
      name: '钦州市测试企业1有限公司',
      status: '存续',
    });
    const audit = await p.db('audit_log').where({ action: 'submission.accept', entity_id: id });
    expect(audit).toHaveLength(1);

    const view = await request(p.app).get(`/submissions/${id}`).set('Authorization', gsj);
    expect(view.status).toBe(200);
    expect(view.body.submission).toMatchObject({
      id,
      row_count: 2,
      workflow_started: true,
      publication_deadline: row.publication_deadline,
    });
  });

  test('CSV: fixed columns and one column per payload field; numbers converted', async () => {
    const csv = [
      'item_code,subject_id,event_date,decision_no,violation,penalty,authority,amount',
      `E-PENALTY,${uscc(2)},2026-10-09,钦市监罚〔2026〕2号,"无照经营,情节较轻",警告,钦州市市场监督管理局,1200.5`,
      `E-PENALTY,${uscc(3)},2026-10-10,钦市监罚〔2026〕3号,虚假宣传,罚款,钦州市市场监督管理局,`,
    ].join('\n');
    const res = await submitCsv(gsj, csv);
    expect(res.status).toBe(202);
    expect(res.body.submission).toMatchObject({ format: 'csv', row_count: 2 });
    const rows = await p.db('records').where('submission_id', res.body.submission.id).orderBy('id');
    expect(rows[0].payload).toEqual({
      decision_no: '钦市监罚〔2026〕2号',
      violation: '无照经营,情节较轻',
      penalty: '警告',
      authority: '钦州市市场监督管理局',
      amount: 1200.5,
    });
    expect(rows[1].payload.amount).toBeUndefined();
  });

  test('the README example batches (examples/batch.json, examples/batch.csv) are accepted', async () => {
    const json = JSON.parse(fs.readFileSync(path.join(__dirname, '../examples/batch.json'), 'utf8'));
    const a = await submit(gsj, json);
    expect(a.status).toBe(202);
    expect(a.body.submission.row_count).toBe(json.records.length);
    const b = await submitCsv(gsj, fs.readFileSync(path.join(__dirname, '../examples/batch.csv'), 'utf8'));
    expect(b.status).toBe(202);
    expect(b.body.submission.row_count).toBe(2);
  });

  test('a person record with its concluded date (P19)', async () => {
    const res = await submit(court, {
      period: '2026-10',
      records: [
        {
          item_code: 'P-DISHONEST',
          subject_id: citizenId(7),
          event_date: '2025-04-01',
          concluded_date: '2026-09-30',
          payload: { case_no: '(2025)桂07执1号', court: '钦州市中级人民法院', obligation: '给付货款' },
        },
      ],
    });
    expect(res.status).toBe(202);
    const rec = await p.db('records').where('submission_id', res.body.submission.id).first();
    expect(rec).toMatchObject({ subject_type: 'person', subject_id: citizenId(7), concluded_date: '2026-09-30' });
    expect(await p.db('persons').where('citizen_id', citizenId(7)).first('citizen_id')).toBeTruthy();
  });
});

describe('idempotency (Idempotency-Key)', () => {
  test('the same key with the same batch answers the first answer and stores nothing new', async () => {
    const key = nextKey();
    const body = { period: '2026-10', records: [penaltyRow(10)] };
    const first = await submit(gsj, body, key);
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBe('false');
    const before = await counts();
    const again = await submit(gsj, body, key);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.submission).toEqual(first.body.submission);
    expect(await counts()).toEqual(before);
  });

  test('the same key with a different batch is 422, nothing stored', async () => {
    const key = nextKey();
    expect((await submit(gsj, { period: '2026-10', records: [penaltyRow(11)] }, key)).status).toBe(202);
    const before = await counts();
    const res = await submit(gsj, { period: '2026-10', records: [penaltyRow(12)] }, key);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await counts()).toEqual(before);
  });

  test('keys belong to a provider: the same key from another provider is a new batch', async () => {
    const key = nextKey();
    expect((await submit(gsj, { period: '2026-10', records: [penaltyRow(13)] }, key)).status).toBe(202);
    const res = await submit(tax, { period: '2026-10', records: [penaltyRow(13)] }, key);
    expect(res.status).toBe(202);
    expect(res.headers['idempotent-replayed']).toBe('false');
  });

  test('a missing key is 400', async () => {
    const before = await counts();
    const res = await submit(gsj, { period: '2026-10', records: [penaltyRow(14)] }, null);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('Idempotency-Key');
    expect(await counts()).toEqual(before);
  });

  test('a key whose first request is still running is 409', async () => {
    const server = http.createServer(p.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const key = nextKey();
    // The first request sends its header and part of its CSV body, then waits.
    const slow = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/submissions?period=2026-10',
      headers: { Authorization: gsj, 'Idempotency-Key': key, 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' },
    });
    const slowAnswer = new Promise<{ status: number; body: string }>((resolve) => {
      slow.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
    });
    slow.write('item_code,subject_id,event_date,decision_no,violation,penalty,authority\n');
    slow.write(`E-PENALTY,${uscc(20)},2026-10-09,钦市监罚〔2026〕20号,虚假宣传,罚款,钦州市市场监督管理局\n`);
    await new Promise((r) => setTimeout(r, 300));
    const second = await request(server)
      .post('/submissions?period=2026-10')
      .set('Authorization', gsj)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'text/csv')
      .send('item_code,subject_id,event_date\n');
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('IDEMPOTENCY_KEY_IN_USE');
    slow.end(`E-PENALTY,${uscc(21)},2026-10-09,钦市监罚〔2026〕21号,虚假宣传,罚款,钦州市市场监督管理局\n`);
    const first = await slowAnswer;
    expect(first.status).toBe(202);
    expect(JSON.parse(first.body).submission.row_count).toBe(2);
    await new Promise((r) => server.close(r));
  });

  test('the workflow id derives from the key: a replay does not start a second workflow', async () => {
    const key = nextKey();
    const body = { period: '2026-10', records: [penaltyRow(15)] };
    const first = await submit(gsj, body, key);
    await submit(gsj, body, key);
    const wfId = first.body.submission.workflow_id;
    expect(wfId).toMatch(/^submission-QZ-GSJ-[0-9a-f]{32}$/);
    expect(wfId).not.toContain(key);
    const desc = await p.env.client.workflow.getHandle(wfId).describe();
    expect(desc.workflowId).toBe(wfId);
    expect(await p.db('submissions').where('workflow_id', wfId).count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});

test('a period is reported in the cadence in force when it began (an agreement to report quarterly, E7)', async () => {
  const custom = (await principalWithKey(p.db, { name: '海关报送员', role: 'provider', providerCode: 'QZ-CUSTOMS' })).auth;
  const customs = await p.db('providers').where('code', 'QZ-CUSTOMS').first('id');
  await p.db('provider_cadence_changes').insert({
    provider_id: customs.id,
    kind: 'agreement',
    cadence: 'quarterly',
    previous_cadence: 'monthly',
    effective_from: '2026-10-01',
    agreed_on: '2026-09-15',
    actor: 'test',
  });
  const quarter = await submit(custom, { period: '2026-Q4', records: [penaltyRow(90)] });
  expect(quarter.status).toBe(202);
  const lateMonth = await submit(custom, { period: '2026-09', records: [penaltyRow(91)] });
  expect(lateMonth.status).toBe(202);
  const wrong = await submit(custom, { period: '2026-10', records: [penaltyRow(92)] });
  expect(wrong.status).toBe(422);
  expect(wrong.body.error.details[0]).toMatchObject({ field: 'period', article: 'E7, P9' });
});

test('a batch stored while Temporal was unreachable gets its workflow from the reconciler', async () => {
  // As if Temporal had been down when the batch was accepted: its workflow never existed.
  const fresh = await submit(gsj, { period: '2026-10', records: [penaltyRow(17)] });
  const pendingId = fresh.body.submission.id;
  await p.env.client.workflow.getHandle(fresh.body.submission.workflow_id).terminate('test');
  await p
    .db('submissions')
    .where('id', pendingId)
    .update({
      workflow_id: `${fresh.body.submission.workflow_id}-never-started`,
      workflow_started_at: null,
      publication_deadline: null,
      receipt_recorded_at: null,
      received_at: p.db.raw(`received_at - interval '5 minutes'`),
    });
  const started = await startPendingSubmissionWorkflows(p.db, p.env.client, p.taskQueue);
  expect(started).toBe(1);
  const result = await p.env.client.workflow.getHandle(`${fresh.body.submission.workflow_id}-never-started`).result();
  expect(result.receipt?.submissionId).toBe(pendingId);
  const row = await p.db('submissions').where('id', pendingId).first();
  expect(row.workflow_started_at).not.toBeNull();
  expect(row.publication_deadline).toBe(result.receipt?.publicationDeadline);
  expect(await startPendingSubmissionWorkflows(p.db, p.env.client, p.taskQueue)).toBe(0);
});

describe('bad input: 4xx naming row, field and reason; nothing stored', () => {
  const cases: Array<
    [string, () => Promise<request.Response>, number, { row?: number; field: string; article?: string; reason?: RegExp }]
  > = [
    [
      'wrong USCC check character',
      () =>
        submit(gsj, {
          period: '2026-10',
          records: [penaltyRow(30), penaltyRow(31, { subject_id: uscc(31).slice(0, 17) + (uscc(31)[17] === 'A' ? 'B' : 'A') })],
        }),
      422,
      { row: 2, field: 'subject_id', article: 'GB 32100-2015', reason: /校验码/ },
    ],
    [
      'USCC with a letter GB 32100 excludes',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(32, { subject_id: '91450700MA0000O32X' })] }),
      422,
      { row: 1, field: 'subject_id' },
    ],
    [
      'wrong citizen ID check digit',
      () =>
        submit(court, {
          period: '2026-10',
          records: [
            {
              item_code: 'P-DISHONEST',
              subject_id: citizenId(1).slice(0, 17) + (citizenId(1)[17] === '1' ? '2' : '1'),
              event_date: '2026-01-05',
              payload: { case_no: 'x', court: 'y', obligation: 'z' },
            },
          ],
        }),
      422,
      { row: 1, field: 'subject_id', article: 'P9, GB 11643-1999' },
    ],
    [
      'citizen ID with an impossible birth date',
      () =>
        submit(court, {
          period: '2026-10',
          records: [
            {
              item_code: 'P-DISHONEST',
              subject_id: '450700198502300012',
              event_date: '2026-01-05',
              payload: { case_no: 'x', court: 'y', obligation: 'z' },
            },
          ],
        }),
      422,
      { row: 1, field: 'subject_id', reason: /出生日期/ },
    ],
    [
      'an item not in the catalog',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(33, { item_code: 'E-NOPE' })] }),
      422,
      { row: 1, field: 'item_code', article: 'P6' },
    ],
    [
      "an item outside the provider's duties",
      () =>
        submit(gsj, {
          period: '2026-10',
          records: [penaltyRow(34, { item_code: 'E-DISHONEST', payload: { case_no: 'x', court: 'y', obligation: 'z' } })],
        }),
      422,
      { row: 1, field: 'item_code', article: 'E7' },
    ],
    [
      'a required payload field missing',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(35, { payload: { decision_no: 'x', violation: 'y', penalty: 'z' } })] }),
      422,
      { row: 1, field: 'payload.authority', article: 'P6' },
    ],
    [
      'a payload field the item does not have',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(36, { payload: { ...penaltyRow(36).payload, shoe_size: 42 } })] }),
      422,
      { row: 1, field: 'payload.shoe_size' },
    ],
    [
      "a value outside the item's list",
      () =>
        submit(gsj, {
          period: '2026-10',
          records: [{ ...registrationRow(37), payload: { ...registrationRow(37).payload, status: '休眠' } }],
        }),
      422,
      { row: 1, field: 'payload.status' },
    ],
    [
      'a number that is not a number',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(38, { payload: { ...penaltyRow(38).payload, amount: 'five' } })] }),
      422,
      { row: 1, field: 'payload.amount' },
    ],
    [
      'an impossible date',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(39, { event_date: '2026-02-30' })] }),
      422,
      { row: 1, field: 'event_date' },
    ],
    [
      'an event in the future',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(40, { event_date: '2099-01-01' })] }),
      422,
      { row: 1, field: 'event_date' },
    ],
    [
      'concluded before the event',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(41, { concluded_date: '2026-01-01' })] }),
      422,
      { row: 1, field: 'concluded_date' },
    ],
    [
      'a validity end on a non-honor record',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(42, { valid_until: '2027-01-01' })] }),
      422,
      { row: 1, field: 'valid_until', article: 'E15' },
    ],
    [
      'a field outside the record shape',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(43, { colour: 'red' })] }),
      422,
      { row: 1, field: 'colour' },
    ],
    [
      'P7: blood type in English',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(44, { payload: { ...penaltyRow(44).payload, bloodType: 'A' } })] }),
      422,
      { row: 1, field: 'payload.bloodType', article: 'P7' },
    ],
    [
      'P7: 民族 in Chinese',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(45, { payload: { ...penaltyRow(45).payload, 民族: '汉' } })] }),
      422,
      { row: 1, field: 'payload.民族', article: 'P7' },
    ],
    [
      'P7: religion nested deep',
      () =>
        submit(gsj, {
          period: '2026-10',
          records: [penaltyRow(46, { payload: { ...penaltyRow(46).payload, extra: { person: { religious_belief: 'x' } } } })],
        }),
      422,
      { row: 1, field: 'payload.extra.person.religious_belief', article: 'P7' },
    ],
    [
      'P7: medical history at the record level',
      () => submit(gsj, { period: '2026-10', records: [penaltyRow(47, { medical_history: 'x' })] }),
      422,
      { row: 1, field: 'medical_history', article: 'P7' },
    ],
    [
      'P7: 指纹, 基因, 家庭出身',
      () =>
        submit(gsj, {
          period: '2026-10',
          records: [penaltyRow(48, { payload: { ...penaltyRow(48).payload, 指纹: 'x', gene_sequence: 'y', 家庭出身: 'z' } })],
        }),
      422,
      { row: 1, field: 'payload.指纹', article: 'P7' },
    ],
    [
      'P7: a CSV column',
      () =>
        submitCsv(
          gsj,
          `item_code,subject_id,event_date,decision_no,violation,penalty,authority,血型\nE-PENALTY,${uscc(49)},2026-10-09,a,b,c,d,A\n`,
        ),
      422,
      { row: 0, field: '血型', article: 'P7' },
    ],
    [
      'CSV without a required column',
      () => submitCsv(gsj, `item_code,event_date\nE-PENALTY,2026-10-09\n`),
      422,
      { row: 0, field: 'subject_id' },
    ],
    [
      'CSV with a short line',
      () =>
        submitCsv(
          gsj,
          `item_code,subject_id,event_date,decision_no,violation,penalty,authority\nE-PENALTY,${uscc(50)},2026-10-09,a,b,c,d\nE-PENALTY,${uscc(51)}\n`,
        ),
      422,
      { row: 2, field: '(csv)' },
    ],
    [
      'a period in the wrong form',
      () => submit(gsj, { period: 'October', records: [penaltyRow(52)] }),
      422,
      { field: 'period', article: 'E7, P9' },
    ],
    [
      'a quarterly period from a monthly provider',
      () => submit(gsj, { period: '2026-Q3', records: [penaltyRow(53)] }),
      422,
      { field: 'period' },
    ],
    ['a period that has not begun', () => submit(gsj, { period: '2099-01', records: [penaltyRow(54)] }), 422, { field: 'period' }],
    [
      'CSV without a period',
      () =>
        request(p.app)
          .post('/submissions')
          .set('Authorization', gsj)
          .set('Idempotency-Key', nextKey())
          .set('Content-Type', 'text/csv')
          .send('item_code,subject_id,event_date\n'),
      422,
      { field: 'period' },
    ],
    ['an empty batch', () => submit(gsj, { period: '2026-10', records: [] }), 422, { field: 'records' }],
    ['no records array', () => submit(gsj, { period: '2026-10' }), 400, { field: 'records' }],
    [
      'malformed JSON',
      () =>
        request(p.app)
          .post('/submissions')
          .set('Authorization', gsj)
          .set('Idempotency-Key', nextKey())
          .set('Content-Type', 'application/json')
          .send('{"period": "2026-10", "records": ['),
      400,
      { field: '(body)' },
    ],
    [
      'an unsupported content type',
      () =>
        request(p.app)
          .post('/submissions')
          .set('Authorization', gsj)
          .set('Idempotency-Key', nextKey())
          .set('Content-Type', 'application/xml')
          .send('<batch/>'),
      415,
      { field: 'content-type' },
    ],
  ];

  test.each(cases)('%s', async (_name, send, status, expected) => {
    const before = await counts();
    const res = await send();
    expect(res.status).toBe(status);
    const details = res.body.error.details as Array<{ row?: number; field: string; reason: string; article?: string }>;
    const hit = details.find((d) => d.field === expected.field);
    expect(hit).toBeDefined();
    if (expected.row !== undefined) expect(hit!.row).toBe(expected.row);
    if (expected.article) expect(hit!.article).toBe(expected.article);
    if (expected.reason) expect(hit!.reason).toMatch(expected.reason);
    expect(hit!.reason.length).toBeGreaterThan(3);
    expect(await counts()).toEqual(before);
  });

  test('one bad row among many valid ones rejects the whole batch and lists every problem', async () => {
    const before = await counts();
    const records = Array.from({ length: 50 }, (_, i) => penaltyRow(100 + i));
    records[9] = penaltyRow(109, { subject_id: 'not-a-code' });
    records[39] = penaltyRow(139, { payload: { ...penaltyRow(139).payload, ethnicity: 'x' } });
    const res = await submit(gsj, { period: '2026-10', records });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_BATCH');
    expect(res.body.error.error_count).toBe(2);
    expect(res.body.error.stored).toBe(0);
    expect(res.body.error.details.map((d: { row: number; field: string }) => [d.row, d.field])).toEqual([
      [10, 'subject_id'],
      [40, 'payload.ethnicity'],
    ]);
    expect(await counts()).toEqual(before);
  });

  test('a large CSV streams through; one bad row at the very end leaves nothing behind', async () => {
    const header = 'item_code,subject_id,event_date,decision_no,violation,penalty,authority\n';
    const line = (i: number) => `E-PENALTY,${uscc(10000 + i)},2026-10-09,钦市监罚〔2026〕${i}号,虚假宣传,罚款,钦州市市场监督管理局\n`;
    const n = 20000;
    let good = header;
    for (let i = 0; i < n; i++) good += line(i);
    const before = await counts();
    const bad = await submitCsv(gsj, good + `E-PENALTY,${uscc(1)},2026-10-09,x,y,z,\n`);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ row: n + 1, field: 'payload.authority' })]);
    expect(await counts()).toEqual(before);
    const ok = await submitCsv(gsj, good);
    expect(ok.status).toBe(202);
    expect(ok.body.submission.row_count).toBe(n);
    expect((await counts()).records).toBe(before.records + n);
  }, 120000);
});

describe('roles and ownership (E10, E23)', () => {
  test('only providers submit; no key is 401, a bad key is 401 and recorded', async () => {
    const admin = (await principalWithKey(p.db, { name: '管理员', role: 'admin' })).auth;
    const ent = (await principalWithKey(p.db, { name: '企业', role: 'enterprise', enterpriseUscc: uscc(1) })).auth;
    const before = await counts();
    for (const auth of [admin, ent]) {
      const res = await submit(auth, { period: '2026-10', records: [penaltyRow(60)] });
      expect(res.status).toBe(403);
    }
    const none = await request(p.app)
      .post('/submissions')
      .set('Idempotency-Key', nextKey())
      .send({ period: '2026-10', records: [penaltyRow(60)] });
    expect(none.status).toBe(401);
    const fake = await submit('Bearer qzk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { period: '2026-10', records: [penaltyRow(60)] });
    expect(fake.status).toBe(401);
    expect(await counts()).toEqual(before);
    expect(await p.db('audit_log').where({ action: 'auth.failed', entity_id: '000000000000' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('staff see enterprise records here, never personal ones (those are read through logged queries, P20)', async () => {
    const staff = (await principalWithKey(p.db, { name: '征集服务机构', role: 'staff' })).auth;
    const res = await submit(court, {
      period: '2026-10',
      records: [
        {
          item_code: 'E-DISHONEST',
          subject_id: uscc(71),
          event_date: '2026-10-09',
          payload: { case_no: '(2026)桂07执9号', court: '钦州市中级人民法院', obligation: '给付货款' },
        },
        {
          item_code: 'P-DISHONEST',
          subject_id: citizenId(71),
          event_date: '2026-10-09',
          payload: { case_no: '(2026)桂07执10号', court: '钦州市中级人民法院', obligation: '给付货款' },
        },
      ],
    });
    expect(res.status).toBe(202);
    const seen = await request(p.app).get(`/records?submission_id=${res.body.submission.id}`).set('Authorization', staff);
    expect(seen.body.records.map((r: { subject_type: string }) => r.subject_type)).toEqual(['enterprise']);
    const person = await p.db('records').where({ submission_id: res.body.submission.id, subject_type: 'person' }).first('record_key');
    expect((await request(p.app).get(`/records/${person.record_key}`).set('Authorization', staff)).status).toBe(404);
  });

  test('a provider sees only its own batches and records', async () => {
    const mine = await submit(gsj, { period: '2026-10', records: [penaltyRow(70)] });
    const id = mine.body.submission.id;
    const other = await request(p.app).get(`/submissions/${id}`).set('Authorization', court);
    expect(other.status).toBe(404);
    const list = await request(p.app).get('/submissions').set('Authorization', court);
    expect(list.body.submissions.every((s: { provider: string }) => s.provider === 'QZ-COURT')).toBe(true);
    const recs = await request(p.app).get(`/records?submission_id=${id}`).set('Authorization', court);
    expect(recs.body.records).toEqual([]);
    const own = await request(p.app).get(`/records?submission_id=${id}`).set('Authorization', gsj);
    expect(own.body.records).toHaveLength(1);
  });
});

describe('corrections and retractions (E10): new versions, never overwrites', () => {
  async function oneRecord(n: number) {
    const res = await submit(gsj, { period: '2026-10', records: [penaltyRow(n)] });
    const rec = await p.db('records').where('submission_id', res.body.submission.id).first();
    return rec.record_key as string;
  }

  test('a correction makes version 2 and keeps version 1', async () => {
    const key = await oneRecord(80);
    const res = await request(p.app)
      .post(`/records/${key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '罚款金额录入错误', changes: { payload: { ...penaltyRow(80).payload, amount: 3000 } } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ record_key: key, version: 2 });
    const hist = await request(p.app).get(`/records/${key}`).set('Authorization', gsj);
    expect(
      hist.body.versions.map((v: { version: number; is_current: boolean; payload: { amount: number } }) => [
        v.version,
        v.is_current,
        v.payload.amount,
      ]),
    ).toEqual([
      [2, true, 3000],
      [1, false, 5000],
    ]);
    // A retried correction based on version 1 does not apply twice.
    const again = await request(p.app)
      .post(`/records/${key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '罚款金额录入错误', changes: { payload: { ...penaltyRow(80).payload, amount: 3000 } } });
    expect(again.status).toBe(409);
    expect(await p.db('records').where('record_key', key).count({ n: '*' })).toEqual([{ n: 2 }]);
  });

  test('correcting a registration record updates the enterprise registry (name and state)', async () => {
    const res = await submit(gsj, { period: '2026-10', records: [registrationRow(84)] });
    const rec = await p.db('records').where('submission_id', res.body.submission.id).first();
    expect((await p.db('enterprises').where('uscc', uscc(84)).first()).status).toBe('存续');
    const fix = await request(p.app)
      .post(`/records/${rec.record_key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '企业已注销', changes: { payload: { ...registrationRow(84).payload, status: '注销' } } });
    expect(fix.status).toBe(201);
    expect(await p.db('enterprises').where('uscc', uscc(84)).first('name', 'status')).toEqual({
      name: '钦州市测试企业84有限公司',
      status: '注销',
    });
  });

  test('a retraction is a new, retracted version; nothing more can follow', async () => {
    const key = await oneRecord(81);
    const res = await request(p.app)
      .post(`/records/${key}/retraction`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '处罚决定已撤销' });
    expect(res.status).toBe(201);
    const cur = await p.db('records').where({ record_key: key, is_current: true }).first();
    expect(cur).toMatchObject({ version: 2, status: 'retracted', change_reason: '处罚决定已撤销' });
    const more = await request(p.app)
      .post(`/records/${key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 2, reason: '再改', changes: { event_date: '2026-10-01' } });
    expect(more.status).toBe(409);
  });

  test('an invalid correction is 422 and changes nothing', async () => {
    const key = await oneRecord(82);
    const res = await request(p.app)
      .post(`/records/${key}/corrections`)
      .set('Authorization', gsj)
      .send({ base_version: 1, reason: '补充', changes: { payload: { ...penaltyRow(82).payload, 血型: 'O' } } });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0]).toMatchObject({ field: 'payload.血型', article: 'P7' });
    expect(await p.db('records').where('record_key', key).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('another provider cannot correct, retract or read the record: 404, nothing changes', async () => {
    const key = await oneRecord(83);
    const c = await request(p.app)
      .post(`/records/${key}/corrections`)
      .set('Authorization', court)
      .send({ base_version: 1, reason: '越权更正', changes: { event_date: '2026-10-01' } });
    const r = await request(p.app)
      .post(`/records/${key}/retraction`)
      .set('Authorization', court)
      .send({ base_version: 1, reason: '越权撤回' });
    const g = await request(p.app).get(`/records/${key}`).set('Authorization', court);
    expect([c.status, r.status, g.status]).toEqual([404, 404, 404]);
    expect(await p.db('records').where('record_key', key).count({ n: '*' })).toEqual([{ n: 1 }]);
  });
});
