/**
 * The public API (no login): search and an enterprise's page never show a restricted (E13), personal, pending,
 * held, rejected, retracted or archived record — checked against every category of the catalog. ETag
 * revalidation and per-IP rate limiting.
 */
import request from 'supertest';
import { Client } from '@temporalio/client';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { eventually } from './support/wait';
import { citizenId, uscc } from './support/fixtures';
import { CATALOG, PROVIDERS, type CatalogItem, type FieldSpec } from '../domain/catalog';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';
import { shanghaiDate } from '../domain/calendar';
import { publicationSweepWorkflow } from '../workflows';

let p: TestPlatform;
let plain: Client;
let staff: string;
const providerAuth = new Map<string, string>();

const ENT = uscc(500);
const ONLY_RESTRICTED = uscc(501);
const PERSON = citizenId(5);
const NAME = '钦州市公开测试企业500有限公司';

function value(f: FieldSpec): unknown {
  if (f.values) return f.values[0];
  if (f.type === 'number') return f.name === 'tax_year' ? 2025 : 123456;
  if (f.type === 'date') return '2025-01-01';
  if (f.type === 'boolean') return true;
  return `机密字段${f.name}内容`;
}

/** A valid record of an item for a subject, with every field filled. */
function recordOf(item: CatalogItem, subject: string, extra: Record<string, unknown> = {}) {
  const payload = Object.fromEntries(item.fields.map((f) => [f.name, value(f)]));
  if (item.code === 'E-BASIC-REG') Object.assign(payload, { name: NAME, status: '存续' });
  return { item_code: item.code, subject_id: subject, event_date: '2026-09-01', payload, ...extra };
}

const providerFor = (code: string) => PROVIDERS.find((pr) => pr.items.includes(code))!.code;

async function auth(providerCode: string): Promise<string> {
  if (!providerAuth.has(providerCode))
    providerAuth.set(providerCode, (await principalWithKey(p.db, { name: `${providerCode} 报送员`, role: 'provider', providerCode })).auth);
  return providerAuth.get(providerCode)!;
}

let seq = 0;
async function submit(providerCode: string, records: unknown[]) {
  const res = await request(p.app)
    .post('/submissions')
    .set('Authorization', await auth(providerCode))
    .set('Idempotency-Key', `public-${++seq}`)
    .send({ period: '2026-10', records });
  expect(res.status).toBe(202);
  const keys = (await p.db('records').where('submission_id', res.body.submission.id).orderBy('id').select('record_key')).map(
    (r) => r.record_key as string,
  );
  return { id: res.body.submission.id as string, workflowId: res.body.submission.workflow_id as string, keys };
}

async function waitInReview(workflowId: string) {
  const handle = p.env.client.workflow.getHandle(workflowId);
  const until = Date.now() + 20000;
  for (;;) {
    const st = (await handle.query('state')) as { stage: string };
    if (st.stage === 'in_review' || st.stage === 'published') return;
    if (Date.now() > until) throw new Error('the batch did not reach review');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Staff publish the batch now (records not held); answers once its workflow has published. */
async function publishNow(b: { id: string; workflowId: string }) {
  await waitInReview(b.workflowId);
  await request(p.app).post(`/publication/submissions/${b.id}/publish`).set('Authorization', staff).expect(202);
  const until = Date.now() + 20000;
  while ((await p.db('publications').where({ submission_id: b.id, state: 'pending' }).count({ n: '*' }))[0].n !== 0) {
    if (Date.now() > until) throw new Error('not published');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const expected = { published: new Set<string>(), hidden: new Set<string>() };

beforeAll(async () => {
  p = await startTestPlatform();
  plain = new Client({ connection: p.env.connection });
  staff = (await principalWithKey(p.db, { name: '审核员', role: 'staff' })).auth;

  // One record of every catalog item a provider may submit: for the enterprise, and for a person.
  const byProvider = new Map<string, { item: CatalogItem; rec: unknown }[]>();
  for (const item of CATALOG) {
    if (!PROVIDERS.some((pr) => pr.items.includes(item.code))) continue; // E-VOLUNTARY: the enterprise's own (below)
    const rec = recordOf(item, item.subjectType === 'enterprise' ? ENT : PERSON);
    const code = providerFor(item.code);
    byProvider.set(code, [...(byProvider.get(code) ?? []), { item, rec }]);
  }
  for (const [code, list] of byProvider) {
    const b = await submit(
      code,
      list.map((x) => x.rec),
    );
    list.forEach((x, i) =>
      (x.item.subjectType === 'enterprise' && x.item.disclosure === 'public' ? expected.published : expected.hidden).add(b.keys[i]),
    );
    await publishNow(b);
  }

  // Held, rejected, pending (review window not over), retracted and expired records of public items.
  const penalty = CATALOG.find((i) => i.code === 'E-PENALTY')!;
  const honor = CATALOG.find((i) => i.code === 'E-HONOR')!;
  const reviewed = await submit('QZ-GSJ', [
    // Each its own event (an exact repeat of a stored record is refused as a duplicate, E10).
    recordOf(penalty, ENT, { event_date: '2026-09-02' }),
    recordOf(penalty, ENT, { event_date: '2026-09-03' }),
    recordOf(penalty, ENT, { event_date: '2026-09-04' }),
    recordOf(honor, ENT, { event_date: '2020-01-01', valid_until: '2021-01-01' }),
  ]);
  const [held, rejected, retracted, expired] = reviewed.keys;
  await waitInReview(reviewed.workflowId);
  await request(p.app)
    .post(`/publication/submissions/${reviewed.id}/holds`)
    .set('Authorization', staff)
    .send({ record_keys: [held, rejected], reason: '待核实' })
    .expect(200);
  await request(p.app)
    .post(`/publication/submissions/${reviewed.id}/rejections`)
    .set('Authorization', staff)
    .send({ record_keys: [rejected], reason: '涉及商业秘密（E11）' })
    .expect(200);
  await publishNow(reviewed);
  await request(p.app)
    .post(`/records/${retracted}/retraction`)
    .set('Authorization', await auth('QZ-GSJ'))
    .send({ base_version: 1, reason: '报送错误' })
    .expect(201);
  const pending = await submit('QZ-GSJ', [recordOf(penalty, ENT, { event_date: '2026-09-07' })]);
  await waitInReview(pending.workflowId);
  for (const k of [held, rejected, retracted, expired, ...pending.keys]) expected.hidden.add(k);

  // An enterprise with restricted records only: not findable, no page.
  const tax = CATALOG.find((i) => i.code === 'E-TAX')!;
  await publishNow(await submit('QZ-TAX', [recordOf(tax, ONLY_RESTRICTED)]));
}, 180000);

afterAll(async () => {
  await p?.stop();
});

const page = (u: string) => request(p.app).get(`/public/enterprises/${u}`);
const keysOf = (body: Record<string, { record_key?: string }[]>) =>
  ['basic', 'honors', 'warnings'].flatMap((c) => (body[c] ?? []).map((r) => r.record_key!));

describe('the enterprise page shows only what is published and in its period (E12, E13, E15)', () => {
  test('every public category is shown, grouped; no restricted, personal, held, rejected, pending, retracted or expired record, under any category', async () => {
    const res = await page(ENT);
    expect(res.status).toBe(200);
    expect(res.body.enterprise).toEqual({ uscc: ENT, name: NAME });
    expect(new Set(keysOf(res.body))).toEqual(expected.published);
    for (const k of expected.hidden) expect(keysOf(res.body)).not.toContain(k);
    expect(res.body.basic.map((r: { item_code: string }) => r.item_code)).toEqual(['E-BASIC-REG']);
    expect(res.body.honors.map((r: { item_code: string }) => r.item_code)).toEqual(['E-HONOR']);
    expect(res.body.warnings.map((r: { item_code: string }) => r.item_code).sort()).toEqual([
      'E-BRIBERY',
      'E-DISHONEST',
      'E-INSPECTION-FAIL',
      'E-PENALTY',
    ]);
    // Each record with its provider, dates, publication date and period end.
    const w = res.body.warnings.find((r: { item_code: string }) => r.item_code === 'E-DISHONEST');
    expect(w).toMatchObject({ provider: '钦州市中级人民法院', event_date: '2026-09-01', period_basis: 'default_years' });
    expect(w.publication_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(w.period_end > w.publication_date).toBe(true);
    expect(res.body.basic[0]).toMatchObject({ period_end: null, period_basis: 'until_terminated' });
    // Nothing of the restricted items (E13) or the person's records, anywhere in the answer.
    const text = JSON.stringify(res.body);
    for (const item of CATALOG.filter((i) => i.disclosure !== 'public')) {
      expect(text).not.toContain(item.code);
      for (const f of item.fields)
        if (!CATALOG.some((i) => i.disclosure === 'public' && i.fields.some((g) => g.name === f.name)))
          expect(text).not.toContain(`"${f.name}"`);
    }
    expect(text).not.toContain(PERSON);
    // Every stored record of the enterprise was checked: all are either shown or known hidden.
    const all = (await p.db('records').where('subject_id', ENT).distinct('record_key')).map((r) => r.record_key);
    for (const k of all) expect(expected.published.has(k) || expected.hidden.has(k)).toBe(true);
  });

  test('an archived record stays hidden after the sweep; the sweep does not publish what is held', async () => {
    await plain.workflow.execute(publicationSweepWorkflow, {
      taskQueue: p.taskQueue,
      workflowId: 'public-sweep',
      args: [{ runDate: shanghaiDate(new Date()) }],
    });
    const archived = await p.db('publications').where('subject_id', ENT).where('state', 'archived').select('record_key');
    expect(archived.length).toBeGreaterThanOrEqual(2); // the retracted penalty and the expired honor
    const res = await page(ENT);
    expect(new Set(keysOf(res.body))).toEqual(expected.published);
    expect(await p.db('publications').where('subject_id', ENT).where('state', 'held').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test("an enterprise with only restricted records has no page and is not found; a person's ID is not an enterprise", async () => {
    expect((await page(ONLY_RESTRICTED)).status).toBe(404);
    const s = await request(p.app).get('/public/enterprises').query({ q: ONLY_RESTRICTED });
    expect(s.status).toBe(200);
    expect(s.body.items).toEqual([]);
    const bad = await page(PERSON);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toMatchObject({ field: 'uscc' });
    const wrongCheck = ENT.slice(0, 17) + (ENT[17] === '0' ? '1' : '0');
    expect((await page(wrongCheck)).status).toBe(400);
  });

  test('an approved voluntary disclosure appears under voluntary; the page needs no login', async () => {
    const ent = await principalWithKey(p.db, { name: '企业500', role: 'enterprise', enterpriseUscc: ENT });
    const d = await request(p.app)
      .post('/voluntary-disclosures')
      .set('Authorization', ent.auth)
      .send({ title: '信用承诺书', content: '本企业承诺依法诚信经营。' });
    expect((await page(ENT)).body.voluntary).toEqual([]);
    await request(p.app).post(`/voluntary-disclosures/${d.body.disclosure.id}/approval`).set('Authorization', staff).send({}).expect(200);
    const res = await page(ENT);
    expect(res.body.voluntary.map((v: { title: string }) => v.title)).toEqual(['信用承诺书']);
  });
});

describe('search (no login): by name, part of it, or the unified social credit code; paginated', () => {
  test('a part of the Chinese name, the beginning of it, and the code find the enterprise', async () => {
    for (const q of ['公开测试企业500', '测试企业', '钦州', ENT, ENT.toLowerCase()]) {
      const res = await request(p.app).get('/public/enterprises').query({ q });
      expect(res.status).toBe(200);
      expect(res.body.items).toContainEqual({ uscc: ENT, name: NAME });
    }
    const none = await request(p.app).get('/public/enterprises').query({ q: '不存在的企业名称' });
    expect(none.body).toEqual({ items: [], page: 1, page_size: 20, has_more: false });
  });

  test('pages', async () => {
    const reg = CATALOG.find((i) => i.code === 'E-BASIC-REG')!;
    const recs = [1, 2, 3].map((n) => {
      const r = recordOf(reg, uscc(600 + n));
      return { ...r, payload: { ...r.payload, name: `钦州市分页企业${n}号有限公司` } };
    });
    await publishNow(await submit('QZ-GSJ', recs));
    const one = await request(p.app).get('/public/enterprises').query({ q: '分页企业', page_size: 2 });
    expect(one.body.items.map((i: { name: string }) => i.name)).toEqual(['钦州市分页企业1号有限公司', '钦州市分页企业2号有限公司']);
    expect(one.body.has_more).toBe(true);
    const two = await request(p.app).get('/public/enterprises').query({ q: '分页企业', page_size: 2, page: 2 });
    expect(two.body.items.map((i: { name: string }) => i.name)).toEqual(['钦州市分页企业3号有限公司']);
    expect(two.body.has_more).toBe(false);
  });

  test('bad input is a 400 with the field and the reason', async () => {
    const empty = await request(p.app).get('/public/enterprises').query({ q: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0].field).toBe('q');
    expect((await request(p.app).get('/public/enterprises').query({ q: 'x', page_size: 1000 })).status).toBe(400);
    const code = await request(p.app)
      .get('/public/enterprises')
      .query({ q: ENT.slice(0, 17) + (ENT[17] === '0' ? '1' : '0') });
    expect(code.status).toBe(400);
    expect(code.body.error.details[0].reason).toMatch(/校验码/);
  });
});

describe('HTTP caching and rate limiting of the public endpoints', () => {
  test('ETag: the same content answers 304 to If-None-Match; changed content a new ETag', async () => {
    const a = await page(ENT);
    expect(a.headers.etag).toMatch(/^"[^"]+"$/);
    expect(a.headers['cache-control']).toMatch(/public, max-age=\d+/);
    const b = await page(ENT).set('If-None-Match', a.headers.etag);
    expect(b.status).toBe(304);
    expect(b.text ?? '').toBe('');
    const s1 = await request(p.app).get('/public/enterprises').query({ q: '测试企业' });
    expect((await request(p.app).get('/public/enterprises').query({ q: '测试企业' }).set('If-None-Match', s1.headers.etag)).status).toBe(
      304,
    );

    const ent = await principalWithKey(p.db, { name: '企业500 二', role: 'enterprise', enterpriseUscc: ENT });
    const d = await request(p.app)
      .post('/voluntary-disclosures')
      .set('Authorization', ent.auth)
      .send({ title: '环保承诺', content: '本企业承诺达标排放。' });
    await request(p.app).post(`/voluntary-disclosures/${d.body.disclosure.id}/approval`).set('Authorization', staff).send({}).expect(200);
    const c = await page(ENT).set('If-None-Match', a.headers.etag);
    expect(c.status).toBe(200);
    expect(c.headers.etag).not.toBe(a.headers.etag);
  });

  /** Rate limits count per clock minute: a test that counts starts with time to spare in its minute. */
  const awayFromMinuteEnd = async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5000) await new Promise((r) => setTimeout(r, left + 50));
  };

  /** Runs `fn` with these settings, then puts the environment back as it was. */
  const withEnv = async (vars: Record<string, string>, fn: () => Promise<void>) => {
    const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      await fn();
    } finally {
      for (const [k, v] of Object.entries(before)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  test('more requests than the limit from one IP: 429 with a Chinese message', async () => {
    await awayFromMinuteEnd();
    await withEnv({ PUBLIC_RATE_LIMIT: '3' }, async () => {
      const app = createApp({ db: p.db, temporal: p.env.client, config: { ...loadConfig(), taskQueue: p.taskQueue } });
      // A client of its own (behind the loopback balancer): the counts are shared with every app of this file.
      const from = (path: string) => request(app).get(path).set('X-Forwarded-For', '203.0.113.60');
      for (let i = 0; i < 3; i++) expect((await from(`/public/enterprises/${ENT}`)).status).toBe(200);
      const limited = await from(`/public/enterprises?q=${encodeURIComponent('测试企业')}`);
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('TOO_MANY_REQUESTS');
      expect(limited.body.error.message).toMatch(/请求过于频繁/);
      // Every route a person reaches without a key shares the allowance: correction notices, the catalog and its
      // templates, the calendar; a request with a key is not counted by address.
      for (const path of ['/public/corrections', '/catalog', '/catalog/items/E-PENALTY/template.csv', '/calendar/years'])
        expect([path, (await from(path)).status]).toEqual([path, 429]);
      expect((await from('/catalog').set('Authorization', staff)).status).toBe(200);
      expect((await from('/calendar/years').set('Authorization', staff)).status).toBe(200);
    });
  });

  test('behind a trusted load balancer each client has its own limit; TRUST_PROXY=false counts the balancer', async () => {
    const before = { limit: process.env.PUBLIC_RATE_LIMIT, trust: process.env.TRUST_PROXY };
    process.env.PUBLIC_RATE_LIMIT = '2';
    try {
      await awayFromMinuteEnd();
      await p.db('public_rate_hits').delete();
      const config = { ...loadConfig(), taskQueue: p.taskQueue };
      // Default: the balancer on this machine (loopback) names the client.
      delete process.env.TRUST_PROXY;
      const behind = createApp({ db: p.db, temporal: p.env.client, config });
      const from = (ip: string) => request(behind).get(`/public/enterprises/${ENT}`).set('X-Forwarded-For', ip);
      expect([(await from('203.0.113.7')).status, (await from('203.0.113.7')).status, (await from('203.0.113.7')).status]).toEqual([
        200, 200, 429,
      ]);
      expect((await from('198.51.100.9')).status).toBe(200); // another client behind the same balancer

      process.env.TRUST_PROXY = 'false';
      // The balancer's own address is the client now: the earlier apps of this file counted it too (shared counts).
      // Let them exchange their last counts, then start this one from a clean minute.
      await new Promise((r) => setTimeout(r, 1200));
      await p.db('public_rate_hits').delete();
      const direct = createApp({ db: p.db, temporal: p.env.client, config });
      const via = (ip: string) => request(direct).get(`/public/enterprises/${ENT}`).set('X-Forwarded-For', ip);
      expect([(await via('192.0.2.1')).status, (await via('192.0.2.2')).status, (await via('192.0.2.3')).status]).toEqual([200, 200, 429]);

      process.env.TRUST_PROXY = '10.0.0.0/8, not-an-address';
      expect(() => createApp({ db: p.db, temporal: p.env.client, config })).toThrow(/TRUST_PROXY/);
    } finally {
      for (const [k, v] of [
        ['PUBLIC_RATE_LIMIT', before.limit],
        ['TRUST_PROXY', before.trust],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('a burst across two API processes overshoots the shared limit by at most a tenth of it per process', async () => {
    // No timed exchange within the test: only the one every tenth of the limit.
    await withEnv({ PUBLIC_RATE_LIMIT: '20', PUBLIC_RATE_SYNC_MS: '60000' }, async () => {
      const config = { ...loadConfig(), taskQueue: p.taskQueue };
      const a = createApp({ db: p.db, temporal: p.env.client, config });
      const b = createApp({ db: p.db, temporal: p.env.client, config });
      await awayFromMinuteEnd();
      const client = '203.0.113.88';
      let admitted = 0;
      for (let i = 0; i < 30; i++)
        for (const app of [a, b])
          if ((await request(app).get(`/public/enterprises/${ENT}`).set('X-Forwarded-For', client)).status === 200) admitted++;
      expect(admitted).toBeGreaterThanOrEqual(20);
      expect(admitted).toBeLessThanOrEqual(20 + 2 * 2);
    });
  });

  test('the limit holds across API processes: counts are exchanged through PostgreSQL', async () => {
    const before = { limit: process.env.PUBLIC_RATE_LIMIT, sync: process.env.PUBLIC_RATE_SYNC_MS };
    process.env.PUBLIC_RATE_LIMIT = '4';
    process.env.PUBLIC_RATE_SYNC_MS = '50';
    try {
      // Two API processes (each its own app and counts) behind one load balancer, one client.
      const config = { ...loadConfig(), taskQueue: p.taskQueue };
      const a = createApp({ db: p.db, temporal: p.env.client, config });
      const b = createApp({ db: p.db, temporal: p.env.client, config });
      await awayFromMinuteEnd();
      // A client of its own (behind the loopback balancer): the earlier tests' processes may still be sharing
      // their last counts of the loopback client.
      const client = '203.0.113.77';
      const shared = async () => Number((await p.db('public_rate_hits').where('client', client).sum({ n: 'hits' }).first())?.n ?? 0);
      for (let i = 0; i < 3; i++)
        expect((await request(a).get(`/public/enterprises/${ENT}`).set('X-Forwarded-For', client)).status).toBe(200);
      await eventually(async () => (await shared()) >= 3, 'process A to share its counts', 5000, 20);
      await eventually(
        async () => {
          // B learns A's counts at its first exchange: its one request left is allowed, the next is not.
          return (await request(b).get('/public/enterprises').set('X-Forwarded-For', client).query({ q: '测试企业' })).status === 200;
        },
        'B to answer',
        2000,
        10,
      );
      await new Promise((r) => setTimeout(r, 200)); // at least one exchange of B
      const limited = await request(b).get(`/public/enterprises/${ENT}`).set('X-Forwarded-For', client);
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('TOO_MANY_REQUESTS');
      // And A hears of B's request too.
      await new Promise((r) => setTimeout(r, 200));
      expect((await request(a).get(`/public/enterprises/${ENT}`).set('X-Forwarded-For', client)).status).toBe(429);
    } finally {
      for (const [k, v] of [
        ['PUBLIC_RATE_LIMIT', before.limit],
        ['PUBLIC_RATE_SYNC_MS', before.sync],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
