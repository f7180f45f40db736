import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { addPrincipal, principalWithKey } from './support/principals';
import { citizenId, seedRecord, uscc } from './support/fixtures';
import { createPrincipal, issueApiKey } from '../db/principals';
import { shanghaiDate, addCalendarDays } from '../domain/calendar';
import { judicialRequestStateQuery, ratingRequestStateQuery } from '../processes/messages';
import { waitFor } from './support/wait';
import { expectProcessEngineOutage, offlineApp } from './support/offline';
import { startPendingRequestWorkflows } from '../processes/starts';

const ENT = uscc(501);
const ENT2 = uscc(502);
const PER = citizenId(501);
const PER2 = citizenId(502);
const TODAY = shanghaiDate(new Date());
const PDF = Buffer.from('%PDF-1.7\n书面授权书 / written authorization\n%%EOF');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png body')]);

let p: TestPlatform;
const who: Record<string, { id: string; auth: string }> = {};

const upload = (auth: string, kind: string, body: Buffer = PDF, type = 'application/pdf', name = '授权书.pdf') =>
  request(p.app)
    .post(`/documents?kind=${kind}&file_name=${encodeURIComponent(name)}`)
    .set('Authorization', auth)
    .set('Content-Type', type)
    .send(body);

const query = (auth: string, body: object) => request(p.app).post('/queries').set('Authorization', auth).send(body);

beforeAll(async () => {
  process.env.DOCUMENT_MAX_BYTES = '4096';
  p = await startTestPlatform();
  const mk = (key: string, role: Parameters<typeof addPrincipal>[3], extra = {}) => addPrincipal(p.db, who, key, role, extra);
  await mk('ent', 'enterprise', { enterpriseUscc: ENT, organization: '钦州市甲公司' });
  await mk('ent2', 'enterprise', { enterpriseUscc: ENT2, organization: '钦州市乙公司' });
  await mk('per', 'person', { personId: PER });
  await mk('per2', 'person', { personId: PER2 });
  await mk('agency', 'rating_agency', { organization: '广西信用评级有限公司' });
  await mk('agency2', 'rating_agency', { organization: '另一评级公司' });
  await mk('gov', 'government', { organization: '钦州市市场监督管理局' });
  await mk('court', 'judicial', { organization: '钦州市中级人民法院' });
  await mk('court2', 'judicial', { organization: '灵山县人民法院' });
  await mk('staff', 'staff');
  await mk('admin', 'admin');
  await seedRecord(p.db, 'E-TAX', 'enterprise', ENT, { tax_year: 2025, tax_paid: 88000, rating: 'B' });
  await seedRecord(p.db, 'E-CREDIT', 'enterprise', ENT, { lender: '北部湾银行', amount: 500, status: '关注' });
  await seedRecord(p.db, 'P-BASIC', 'person', PER, { name: '王五' });
  await seedRecord(p.db, 'P-DISHONEST', 'person', PER, { case_no: '(2025)桂07执1号', court: '钦州市中级人民法院', obligation: '给付' });
  await seedRecord(p.db, 'P-LOAN', 'person', PER, { lender: '钦州银行', kind: '贷款', amount: 200000, status: '正常' });
}, 120000);
afterAll(async () => {
  delete process.env.DOCUMENT_MAX_BYTES;
  delete process.env.QUERY_VOLUME_DAILY_LIMIT;
  await p?.stop();
});

describe('documents: written authorizations and proofs of duty', () => {
  test('stored with size, type and SHA-256; read back by the uploader only (and staff)', async () => {
    const res = await upload(who.per.auth, 'authorization');
    expect(res.status).toBe(201);
    expect(res.body.document).toMatchObject({
      kind: 'authorization',
      file_name: '授权书.pdf',
      content_type: 'application/pdf',
      size_bytes: PDF.length,
    });
    expect(res.body.document.sha256).toMatch(/^[0-9a-f]{64}$/);
    const id = res.body.document.id;
    const content = await request(p.app)
      .get(`/documents/${id}/content`)
      .set('Authorization', who.per.auth)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(content.status).toBe(200);
    expect(Buffer.compare(content.body as Buffer, PDF)).toBe(0);
    expect((await request(p.app).get(`/documents/${id}`).set('Authorization', who.per2.auth)).status).toBe(404);
    expect((await request(p.app).get(`/documents/${id}`).set('Authorization', who.staff.auth)).status).toBe(200);
    expect(await p.db('audit_log').where({ action: 'document.upload', entity_id: id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    // documents cannot be changed afterwards
    await expect(p.db('documents').where('id', id).update({ file_name: 'x.pdf' })).rejects.toThrow(/append-only/);
  });

  test('too large, a type not allowed, content not matching its type, empty, or the wrong kind for the role: refused, nothing stored', async () => {
    const [{ n: before }] = await p.db('documents').count({ n: '*' });
    const big = await upload(who.per.auth, 'authorization', Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(5000)]));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('DOCUMENT_TOO_LARGE');
    const txt = await upload(who.per.auth, 'authorization', Buffer.from('hello'), 'text/plain');
    expect(txt.status).toBe(415);
    const fakePng = await upload(who.per.auth, 'authorization', PDF, 'image/png', 'a.png');
    expect(fakePng.status).toBe(415);
    expect((await upload(who.per.auth, 'authorization', PNG, 'image/png', 'a.png')).status).toBe(201);
    const empty = await upload(who.per.auth, 'authorization', Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect((await upload(who.per.auth, 'duty_proof')).status).toBe(403);
    expect((await upload(who.gov.auth, 'authorization')).status).toBe(403);
    expect((await upload(who.staff.auth, 'duty_proof')).status).toBe(403);
    const badKind = await upload(who.gov.auth, 'receipt');
    expect(badKind.status).toBe(400);
    const [{ n: after }] = await p.db('documents').count({ n: '*' });
    expect(Number(after)).toBe(Number(before) + 1);
  });
});

describe('authorizations (E14.2, P12.2, P14)', () => {
  let docId: string;
  beforeAll(async () => {
    docId = (await upload(who.per.auth, 'authorization')).body.document.id;
  });
  const grant = (auth: string, body: object) => request(p.app).post('/authorizations').set('Authorization', auth).send(body);

  test('a person authorizes a named party in writing; the party gets only the authorized scope; revoked → refused', async () => {
    const res = await grant(who.per.auth, {
      grantee_principal_id: who.agency.id,
      categories: ['commercial_credit'],
      valid_from: TODAY,
      valid_until: addCalendarDays(TODAY, 30),
      purpose: '个人贷款资信评估',
      document_id: docId,
    });
    expect(res.status).toBe(201);
    const a = res.body.authorization;
    expect(a).toMatchObject({
      subject_type: 'person',
      subject_id: PER,
      grantee_principal_id: who.agency.id,
      categories: ['commercial_credit'],
      revoked_at: null,
    });

    const ok = await query(who.agency.auth, {
      subject_type: 'person',
      subject_id: PER,
      categories: ['commercial_credit', 'basic'],
      basis: { kind: 'authorization', authorization_id: a.id },
      purpose: '资信评估',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.query).toMatchObject({
      basis: 'authorization',
      fee: 'chargeable',
      categories: ['commercial_credit'],
      withheld: [{ category: 'basic', article: 'P14' }],
    });
    expect(ok.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['P-LOAN']);

    // another principal cannot use it, even knowing its id
    const thief = await query(who.agency2.auth, {
      subject_type: 'person',
      subject_id: PER,
      basis: { kind: 'authorization', authorization_id: a.id },
      purpose: '资信评估',
    });
    expect(thief.status).toBe(403);
    expect(thief.body.error).toMatchObject({ code: 'QUERY_REFUSED', refusal: 'NOT_GRANTEE' });

    // the grantee sees it; a stranger does not
    expect((await request(p.app).get(`/authorizations/${a.id}`).set('Authorization', who.agency.auth)).status).toBe(200);
    expect((await request(p.app).get(`/authorizations/${a.id}`).set('Authorization', who.agency2.auth)).status).toBe(404);
    // only the subject revokes
    expect(
      (await request(p.app).post(`/authorizations/${a.id}/revoke`).set('Authorization', who.per2.auth).send({ reason: '不是我的' })).status,
    ).toBe(404);
    const rev = await request(p.app)
      .post(`/authorizations/${a.id}/revoke`)
      .set('Authorization', who.per.auth)
      .send({ reason: '业务已结束' });
    expect(rev.status).toBe(200);
    expect(
      (await request(p.app).post(`/authorizations/${a.id}/revoke`).set('Authorization', who.per.auth).send({ reason: '再次撤销' })).status,
    ).toBe(409);

    const after = await query(who.agency.auth, {
      subject_type: 'person',
      subject_id: PER,
      basis: { kind: 'authorization', authorization_id: a.id },
      purpose: '资信评估',
    });
    expect(after.status).toBe(403);
    expect(after.body.error).toMatchObject({ refusal: 'AUTHORIZATION_REVOKED' });
    expect(after.body.error.details[0]).toMatchObject({ field: 'basis', article: 'P12(2)' });
    const log = await p.db('query_log').where({ principal_id: who.agency.id, basis_ref: a.id }).orderBy('id');
    expect(log.map((l) => [l.outcome, l.refusal_code, l.fee])).toEqual([
      ['answered', null, 'chargeable'],
      ['refused', 'AUTHORIZATION_REVOKED', 'free'],
    ]);
    expect(log[0].document_id).toBe(docId);
    expect(await p.db('audit_log').where({ action: 'authorization.revoke', entity_id: a.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('an expired authorization is refused; its last day still counts', async () => {
    const res = await grant(who.per.auth, {
      grantee_principal_id: who.ent.id,
      categories: ['public_credit'],
      valid_from: TODAY,
      valid_until: TODAY,
      purpose: '招聘背景核查',
      document_id: docId,
    });
    expect(res.status).toBe(201);
    const id = res.body.authorization.id;
    const body = { subject_type: 'person', subject_id: PER, basis: { kind: 'authorization', authorization_id: id }, purpose: '招聘' };
    const last = await query(who.ent.auth, body);
    expect(last.status).toBe(200);
    expect(last.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['P-DISHONEST']);
    // a day later (the stored validity moved back one day, as time passing would)
    await p
      .db('authorizations')
      .where('id', id)
      .update({ valid_from: addCalendarDays(TODAY, -1), valid_until: addCalendarDays(TODAY, -1) });
    const expired = await query(who.ent.auth, body);
    expect(expired.status).toBe(403);
    expect(expired.body.error.refusal).toBe('AUTHORIZATION_EXPIRED');
    expect(expired.body.error.message).toMatch(/授权已于 .* 到期/);
  });

  test('an enterprise authorizes an organization: any principal of that organization may query the authorized restricted categories', async () => {
    const entDoc = (await upload(who.ent.auth, 'authorization')).body.document.id;
    const res = await grant(who.ent.auth, {
      grantee_organization: '广西信用评级有限公司',
      categories: ['tax'],
      valid_from: TODAY,
      valid_until: addCalendarDays(TODAY, 365),
      purpose: '年度评级',
      document_id: entDoc,
    });
    expect(res.status).toBe(201);
    const ok = await query(who.agency.auth, {
      subject_type: 'enterprise',
      subject_id: ENT,
      basis: { kind: 'authorization', authorization_id: res.body.authorization.id },
      purpose: '年度评级',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.query).toMatchObject({
      categories: ['tax'],
      withheld: [{ category: 'financial' }, { category: 'credit' }, { category: 'other_restricted' }],
    });
    expect(ok.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['E-TAX']);
    const list = await request(p.app).get('/authorizations').set('Authorization', who.ent.auth);
    expect(list.body.authorizations.map((a: { id: string }) => a.id)).toContain(res.body.authorization.id);
    const other = await request(p.app).get('/authorizations').set('Authorization', who.ent2.auth);
    expect(other.body.authorizations).toEqual([]);
  });

  test('bad grants are 400 with the field and the article; nothing is stored', async () => {
    const [{ n: before }] = await p.db('authorizations').count({ n: '*' });
    const base = {
      grantee_principal_id: who.agency.id,
      categories: ['basic'],
      valid_from: TODAY,
      valid_until: addCalendarDays(TODAY, 10),
      purpose: '测试用途',
      document_id: docId,
    };
    const cases: [object, string, string?][] = [
      [{ ...base, categories: ['warning'] }, 'categories.0'],
      [{ ...base, valid_until: addCalendarDays(TODAY, -5), valid_from: addCalendarDays(TODAY, -9) }, 'valid_until'],
      [{ ...base, valid_until: addCalendarDays(TODAY, 1), valid_from: addCalendarDays(TODAY, 2) }, 'valid_until'],
      [{ ...base, grantee_principal_id: undefined }, 'grantee_principal_id'],
      [{ ...base, grantee_principal_id: '00000000-0000-4000-8000-000000000000' }, 'grantee_principal_id'],
      [{ ...base, grantee_principal_id: who.per.id }, 'grantee_principal_id'],
      [{ ...base, valid_from: '2026-02-30' }, 'valid_from'],
    ];
    for (const [body, field] of cases) {
      const res = await grant(who.per.auth, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    // someone else's document cannot be the written authorization
    const foreign = await grant(who.per2.auth, { ...base, document_id: docId });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.details[0]).toMatchObject({ field: 'document_id', article: 'P12(2)' });
    // roles that are no subject cannot grant
    expect((await grant(who.agency.auth, base)).status).toBe(403);
    const [{ n: after }] = await p.db('authorizations').count({ n: '*' });
    expect(after).toBe(before);
  });
});

describe('queries: answers, refusals, bad input', () => {
  test('the person reads everything of their own, free; the enterprise its own restricted information, chargeable (E16)', async () => {
    const mine = await query(who.per.auth, { subject_type: 'person', subject_id: PER, basis: { kind: 'self' } });
    expect(mine.status).toBe(200);
    expect(mine.body.query).toMatchObject({
      basis: 'self',
      fee: 'free',
      categories: ['basic', 'public_credit', 'commercial_credit'],
      withheld: [],
    });
    expect(mine.body.records.map((r: { item_code: string }) => r.item_code).sort()).toEqual(['P-BASIC', 'P-DISHONEST', 'P-LOAN']);
    expect(mine.headers['cache-control']).toBe('no-store');
    const ent = await query(who.ent.auth, { subject_type: 'enterprise', subject_id: ENT, basis: { kind: 'self' } });
    expect(ent.status).toBe(200);
    expect(ent.body.query.fee).toBe('chargeable');
    expect(ent.body.records.map((r: { item_code: string }) => r.item_code).sort()).toEqual(['E-CREDIT', 'E-TAX']);
  });

  test('retracted records and older versions are not answered', async () => {
    const key = await seedRecord(p.db, 'P-TRAFFIC', 'person', PER2, { matter: '超速', result: '罚款' });
    await p.db('records').where('record_key', key).update({ is_current: false });
    const provider = await p.db('providers').where('code', 'QZ-GSJ').first('id');
    await p.db('records').insert({
      record_key: key,
      version: 2,
      status: 'retracted',
      provider_id: provider.id,
      item_code: 'P-TRAFFIC',
      subject_type: 'person',
      subject_id: PER2,
      payload: '{}',
      event_date: '2026-03-01',
      created_by: '00000000-0000-0000-0000-000000000000',
    });
    const res = await query(who.per2.auth, { subject_type: 'person', subject_id: PER2, basis: { kind: 'self' } });
    expect(res.status).toBe(200);
    expect(res.body.records).toEqual([]);
  });

  test('a body with a proof of duty gets only public credit information of a person (P12.3), free', async () => {
    const proof = (await upload(who.gov.auth, 'duty_proof', PDF, 'application/pdf', '协查函.pdf')).body.document.id;
    const res = await query(who.gov.auth, {
      subject_type: 'person',
      subject_id: PER,
      basis: { kind: 'duty', document_id: proof },
      purpose: '行政许可审查',
    });
    expect(res.status).toBe(200);
    expect(res.body.query).toMatchObject({ fee: 'free', categories: ['public_credit'] });
    expect(res.body.query.withheld.map((w: { category: string }) => w.category)).toEqual(['basic', 'commercial_credit']);
    expect(res.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['P-DISHONEST']);
    const only = await query(who.gov.auth, {
      subject_type: 'person',
      subject_id: PER,
      categories: ['commercial_credit'],
      basis: { kind: 'duty', document_id: proof },
      purpose: '行政许可审查',
    });
    expect(only.status).toBe(403);
    expect(only.body.error).toMatchObject({ refusal: 'BEYOND_SCOPE' });
    expect(only.body.error.details[0].article).toMatch(/P12\(3\)/);
    // another body's proof is not a proof
    const stolen = await query(who.court.auth, {
      subject_type: 'person',
      subject_id: PER,
      basis: { kind: 'duty', document_id: proof },
      purpose: '执行',
    });
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.refusal).toBe('DUTY_PROOF_INVALID');
    const log = await p.db('query_log').where({ principal_id: who.gov.id }).orderBy('id').first();
    expect(log).toMatchObject({ basis: 'duty', document_id: proof, purpose: '行政许可审查', fee: 'free' });
    expect(log.document_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('bad input is a 400 naming the field; it is not a query and is not logged', async () => {
    const [{ n: before }] = await p.db('query_log').count({ n: '*' });
    const bad: object[] = [
      { subject_type: 'person', subject_id: '450700198506150010', basis: { kind: 'self' } },
      { subject_type: 'enterprise', subject_id: ENT, categories: ['blood_type'], basis: { kind: 'self' } },
      { subject_type: 'enterprise', subject_id: ENT, basis: { kind: 'magic' } },
      { subject_type: 'enterprise', subject_id: ENT, basis: { kind: 'authorization' }, purpose: '用途' },
      { subject_type: 'enterprise', subject_id: ENT, basis: { kind: 'duty', document_id: '00000000-0000-4000-8000-000000000000' } },
      { subject_type: 'company', subject_id: ENT, basis: { kind: 'self' } },
    ];
    for (const body of bad) {
      const res = await query(who.gov.auth, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.length).toBeGreaterThan(0);
    }
    const [{ n: after }] = await p.db('query_log').count({ n: '*' });
    expect(after).toBe(before);
  });
});

describe('the query log (P20, E22): who queried me; kept, never changed', () => {
  test('a person sees who queried them and on what basis; another person does not see it', async () => {
    const res = await request(p.app).get('/queries/about-me').set('Authorization', who.per.auth);
    expect(res.status).toBe(200);
    const entries = res.body.queries as {
      principal_name: string;
      organization: string | null;
      basis: string;
      outcome: string;
      subject_id: string;
      retain_until: string;
    }[];
    expect(entries.every((e) => e.subject_id === PER)).toBe(true);
    const byGov = entries.find((e) => e.principal_name === 'gov账号' && e.outcome === 'answered');
    expect(byGov).toMatchObject({ organization: '钦州市市场监督管理局', basis: 'duty' });
    expect(entries.some((e) => e.principal_name === 'agency2账号' && e.outcome === 'refused')).toBe(true);
    expect(entries[0].retain_until >= addCalendarDays(TODAY, 365 * 5 - 2)).toBe(true);
    const other = await request(p.app).get('/queries/about-me').set('Authorization', who.per2.auth);
    expect(other.body.queries.every((e: { subject_id: string }) => e.subject_id === PER2)).toBe(true);
    expect((await request(p.app).get('/queries/about-me').set('Authorization', who.gov.auth)).status).toBe(403);
  });

  test('an enterprise sees who queried its restricted information', async () => {
    const res = await request(p.app).get('/queries/about-me').set('Authorization', who.ent.auth);
    expect(res.status).toBe(200);
    expect(res.body.queries.map((q: { principal_name: string }) => q.principal_name)).toEqual(
      expect.arrayContaining(['agency账号', 'ent账号']),
    );
    expect(res.body.queries.every((q: { subject_id: string }) => q.subject_id === ENT)).toBe(true);
  });

  test('a querier sees its own queries; one logged query is visible to it and to staff only', async () => {
    const mine = await request(p.app).get('/queries/mine').set('Authorization', who.agency.auth);
    expect(mine.body.queries.length).toBeGreaterThan(0);
    expect(mine.body.queries.every((q: { principal_id: string }) => q.principal_id === who.agency.id)).toBe(true);
    const id = mine.body.queries.find((q: { outcome: string }) => q.outcome === 'answered').id;
    const one = await request(p.app).get(`/queries/${id}`).set('Authorization', who.agency.auth);
    expect(one.status).toBe(200);
    expect(one.body.items.length).toBeGreaterThan(0);
    expect((await request(p.app).get(`/queries/${id}`).set('Authorization', who.agency2.auth)).status).toBe(404);
    expect((await request(p.app).get(`/queries/${id}`).set('Authorization', who.staff.auth)).status).toBe(200);
    const log = await request(p.app).get(`/admin/query-log?subject_id=${PER}&outcome=refused`).set('Authorization', who.staff.auth);
    expect(log.status).toBe(200);
    expect(log.body.queries.length).toBeGreaterThan(0);
    expect(log.body.queries.every((q: { outcome: string; subject_id: string }) => q.outcome === 'refused' && q.subject_id === PER)).toBe(
      true,
    );
    expect((await request(p.app).get('/admin/query-log').set('Authorization', who.ent.auth)).status).toBe(403);
  });

  test('no API path changes the log, and the database refuses it', async () => {
    const one = await p.db('query_log').first('id');
    for (const method of ['put', 'patch', 'delete'] as const) {
      expect((await request(p.app)[method](`/queries/${one.id}`).set('Authorization', who.admin.auth)).status).toBe(404);
      expect((await request(p.app)[method](`/admin/query-log`).set('Authorization', who.admin.auth)).status).toBe(404);
    }
    await expect(p.db('query_log').where('id', one.id).update({ outcome: 'refused' })).rejects.toThrow(/append-only/);
    await expect(p.db('query_log').where('id', one.id).delete()).rejects.toThrow(/append-only/);
    await expect(p.db('query_log_items').delete()).rejects.toThrow(/append-only/);
    await expect(p.db.raw('TRUNCATE query_log CASCADE')).rejects.toThrow(/append-only/);
  });

  test('every query is in the audit log too', async () => {
    const [{ n: logged }] = await p.db('query_log').count({ n: '*' });
    const [{ n: audited }] = await p.db('audit_log').whereIn('action', ['query.answered', 'query.refused']).count({ n: '*' });
    expect(audited).toBe(logged);
  });
});

describe('rating-agency requests (E14.3): approved by staff before a deadline, or lapsed', () => {
  const file = (auth: string, body: object) => request(p.app).post('/rating-requests').set('Authorization', auth).send(body);
  const decide = (id: string, body: object, auth = who.staff.auth) =>
    request(p.app).post(`/rating-requests/${id}/decision`).set('Authorization', auth).send(body);
  const ready = (id: string) => waitFor(async () => (await p.db('rating_requests').where('id', id).first()).decision_deadline);

  test('approved: the agency may query the approved categories, chargeable; a second decision is refused', async () => {
    const res = await file(who.agency.auth, { subject_uscc: ENT, categories: ['credit'], purpose: '主体信用评级' });
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/rating-requests/${res.body.rating_request.id}`);
    const id = res.body.rating_request.id;
    const before = await query(who.agency.auth, {
      subject_type: 'enterprise',
      subject_id: ENT,
      basis: { kind: 'rating_approval', request_id: id },
      purpose: '评级',
    });
    expect(before.status).toBe(403);
    expect(before.body.error.refusal).toBe('REQUEST_REQUESTED');
    const deadline = await ready(id);
    expect(deadline > TODAY).toBe(true);
    // The deadline and the staff's notice may be written by separate steps of the workflow: wait for the notice.
    const staffNote = await waitFor(() =>
      p.db('notifications').where({ recipient_role: 'staff', kind: 'rating_request.pending', entity_id: id }).first(),
    );
    expect(staffNote.body).toContain(deadline);

    expect((await decide(id, { approve: true, reason: '资质齐全' }, who.admin.auth)).status).toBe(403);
    expect((await decide(id, { approve: 'yes', reason: '资质齐全' })).status).toBe(400);
    const ok = await decide(id, { approve: true, reason: '资质齐全，用途合理' });
    expect(ok.status).toBe(200);
    expect(ok.body.rating_request).toMatchObject({ status: 'approved', decision_reason: '资质齐全，用途合理' });
    expect(Date.parse(ok.body.rating_request.valid_until)).toBeGreaterThan(Date.now() + 29 * 86400_000);
    const again = await decide(id, { approve: false, reason: '改变主意' });
    expect(again.status).toBe(409);

    const q = await query(who.agency.auth, {
      subject_type: 'enterprise',
      subject_id: ENT,
      basis: { kind: 'rating_approval', request_id: id },
      purpose: '评级',
    });
    expect(q.status).toBe(200);
    expect(q.body.query).toMatchObject({ fee: 'chargeable', categories: ['credit'] });
    expect(q.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['E-CREDIT']);
    // another agency cannot use this approval; the agency sees its requests, not others'
    expect(
      (
        await query(who.agency2.auth, {
          subject_type: 'enterprise',
          subject_id: ENT,
          basis: { kind: 'rating_approval', request_id: id },
          purpose: '评级',
        })
      ).status,
    ).toBe(403);
    expect((await request(p.app).get(`/rating-requests/${id}`).set('Authorization', who.agency2.auth)).status).toBe(404);
    const note = await p.db('notifications').where({ recipient_principal_id: who.agency.id, kind: 'rating_request.approved' }).first();
    expect(note).toBeTruthy();
    const handle = p.env.client.workflow.getHandle(`rating-request-${id}`);
    expect(
      (
        await waitFor(
          async () => (await handle.query(ratingRequestStateQuery)).stage === 'approved' && handle.query(ratingRequestStateQuery),
        )
      ).result,
    ).toMatchObject({ status: 'approved' });
  });

  test('rejected: queries on it are refused', async () => {
    const id = (await file(who.agency.auth, { subject_uscc: ENT, categories: ['tax'], purpose: '评级' })).body.rating_request.id;
    await ready(id);
    const res = await decide(id, { approve: false, reason: '用途不明确' });
    expect(res.status).toBe(200);
    expect(res.body.rating_request.status).toBe('rejected');
    const q = await query(who.agency.auth, {
      subject_type: 'enterprise',
      subject_id: ENT,
      basis: { kind: 'rating_approval', request_id: id },
      purpose: '评级',
    });
    expect(q.body.error.refusal).toBe('REQUEST_REJECTED');
  });

  test('bad requests: not a rating agency, a public category, a bad code', async () => {
    expect((await file(who.ent.auth, { subject_uscc: ENT, categories: ['tax'], purpose: '评级' })).status).toBe(403);
    expect((await file(who.agency.auth, { subject_uscc: ENT, categories: ['warning'], purpose: '评级' })).status).toBe(400);
    const bad = await file(who.agency.auth, { subject_uscc: '91450700MA0000000X', categories: ['tax'], purpose: '评级' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('subject_uscc');
  });
});

describe('judicial requests through the API (E14.4, P13)', () => {
  test('filed with a proof, answered by staff within the deadline; the requester reads the answer, others cannot', async () => {
    const proof = (await upload(who.court.auth, 'duty_proof', PDF, 'application/pdf', '协助查询通知书.pdf')).body.document.id;
    const res = await request(p.app)
      .post('/judicial-requests')
      .set('Authorization', who.court.auth)
      .send({ subject_type: 'person', subject_id: PER, case_no: '(2026)桂07执88号', purpose: '执行财产调查', document_id: proof });
    expect(res.status).toBe(202);
    const id = res.body.judicial_request.id;
    const row = await waitFor(async () => {
      const r = await p.db('judicial_requests').where('id', id).first();
      return r.answer_due ? r : null;
    });
    expect(row.receipt_date).toBe(TODAY);
    expect(row.answer_due > TODAY).toBe(true);
    expect(row.alert_date < row.answer_due).toBe(true);

    expect((await request(p.app).get(`/judicial-requests/${id}`).set('Authorization', who.court2.auth)).status).toBe(404);
    expect(
      (await request(p.app).post(`/judicial-requests/${id}/answer`).set('Authorization', who.court.auth).send({ decision: 'answer' }))
        .status,
    ).toBe(403);
    expect(
      (await request(p.app).post(`/judicial-requests/${id}/answer`).set('Authorization', who.staff.auth).send({ decision: 'reject' }))
        .status,
    ).toBe(400);
    const ans = await request(p.app)
      .post(`/judicial-requests/${id}/answer`)
      .set('Authorization', who.staff.auth)
      .send({ decision: 'answer' });
    expect(ans.status).toBe(200);
    expect(ans.body.judicial_request).toMatchObject({ status: 'answered', met: true });
    const again = await request(p.app)
      .post(`/judicial-requests/${id}/answer`)
      .set('Authorization', who.staff.auth)
      .send({ decision: 'answer' });
    expect(again.status).toBe(409);

    const view = await request(p.app).get(`/judicial-requests/${id}`).set('Authorization', who.court.auth);
    expect(view.status).toBe(200);
    // a person's information reaches a judicial body only as public credit information (P12.3)
    expect(view.body.answer.records.map((r: { item_code: string }) => r.item_code)).toEqual(['P-DISHONEST']);
    const log = await p.db('query_log').where('id', ans.body.judicial_request.query_log_id).first();
    expect(log).toMatchObject({
      principal_id: who.court.id,
      channel: 'judicial_request',
      handled_by: who.staff.id,
      basis: 'judicial_request',
      fee: 'free',
      outcome: 'answered',
      document_id: proof,
    });
    expect(
      await p
        .db('notifications')
        .where({ recipient_principal_id: who.court.id, kind: 'judicial_request.answered', entity_id: id })
        .count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
    const state = await p.env.client.workflow.getHandle(`judicial-request-${id}`).query(judicialRequestStateQuery);
    expect(state).toMatchObject({ stage: 'answered', overdue: false, result: { status: 'answered', met: true } });
  });

  test("a request needs the body's own proof of duty; only judicial bodies file", async () => {
    const foreign = (await upload(who.gov.auth, 'duty_proof')).body.document.id;
    const res = await request(p.app)
      .post('/judicial-requests')
      .set('Authorization', who.court.auth)
      .send({ subject_type: 'enterprise', subject_id: ENT, case_no: '(2026)桂07民1号', purpose: '审理', document_id: foreign });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ field: 'document_id', article: 'E14(4)' });
    expect(
      (
        await request(p.app)
          .post('/judicial-requests')
          .set('Authorization', who.gov.auth)
          .send({ subject_type: 'enterprise', subject_id: ENT, case_no: 'x1', purpose: '审理', document_id: foreign })
      ).status,
    ).toBe(403);
  });
});

describe('fees (E16): a report of chargeable queries per period', () => {
  test('enterprises and rating agencies are charged; bodies and persons are not; refusals are never charged', async () => {
    const res = await request(p.app).get(`/admin/query-fees?from=${TODAY}&to=${TODAY}`).set('Authorization', who.staff.auth);
    expect(res.status).toBe(200);
    const rows = res.body.rows as { month: string; principal_role: string; principal_name: string; queries: number }[];
    expect(new Set(rows.map((r) => r.principal_role))).toEqual(new Set(['enterprise', 'rating_agency']));
    expect(rows.every((r) => r.month === TODAY.slice(0, 7))).toBe(true);
    const expected = await p.db('query_log').where({ fee: 'chargeable', outcome: 'answered' }).count({ n: '*' });
    expect(res.body.totals.chargeable).toBe(Number(expected[0].n));
    expect(rows.reduce((s, r) => s + r.queries, 0)).toBe(res.body.totals.chargeable);
    expect(res.body.totals.free).toBeGreaterThan(0);
    expect(res.body.totals.refused).toBeGreaterThan(0);
    const agency = rows.find((r) => r.principal_name === 'agency账号')!;
    expect(agency.queries).toBe(
      Number(
        (await p.db('query_log').where({ principal_id: who.agency.id, fee: 'chargeable', outcome: 'answered' }).count({ n: '*' }))[0].n,
      ),
    );
    const empty = await request(p.app).get('/admin/query-fees?from=2020-01-01&to=2020-12-31').set('Authorization', who.admin.auth);
    expect(empty.body).toMatchObject({ rows: [], totals: { chargeable: 0 } });
    expect((await request(p.app).get(`/admin/query-fees?from=${TODAY}&to=2020-01-01`).set('Authorization', who.admin.auth)).status).toBe(
      400,
    );
    expect((await request(p.app).get(`/admin/query-fees?from=${TODAY}&to=${TODAY}`).set('Authorization', who.agency.auth)).status).toBe(
      403,
    );
  });
});

describe('access monitoring (P11, E19) and API keys', () => {
  test('expired and revoked keys are refused and counted as failed authentications of their principal', async () => {
    // the days the refusals fall on (Asia/Shanghai): from before the first to after the last, midnight may come between
    const firstDay = shanghaiDate(new Date());
    const { id } = await createPrincipal(p.db, { name: '过期密钥机构', role: 'government', organization: '某局' }, null, 'test');
    const expired = await issueApiKey(p.db, id, { label: 'old', expiresAt: new Date(Date.now() - 1000) }, null, 'test');
    const live = await issueApiKey(p.db, id, { label: 'live', expiresAt: new Date(Date.now() + 86400_000) }, null, 'test');
    expect((await request(p.app).get('/queries/mine').set('Authorization', `Bearer ${expired.token}`)).status).toBe(401);
    expect((await request(p.app).get('/queries/mine').set('Authorization', `Bearer ${live.token}`)).status).toBe(200);
    const rev = await request(p.app).post(`/admin/keys/${live.id}/revoke`).set('Authorization', who.admin.auth);
    expect(rev.status).toBe(200);
    expect((await request(p.app).get('/queries/mine').set('Authorization', `Bearer ${live.token}`)).status).toBe(401);
    const mon = await request(p.app)
      .get(`/admin/access-monitoring?from=${firstDay}&to=${shanghaiDate(new Date())}`)
      .set('Authorization', who.admin.auth);
    expect(mon.status).toBe(200);
    const row = mon.body.principals.find((r: { principal_id: string }) => r.principal_id === id);
    expect(row).toMatchObject({ failed_auth: 2, queries: 0 });
  });

  test('refused queries and unusual volumes per principal are visible to admins, who are alerted once a day', async () => {
    process.env.QUERY_VOLUME_DAILY_LIMIT = '4';
    const snoop = await principalWithKey(p.db, { name: '好奇的评级员', role: 'rating_agency', organization: '好奇评级' });
    for (let i = 0; i < 6; i++) {
      const res = await query(snoop.auth, { subject_type: 'person', subject_id: citizenId(600 + i), basis: { kind: 'self' } });
      expect(res.status).toBe(403);
    }
    const mon = await request(p.app).get(`/admin/access-monitoring?from=${TODAY}&to=${TODAY}`).set('Authorization', who.admin.auth);
    const row = mon.body.principals.find((r: { principal_id: string }) => r.principal_id === snoop.id);
    expect(row).toMatchObject({ refused_queries: 6, queries: 6, unusual: true, days: [{ date: TODAY, queries: 6, unusual: true }] });
    expect(mon.body.principals[0].unusual).toBe(true); // unusual first
    const calm = mon.body.principals.find((r: { principal_id: string }) => r.principal_id === who.per.id);
    expect(calm.unusual).toBe(false);
    const alerts = await p.db('notifications').where({ recipient_role: 'admin', kind: 'query.volume_unusual', entity_id: snoop.id });
    expect(alerts).toHaveLength(1);
    expect(
      (await request(p.app).get(`/admin/access-monitoring?from=${TODAY}&to=${TODAY}`).set('Authorization', who.staff.auth)).status,
    ).toBe(403);
    delete process.env.QUERY_VOLUME_DAILY_LIMIT;
  });
});

// Last: awaiting a workflow's result lets the time-skipping server jump its clock ahead for every workflow.
describe('Temporal away (nothing acknowledged is dropped): a request filed is kept and started when it is back; a decision is 503 and changes nothing', () => {
  const snapshot = async (table: string, id: string) => {
    const row = await p.db(table).where('id', id).first();
    const audit = await p.db('audit_log').where('entity_id', id).count({ n: '*' });
    return { row, audit };
  };

  test('a rating request: 202 with its workflow pending; the decision 503; the reconciler starts it; then decided', async () => {
    const off = offlineApp(p);
    let id: string;
    try {
      const t0 = Date.now();
      const res = await request(off.app)
        .post('/rating-requests')
        .set('Authorization', who.agency.auth)
        .send({ subject_uscc: ENT2, categories: ['credit'], purpose: '主体信用评级' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ workflow: 'pending', rating_request: { status: 'requested' } });
      id = res.body.rating_request.id;
      expect(await p.db('audit_log').where({ action: 'rating_request.file', entity_id: id }).count({ n: '*' })).toEqual([{ n: 1 }]);
      const before = await snapshot('rating_requests', id);
      expect(before.row).toMatchObject({ workflow_started_at: null, decision_deadline: null });
      const decision = await request(off.app)
        .post(`/rating-requests/${id}/decision`)
        .set('Authorization', who.staff.auth)
        .send({ approve: true, reason: '资质齐全' });
      expectProcessEngineOutage(decision);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(await snapshot('rating_requests', id)).toEqual(before);
    } finally {
      await off.close();
    }
    // Temporal is back: the reconciler starts what waited; the decision deadline is set, counted from the filing.
    expect(await startPendingRequestWorkflows(p.db, p.env.client, p.taskQueue, 0)).toBe(1);
    expect(await startPendingRequestWorkflows(p.db, p.env.client, p.taskQueue, 0)).toBe(0);
    await waitFor(async () => (await p.db('rating_requests').where('id', id).first()).decision_deadline);
    const ok = await request(p.app)
      .post(`/rating-requests/${id}/decision`)
      .set('Authorization', who.staff.auth)
      .send({ approve: false, reason: '用途不明' });
    expect(ok.status).toBe(200);
    expect(ok.body.rating_request).toMatchObject({ status: 'rejected' });
  });

  test('a judicial request: 202 with its workflow pending; the answer 503; started by the reconciler, its deadline from receipt', async () => {
    const proof = (await upload(who.court.auth, 'duty_proof', PDF, 'application/pdf', '协助查询通知书.pdf')).body.document.id;
    const off = offlineApp(p);
    let id: string;
    try {
      const res = await request(off.app)
        .post('/judicial-requests')
        .set('Authorization', who.court.auth)
        .send({ subject_type: 'person', subject_id: PER, case_no: '(2026)桂07执99号', purpose: '执行财产调查', document_id: proof });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ workflow: 'pending', judicial_request: { status: 'pending' } });
      id = res.body.judicial_request.id;
      const before = await snapshot('judicial_requests', id);
      expect(before.row).toMatchObject({ workflow_started_at: null, answer_due: null });
      expectProcessEngineOutage(
        await request(off.app).post(`/judicial-requests/${id}/answer`).set('Authorization', who.staff.auth).send({ decision: 'answer' }),
      );
      expect(await snapshot('judicial_requests', id)).toEqual(before);
    } finally {
      await off.close();
    }
    expect(await startPendingRequestWorkflows(p.db, p.env.client, p.taskQueue, 0)).toBe(1);
    const row = await waitFor(async () => {
      const r = await p.db('judicial_requests').where('id', id).first();
      return r.answer_due ? r : null;
    });
    expect(row.receipt_date).toBe(TODAY);
    const ans = await request(p.app)
      .post(`/judicial-requests/${id}/answer`)
      .set('Authorization', who.staff.auth)
      .send({ decision: 'answer' });
    expect(ans.status).toBe(200);
    expect(ans.body.judicial_request).toMatchObject({ status: 'answered' });
  });
});

describe('rating-agency requests that nobody decides', () => {
  const file = (auth: string, body: object) => request(p.app).post('/rating-requests').set('Authorization', auth).send(body);
  const decide = (id: string, body: object, auth = who.staff.auth) =>
    request(p.app).post(`/rating-requests/${id}/decision`).set('Authorization', auth).send(body);
  test('undecided at its deadline, the request lapses (time skipped)', async () => {
    const id = (await file(who.agency.auth, { subject_uscc: ENT2, categories: ['tax'], purpose: '评级' })).body.rating_request.id;
    const result = await p.env.client.workflow.getHandle(`rating-request-${id}`).result();
    expect(result.stage).toBe('lapsed');
    const row = await p.db('rating_requests').where('id', id).first();
    expect(row.status).toBe('lapsed');
    expect(
      await p
        .db('notifications')
        .where({ recipient_principal_id: who.agency.id, kind: 'rating_request.lapsed', entity_id: id })
        .count({ n: '*' }),
    ).toEqual([{ n: 1 }]);
    const late = await decide(id, { approve: true, reason: '迟到的批准' });
    expect(late.status).toBe(409);
  });
});
