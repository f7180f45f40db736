/**
 * Deactivating and reactivating an information provider (E7, P9; admins maintain providers): an open obligation
 * with nothing submitted is waived and its workflow ends at once, without reminders, never overdue; an overdue one
 * keeps its compliance case (E20, P24); nothing new is opened and nothing may be submitted while inactive; on
 * reactivation the periods that began meanwhile are recorded as waived and the period in progress is owed again.
 * The API, the real activities on PostgreSQL and the workflows on the Temporal time-skipping test server.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { temporal } from '@temporalio/proto';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';
import { deliverPendingSignals } from '../processes/outbox';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow } from './support/fixtures';
import { eventually } from './support/wait';
import { obligationOpenerWorkflow, obligationWorkflow } from '../workflows';
import { obligationStateQuery } from '../processes/messages';
import { shanghaiDate } from '../domain/calendar';
import { periodContaining } from '../domain/obligations';
import { openMissingObligations } from '../db/obligations';
import { deactivateProvider, reactivateProvider } from '../db/providers';
import { loadCalendar } from '../db/calendar';

let p: TestPlatform;
let plain: Client;
let admin: { id: string; auth: string };
// Today is the platform's own clock: these tests run the whole platform (API, worker, PostgreSQL, the Temporal test
// server) and check behaviour relative to the present (the period in progress, a validity that includes today), so
// the scenario is built from the same clock the platform reads, and every date under test is derived from it. The
// clock is controlled for all of them at once with `npm run test:at -- YYYY-MM-DD` (README, "Tests on any day").
const TODAY = shanghaiDate(new Date());
const CURRENT = periodContaining(TODAY, 'monthly').code;

beforeAll(async () => {
  p = await startTestPlatform();
  plain = new Client({ connection: p.env.connection, namespace: p.env.namespace ?? 'default' });
  admin = await principalWithKey(p.db, { name: '管理机构', role: 'admin' });
}, 120000);
afterAll(async () => {
  // The waived path's history, for the determinism guard (test/obligations-replay.test.ts).
  if (process.env.RECORD_HISTORIES === '1' && p) {
    const history = await plain.workflow.getHandle(`obligation-QZ-TYJ-${CURRENT}`).fetchHistory();
    // The generated encoder (the reflection-based proto3 JSON writer does not work inside jest's module registry);
    // the replay test reads it back with History.fromObject.
    const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), {
      longs: String,
      enums: String,
      bytes: String,
    });
    fs.writeFileSync(path.join(__dirname, 'histories', 'obligation-waived.json'), JSON.stringify(json, null, 1));
  }
  await p?.stop();
}, 60000);

const post = (path: string, body: object, auth = admin.auth) => request(p.app).post(path).set('Authorization', auth).send(body);
const obligation = (code: string, period: string) =>
  p.db('obligations as o').join('providers as p', 'p.id', 'o.provider_id').where({ 'p.code': code, 'o.period': period }).first('o.*');

let seq = 0;
async function openVia(asOf: string, providerCodes: string[]) {
  return plain.workflow.execute(obligationOpenerWorkflow, {
    taskQueue: p.taskQueue,
    workflowId: `opener-deact-${++seq}`,
    args: [{ asOf, providerCodes }],
  });
}

test("deactivated while Temporal is down: answered, the workflow's signal queued with the change, delivered when Temporal is back", async () => {
  expect(
    (
      await post('/admin/providers', {
        code: 'QZ-KXJ',
        name_zh: '钦州市科学技术局',
        name_en: 'Science and Technology Bureau',
        kind: 'administrative',
        legal_basis: 'E7',
        items: ['E-HONOR'],
      })
    ).status,
  ).toBe(201);
  const workflowId = `obligation-QZ-KXJ-${CURRENT}`;
  await eventually(
    async () => (await plain.workflow.getHandle(workflowId).query(obligationStateQuery)).stage === 'waiting',
    'the workflow to wait',
  );
  // The same API on a Temporal nobody serves (no retry interceptor: nothing keeps calling after the test).
  const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
  try {
    const offline = createApp({ db: p.db, temporal: down, config: { ...loadConfig(), taskQueue: p.taskQueue } });
    const res = await request(offline)
      .post('/admin/providers/QZ-KXJ/deactivation')
      .set('Authorization', admin.auth)
      .send({ reason: '机构改革' });
    expect(res.status).toBe(200);
    expect(res.body.waived).toEqual([CURRENT]);
  } finally {
    await down.connection.close().catch(() => undefined);
  }
  expect(await p.db('workflow_signals').where('workflow_id', workflowId).select('signal', 'args', 'delivered_at')).toEqual([
    { signal: 'submissionReceived', args: ['provider-deactivated'], delivered_at: null },
  ]);
  expect((await plain.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
  expect(await deliverPendingSignals(p.db, p.env.client, 0)).toMatchObject({ failed: 0 });
  expect(await plain.workflow.getHandle<typeof obligationWorkflow>(workflowId).result()).toMatchObject({
    stage: 'waived',
    period: CURRENT,
  });
});

test('an open obligation is waived and its workflow ends at once; no reminder, never overdue; the provider may not submit', async () => {
  const reg = await post('/admin/providers', {
    code: 'QZ-TYJ',
    name_zh: '钦州市体育局',
    name_en: 'Sports Bureau',
    kind: 'administrative',
    legal_basis: 'E7',
    items: ['E-HONOR', 'E-PENALTY'],
  });
  expect(reg.status).toBe(201);
  const workflowId = `obligation-QZ-TYJ-${CURRENT}`;
  // The workflow planned the obligation and waits for its first reminder.
  await eventually(
    async () => (await plain.workflow.getHandle(workflowId).query(obligationStateQuery)).stage === 'waiting',
    'the workflow to wait',
  );
  expect((await plain.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
  const reporter = await principalWithKey(p.db, { name: '体育局报送员', role: 'provider', providerCode: 'QZ-TYJ' });

  const res = await post('/admin/providers/QZ-TYJ/deactivation', { reason: '机构改革，职责划入市文化广电体育局' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    provider: { code: 'QZ-TYJ', active: false, deactivation_reason: '机构改革，职责划入市文化广电体育局' },
    waived: [CURRENT],
    overdue_kept: [],
    submitted_kept: [],
  });
  expect(res.body.provider.deactivated_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);

  const result = await plain.workflow.getHandle<typeof obligationWorkflow>(workflowId).result();
  expect(result).toMatchObject({ stage: 'waived', period: CURRENT, remindersSent: [] });
  const row = await obligation('QZ-TYJ', CURRENT);
  expect(row).toMatchObject({ state: 'waived', waived_reason: '机构改革，职责划入市文化广电体育局', case_id: null });
  expect(await p.db('obligation_events').where({ obligation_id: row.id, kind: 'waived' }).first('actor')).toEqual({
    actor: 'admin:管理机构',
  });
  expect(await p.db('audit_log').where({ action: 'provider.deactivate', entity_id: 'QZ-TYJ' }).first('principal_id')).toEqual({
    principal_id: admin.id,
  });

  // Past its due date: still waived, no case, no reminder, not on the board.
  await p.env.sleep('40 days');
  expect((await obligation('QZ-TYJ', CURRENT)).state).toBe('waived');
  const providerId = (await p.db('providers').where('code', 'QZ-TYJ').first('id')).id;
  expect(await p.db('notifications').where({ recipient_provider_id: providerId, kind: 'obligation.reminder' })).toHaveLength(0);
  expect(await p.db('compliance_cases').where('provider_id', providerId)).toHaveLength(0);
  const board = await request(p.app).get('/obligations/board').set('Authorization', admin.auth);
  expect(board.body.rows.map((r: { provider: string }) => r.provider)).not.toContain('QZ-TYJ');
  // The provider's own list and the compliance history say why.
  const mine = await request(p.app).get('/obligations').set('Authorization', reporter.auth);
  expect(mine.body.obligations).toEqual([
    expect.objectContaining({ period: CURRENT, state: 'waived', waived_reason: '机构改革，职责划入市文化广电体育局' }),
  ]);
  const history = await request(p.app).get('/admin/providers/QZ-TYJ/compliance').set('Authorization', admin.auth);
  expect(history.body.provider).toMatchObject({ active: false, deactivation_reason: '机构改革，职责划入市文化广电体育局' });
  expect(history.body.summary).toMatchObject({ waived: 1, overdue: 0, open: 0 });

  // Inactive: nothing new is opened, nothing may be submitted.
  expect((await openVia(TODAY, ['QZ-TYJ'])).opened).toBe(0);
  expect(
    await openMissingObligations(p.db, {
      today: '2027-01-05',
      dueWorkingDays: 5,
      calendar: await loadCalendar(p.db),
      providerIds: [providerId],
    }),
  ).toEqual([]);
  const sub = await request(p.app)
    .post('/submissions')
    .set('Authorization', reporter.auth)
    .set('Idempotency-Key', 'tyj-1')
    .send({ period: CURRENT, records: [penaltyRow(1)] });
  expect(sub.status).toBe(403);
});

test('an overdue obligation keeps its compliance case when the provider is deactivated', async () => {
  await openVia('2026-10-15', ['QZ-HBJ']);
  const overdue = await eventually(async () => {
    const o = await obligation('QZ-HBJ', '2026-10');
    return o?.state === 'overdue' ? o : null;
  }, 'October overdue');
  const res = await post('/admin/providers/QZ-HBJ/deactivation', { reason: '测试：逾期义务照旧督办' });
  expect(res.status).toBe(200);
  expect(res.body.overdue_kept).toEqual(['2026-10']);
  expect((await obligation('QZ-HBJ', '2026-10')).state).toBe('overdue');
  const c = await p.db('compliance_cases').where('id', overdue.case_id).first('state');
  expect(c.state).toBe('overdue');
  // An order can still be given on it.
  const board = await request(p.app).get('/obligations/board?provider=QZ-HBJ').set('Authorization', admin.auth);
  expect(board.body.rows.map((r: { period: string }) => r.period)).toEqual(['2026-10']);
});

test('roles and bad input: only admins; a reason is required; twice is 409; nothing changes on a refusal', async () => {
  const staff = await principalWithKey(p.db, { name: '工作人员', role: 'staff' });
  const supervisor = await principalWithKey(p.db, { name: '督办员', role: 'supervisor' });
  for (const who of [staff, supervisor]) {
    expect((await post('/admin/providers/QZ-GTJ/deactivation', { reason: '越权尝试' }, who.auth)).status).toBe(403);
    expect((await post('/admin/providers/QZ-TYJ/activation', {}, who.auth)).status).toBe(403);
  }
  const noReason = await post('/admin/providers/QZ-GTJ/deactivation', {});
  expect(noReason.status).toBe(400);
  expect(noReason.body.error.details[0].field).toBe('reason');
  expect((await post('/admin/providers/QZ-NONE/deactivation', { reason: '不存在的单位' })).status).toBe(404);
  expect((await p.db('providers').where('code', 'QZ-GTJ').first('active')).active).toBe(true);
  const twice = await post('/admin/providers/QZ-TYJ/deactivation', { reason: '再次停用' });
  expect(twice.status).toBe(409);
  expect(twice.body.error.code).toBe('PROVIDER_INACTIVE');
  expect((await post('/admin/providers/QZ-GTJ/activation', {})).body.error.code).toBe('PROVIDER_ACTIVE');
});

test('reactivated: the provider may submit again; a period in progress already waived stays waived', async () => {
  const res = await post('/admin/providers/QZ-TYJ/activation', { reason: '职责调整撤回' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    provider: { code: 'QZ-TYJ', active: true, deactivated_at: null, deactivation_reason: null },
    waived_while_inactive: [],
    obligations: [],
  });
  expect((await obligation('QZ-TYJ', CURRENT)).state).toBe('waived');
  expect(await p.db('audit_log').where({ action: 'provider.activate', entity_id: 'QZ-TYJ' })).toHaveLength(1);
  const reporter = await principalWithKey(p.db, { name: '体育局报送员二', role: 'provider', providerCode: 'QZ-TYJ' });
  const sub = await request(p.app)
    .post('/submissions')
    .set('Authorization', reporter.auth)
    .set('Idempotency-Key', 'tyj-2')
    .send({ period: CURRENT, records: [penaltyRow(2)] });
  expect(sub.status).toBe(202);
});

test('on PostgreSQL: periods that began while inactive are waived on reactivation, the one in progress is opened; a batch already received keeps its obligation open', async () => {
  const provider = await p.db('providers').where('code', 'QZ-GTJ').first('id');
  const calendar = await loadCalendar(p.db);
  await openMissingObligations(p.db, { today: '2026-11-10', dueWorkingDays: 5, calendar, providerIds: [provider.id] });
  // A batch for November arrived (its workflow has not recorded it yet).
  await p.db('submissions').insert({
    provider_id: provider.id,
    period: '2026-11',
    idempotency_key: 'gtj-direct',
    request_hash: '',
    format: 'json',
    row_count: 0,
    received_at: p.db.fn.now(),
    workflow_id: 'gtj-direct',
    created_by: admin.id,
  });
  const off = await deactivateProvider(p.db, {
    providerId: provider.id,
    reason: '测试停用',
    principalId: admin.id,
    actor: 'admin:管理机构',
  });
  expect(off).toMatchObject({ waived: [], submittedKept: ['2026-11'] });
  expect((await obligation('QZ-GTJ', '2026-11')).state).toBe('open');

  const on = await reactivateProvider(p.db, {
    providerId: provider.id,
    today: '2027-02-10',
    reason: null,
    principalId: admin.id,
    actor: 'admin:管理机构',
  });
  expect(on.waivedWhileInactive).toEqual(['2026-12', '2027-01']);
  const gap = await p
    .db('obligations')
    .where('provider_id', provider.id)
    .whereIn('period', ['2026-12', '2027-01'])
    .orderBy('period')
    .select('period', 'state', 'workflow_started_at');
  expect(gap.map((g) => [g.period, g.state])).toEqual([
    ['2026-12', 'waived'],
    ['2027-01', 'waived'],
  ]);
  expect(gap.every((g) => g.workflow_started_at !== null)).toBe(true); // no workflow for a period never owed
  const opened = await openMissingObligations(p.db, { today: '2027-02-10', dueWorkingDays: 5, calendar, providerIds: [provider.id] });
  expect(opened.map((o) => o.period)).toEqual(['2027-02']);
});
