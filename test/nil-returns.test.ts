/**
 * A period with nothing to report (零报送, E7, P9), end to end: the API, the real activities on PostgreSQL and the
 * workflows on the Temporal time-skipping test server. A provider declares "nothing new" for its own obligation,
 * which is then fulfilled as a batch fulfils it: on time before its due date ended (the workflow ends, no overdue),
 * late after it (its compliance case resolved, E20, P24). The late scenario is fixed in October 2026 (long past on
 * any day this runs); the on-time one uses the period in progress on the test server's clock, never the machine's.
 */
import request from 'supertest';
import { Client } from '@temporalio/client';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow } from './support/fixtures';
import { eventually } from './support/wait';
import { offlineApp } from './support/offline';
import { deliverPendingSignals } from '../processes/outbox';
import { complianceCaseWorkflow, obligationOpenerWorkflow, obligationWorkflow } from '../workflows';
import { obligationStateQuery } from '../processes/messages';
import { loadCalendar } from '../db/calendar';
import { fulfilObligation, obligationById, openMissingObligations } from '../db/obligations';
import { addCalendarDays, shanghaiDate } from '../domain/calendar';
import { periodContaining } from '../domain/obligations';

let p: TestPlatform;
let plain: Client;
const auth: Record<string, string> = {};
let admin: string;
let supervisor: string;
/** The period in progress on the test server's clock, and the day it is there. */
let today: string;
let current: string;

beforeAll(async () => {
  p = await startTestPlatform();
  plain = new Client({ connection: p.env.connection, namespace: p.env.namespace ?? 'default' });
  for (const code of ['QZ-GXJ', 'QZ-KJJ', 'QZ-MZJ', 'QZ-RSJ', 'QZ-GTJ', 'QZ-JTJ']) {
    auth[code] = (await principalWithKey(p.db, { name: `${code} 报送员`, role: 'provider', providerCode: code })).auth;
  }
  admin = (await principalWithKey(p.db, { name: '管理机构', role: 'admin' })).auth;
  supervisor = (await principalWithKey(p.db, { name: '督办员', role: 'supervisor' })).auth;
  today = shanghaiDate(new Date(await p.env.currentTimeMs()));
  current = periodContaining(today, 'monthly').code;
}, 120000);

afterAll(async () => {
  await p?.stop();
});

let seq = 0;
async function open(asOf: string, providerCodes: string[]) {
  const workflowId = `nil-opener-${asOf}-${providerCodes.join('-')}-${++seq}`;
  return plain.workflow.execute(obligationOpenerWorkflow, { taskQueue: p.taskQueue, workflowId, args: [{ asOf, providerCodes }] });
}
async function obligation(code: string, period: string) {
  return p
    .db('obligations as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .where({ 'p.code': code, 'o.period': period })
    .first('o.*');
}
const nilReturn = (code: string, id: number, body: unknown = {}) =>
  request(p.app)
    .post(`/obligations/${id}/nil-return`)
    .set('Authorization', auth[code])
    .send(body as object);

describe('declaring nothing to report (零报送)', () => {
  test('before the due date: fulfilled on time, the workflow ends, nothing overdue', async () => {
    await open(today, ['QZ-GXJ']);
    const o = await obligation('QZ-GXJ', current);
    expect(o).toMatchObject({ state: 'open' });
    expect(o.workflow_started_at).not.toBeNull();

    const res = await nilReturn('QZ-GXJ', o.id, { note: '本月无新增行政处罚信息' });
    expect(res.status).toBe(200);
    expect(res.body.obligation).toMatchObject({ id: o.id, state: 'fulfilled', on_time: true, fulfilled_submission_id: null });
    expect(res.body.obligation.nil_return).toEqual({ at: res.body.nil_return.at, note: '本月无新增行政处罚信息' });

    const handle = plain.workflow.getHandle<typeof obligationWorkflow>(o.workflow_id);
    expect(await handle.result()).toMatchObject({ stage: 'fulfilled', onTime: true, period: current });
    expect(await handle.query(obligationStateQuery)).toMatchObject({ stage: 'fulfilled', onTime: true });

    const kinds = (await p.db('obligation_events').where('obligation_id', o.id).orderBy('id').pluck('kind')) as string[];
    expect(kinds).toEqual(['opened', 'nil_return', 'fulfilled_on_time']);
    expect(kinds).not.toContain('overdue');
    expect((await obligation('QZ-GXJ', current)).case_id).toBeNull();
    const audit = await p.db('audit_log').where({ action: 'obligation.nil_return', entity_id: String(o.id) });
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toMatchObject({ article: 'E7, P9', note: '本月无新增行政处罚信息' });

    // the views show it: the provider's own obligation and its list
    const one = await request(p.app).get(`/obligations/${o.id}`).set('Authorization', auth['QZ-GXJ']);
    expect(one.body.obligation.nil_return).toMatchObject({ note: '本月无新增行政处罚信息' });
    const list = await request(p.app).get(`/obligations?period=${current}`).set('Authorization', auth['QZ-GXJ']);
    expect(list.body.obligations).toEqual([
      expect.objectContaining({ id: o.id, nil_return: expect.objectContaining({ at: expect.any(String) }) }),
    ]);
  });

  test('after the due date with an open case: fulfilled late, the case resolved', async () => {
    await open('2026-10-15', ['QZ-KJJ']);
    const o = await eventually(async () => {
      const row = await obligation('QZ-KJJ', '2026-10');
      return row?.state === 'overdue' ? row : null;
    }, 'QZ-KJJ 2026-10 overdue');
    expect(o.due_date).toBe('2026-11-06');
    const c = await eventually(
      async () => p.db('compliance_cases').where('id', o.case_id).whereNotNull('workflow_started_at').first(),
      'case workflow started',
    );

    const res = await nilReturn('QZ-KJJ', o.id);
    expect(res.status).toBe(200);
    expect(res.body.obligation).toMatchObject({ state: 'fulfilled', on_time: false, nil_return: { note: null } });
    expect(await plain.workflow.getHandle(o.workflow_id).result()).toMatchObject({ stage: 'fulfilled', onTime: false });
    const resolved = await p.db('compliance_cases').where('id', c.id).first();
    expect(resolved).toMatchObject({ state: 'resolved', resolution: 'nil_return' });
    expect((await plain.workflow.getHandle<typeof complianceCaseWorkflow>(c.workflow_id).result()).state).toBe('resolved');
    expect(await p.db('obligation_events').where({ obligation_id: o.id, kind: 'fulfilled_late' })).toHaveLength(1);
  });

  test('a nil return whose signal was lost after the obligation was overdue: the daily opener tells its workflow again', async () => {
    await open('2026-10-20', ['QZ-HBJ']);
    const o = await eventually(async () => {
      const row = await obligation('QZ-HBJ', '2026-10');
      return row?.state === 'overdue' ? row : null;
    }, 'QZ-HBJ 2026-10 overdue');
    // Declared (two minutes ago) and fulfilled in the database, but Temporal was never told.
    const declarer = await p.db('principals').first('id');
    await p.db.transaction(async (trx) => {
      await trx('nil_returns').insert({
        obligation_id: o.id,
        provider_id: o.provider_id,
        period: o.period,
        declared_at: new Date(Date.now() - 120_000),
        declared_by: declarer.id,
        actor: 'provider:QZ-HBJ',
      });
      expect((await fulfilObligation(trx, (await obligationById(trx, o.id, true))!)).nilReturn).toBe(true);
    });
    const handle = plain.workflow.getHandle<typeof obligationWorkflow>(o.workflow_id);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    const run = await open(today, ['QZ-HBJ']);
    expect(run.resignalled).toBeGreaterThanOrEqual(1);
    expect(await handle.result()).toMatchObject({ stage: 'fulfilled', onTime: false });
  });

  test('refused: twice, after a batch, another provider’s, the wrong role, a bad body, a period not begun', async () => {
    const gxj = await obligation('QZ-GXJ', current);
    const twice = await nilReturn('QZ-GXJ', gxj.id);
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'NIL_RETURN_EXISTS' });
    expect(twice.body.error.details[0]).toMatchObject({ article: 'E7, P9' });

    await open(today, ['QZ-MZJ', 'QZ-RSJ']);
    const mzj = await obligation('QZ-MZJ', current);
    const batch = await request(p.app)
      .post('/submissions')
      .set('Authorization', auth['QZ-MZJ'])
      .set('Idempotency-Key', `nil-batch-${Date.now()}`)
      .send({ period: current, records: [penaltyRow(1)] });
    expect(batch.status).toBe(202);
    const afterBatch = await nilReturn('QZ-MZJ', mzj.id);
    expect(afterBatch.status).toBe(409);
    expect(afterBatch.body.error.code).toBe('BATCH_ALREADY_ACCEPTED');

    const rsj = await obligation('QZ-RSJ', current);
    expect((await nilReturn('QZ-RSJ', mzj.id)).status).toBe(404);
    expect((await request(p.app).post(`/obligations/${rsj.id}/nil-return`).set('Authorization', admin).send({})).status).toBe(403);
    const bad = await nilReturn('QZ-RSJ', rsj.id, { note: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toMatchObject({ field: 'note' });
    expect((await nilReturn('QZ-RSJ', rsj.id, { note: 'x', extra: 1 })).status).toBe(400);
    expect((await nilReturn('QZ-RSJ', rsj.id, { note: 'x'.repeat(2001) })).status).toBe(400);
    expect((await request(p.app).post('/obligations/abc/nil-return').set('Authorization', auth['QZ-RSJ']).send({})).status).toBe(400);
    expect(await p.db('nil_returns').where('obligation_id', rsj.id)).toHaveLength(0);
    expect((await obligation('QZ-RSJ', current)).state).toBe('open');

    // a period that has not begun (opened ahead by hand, as the opener never would)
    const nextStart = addCalendarDays(periodContaining(today, 'monthly').end, 1);
    const next = periodContaining(nextStart, 'monthly').code;
    const gtj = await p.db('providers').where('code', 'QZ-GTJ').first('id');
    await openMissingObligations(p.db, { today: nextStart, dueWorkingDays: 5, calendar: await loadCalendar(p.db), providerIds: [gtj.id] });
    const ahead = await obligation('QZ-GTJ', next);
    expect(ahead).toBeTruthy();
    const notBegun = await nilReturn('QZ-GTJ', ahead.id);
    expect(notBegun.status).toBe(409);
    expect(notBegun.body.error.code).toBe('PERIOD_NOT_BEGUN');
  });

  test('admin and supervisor list the nil returns by period and provider; others may not', async () => {
    const all = await request(p.app).get('/obligations/nil-returns').set('Authorization', admin);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(3);
    const oct = await request(p.app).get('/obligations/nil-returns?period=2026-10&provider=QZ-KJJ').set('Authorization', supervisor);
    expect(oct.status).toBe(200);
    expect(oct.body.nil_returns).toEqual([
      expect.objectContaining({ provider: 'QZ-KJJ', period: '2026-10', due_date: '2026-11-06', on_time: false, note: null }),
    ]);
    const octAll = await request(p.app).get('/obligations/nil-returns?period=2026-10').set('Authorization', admin);
    expect(octAll.body.nil_returns.map((r: { provider: string }) => r.provider)).toEqual(['QZ-HBJ', 'QZ-KJJ']);
    expect(oct.body.nil_returns[0].declared_by).toContain('QZ-KJJ');
    const byProvider = await request(p.app).get('/obligations/nil-returns?provider=QZ-GXJ').set('Authorization', admin);
    expect(byProvider.body.nil_returns.map((r: { period: string }) => r.period)).toEqual([current]);
    expect((await request(p.app).get('/obligations/nil-returns').set('Authorization', auth['QZ-GXJ'])).status).toBe(403);
    expect((await request(p.app).get('/obligations/nil-returns?period=2026-13').set('Authorization', admin)).status).toBe(400);
  });

  test('the dashboard and the board count nil returns separately', async () => {
    const stats = await request(p.app).get('/obligations/stats?from=2026-10&to=2026-10').set('Authorization', admin);
    expect(stats.status).toBe(200);
    expect(stats.body.periods).toEqual([expect.objectContaining({ period: '2026-10', total: 2, late: 2, overdue: 0, nil_returns: 2 })]);
    const now = await request(p.app).get(`/obligations/stats?from=${current}&to=${current}`).set('Authorization', admin);
    // GXJ declared nothing, MZJ sent a batch: both on time, one of them a nil return
    expect(now.body.periods).toEqual([expect.objectContaining({ period: current, on_time: 2, nil_returns: 1 })]);
    const board = await request(p.app).get('/obligations/board?period=2026-10').set('Authorization', admin);
    expect(board.status).toBe(200);
    expect(board.body).toMatchObject({ rows: [], nil_returns: 2 });
    const one = await request(p.app).get('/obligations/board?period=2026-10&provider=QZ-KJJ').set('Authorization', admin);
    expect(one.body.nil_returns).toBe(1);

    // The provider's compliance history shows which periods were fulfilled by a nil return, and counts them.
    const history = await request(p.app).get('/admin/providers/QZ-KJJ/compliance').set('Authorization', admin);
    expect(history.status).toBe(200);
    expect(history.body.summary.nil_returns).toBe(1);
    const declared = history.body.obligations.filter((o: { nil_return: unknown }) => o.nil_return !== null);
    expect(declared).toEqual([
      expect.objectContaining({ period: '2026-10', state: 'fulfilled', nil_return: expect.objectContaining({ at: expect.any(String) }) }),
    ]);
  });
});

describe('nothing acknowledged is dropped', () => {
  test('declared while Temporal is away: 200 and fulfilled, the signal kept; delivered when it is back, the workflow ends', async () => {
    await open(today, ['QZ-JTJ']);
    const o = await obligation('QZ-JTJ', current);
    expect(o).toMatchObject({ state: 'open' });
    const off = offlineApp(p);
    try {
      const res = await request(off.app).post(`/obligations/${o.id}/nil-return`).set('Authorization', auth['QZ-JTJ']).send({});
      expect(res.status).toBe(200);
      expect(res.body.obligation).toMatchObject({ state: 'fulfilled', on_time: true });
    } finally {
      await off.close();
    }
    // Stored with its audit entry and the signal its workflow is owed, which Temporal did not take.
    expect(await p.db('audit_log').where({ action: 'obligation.nil_return', entity_id: String(o.id) })).toHaveLength(1);
    const queued = await p.db('workflow_signals').where('workflow_id', o.workflow_id);
    expect(queued.map((q) => [q.delivered_at, q.attempts])).toEqual([[null, 1]]);
    // Temporal is back: the reconciler delivers it (or finds the workflow already ended on what the database says),
    // and the workflow ends fulfilled, on time.
    expect(await deliverPendingSignals(p.db, p.env.client, 0)).toMatchObject({ failed: 0 });
    expect(await p.db('workflow_signals').where('workflow_id', o.workflow_id).whereNull('delivered_at')).toHaveLength(0);
    const handle = plain.workflow.getHandle<typeof obligationWorkflow>(o.workflow_id);
    expect(await handle.result()).toMatchObject({ stage: 'fulfilled', onTime: true });
  });
});
