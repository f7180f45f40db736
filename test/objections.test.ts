/**
 * Objections end to end (E18, E20, P21–P24): the API, the objection workflow on the Temporal time-skipping test
 * server and the real activities on PostgreSQL. The test that lets 10 working days pass comes last: time skipping
 * is global to the environment.
 */
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';
import { acceptObjection } from '../db/objections';
import { startPendingObjectionWorkflows } from '../processes/starts';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { addPrincipal } from './support/principals';
import { citizenId, uscc } from './support/fixtures';
import { shanghaiDate } from '../domain/calendar';
import { loadCalendar } from '../db/calendar';
import { objectionWorkflow } from '../workflows/objection';
import { objectionStateQuery } from '../processes/messages';
import { objectionWorkflowId } from '../domain/workflow-ids';
import { createActivities } from '../activities';
import { waitFor } from './support/wait';

const ENT = uscc(701);
const ENT2 = uscc(702);
const ENT3 = uscc(703);
const PER = citizenId(701);
const PER2 = citizenId(702);
// Today is the platform's own clock: these tests run the whole platform (API, worker, PostgreSQL, the Temporal test
// server) and check behaviour relative to the present (the period in progress, a validity that includes today), so
// the scenario is built from the same clock the platform reads, and every date under test is derived from it. The
// clock is controlled for all of them at once with `npm run test:at -- YYYY-MM-DD` (README, "Tests on any day").
const TODAY = shanghaiDate(new Date());
const PDF = Buffer.from('%PDF-1.7\n行政处罚决定已撤销的证明 / proof the decision was revoked\n%%EOF');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png body')]);
const NOBODY = '00000000-0000-0000-0000-000000000000';

let p: TestPlatform;
const who: Record<string, { id: string; auth: string }> = {};
const rec: Record<string, string> = {};
let dutyDoc: string;

async function seedRecord(
  providerCode: string,
  item: string,
  subjectType: 'enterprise' | 'person',
  subjectId: string,
  payload: Record<string, unknown>,
  publish = false,
): Promise<string> {
  const provider = await p.db('providers').where('code', providerCode).first('id');
  const [row] = await p
    .db('records')
    .insert({
      provider_id: provider.id,
      item_code: item,
      subject_type: subjectType,
      subject_id: subjectId,
      payload: JSON.stringify(payload),
      event_date: '2026-09-01',
      created_by: NOBODY,
    })
    .returning(['id', 'record_key']);
  if (publish) {
    await p.db('publications').insert({
      record_key: row.record_key,
      record_id: row.id,
      provider_id: provider.id,
      subject_id: subjectId,
      item_code: item,
      category: 'warning',
      state: 'published',
      due_date: TODAY,
      published_at: new Date(),
      publication_date: TODAY,
    });
  }
  return row.record_key;
}

const penalty = (n: number, amount = 5000) => ({
  decision_no: `钦市监罚〔2026〕${n}号`,
  violation: '虚假宣传',
  penalty: '罚款',
  authority: '钦州市市场监督管理局',
  amount,
});
const personPenalty = (n: number) => ({
  decision_no: `钦工商罚〔2026〕${n}号`,
  matter: '无照经营',
  result: '罚款 500 元',
  authority: '钦州市工商行政管理局',
});

const api = () => request(p.app);
const file = (auth: string, body: object) => api().post('/objections').set('Authorization', auth).send(body);
const attach = (auth: string, id: string, body: Buffer = PDF, type = 'application/pdf', name = '证明.pdf') =>
  api()
    .post(`/objections/${id}/attachments?file_name=${encodeURIComponent(name)}`)
    .set('Authorization', auth)
    .set('Content-Type', type)
    .send(body);
const get = (auth: string, id: string) => api().get(`/objections/${id}`).set('Authorization', auth);
const accept = (id: string) => api().post(`/objections/${id}/accept`).set('Authorization', who.staff.auth);
const verify = (auth: string, id: string, body: object) =>
  api().post(`/objections/${id}/verification`).set('Authorization', auth).send(body);
const outcome = (id: string, body: object) => api().post(`/objections/${id}/outcome`).set('Authorization', who.staff.auth).send(body);
const notes = async (auth: string, kind: string) =>
  (await api().get(`/notifications?kind=${kind}`).set('Authorization', auth)).body.notifications as {
    entity_id: string;
    body: string;
    data: Record<string, unknown>;
  }[];
const queryPerson = (subject: string) =>
  api()
    .post('/queries')
    .set('Authorization', who.gov.auth)
    .send({
      subject_type: 'person',
      subject_id: subject,
      categories: ['public_credit'],
      basis: { kind: 'duty', document_id: dutyDoc },
      purpose: '行政执法核查',
    });

const stateOf = async (id: string) => (await p.db('objections').where('id', id).first('state')).state as string;

/** Files an objection with one evidence file and has staff accept it; answers once the provider has been asked. */
async function openObjection(auth: string, keys: string[], extra: object = {}): Promise<string> {
  const res = await file(auth, {
    record_keys: keys,
    claim: '该处罚决定已被依法撤销，信息有误',
    evidence_summary: '撤销决定书复印件',
    ...extra,
  });
  expect(res.status).toBe(201);
  const id = res.body.objection.id as string;
  expect((await attach(auth, id)).status).toBe(201);
  expect((await accept(id)).status).toBe(202);
  await waitFor(async () => (await stateOf(id)) === 'verifying');
  return id;
}

beforeAll(async () => {
  process.env.OBJECTION_ATTACHMENT_MAX_BYTES = '2048';
  p = await startTestPlatform();
  const mk = (key: string, role: Parameters<typeof addPrincipal>[3], extra = {}) => addPrincipal(p.db, who, key, role, extra);
  await mk('ent', 'enterprise', { enterpriseUscc: ENT, organization: '钦州市甲公司' });
  await mk('ent2', 'enterprise', { enterpriseUscc: ENT2, organization: '钦州市乙公司' });
  await mk('per', 'person', { personId: PER });
  await mk('per2', 'person', { personId: PER2 });
  await mk('agency', 'rating_agency', { organization: '广西信用评级有限公司' });
  await mk('gov', 'government', { organization: '钦州市市场监督管理局' });
  await mk('staff', 'staff');
  await mk('gsj', 'provider', { providerCode: 'QZ-GSJ' });
  await mk('pboc', 'provider', { providerCode: 'QZ-PBOC' });
  await p.db('enterprises').insert([
    { uscc: ENT, name: '钦州市异议测试甲有限公司' },
    { uscc: ENT2, name: '钦州市异议测试乙有限公司' },
    { uscc: ENT3, name: '钦州市异议测试丙有限公司' },
  ]);
  rec.entPenalty = await seedRecord('QZ-GSJ', 'E-PENALTY', 'enterprise', ENT, penalty(1), true);
  rec.entCredit = await seedRecord('QZ-PBOC', 'E-CREDIT', 'enterprise', ENT, { lender: '北部湾银行', amount: 500, status: '关注' });
  rec.ent2Penalty = await seedRecord('QZ-GSJ', 'E-PENALTY', 'enterprise', ENT2, penalty(2), true);
  rec.ent3Penalty = await seedRecord('QZ-GSJ', 'E-PENALTY', 'enterprise', ENT3, penalty(3), true);
  rec.perPenalty1 = await seedRecord('QZ-GSJ', 'P-PUBLIC-PENALTY', 'person', PER, personPenalty(1));
  rec.perPenalty2 = await seedRecord('QZ-GSJ', 'P-PUBLIC-PENALTY', 'person', PER, personPenalty(2));
  rec.per2Penalty = await seedRecord('QZ-GSJ', 'P-PUBLIC-PENALTY', 'person', PER2, personPenalty(3));
  const doc = await api()
    .post('/documents?kind=duty_proof&file_name=proof.pdf')
    .set('Authorization', who.gov.auth)
    .set('Content-Type', 'application/pdf')
    .send(PDF);
  expect(doc.status).toBe(201);
  dutyDoc = doc.body.document.id;
}, 120000);

afterAll(async () => {
  delete process.env.OBJECTION_ATTACHMENT_MAX_BYTES;
  await p?.stop();
});

describe('filing and acceptance (E18, P21)', () => {
  test("a person cannot object to another person's record (403, P21) and nothing is stored", async () => {
    const [{ n: before }] = await p.db('objections').count({ n: '*' });
    const res = await file(who.per.auth, { record_keys: [rec.per2Penalty], claim: '这条信息有误，应当删除', evidence_summary: '无证据' });
    expect(res.status).toBe(403);
    expect(res.body.error.details[0]).toMatchObject({ field: 'record_keys.0', article: 'P21' });
    // an enterprise or a government body cannot object to a person's record either
    expect(
      (await file(who.ent.auth, { record_keys: [rec.perPenalty1], claim: '这条信息有误，应当删除', evidence_summary: '无证据' })).status,
    ).toBe(403);
    expect(
      (await file(who.gov.auth, { record_keys: [rec.perPenalty1], claim: '这条信息有误，应当删除', evidence_summary: '无证据' })).status,
    ).toBe(403);
    const [{ n: after }] = await p.db('objections').count({ n: '*' });
    expect(after).toBe(before);
    expect(await p.db('audit_log').where('action', 'objection.file').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  test('anyone may object to a published enterprise record (E18); a restricted record it never saw is not revealed (404)', async () => {
    const hidden = await file(who.agency.auth, {
      record_keys: [rec.entCredit],
      claim: '贷款状态有误，应为正常',
      evidence_summary: '结清证明',
    });
    expect(hidden.status).toBe(404);
    const res = await file(who.agency.auth, {
      record_keys: [rec.ent3Penalty],
      claim: '该企业的处罚已被撤销',
      evidence_summary: '撤销决定书',
    });
    expect(res.status).toBe(201);
    expect(res.body.objection).toMatchObject({
      state: 'submitted',
      subject_type: 'enterprise',
      subject_id: ENT3,
      provider: 'QZ-GSJ',
      deadline: null,
      working_days_left: null,
    });
    // staff are told; the same applicant cannot file twice on the same record while it is open
    expect((await notes(who.staff.auth, 'objection.filed')).some((n) => n.entity_id === res.body.objection.id)).toBe(true);
    expect(
      (await file(who.agency.auth, { record_keys: [rec.ent3Penalty], claim: '该企业的处罚已被撤销', evidence_summary: '撤销决定书' }))
        .status,
    ).toBe(409);
    // one provider per objection: the enterprise's own records of two providers are refused together
    const two = await file(who.ent.auth, {
      record_keys: [rec.entPenalty, rec.entCredit],
      claim: '两条信息都有误，应当更正',
      evidence_summary: '证明',
    });
    expect(two.status).toBe(400);
    expect(two.body.error.details.some((d: { reason: string }) => /同一信息提供单位/.test(d.reason))).toBe(true);
    // another principal cannot see the objection
    expect((await get(who.ent2.auth, res.body.objection.id)).status).toBe(404);
    expect((await get(who.pboc.auth, res.body.objection.id)).status).toBe(404);
    expect((await get(who.gsj.auth, res.body.objection.id)).status).toBe(404); // the provider sees it once accepted
  });

  test('evidence: type checked by its magic bytes, size limited; no evidence → staff refuse it with a reason', async () => {
    const res = await file(who.agency.auth, {
      record_keys: [rec.ent2Penalty],
      claim: '处罚金额有误，应为 500 元',
      evidence_summary: '缴款凭证',
    });
    const id = res.body.objection.id;
    expect((await attach(who.agency.auth, id, Buffer.from('hello'), 'text/plain', 'a.txt')).status).toBe(415);
    expect((await attach(who.agency.auth, id, PDF, 'image/png', 'a.png')).status).toBe(415);
    const big = await attach(who.agency.auth, id, Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(3000)]));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('ATTACHMENT_TOO_LARGE');
    expect((await attach(who.ent.auth, id)).status).toBe(404); // not the applicant
    expect(await p.db('objection_attachments').where('objection_id', id).count({ n: '*' })).toEqual([{ n: 0 }]);
    // staff cannot accept it without evidence
    const noEvidence = await accept(id);
    expect(noEvidence.status).toBe(409);
    expect(await stateOf(id)).toBe('submitted');
    const refused = await api()
      .post(`/objections/${id}/refuse`)
      .set('Authorization', who.staff.auth)
      .send({ reason: '未提供任何证据 / no evidence' });
    expect(refused.status).toBe(200);
    expect(refused.body.objection).toMatchObject({ state: 'refused', refusal_reason: '未提供任何证据 / no evidence' });
    expect((await notes(who.agency.auth, 'objection.refused')).some((n) => n.entity_id === id)).toBe(true);
    // a refused objection takes no evidence, no acceptance, no outcome
    expect((await attach(who.agency.auth, id, PNG, 'image/png', 'a.png')).status).toBe(409);
    expect((await accept(id)).status).toBe(409);
    expect((await outcome(id, { outcome: 'upheld', reason: '维持原记录' })).status).toBe(409);
  });
});

describe('an enterprise record corrected in time, with its publication suspended meanwhile (E18)', () => {
  test('deadline, suspension, provider correction, outcome Update, public correction notice', async () => {
    const id = await openObjection(who.ent.auth, [rec.entPenalty], {
      request_suspension: true,
      suspension_reason: '错误的处罚信息正在损害企业声誉',
    });
    const calendar = await loadCalendar(p.db);
    const deadline = calendar.addWorkingDays(TODAY, 10);

    // the database and the process agree on the state and the deadline
    const view = (await get(who.ent.auth, id)).body.objection;
    expect(view).toMatchObject({ state: 'verifying', acceptance_date: TODAY, deadline, working_days_left: 10, overdue: false });
    expect(view.process).toMatchObject({ stage: 'verifying', deadline: { acceptanceDate: TODAY, deadline } });
    expect(new Date(view.process.deadline.dueAt).getTime()).toBe(new Date(view.due_at).getTime());
    // the provider is asked through a notification, and sees the objection and its evidence
    expect(
      (await notes(who.gsj.auth, 'objection.verification_requested')).some((n) => n.entity_id === id && n.data.deadline === deadline),
    ).toBe(true);
    expect((await get(who.gsj.auth, id)).status).toBe(200);
    const evidence = view.attachments[0];
    const content = await api().get(`/objections/${id}/attachments/${evidence.id}/content`).set('Authorization', who.gsj.auth);
    expect(content.status).toBe(200);
    expect((await get(who.pboc.auth, id)).status).toBe(404);

    // suspension: the record leaves the public page and the search, and comes back when it ends
    expect((await api().get(`/public/enterprises/${ENT}`)).status).toBe(200);
    const sus = await api()
      .post(`/objections/${id}/suspension`)
      .set('Authorization', who.staff.auth)
      .send({ reason: '申请人请求合理', on_request: true });
    expect(sus.status).toBe(200);
    expect(sus.body.objection.suspended_at).not.toBeNull();
    expect((await api().get(`/public/enterprises/${ENT}`)).status).toBe(404);
    expect((await api().get('/public/enterprises').query({ q: ENT })).body.items).toEqual([]);
    expect(
      (await api().post(`/objections/${id}/suspension`).set('Authorization', who.staff.auth).send({ reason: '再次暂停' })).status,
    ).toBe(409);
    expect(
      (await api().post(`/objections/${id}/suspension/end`).set('Authorization', who.staff.auth).send({ reason: '提前恢复' })).status,
    ).toBe(200);
    expect((await api().get(`/public/enterprises/${ENT}`)).status).toBe(200);
    expect(
      (await api().post(`/objections/${id}/suspension`).set('Authorization', who.staff.auth).send({ reason: '重新暂停公开' })).status,
    ).toBe(200);
    expect((await api().get(`/public/enterprises/${ENT}`)).status).toBe(404);

    // an outcome before the provider has verified is refused at once, and changes nothing
    const early = await outcome(id, { outcome: 'upheld', reason: '维持原记录' });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/尚未核实/);
    // the provider confirms the error with a correction; an invalid correction is refused first
    const bad = await verify(who.gsj.auth, id, {
      verdict: 'confirmed_wrong',
      reason: '金额录入错误',
      corrections: [{ record_key: rec.entPenalty, action: 'correct', changes: { payload: { ...penalty(1), amount: 'abc' } } }],
    });
    expect(bad.status).toBe(422);
    expect((await verify(who.pboc.auth, id, { verdict: 'confirmed_right', reason: '无误' })).status).toBe(404);
    const ok = await verify(who.gsj.auth, id, {
      verdict: 'confirmed_wrong',
      reason: '金额录入错误，应为 500 元',
      corrections: [{ record_key: rec.entPenalty, action: 'correct', changes: { payload: penalty(1, 500) } }],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.objection).toMatchObject({ state: 'answered', provider_verdict: 'confirmed_wrong', answered_in_time: true });
    expect(ok.body.objection.process).toMatchObject({ stage: 'answered', answer: { verdict: 'confirmed_wrong', inTime: true } });
    expect((await verify(who.gsj.auth, id, { verdict: 'confirmed_right', reason: '再次答复' })).status).toBe(409);

    // bad outcomes are refused by the Update's validator: an unknown outcome, upheld against a confirmed error
    const unknown = await outcome(id, { outcome: 'maybe', reason: '不确定' });
    expect(unknown.status).toBe(409);
    expect(unknown.body.error.message).toMatch(/corrected|upheld/);
    const against = await outcome(id, { outcome: 'upheld', reason: '维持原记录' });
    expect(against.status).toBe(409);
    expect(await stateOf(id)).toBe('answered');

    const done = await outcome(id, { outcome: 'corrected', reason: '经核实予以更正' });
    expect(done.status).toBe(200);
    expect(done.body.objection).toMatchObject({ state: 'corrected', outcome: 'corrected' });
    expect(done.body.objection.items).toEqual([
      expect.objectContaining({ record_key: rec.entPenalty, result: 'corrected', result_version: 2 }),
    ]);
    expect(done.body.objection.suspension_ended_at).not.toBeNull();
    expect(done.body.objection.written_answer).toMatch(/已予以更正/);
    // a second outcome is refused
    expect((await outcome(id, { outcome: 'corrected', reason: '再次更正' })).status).toBe(409);

    // a new version of the record, published again with the corrected content, and a public correction notice
    const cur = await p.db('records').where({ record_key: rec.entPenalty, is_current: true }).first();
    expect(cur).toMatchObject({ version: 2, status: 'active' });
    expect(cur.payload.amount).toBe(500);
    const page = await api().get(`/public/enterprises/${ENT}`);
    expect(page.status).toBe(200);
    expect(page.body.warnings[0].content.amount).toBe(500);
    const notices = await api().get('/public/corrections').query({ uscc: ENT });
    expect(notices.status).toBe(200);
    expect(notices.body.items).toEqual([
      expect.objectContaining({
        record_key: rec.entPenalty,
        action: 'corrected',
        new_version: 2,
        enterprise_name: '钦州市异议测试甲有限公司',
      }),
    ]);
    expect((await api().get('/public/corrections').query({ uscc: 'NOTACODE' })).status).toBe(400);
    // the subject (the enterprise) and the applicant are told
    expect((await notes(who.ent.auth, 'objection.record_corrected')).some((n) => n.entity_id === id)).toBe(true);
    expect((await notes(who.ent.auth, 'objection.answer')).some((n) => n.entity_id === id)).toBe(true);
    // the workflow has ended with the same state as the database
    const handle = p.env.client.workflow.getHandle(objectionWorkflowId(id));
    await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED');
    expect(await handle.query(objectionStateQuery)).toMatchObject({ stage: 'corrected', overdue: false, result: { outcome: 'corrected' } });
    const actions = (await p.db('audit_log').where({ entity: 'objection', entity_id: id }).orderBy('id').select('action')).map(
      (a) => a.action,
    );
    expect(actions).toEqual([
      'objection.file',
      'objection.attach',
      'objection.accept',
      'objection.verification_requested',
      'objection.suspend_publication',
      'objection.end_suspension',
      'objection.suspend_publication',
      'objection.provider_answer',
      'objection.corrected',
    ]);
  });
});

describe("a person's record (P21–P23)", () => {
  test('disputed while open; deleted on correction; every past querier and the subject told (P23)', async () => {
    const before = await queryPerson(PER);
    expect(before.status).toBe(200);
    expect(before.body.records.find((r: { record_key: string }) => r.record_key === rec.perPenalty1)).toMatchObject({ disputed: false });

    const id = await openObjection(who.per.auth, [rec.perPenalty1]);
    // P22: the mark shows in every query result while the objection is open
    const during = await queryPerson(PER);
    expect(during.body.records.find((r: { record_key: string }) => r.record_key === rec.perPenalty1)).toMatchObject({ disputed: true });
    expect(during.body.records.find((r: { record_key: string }) => r.record_key === rec.perPenalty2)).toMatchObject({ disputed: false });
    // a person cannot ask to suspend publication: personal records are never published
    expect(
      (await api().post(`/objections/${id}/suspension-request`).set('Authorization', who.per.auth).send({ reason: '请暂停' })).status,
    ).toBe(400);
    expect((await api().post(`/objections/${id}/suspension`).set('Authorization', who.staff.auth).send({ reason: '暂停' })).status).toBe(
      409,
    );
    // still disagreeing is for after the outcome
    expect(
      (await api().post(`/objections/${id}/disagreement`).set('Authorization', who.per.auth).send({ statement: '仍有异议' })).status,
    ).toBe(409);

    expect(
      (
        await verify(who.gsj.auth, id, {
          verdict: 'confirmed_wrong',
          reason: '处罚决定已撤销，应删除',
          corrections: [{ record_key: rec.perPenalty1, action: 'delete' }],
        })
      ).status,
    ).toBe(200);
    const done = await outcome(id, { outcome: 'corrected', reason: '删除错误信息' });
    expect(done.status).toBe(200);
    expect(done.body.objection.items[0]).toMatchObject({ result: 'deleted', result_version: 2 });
    expect(await p.db('records').where({ record_key: rec.perPenalty1, is_current: true }).first('status')).toEqual({ status: 'retracted' });

    // P23: the government body that queried the record is told, and so is the person
    const told = await notes(who.gov.auth, 'record.corrected_after_query');
    expect(told.filter((n) => n.entity_id === id)).toHaveLength(1);
    expect(told.find((n) => n.entity_id === id)!.data.records).toEqual([rec.perPenalty1]);
    expect((await notes(who.per.auth, 'objection.record_corrected')).some((n) => n.entity_id === id)).toBe(true);
    expect((await notes(who.agency.auth, 'record.corrected_after_query')).some((n) => n.entity_id === id)).toBe(false);
    // no public notice for personal information
    expect(await p.db('correction_notices').where('objection_id', id).count({ n: '*' })).toEqual([{ n: 0 }]);
    const after = await queryPerson(PER);
    expect(after.body.records.map((r: { record_key: string }) => r.record_key)).not.toContain(rec.perPenalty1);
  });

  test('upheld: a written answer; the mark goes, and stays when the person still disagrees (P22)', async () => {
    const id = await openObjection(who.per.auth, [rec.perPenalty2]);
    expect((await verify(who.gsj.auth, id, { verdict: 'confirmed_right', reason: '经核对原始决定书，信息无误' })).status).toBe(200);
    const wrong = await outcome(id, { outcome: 'corrected', reason: '更正' });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.message).toMatch(/没有可执行的更正/);
    const done = await outcome(id, { outcome: 'upheld', reason: '核实无误，予以维持' });
    expect(done.status).toBe(200);
    expect(done.body.objection).toMatchObject({ state: 'upheld', outcome: 'upheld', answered_in_time: true });
    expect(done.body.objection.written_answer).toMatch(/予以维持/);
    const answer = (await notes(who.per.auth, 'objection.answer')).find((n) => n.entity_id === id)!;
    expect(answer.body).toMatch(/经核对原始决定书/);
    expect(await p.db('records').where({ record_key: rec.perPenalty2, is_current: true }).first('version')).toEqual({ version: 1 });

    const marked = async () =>
      (await queryPerson(PER)).body.records.find((r: { record_key: string }) => r.record_key === rec.perPenalty2).disputed;
    expect(await marked()).toBe(false);
    // only the applicant states a continued disagreement
    expect(
      (await api().post(`/objections/${id}/disagreement`).set('Authorization', who.per2.auth).send({ statement: '仍有异议' })).status,
    ).toBe(404);
    const still = await api()
      .post(`/objections/${id}/disagreement`)
      .set('Authorization', who.per.auth)
      .send({ statement: '我从未在该地经营，仍有异议' });
    expect(still.status).toBe(200);
    expect(still.body.objection.still_disagrees_at).not.toBeNull();
    expect(await marked()).toBe(true);
    expect(
      (await api().post(`/objections/${id}/disagreement`).set('Authorization', who.per.auth).send({ statement: '再次声明' })).status,
    ).toBe(409);
  });
});

describe('a deadline across the Spring Festival', () => {
  test('accepted on 2026-02-10: the 10th working day is 2026-03-02 (02-14 and 02-28 worked, 02-15..23 off); unverified → overdue and a compliance case', async () => {
    const [o] = await p
      .db('objections')
      .insert({
        applicant_principal_id: who.ent2.id,
        applicant_role: 'enterprise',
        applicant_name: 'ent2账号',
        subject_type: 'enterprise',
        subject_id: ENT2,
        provider_id: (await p.db('providers').where('code', 'QZ-GSJ').first('id')).id,
        claim: '处罚信息有误',
        evidence_summary: '证明',
        state: 'accepted',
        filed_at: new Date('2026-02-09T09:00:00+08:00'),
        accepted_at: new Date('2026-02-10T10:00:00+08:00'),
        accepted_by: who.staff.id,
        workflow_id: objectionWorkflowId('x'),
      })
      .returning('id');
    await p
      .db('objections')
      .where('id', o.id)
      .update({ workflow_id: objectionWorkflowId(o.id) });
    await p.db('objection_items').insert({ objection_id: o.id, record_key: rec.ent2Penalty, version_at_filing: 1, item_code: 'E-PENALTY' });
    const handle = await p.env.client.workflow.start(objectionWorkflow, {
      taskQueue: p.taskQueue,
      workflowId: objectionWorkflowId(o.id),
      args: [{ objectionId: o.id }],
    });
    const row = await waitFor(async () => {
      const r = await p.db('objections').where('id', o.id).first();
      return r.state === 'overdue' && r.compliance_case_id ? r : null;
    });
    expect(row).toMatchObject({ acceptance_date: '2026-02-10', deadline: '2026-03-02' });
    expect(new Date(row.due_at).toISOString()).toBe('2026-03-02T16:00:00.000Z');
    // The workflow's own state follows once the activity that wrote the row has returned.
    const st = await waitFor(async () => {
      const q = await handle.query(objectionStateQuery);
      return q.stage === 'overdue' ? q : null;
    });
    expect(st).toMatchObject({
      stage: 'overdue',
      overdue: true,
      deadline: { acceptanceDate: '2026-02-10', deadline: '2026-03-02', dueAt: '2026-03-02T16:00:00.000Z' },
    });
    const cal = await loadCalendar(p.db);
    expect(cal.workingDaysBetween('2026-02-12', '2026-03-02')).toBe(8);
    const kase = await p.db('compliance_cases').where({ kind: 'objection_verification', reference_id: o.id }).first();
    expect(kase).toMatchObject({ missed_deadline: '2026-03-02' });
    // an enterprise record stays in queries; staff are told it is overdue
    expect((await notes(who.staff.auth, 'objection.verification_overdue')).some((n) => n.entity_id === o.id)).toBe(true);
    expect(row.withdrawn_from_queries_at).toBeNull();
    // the provider answers late: the case is resolved, the answer is recorded as late
    const late = await verify(who.gsj.auth, o.id, { verdict: 'confirmed_right', reason: '经核实无误' });
    expect(late.status).toBe(200);
    expect(late.body.objection).toMatchObject({ state: 'answered', answered_in_time: false });
    expect(await waitFor(async () => (await p.db('compliance_cases').where('id', kase.id).first('state')).state === 'resolved')).toBe(true);
    expect((await outcome(o.id, { outcome: 'upheld', reason: '维持' })).status).toBe(200);

    // every activity run again (a retry, a crashed worker) changes nothing and answers the same
    const acts = createActivities({ db: p.db, publicationWorkingDays: 5, temporal: p.env.client, taskQueue: p.taskQueue });
    const counts = async () => ({
      audit: (await p.db('audit_log').where({ entity: 'objection', entity_id: o.id }).count({ n: '*' }))[0].n,
      notes: (await p.db('notifications').where({ entity: 'objection', entity_id: o.id }).count({ n: '*' }))[0].n,
      cases: (await p.db('compliance_cases').where({ reference_id: o.id }).count({ n: '*' }))[0].n,
    });
    const before = await counts();
    expect(await acts.objectionOpen(o.id)).toEqual({
      acceptanceDate: '2026-02-10',
      deadline: '2026-03-02',
      dueAt: '2026-03-02T16:00:00.000Z',
      provisional: false,
      pendingYear: null,
    });
    expect((await acts.objectionDeadlinePassed({ objectionId: o.id, at: new Date().toISOString() })).overdue).toBe(false);
    const again = await acts.objectionConclude({
      objectionId: o.id,
      outcome: 'upheld',
      reason: '再次',
      staffPrincipalId: who.staff.id,
      staffActor: 'staff:x',
      at: new Date().toISOString(),
    });
    expect(again).toMatchObject({ outcome: 'upheld', correctionNotices: 0 });
    expect(
      await acts.objectionRecordAnswer({
        objectionId: o.id,
        verdict: 'confirmed_wrong',
        reason: '改口',
        corrections: [],
        providerPrincipalId: who.gsj.id,
        providerActor: 'provider:x',
        at: new Date().toISOString(),
      }),
    ).toMatchObject({ verdict: 'confirmed_right', inTime: false });
    expect(await counts()).toEqual(before);
    expect(before.cases).toBe(1);
  });
});

describe('the provider silent past 10 working days (P22 last para., E20, P24)', () => {
  test('a personal record is withdrawn from every query; an enterprise objection goes to staff as overdue; both open a compliance case', async () => {
    const perId = await openObjection(who.per2.auth, [rec.per2Penalty]);
    // the rating agency's objection on ENT3 (filed above, still submitted): evidence, then acceptance
    const entId = (await p.db('objections').where({ applicant_principal_id: who.agency.id, subject_id: ENT3 }).first('id')).id as string;
    expect((await attach(who.agency.auth, entId)).status).toBe(201);
    expect((await accept(entId)).status).toBe(202);
    await waitFor(async () => (await stateOf(entId)) === 'verifying');
    expect((await queryPerson(PER2)).body.records.find((r: { record_key: string }) => r.record_key === rec.per2Penalty)).toMatchObject({
      disputed: true,
    });

    await p.env.sleep('30 days'); // 10 working days, with room for a long holiday
    await waitFor(async () => (await stateOf(perId)) === 'overdue' && (await stateOf(entId)) === 'overdue');

    // P22 last para.: the personal record is no longer given to anyone
    expect((await queryPerson(PER2)).body.records.map((r: { record_key: string }) => r.record_key)).not.toContain(rec.per2Penalty);
    expect((await notes(who.per2.auth, 'objection.record_withdrawn')).some((n) => n.entity_id === perId)).toBe(true);
    expect((await notes(who.staff.auth, 'objection.verification_overdue')).some((n) => n.entity_id === entId)).toBe(true);
    for (const id of [perId, entId]) {
      const v = (await get(who.staff.auth, id)).body.objection;
      expect(v).toMatchObject({ state: 'overdue', overdue: true });
      expect(v.process).toMatchObject({ stage: 'overdue', overdue: true });
      expect(v.compliance_case_id).not.toBeNull();
      expect(
        await p.db('compliance_cases').where({ id: v.compliance_case_id, kind: 'objection_verification', reference_id: id }).first('id'),
      ).toBeTruthy();
    }
    // the provider verifies late and staff uphold: the record is given again
    expect((await verify(who.gsj.auth, perId, { verdict: 'confirmed_right', reason: '经核实无误' })).body.objection).toMatchObject({
      state: 'answered',
      answered_in_time: false,
    });
    expect((await outcome(perId, { outcome: 'upheld', reason: '维持' })).status).toBe(200);
    expect((await queryPerson(PER2)).body.records.find((r: { record_key: string }) => r.record_key === rec.per2Penalty)).toMatchObject({
      disputed: false,
    });
  });
});

describe('an objection accepted while Temporal was unreachable', () => {
  test('is stored as accepted, and the reconciler starts its verification later', async () => {
    const ENT4 = uscc(704);
    await p.db('enterprises').insert({ uscc: ENT4, name: '钦州市异议测试丁有限公司' });
    const key = await seedRecord('QZ-GSJ', 'E-PENALTY', 'enterprise', ENT4, penalty(4), true);
    const res = await file(who.gov.auth, { record_keys: [key], claim: '处罚对象有误', evidence_summary: '执法文书' });
    expect(res.status).toBe(201);
    const id = res.body.objection.id as string;
    expect((await attach(who.gov.auth, id)).status).toBe(201);
    // The acceptance is committed, the workflow start is not (as when Temporal is down).
    await acceptObjection(p.db, id, { id: who.staff.id, actor: 'staff:测试' });
    await p
      .db('objections')
      .where('id', id)
      .update({ accepted_at: p.db.raw(`accepted_at - interval '5 minutes'`) });
    expect(await stateOf(id)).toBe('accepted');
    expect(await startPendingObjectionWorkflows(p.db, p.env.client, p.taskQueue)).toBe(1);
    // The provider has been asked (earlier tests moved the test server's clock, so the state may already be past it).
    await waitFor(async () => (await p.db('objections').where('id', id).first('verification_requested_at')).verification_requested_at);
    expect(await stateOf(id)).not.toBe('accepted');
    expect(await startPendingObjectionWorkflows(p.db, p.env.client, p.taskQueue)).toBe(0);
  });

  test("a provider's verification while Temporal is unreachable: 503 with Retry-After at once, nothing stored; answered when it is back", async () => {
    const ENT5 = uscc(705);
    await p.db('enterprises').insert({ uscc: ENT5, name: '钦州市异议测试戊有限公司' });
    const key = await seedRecord('QZ-GSJ', 'E-PENALTY', 'enterprise', ENT5, penalty(5), true);
    const filed = await file(who.gov.auth, { record_keys: [key], claim: '处罚对象有误', evidence_summary: '执法文书' });
    const id = filed.body.objection.id as string;
    expect((await attach(who.gov.auth, id)).status).toBe(201);
    expect((await accept(id)).status).toBe(202);
    // The provider has been asked (earlier tests moved the test server's clock: it may be overdue already).
    await waitFor(async () => (await p.db('objections').where('id', id).first('verification_requested_at')).verification_requested_at);
    const asked = await p.db('objections').where('id', id).first('state', 'provider_verdict');
    expect(['verifying', 'overdue']).toContain(asked.state);
    // The same API on a Temporal nobody serves (no retry interceptor: nothing keeps calling after the test).
    const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
    try {
      const offline = createApp({ db: p.db, temporal: down, config: { ...loadConfig(), taskQueue: p.taskQueue } });
      const t0 = Date.now();
      const res = await request(offline)
        .post(`/objections/${id}/verification`)
        .set('Authorization', who.gsj.auth)
        .send({ verdict: 'confirmed_right', reason: '经核对，信息无误' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await down.connection.close().catch(() => undefined);
    }
    // Nothing stored: no verdict, not answered (the deadline's timer may have made it overdue meanwhile).
    const after = await p.db('objections').where('id', id).first('state', 'provider_verdict');
    expect(after.provider_verdict).toBeNull();
    expect(['verifying', 'overdue']).toContain(after.state);
    const again = await verify(who.gsj.auth, id, { verdict: 'confirmed_right', reason: '经核对，信息无误' });
    expect(again.status).toBe(200);
    expect(again.body.objection).toMatchObject({ provider_verdict: 'confirmed_right' });

    // The staff's outcome with Temporal away: 503, and the objection, its records and the audit log as they were.
    const snapshot = async () => ({
      objection: await p.db('objections').where('id', id).first(),
      audit: await p.db('audit_log').where('entity_id', id).count({ n: '*' }),
      record: await p.db('records').where({ record_key: key, is_current: true }).first('version', 'status'),
    });
    const before = await snapshot();
    const off = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
    try {
      const offline = createApp({ db: p.db, temporal: off, config: { ...loadConfig(), taskQueue: p.taskQueue } });
      const res = await request(offline)
        .post(`/objections/${id}/outcome`)
        .set('Authorization', who.staff.auth)
        .send({ outcome: 'upheld', reason: '维持原记录' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await off.connection.close().catch(() => undefined);
    }
    expect(await snapshot()).toEqual(before);
    const decided = await outcome(id, { outcome: 'upheld', reason: '维持原记录' });
    expect(decided.status).toBe(200);
    expect(decided.body.objection.outcome).toBe('upheld');
  });
});
