import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { addPrincipal } from './support/principals';
import { citizenId, seedRecord, uscc } from './support/fixtures';
import { shanghaiDate, addCalendarDays } from '../domain/calendar';

/**
 * Rating-agency agreements (E14(3), "approval per agreement"): staff record an agreement signed with a rating
 * agency; the agency then queries restricted enterprise information under it, within its categories, enterprises
 * and period, until staff terminate it. Every query is logged (P20, E22) and chargeable (E16).
 */

const ENT = uscc(701);
const ENT2 = uscc(702);
const ENT3 = uscc(703);
const PER = citizenId(701);
// Today is the platform's own clock: these tests run the whole platform (API, worker, PostgreSQL, the Temporal test
// server) and check behaviour relative to the present (the period in progress, a validity that includes today), so
// the scenario is built from the same clock the platform reads, and every date under test is derived from it. The
// clock is controlled for all of them at once with `npm run test:at -- YYYY-MM-DD` (README, "Tests on any day").
const TODAY = shanghaiDate(new Date());
const PDF = Buffer.from('%PDF-1.7\n评级查询协议 / rating agreement\n%%EOF');

let p: TestPlatform;
const who: Record<string, { id: string; auth: string }> = {};

const upload = (auth: string, kind = 'rating_agreement') =>
  request(p.app)
    .post(`/documents?kind=${kind}&file_name=${encodeURIComponent('评级查询协议.pdf')}`)
    .set('Authorization', auth)
    .set('Content-Type', 'application/pdf')
    .send(PDF);
const create = (auth: string, body: object) => request(p.app).post('/rating-agreements').set('Authorization', auth).send(body);
const get = (auth: string, path: string) => request(p.app).get(path).set('Authorization', auth);
const terminate = (auth: string, id: string, body: object = { reason: '协议双方协商解除' }) =>
  request(p.app).post(`/rating-agreements/${id}/termination`).set('Authorization', auth).send(body);
const query = (auth: string, agreementId: string, over: object = {}) =>
  request(p.app)
    .post('/queries')
    .set('Authorization', auth)
    .send({
      subject_type: 'enterprise',
      subject_id: ENT,
      basis: { kind: 'rating_agreement', agreement_id: agreementId },
      purpose: '年度信用评级',
      ...over,
    });

let seq = 0;
/** A valid agreement body for the first agency; each gets its own number. */
const agreementBody = (over: object = {}) => ({
  agency_principal_id: who.agency.id,
  agreement_no: `钦信协〔2026〕${++seq}号`,
  categories: ['tax', 'credit'],
  purpose: '企业信用评级',
  valid_from: TODAY,
  valid_until: addCalendarDays(TODAY, 365),
  ...over,
});

async function newAgreement(over: object = {}): Promise<{ id: string; status: string }> {
  const res = await create(who.staff.auth, agreementBody(over));
  expect(res.status).toBe(201);
  return res.body.rating_agreement;
}

const auditCount = async (action: string, entityId?: string) => {
  const [{ n }] = await p
    .db('audit_log')
    .where('action', action)
    .modify((b) => (entityId ? b.where('entity_id', entityId) : b))
    .count({ n: '*' });
  return Number(n);
};

beforeAll(async () => {
  p = await startTestPlatform();
  const mk = (key: string, role: Parameters<typeof addPrincipal>[3], extra = {}) => addPrincipal(p.db, who, key, role, extra);
  await mk('agency', 'rating_agency', { organization: '广西信用评级有限公司' });
  await mk('agency2', 'rating_agency', { organization: '另一评级公司' });
  await mk('ent', 'enterprise', { enterpriseUscc: ENT, organization: '钦州市丙公司' });
  await mk('staff', 'staff');
  await mk('staff2', 'staff');
  await mk('admin', 'admin');
  await mk('supervisor', 'supervisor');
  await seedRecord(p.db, 'E-TAX', 'enterprise', ENT, { tax_year: 2025, tax_paid: 66000, rating: 'A' });
  await seedRecord(p.db, 'E-CREDIT', 'enterprise', ENT, { lender: '钦州银行', amount: 800, status: '正常' });
  await seedRecord(p.db, 'E-FINANCIAL', 'enterprise', ENT, { report_period: '2025', assets: 9000, liabilities: 3000 });
  await seedRecord(p.db, 'E-TAX', 'enterprise', ENT2, { tax_year: 2025, tax_paid: 1000, rating: 'C' });
  await seedRecord(p.db, 'P-LOAN', 'person', PER, { lender: '钦州银行', kind: '贷款', amount: 1000, status: '正常' });
}, 120000);
afterAll(async () => {
  await p?.stop();
});

describe('staff record an agreement; the agency queries under it (E14(3), E16, P20)', () => {
  let docId: string;
  let agreement: Record<string, unknown> & { id: string };

  test('staff upload the signed agreement and record it: 201, audited, the organization copied from the agency', async () => {
    const doc = await upload(who.staff.auth);
    expect(doc.status).toBe(201);
    expect(doc.body.document.kind).toBe('rating_agreement');
    docId = doc.body.document.id;

    const res = await create(
      who.staff.auth,
      agreementBody({
        agreement_no: '钦信协〔2026〕A1号',
        enterprises: [ENT, ENT, ENT2],
        categories: ['tax', 'credit', 'tax'],
        document_id: docId,
      }),
    );
    expect(res.status).toBe(201);
    agreement = res.body.rating_agreement;
    expect(res.headers.location).toBe(`/rating-agreements/${agreement.id}`);
    expect(agreement).toMatchObject({
      agency_principal_id: who.agency.id,
      agency_name: 'agency账号',
      organization: '广西信用评级有限公司',
      agreement_no: '钦信协〔2026〕A1号',
      categories: ['tax', 'credit'],
      enterprises: [ENT, ENT2],
      valid_from: TODAY,
      valid_until: addCalendarDays(TODAY, 365),
      document_id: docId,
      status: 'active',
      created_by: who.staff.id,
      terminated_at: null,
    });
    expect(await auditCount('rating_agreement.create', agreement.id)).toBe(1);
    const audit = await p.db('audit_log').where({ action: 'rating_agreement.create', entity_id: agreement.id }).first();
    expect(audit).toMatchObject({ principal_id: who.staff.id, entity: 'rating_agreement' });
    expect(audit.detail).toMatchObject({ agreement_no: '钦信协〔2026〕A1号', article: 'E14(3)' });
  });

  test("the agency reads its enterprise's restricted information under it: answered, logged with the agreement, chargeable", async () => {
    const res = await query(who.agency.auth, agreement.id, { categories: ['tax', 'credit'] });
    expect(res.status).toBe(200);
    expect(res.body.query).toMatchObject({
      basis: 'rating_agreement',
      fee: 'chargeable',
      categories: ['tax', 'credit'],
      withheld: [],
      article: 'E14(3)',
    });
    expect(res.body.records.map((r: { item_code: string }) => r.item_code).sort()).toEqual(['E-CREDIT', 'E-TAX']);

    const log = await p.db('query_log').where('id', res.body.query.id).first();
    expect(log).toMatchObject({
      principal_id: who.agency.id,
      principal_role: 'rating_agency',
      organization: '广西信用评级有限公司',
      subject_type: 'enterprise',
      subject_id: ENT,
      basis: 'rating_agreement',
      basis_ref: agreement.id,
      document_id: docId,
      fee: 'chargeable',
      outcome: 'answered',
      item_count: 2,
      purpose: '年度信用评级',
    });
    expect(log.document_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await auditCount('query.answered', String(res.body.query.id))).toBe(1);

    // the enterprise sees who queried its restricted information, and on which agreement
    const aboutMe = await get(who.ent.auth, '/queries/about-me');
    expect(aboutMe.status).toBe(200);
    expect(aboutMe.body.queries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: res.body.query.id,
          principal_name: 'agency账号',
          basis: 'rating_agreement',
          basis_ref: agreement.id,
          fee: 'chargeable',
        }),
      ]),
    );
    // and the fee report counts it (E16)
    const fees = await get(who.admin.auth, `/admin/query-fees?from=${TODAY}&to=${TODAY}`);
    expect(fees.body.rows).toEqual(expect.arrayContaining([expect.objectContaining({ principal_id: who.agency.id, queries: 1 })]));
  });

  test('categories beyond the agreement are withheld; asking only for them is refused', async () => {
    const all = await query(who.agency.auth, agreement.id);
    expect(all.status).toBe(200);
    expect(all.body.query.categories).toEqual(['tax', 'credit']);
    expect(all.body.query.withheld).toEqual([
      { category: 'financial', reason: expect.stringMatching(/超出协议约定的查询范围 \/ beyond/), article: 'E14(3), E22' },
      { category: 'other_restricted', reason: expect.any(String), article: 'E14(3), E22' },
    ]);
    expect(all.body.records.map((r: { item_code: string }) => r.item_code)).not.toContain('E-FINANCIAL');

    const beyond = await query(who.agency.auth, agreement.id, { categories: ['financial'] });
    expect(beyond.status).toBe(403);
    expect(beyond.body.error).toMatchObject({ code: 'QUERY_REFUSED', refusal: 'BEYOND_SCOPE' });
    expect(beyond.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'categories.financial', article: 'E14(3), E22' })]),
    );
  });

  test("an enterprise outside the agreement's list, and any person, are refused; refusals are logged, free", async () => {
    const other = await query(who.agency.auth, agreement.id, { subject_id: ENT3 });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ refusal: 'ENTERPRISE_NOT_COVERED' });
    expect(other.body.error.details[0]).toMatchObject({ field: 'basis', article: 'E14(3)' });
    expect(other.body.error.details[0].reason).toMatch(/不包括该企业 \/ the agreement does not cover/);
    const listed = await query(who.agency.auth, agreement.id, { subject_id: ENT2 });
    expect(listed.status).toBe(200);
    expect(listed.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['E-TAX']);

    const person = await query(who.agency.auth, agreement.id, {
      subject_type: 'person',
      subject_id: PER,
      categories: ['commercial_credit'],
    });
    expect(person.status).toBe(403);
    expect(person.body.error).toMatchObject({ refusal: 'PERSON_NEEDS_AUTHORIZATION' });

    const log = await p
      .db('query_log')
      .where({ principal_id: who.agency.id, outcome: 'refused', basis: 'rating_agreement' })
      .orderBy('id')
      .select('subject_id', 'refusal_code', 'fee', 'basis_ref');
    expect(log).toEqual(
      expect.arrayContaining([
        { subject_id: ENT3, refusal_code: 'ENTERPRISE_NOT_COVERED', fee: 'free', basis_ref: agreement.id },
        { subject_id: PER, refusal_code: 'PERSON_NEEDS_AUTHORIZATION', fee: 'free', basis_ref: agreement.id },
      ]),
    );
  });

  test('another agency can neither use nor see it (404); staff cannot query under it', async () => {
    const stolen = await query(who.agency2.auth, agreement.id);
    expect(stolen.status).toBe(403);
    expect(stolen.body.error).toMatchObject({ refusal: 'AGREEMENT_NOT_FOUND' });
    expect((await get(who.agency2.auth, `/rating-agreements/${agreement.id}`)).status).toBe(404);
    const list2 = await get(who.agency2.auth, '/rating-agreements');
    expect(list2.status).toBe(200);
    expect(list2.body.rating_agreements).toEqual([]);
    const peek = await get(who.agency2.auth, `/rating-agreements?agency_principal_id=${who.agency.id}`);
    expect(peek.body.rating_agreements).toEqual([]);

    const staffQuery = await query(who.staff.auth, agreement.id);
    expect(staffQuery.status).toBe(403);
    expect(staffQuery.body.error).toMatchObject({ refusal: 'NOT_RATING_AGENCY' });
    const logged = await p.db('query_log').where({ principal_id: who.staff.id, basis: 'rating_agreement' }).first();
    expect(logged).toMatchObject({ outcome: 'refused', refusal_code: 'NOT_RATING_AGENCY' });
  });

  test('the agency, staff, administrators and supervisors see it; an enterprise does not', async () => {
    const own = await get(who.agency.auth, `/rating-agreements/${agreement.id}`);
    expect(own.status).toBe(200);
    expect(own.body.rating_agreement).toMatchObject({ id: agreement.id, status: 'active' });
    for (const k of ['staff', 'admin', 'supervisor']) {
      const res = await get(who[k].auth, `/rating-agreements/${agreement.id}`);
      expect(res.status).toBe(200);
      const list = await get(who[k].auth, '/rating-agreements');
      expect(list.body.rating_agreements.map((a: { id: string }) => a.id)).toContain(agreement.id);
    }
    const list = await get(who.agency.auth, '/rating-agreements?status=active');
    expect(list.body.rating_agreements.map((a: { id: string }) => a.id)).toContain(agreement.id);
    expect(list.body.rating_agreements.every((a: { agency_principal_id: string }) => a.agency_principal_id === who.agency.id)).toBe(true);
    // The agency reads the signed copy of its agreement; another agency does not.
    const copy = await get(who.agency.auth, `/documents/${docId}/content`);
    expect(copy.status).toBe(200);
    expect(Buffer.from(copy.body).equals(PDF)).toBe(true);
    expect((await get(who.agency2.auth, `/documents/${docId}`)).status).toBe(404);
    expect((await get(who.agency2.auth, `/documents/${docId}/content`)).status).toBe(404);
    expect((await get(who.ent.auth, '/rating-agreements')).status).toBe(403);
    expect((await get(who.ent.auth, `/rating-agreements/${agreement.id}`)).status).toBe(403);
  });

  test('terminated by staff: refused at once; a second termination is 409; the agency cannot terminate', async () => {
    expect((await terminate(who.agency.auth, agreement.id)).status).toBe(403);
    const res = await terminate(who.staff.auth, agreement.id, { reason: '评级机构资质被撤销' });
    expect(res.status).toBe(200);
    expect(res.body.rating_agreement).toMatchObject({
      id: agreement.id,
      status: 'terminated',
      terminated_by: who.staff.id,
      termination_reason: '评级机构资质被撤销',
    });
    expect(res.body.rating_agreement.terminated_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await auditCount('rating_agreement.terminate', agreement.id)).toBe(1);

    const after = await query(who.agency.auth, agreement.id);
    expect(after.status).toBe(403);
    expect(after.body.error).toMatchObject({ refusal: 'AGREEMENT_TERMINATED' });
    expect(after.body.error.details[0]).toMatchObject({ field: 'basis', article: 'E14(3)' });

    const again = await terminate(who.staff.auth, agreement.id, { reason: '再次终止' });
    expect(again.status).toBe(409);
    expect(again.body.error.details[0]).toMatchObject({ field: 'id', article: 'E14(3)' });
    expect(await auditCount('rating_agreement.terminate', agreement.id)).toBe(1);

    const terminated = await get(who.staff.auth, '/rating-agreements?status=terminated');
    expect(terminated.body.rating_agreements.map((a: { id: string }) => a.id)).toContain(agreement.id);
    const active = await get(who.staff.auth, '/rating-agreements?status=active');
    expect(active.body.rating_agreements.map((a: { id: string }) => a.id)).not.toContain(agreement.id);

    expect((await terminate(who.staff.auth, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const noReason = await terminate(who.staff.auth, agreement.id, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details[0].field).toBe('reason');
  });

  test('the audit chain still verifies after these writes', async () => {
    const res = await get(who.admin.auth, '/admin/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
  });
});

describe("the agreement's period: Shanghai calendar days, both included", () => {
  test('before valid_from: refused, listed as upcoming', async () => {
    const a = await newAgreement({ valid_from: addCalendarDays(TODAY, 1), valid_until: addCalendarDays(TODAY, 30) });
    expect(a.status).toBe('upcoming');
    const res = await query(who.agency.auth, a.id);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ refusal: 'AGREEMENT_NOT_YET_VALID' });
    expect(res.body.error.message).toContain(addCalendarDays(TODAY, 1));
    const upcoming = await get(who.staff.auth, '/rating-agreements?status=upcoming');
    expect(upcoming.body.rating_agreements.map((x: { id: string }) => x.id)).toContain(a.id);
  });

  test('its last day still counts; after valid_until: refused, listed as expired', async () => {
    const a = await newAgreement({ valid_from: TODAY, valid_until: TODAY });
    expect((await query(who.agency.auth, a.id)).status).toBe(200);
    // a day later (the stored period moved back one day, as time passing would)
    await p
      .db('rating_agreements')
      .where('id', a.id)
      .update({ valid_from: addCalendarDays(TODAY, -1), valid_until: addCalendarDays(TODAY, -1) });
    const res = await query(who.agency.auth, a.id);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ refusal: 'AGREEMENT_EXPIRED' });
    expect(res.body.error.message).toMatch(/已于 .* 到期/);
    const expired = await get(who.agency.auth, '/rating-agreements?status=expired');
    expect(expired.body.rating_agreements.map((x: { id: string }) => x.id)).toEqual([a.id]);
    const active = await get(who.agency.auth, '/rating-agreements?status=active');
    expect(active.body.rating_agreements.map((x: { id: string }) => x.id)).not.toContain(a.id);
  });

  test('without a list of enterprises it covers any enterprise', async () => {
    const a = await newAgreement({ categories: ['tax'] });
    const res = await query(who.agency.auth, a.id, { subject_id: ENT2 });
    expect(res.status).toBe(200);
    expect(res.body.query.categories).toEqual(['tax']);
    expect(res.body.records.map((r: { item_code: string }) => r.item_code)).toEqual(['E-TAX']);
  });
});

describe('roles and bad input: 4xx naming the field, nothing changed', () => {
  test('only staff record agreements; only staff upload signed agreements', async () => {
    for (const k of ['agency', 'admin', 'supervisor', 'ent']) {
      const res = await create(who[k].auth, agreementBody());
      expect(res.status).toBe(403);
    }
    expect((await upload(who.agency.auth)).status).toBe(403);
    expect((await upload(who.ent.auth)).status).toBe(403);
    // staff upload no other kind of document
    expect((await upload(who.staff.auth, 'authorization')).status).toBe(403);
    expect(await p.db('rating_agreements').where('created_by', '<>', who.staff.id).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  test('bad agreements are 400 naming the field, with the reason in Chinese and English; nothing is stored or audited', async () => {
    const [{ n: before }] = await p.db('rating_agreements').count({ n: '*' });
    const auditedBefore = await auditCount('rating_agreement.create');
    const foreignDoc = (await upload(who.staff2.auth)).body.document.id as string;
    const cases: [string, object, string, string?][] = [
      ['unknown principal', { agency_principal_id: '00000000-0000-4000-8000-000000000000' }, 'agency_principal_id', 'E14(3)'],
      ['not a rating agency', { agency_principal_id: who.ent.id }, 'agency_principal_id', 'E14(3)'],
      ['not a UUID', { agency_principal_id: 'agency' }, 'agency_principal_id'],
      ['a public category', { categories: ['tax', 'warning'] }, 'categories.1', 'E12'],
      ['a personal category', { categories: ['commercial_credit'] }, 'categories.0', 'E13'],
      ['no category', { categories: [] }, 'categories'],
      ['a bad credit code', { enterprises: [ENT, '91450700MA0000000X'] }, 'enterprises.1', 'GB 32100-2015'],
      ['an empty list of enterprises', { enterprises: [] }, 'enterprises'],
      ['valid_until before valid_from', { valid_from: addCalendarDays(TODAY, 10), valid_until: addCalendarDays(TODAY, 9) }, 'valid_until'],
      ['already ended', { valid_from: addCalendarDays(TODAY, -30), valid_until: addCalendarDays(TODAY, -1) }, 'valid_until', 'E14(3)'],
      ['not a date', { valid_from: '2026-02-30' }, 'valid_from'],
      ['no such document', { document_id: '00000000-0000-4000-8000-000000000000' }, 'document_id', 'E14(3)'],
      ["another staff member's document", { document_id: foreignDoc }, 'document_id', 'E14(3)'],
      ['no purpose', { purpose: '' }, 'purpose'],
      ['no number', { agreement_no: ' ' }, 'agreement_no'],
    ];
    for (const [what, over, field, article] of cases) {
      const res = await create(who.staff.auth, agreementBody(over));
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      const detail = res.body.error.details.find((d: { field: string }) => d.field === field);
      expect({ what, detail }).toEqual({ what, detail: expect.objectContaining({ field, reason: expect.any(String) }) });
      expect(res.body.error.message.length).toBeGreaterThan(0);
      if (article) {
        expect({ what, article: detail.article }).toEqual({ what, article });
        expect({ what, reason: detail.reason }).toEqual({ what, reason: expect.stringMatching(/[\u4e00-\u9fff].*\/ [A-Za-z]/) }); // Chinese, then English
      }
    }
    const unknownField = await create(who.staff.auth, { ...agreementBody(), fee: 0 });
    expect(unknownField.status).toBe(400);
    expect(JSON.stringify(unknownField.body.error.details)).toContain('fee');

    const [{ n: after }] = await p.db('rating_agreements').count({ n: '*' });
    expect(after).toBe(before);
    expect(await auditCount('rating_agreement.create')).toBe(auditedBefore);
  });

  test('a duplicate agreement number is 409 naming the field; the first agreement is unchanged', async () => {
    const first = await newAgreement({ agreement_no: '钦信协〔2026〕DUP号' });
    const [{ n: before }] = await p.db('rating_agreements').count({ n: '*' });
    const dup = await create(who.staff.auth, agreementBody({ agreement_no: '钦信协〔2026〕DUP号', agency_principal_id: who.agency2.id }));
    expect(dup.status).toBe(409);
    expect(dup.body.error.details[0]).toMatchObject({ field: 'agreement_no', article: 'E14(3)' });
    expect(dup.body.error.message).toMatch(/已登记 \/ an agreement/);
    const [{ n: after }] = await p.db('rating_agreements').count({ n: '*' });
    expect(after).toBe(before);
    expect(await p.db('rating_agreements').where('agreement_no', '钦信协〔2026〕DUP号').select('id', 'agency_principal_id')).toEqual([
      { id: first.id, agency_principal_id: who.agency.id },
    ]);
  });

  test('bad ids and filters are 400 naming the field; an unknown agreement is a refused, logged query', async () => {
    const badId = await get(who.staff.auth, '/rating-agreements/not-a-uuid');
    expect(badId.status).toBe(400);
    expect(badId.body.error.details[0].field).toBe('id');
    const badStatus = await get(who.staff.auth, '/rating-agreements?status=valid');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.details[0].field).toBe('status');
    expect((await get(who.staff.auth, '/rating-agreements/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    const [{ n: before }] = await p.db('query_log').count({ n: '*' });
    const badBasis = await request(p.app)
      .post('/queries')
      .set('Authorization', who.agency.auth)
      .send({ subject_type: 'enterprise', subject_id: ENT, basis: { kind: 'rating_agreement', agreement_id: 'x' }, purpose: '评级' });
    expect(badBasis.status).toBe(400);
    expect(badBasis.body.error.details[0].field).toBe('basis.agreement_id');
    const [{ n: after }] = await p.db('query_log').count({ n: '*' });
    expect(after).toBe(before);

    const unknown = await query(who.agency.auth, '00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(403);
    expect(unknown.body.error).toMatchObject({ refusal: 'AGREEMENT_NOT_FOUND' });
    const logged = await p.db('query_log').where('id', unknown.body.error.query_id).first();
    expect(logged).toMatchObject({ basis: 'rating_agreement', basis_ref: '00000000-0000-4000-8000-000000000000', outcome: 'refused' });
  });
});
