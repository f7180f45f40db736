/**
 * Reporting obligations (E7, P9) and the order → escalation chain (E20, P24), end to end: the API, the real
 * activities on PostgreSQL and the workflows on the Temporal time-skipping test server. The server's clock starts
 * at the real time and is moved on with `env.sleep`; time skipping is global to the file, so the tests run in order.
 * Nothing depends on the day it runs: past periods are fixed dates, "now" is the server's clock, deadlines given
 * are counted from it, and the years around it that no shipped calendar covers get the test-fixture calendar.
 */
import { expectProcessEngineOutage, offlineApp } from './support/offline';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow } from './support/fixtures';
import { complianceCaseWorkflow, obligationOpenerWorkflow, obligationWorkflow } from '../workflows';
import { orderRectificationUpdate } from '../processes/messages';
import { loadCalendar } from '../db/calendar';
import { addCalendarDays, shanghaiDate, WorkingCalendar, builtInCalendarYears } from '../domain/calendar';
import { parsePeriod } from '../domain/periods';
import { cadenceChangeEffectiveFrom, dueDateOf, periodContaining, reminderPlan, workingDaysOverdue } from '../domain/obligations';
import { openMissingObligations } from '../db/obligations';
import { applyEffectiveCadences, recordCadenceChange } from '../db/provider-cadences';
import { eventually } from './support/wait';

let p: TestPlatform;

/** The same API on a Temporal nobody serves, for `fn`. */
async function offline(fn: (app: ReturnType<typeof offlineApp>['app']) => Promise<void>): Promise<void> {
  const off = offlineApp(p);
  try {
    await fn(off.app);
  } finally {
    await off.close();
  }
}

/** All a compliance case is in the database: its row, its events, its audit entries. */
const caseSnapshot = async (caseId: string) => ({
  row: await p.db('compliance_cases').where('id', caseId).first(),
  events: await p.db('compliance_case_events').where('case_id', caseId).count({ n: '*' }),
  audit: await p.db('audit_log').where('entity_id', caseId).count({ n: '*' }),
});
const auth: Record<string, string> = {};
let admin: string;
let supervisor: string;
let adminId: string;
/** Waits for results without unlocking time skipping (other workflows' timers must not jump meanwhile). */
let plain: Client;
// Today is the platform's own clock: these tests run the whole platform (API, worker, PostgreSQL, the Temporal test
// server) and check behaviour relative to the present (the period in progress, a validity that includes today), so
// the scenario is built from the same clock the platform reads, and every date under test is derived from it. The
// clock is controlled for all of them at once with `npm run test:at -- YYYY-MM-DD` (README, "Tests on any day").
const TODAY = shanghaiDate(new Date());
const HISTORIES = path.join(__dirname, 'histories');
const recorded: Array<{ name: string; workflowId: string }> = [];

beforeAll(async () => {
  p = await startTestPlatform();
  plain = new Client({ connection: p.env.connection, namespace: p.env.namespace ?? 'default' });
  for (const code of ['QZ-GXJ', 'QZ-KJJ', 'QZ-MZJ', 'QZ-RSJ', 'QZ-GTJ', 'QZ-HBJ', 'QZ-ZJJ']) {
    auth[code] = (await principalWithKey(p.db, { name: `${code} 报送员`, role: 'provider', providerCode: code })).auth;
  }
  const a = await principalWithKey(p.db, { name: '管理机构', role: 'admin' });
  admin = a.auth;
  adminId = a.id;
  supervisor = (await principalWithKey(p.db, { name: '督办员', role: 'supervisor' })).auth;
}, 120000);

afterAll(async () => {
  if (process.env.RECORD_HISTORIES === '1' && p) {
    fs.mkdirSync(HISTORIES, { recursive: true });
    for (const r of recorded) {
      const history = await p.env.client.workflow.getHandle(r.workflowId).fetchHistory();
      fs.writeFileSync(path.join(HISTORIES, `${r.name}.json`), JSON.stringify(JSON.parse(historyToJSON(history)), null, 1));
    }
  }
  await p?.stop();
});

let keySeq = 0;
function submit(code: string, period: string) {
  return request(p.app)
    .post('/submissions')
    .set('Authorization', auth[code])
    .set('Idempotency-Key', `obl-${++keySeq}-${Date.now()}`)
    .send({ period, records: [penaltyRow(keySeq)] });
}

async function open(asOf: string, providerCodes: string[]) {
  const workflowId = `opener-${asOf}-${providerCodes.join('-')}-${++keySeq}`;
  if (!recorded.some((r) => r.name === 'opener')) recorded.push({ name: 'opener', workflowId });
  return plain.workflow.execute(obligationOpenerWorkflow, { taskQueue: p.taskQueue, workflowId, args: [{ asOf, providerCodes }] });
}

async function obligation(code: string, period: string) {
  return p
    .db('obligations as o')
    .join('providers as p', 'p.id', 'o.provider_id')
    .where({ 'p.code': code, 'o.period': period })
    .first('o.*');
}

/** Polls until `fn` answers something truthy (the workflows run on their own). */
const inState = (code: string, period: string, state: string) => async () => {
  const o = await obligation(code, period);
  return o && o.state === state ? o : null;
};
/** Today on the test server's clock (Asia/Shanghai): what the workflows and their deadlines go by. */
const serverToday = async () => shanghaiDate(new Date(await p.env.currentTimeMs()));
/** Moves the server's clock to `iso` (never back). */
async function sleepUntil(iso: string): Promise<void> {
  const now = await p.env.currentTimeMs();
  if (Date.parse(iso) > now) await p.env.sleep(Date.parse(iso) - now);
}
const caseInState = (caseId: string, state: string) => async () => {
  const c = await p.db('compliance_cases').where('id', caseId).first();
  return c && c.state === state ? c : null;
};

describe('domain rules (pure)', () => {
  const cal = new WorkingCalendar(builtInCalendarYears());

  test('the due date spans the National Day holiday and counts the make-up Saturday (E7, working days)', () => {
    // 2026-09 ends on the 30th; 1–7 October are off, Saturday 10 October is a make-up working day.
    expect(dueDateOf(cal, parsePeriod('2026-09')!, 5)).toBe('2026-10-13');
    expect(dueDateOf(cal, parsePeriod('2026-Q3')!, 5)).toBe('2026-10-13');
    const plan = reminderPlan(cal, parsePeriod('2026-09')!, '2026-10-13', [3, 1], 9);
    expect(plan.map((r) => [r.workingDaysBefore, r.date, r.at])).toEqual([
      [3, '2026-10-09', '2026-10-09T01:00:00.000Z'],
      [1, '2026-10-12', '2026-10-12T01:00:00.000Z'],
    ]);
    expect(workingDaysOverdue(cal, '2026-10-13', '2026-10-13')).toBe(0);
    expect(workingDaysOverdue(cal, '2026-09-30', '2026-10-09')).toBe(2); // 8 and 9 October: the holiday does not count
  });

  test('periods of each cadence, and a cadence change takes effect from the next period (E7, P9)', () => {
    expect(periodContaining('2026-11-27', 'monthly')).toMatchObject({ code: '2026-11', start: '2026-11-01', end: '2026-11-30' });
    expect(periodContaining('2026-11-27', 'quarterly')).toMatchObject({ code: '2026-Q4', start: '2026-10-01', end: '2026-12-31' });
    expect(periodContaining('2026-02-10', 'half_yearly')).toMatchObject({ code: '2026-H1', end: '2026-06-30' });
    expect(cadenceChangeEffectiveFrom('monthly', 'quarterly', '2026-11-27')).toBe('2027-01-01');
    expect(cadenceChangeEffectiveFrom('monthly', 'quarterly', '2026-09-10')).toBe('2026-10-01');
    expect(cadenceChangeEffectiveFrom('quarterly', 'monthly', '2026-11-27')).toBe('2027-01-01');
    expect(cadenceChangeEffectiveFrom('half_yearly', 'quarterly', '2026-03-01')).toBe('2026-07-01');
  });
});

describe('opening obligations', () => {
  test("the opener opens each active provider's current period once, however often it runs", async () => {
    const first = await open(TODAY, ['QZ-GXJ', 'QZ-GTJ']);
    expect(first).toMatchObject({ today: TODAY, opened: 2 });
    const again = await open(TODAY, ['QZ-GXJ', 'QZ-GTJ']);
    expect(again.opened).toBe(0);
    const rows = await p
      .db('obligations as o')
      .join('providers as p', 'p.id', 'o.provider_id')
      .whereIn('p.code', ['QZ-GXJ', 'QZ-GTJ'])
      .select('p.code', 'o.period', 'o.due_date', 'o.state', 'o.workflow_id', 'o.workflow_started_at');
    const period = periodContaining(TODAY, 'monthly');
    const due = dueDateOf(await loadCalendar(p.db), period, 5);
    expect(rows.map((r) => [r.code, r.period, r.due_date, r.state]).sort()).toEqual([
      ['QZ-GTJ', period.code, due, 'open'],
      ['QZ-GXJ', period.code, due, 'open'],
    ]);
    expect(rows.every((r) => r.workflow_started_at !== null)).toBe(true);
    const d = await p.env.client.workflow.getHandle(`obligation-QZ-GTJ-${period.code}`).describe();
    expect(d.status.name).toBe('RUNNING');
    expect(
      await p
        .db('obligation_events')
        .whereIn(
          'obligation_id',
          p
            .db('obligations')
            .whereIn(
              'workflow_id',
              rows.map((r) => r.workflow_id),
            )
            .select('id'),
        )
        .where('kind', 'opened'),
    ).toHaveLength(2);
  });

  test('after a crash between opening and starting, the next run starts the workflows it left (and nothing twice)', async () => {
    // The opener stored QZ-GXJ's obligation but "crashed" before recording its workflow start.
    await p
      .db('obligations')
      .where('workflow_id', `obligation-QZ-GXJ-${periodContaining(TODAY, 'monthly').code}`)
      .update({ workflow_started_at: null });
    const r = await open(TODAY, ['QZ-GXJ', 'QZ-GTJ']);
    expect(r.opened).toBe(0);
    expect(r.started).toBe(1);
    expect(await p.db('obligations').whereNull('workflow_started_at')).toHaveLength(0);
  });

  test('the opener refuses a day in the future', async () => {
    await expect(open('2099-01-01', ['QZ-GXJ'])).rejects.toThrow();
  });
});

describe('one workflow per obligation', () => {
  const current = periodContaining(TODAY, 'monthly').code;

  test('submitted on time: fulfilled on time through the after-submission signal', async () => {
    const res = await submit('QZ-GXJ', current);
    expect(res.status).toBe(202);
    const wfId = `obligation-QZ-GXJ-${current}`;
    const result = await plain.workflow.getHandle<typeof obligationWorkflow>(wfId).result();
    expect(result).toMatchObject({ stage: 'fulfilled', onTime: true, period: current });
    const o = await obligation('QZ-GXJ', current);
    expect(o).toMatchObject({ state: 'fulfilled', on_time: true, fulfilled_submission_id: res.body.submission.id });
    expect(await p.db('obligation_events').where({ obligation_id: o.id, kind: 'fulfilled_on_time' })).toHaveLength(1);
    expect(await p.db('audit_log').where({ action: 'obligation.fulfilled', entity_id: String(o.id) })).toHaveLength(1);
    recorded.push({ name: 'obligation-on-time', workflowId: wfId });
  });

  test('late: past its due date the obligation is overdue and on the board; a later batch fulfils it late', async () => {
    await open('2026-10-15', ['QZ-KJJ']);
    const o = await eventually(inState('QZ-KJJ', '2026-10', 'overdue'), 'QZ-KJJ overdue');
    expect(o.due_date).toBe('2026-11-06');
    const c = await p.db('compliance_cases').where('id', o.case_id).first();
    expect(c).toMatchObject({
      kind: 'reporting',
      state: 'overdue',
      provider_id: o.provider_id,
      reference_id: String(o.id),
      missed_deadline: '2026-11-06',
    });
    // the provider and the administrators are told
    const notes = await p.db('notifications').where({ kind: 'obligation.overdue', entity_id: String(o.id) });
    expect(notes.map((n) => n.recipient_role ?? 'provider').sort()).toEqual(['admin', 'provider']);

    const board = await request(p.app).get('/obligations/board?provider=QZ-KJJ').set('Authorization', admin);
    expect(board.status).toBe(200);
    const cal = await loadCalendar(p.db);
    expect(board.body.rows).toEqual([
      expect.objectContaining({
        id: o.id,
        provider: 'QZ-KJJ',
        period: '2026-10',
        due_date: '2026-11-06',
        state: 'overdue',
        working_days_overdue: workingDaysOverdue(cal, '2026-11-06', TODAY),
      }),
    ]);
    expect(board.body.rows[0].working_days_overdue).toBeGreaterThan(10);

    expect((await submit('QZ-KJJ', '2026-10')).status).toBe(202);
    const result = await plain.workflow.getHandle(o.workflow_id).result();
    expect(result).toMatchObject({ stage: 'fulfilled', onTime: false });
    expect(await obligation('QZ-KJJ', '2026-10')).toMatchObject({ state: 'fulfilled', on_time: false });
    await eventually(caseInState(o.case_id, 'resolved'), 'case resolved');
    const caseResult = await plain.workflow.getHandle<typeof complianceCaseWorkflow>(c.workflow_id).result();
    expect(caseResult.state).toBe('resolved');
    expect((await request(p.app).get('/obligations/board?provider=QZ-KJJ').set('Authorization', admin)).body.rows).toEqual([]);
    recorded.push({ name: 'obligation-late', workflowId: o.workflow_id }, { name: 'case-resolved-unordered', workflowId: c.workflow_id });
  });

  test('overdue → ordered (责令限期改正) → submits: resolved, every step dated with its actor', async () => {
    await open('2026-10-20', ['QZ-MZJ']);
    const o = await eventually(inState('QZ-MZJ', '2026-10', 'overdue'), 'QZ-MZJ overdue');
    await eventually(
      async () => (await p.db('compliance_cases').where('id', o.case_id).first('workflow_started_at'))?.workflow_started_at,
      'case workflow',
    );
    const deadline = addCalendarDays(await serverToday(), 9);
    const res = await request(p.app)
      .post(`/obligations/${o.id}/rectification-order`)
      .set('Authorization', admin)
      .send({ deadline, note: '请补报2026年10月信用信息' });
    expect(res.status).toBe(200);
    expect(res.body.case).toMatchObject({
      id: o.case_id,
      state: 'ordered',
      state_zh: '已责令限期改正',
      order_deadline: deadline,
      ordered_by: 'admin:管理机构',
    });
    const ordered = await p.db('notifications').where({ kind: 'compliance.ordered', entity_id: o.case_id }).first();
    expect(ordered.recipient_provider_id).toBe(o.provider_id);
    expect(ordered.body).toContain(deadline);

    // a second order for the same case is refused: it is no longer overdue
    const twice = await request(p.app)
      .post(`/obligations/${o.id}/rectification-order`)
      .set('Authorization', admin)
      .send({ deadline: addCalendarDays(deadline, 10) });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('CASE_NOT_OVERDUE');

    const board = await request(p.app).get('/obligations/board?state=ordered').set('Authorization', admin);
    expect(board.body.rows.map((r: { provider: string }) => r.provider)).toEqual(['QZ-MZJ']);

    expect((await submit('QZ-MZJ', '2026-10')).status).toBe(202);
    expect(await plain.workflow.getHandle(o.workflow_id).result()).toMatchObject({ stage: 'fulfilled', onTime: false });
    const c = await eventually(caseInState(o.case_id, 'resolved'), 'case resolved');
    expect(c.resolution).toBe('submitted');
    const events = await request(p.app).get(`/compliance-cases/${o.case_id}`).set('Authorization', admin);
    expect(events.body.events.map((e: { kind: string; actor: string }) => [e.kind, e.actor])).toEqual([
      ['opened', 'system:obligations'],
      ['ordered', 'admin:管理机构'],
      ['resolved', 'system:obligations'],
    ]);
    expect(await p.db('audit_log').where({ action: 'compliance_case.order', entity_id: o.case_id, principal_id: adminId })).toHaveLength(1);
    recorded.push(
      { name: 'obligation-ordered-then-submitted', workflowId: o.workflow_id },
      { name: 'case-ordered-resolved', workflowId: c.workflow_id },
    );
  });

  test('a bad order is refused with a clear error and changes nothing', async () => {
    await open('2026-10-25', ['QZ-RSJ']);
    const o = await eventually(inState('QZ-RSJ', '2026-10', 'overdue'), 'QZ-RSJ overdue');
    await eventually(
      async () => (await p.db('compliance_cases').where('id', o.case_id).first('workflow_started_at'))?.workflow_started_at,
      'case workflow',
    );
    const future = addCalendarDays(await serverToday(), 9);
    const past = await request(p.app)
      .post(`/obligations/${o.id}/rectification-order`)
      .set('Authorization', admin)
      .send({ deadline: '2026-11-01' });
    expect(past.status).toBe(422);
    expect(past.body.error).toMatchObject({ code: 'DEADLINE_NOT_IN_FUTURE' });
    expect(past.body.error.details[0]).toMatchObject({ field: 'deadline', article: 'E20, P24' });
    expect(
      (await request(p.app).post(`/obligations/${o.id}/rectification-order`).set('Authorization', admin).send({ deadline: '2026-13-01' }))
        .status,
    ).toBe(400);
    expect(
      (
        await request(p.app)
          .post(`/obligations/${o.id}/rectification-order`)
          .set('Authorization', admin)
          .send({ deadline: future, extra: 1 })
      ).status,
    ).toBe(400);
    // a fulfilled obligation cannot be ordered
    const done = await obligation('QZ-GXJ', periodContaining(TODAY, 'monthly').code);
    const notOverdue = await request(p.app)
      .post(`/obligations/${done.id}/rectification-order`)
      .set('Authorization', admin)
      .send({ deadline: future });
    expect(notOverdue.status).toBe(409);
    expect(notOverdue.body.error.code).toBe('OBLIGATION_NOT_OVERDUE');
    // only admins order
    expect(
      (await request(p.app).post(`/obligations/${o.id}/rectification-order`).set('Authorization', supervisor).send({ deadline: future }))
        .status,
    ).toBe(403);
    expect(
      (
        await request(p.app)
          .post(`/obligations/${o.id}/rectification-order`)
          .set('Authorization', auth['QZ-RSJ'])
          .send({ deadline: future })
      ).status,
    ).toBe(403);

    // The workflow's own Update validator refuses a deadline that is not in the future, before anything is written.
    const c = await p.db('compliance_cases').where('id', o.case_id).first();
    const err = await p.env.client.workflow
      .getHandle(c.workflow_id)
      .executeUpdate(orderRectificationUpdate, {
        args: [{ deadline: '2026-01-05', note: null, principalId: adminId, actor: 'admin:管理机构', requestId: 'r-past' }],
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(err.cause).toMatchObject({ type: 'DeadlineNotInFuture' });
    expect(await p.db('compliance_cases').where('id', o.case_id).first('state')).toEqual({ state: 'overdue' });
    expect(await p.db('compliance_case_events').where('case_id', o.case_id).pluck('kind')).toEqual(['opened']);
  });

  test('ordered → ignored → escalation due → a supervisor escalates it to the supervision department (提请监察部门)', async () => {
    const o = await obligation('QZ-RSJ', '2026-10');
    const deadline = addCalendarDays(await serverToday(), 3);
    // Temporal away: the order is 503 and nothing of it is stored (the case is moved by its workflow alone).
    await offline(async (app) => {
      const before = await caseSnapshot(o.case_id);
      expectProcessEngineOutage(
        await request(app).post(`/compliance-cases/${o.case_id}/rectification-order`).set('Authorization', admin).send({ deadline }),
      );
      expect(await caseSnapshot(o.case_id)).toEqual(before);
    });
    const ordered = await request(p.app)
      .post(`/compliance-cases/${o.case_id}/rectification-order`)
      .set('Authorization', admin)
      .send({ deadline });
    expect(ordered.status).toBe(200);
    // an escalation before the deadline has passed is refused
    const early = await request(p.app)
      .post(`/compliance-cases/${o.case_id}/escalation`)
      .set('Authorization', supervisor)
      .send({ responsible_unit: '市人社局', note: '拒不改正' });
    expect(early.status).toBe(409);

    // The deadline (the end of its day, Shanghai) passes without a submission.
    await p.env.sleep('9 days');
    const c = await eventually(caseInState(o.case_id, 'escalation_due'), 'escalation due');
    const told = await p.db('notifications').where({ kind: 'compliance.escalation_due', entity_id: o.case_id }).first();
    expect(told.recipient_role).toBe('supervisor');

    const due = await request(p.app).get('/supervision/escalation-due').set('Authorization', supervisor);
    expect(due.status).toBe(200);
    expect(due.body.cases.map((x: { id: string }) => x.id)).toEqual([o.case_id]);
    expect(due.body.cases[0]).toMatchObject({ provider: 'QZ-RSJ', state: 'escalation_due', order_deadline: deadline });

    // only supervisors escalate; a missing responsible unit is a 400
    expect(
      (
        await request(p.app)
          .post(`/compliance-cases/${o.case_id}/escalation`)
          .set('Authorization', admin)
          .send({ responsible_unit: '市人社局', note: '拒不改正' })
      ).status,
    ).toBe(403);
    expect(
      (await request(p.app).post(`/compliance-cases/${o.case_id}/escalation`).set('Authorization', supervisor).send({ note: '拒不改正' }))
        .status,
    ).toBe(400);

    const escalation = { responsible_unit: '钦州市人力资源和社会保障局办公室', note: '逾期未按责令改正，提请追究直接责任人的行政责任' };
    await offline(async (app) => {
      const before = await caseSnapshot(o.case_id);
      expectProcessEngineOutage(
        await request(app).post(`/compliance-cases/${o.case_id}/escalation`).set('Authorization', supervisor).send(escalation),
      );
      expect(await caseSnapshot(o.case_id)).toEqual(before);
    });
    const esc = await request(p.app).post(`/compliance-cases/${o.case_id}/escalation`).set('Authorization', supervisor).send(escalation);
    expect(esc.status).toBe(200);
    expect(esc.body.case).toMatchObject({
      state: 'escalated',
      referred_to: '钦州市监察部门',
      responsible_unit: '钦州市人力资源和社会保障局办公室',
      escalated_by: 'supervisor:督办员',
    });
    const result = await plain.workflow.getHandle<typeof complianceCaseWorkflow>(c.workflow_id).result();
    expect(result.state).toBe('escalated');
    const list = await request(p.app).get('/supervision/escalations').set('Authorization', supervisor);
    expect(list.body.cases.map((x: { id: string }) => x.id)).toEqual([o.case_id]);
    expect(await p.db('compliance_case_events').where('case_id', o.case_id).orderBy('id').pluck('kind')).toEqual([
      'opened',
      'ordered',
      'escalation_due',
      'escalated',
    ]);
    expect(await p.db('audit_log').where({ entity: 'compliance_case', entity_id: o.case_id }).orderBy('id').pluck('action')).toEqual([
      'compliance_case.open',
      'compliance_case.order',
      'compliance_case.escalation_due',
      'compliance_case.escalate',
    ]);
    const board = await request(p.app).get('/obligations/board?state=escalated').set('Authorization', admin);
    expect(board.body.rows.map((r: { provider: string; state_zh: string }) => [r.provider, r.state_zh])).toEqual([
      ['QZ-RSJ', '已提请监察部门追究责任'],
    ]);
    recorded.push({ name: 'case-ordered-ignored-escalated', workflowId: c.workflow_id });
  });

  test('reminders before the due date are kept for the provider; past the due date it is overdue', async () => {
    // The clock moves past both reminders of QZ-GTJ's current period (3 and 1 working days before the due date):
    // they go out while the workflow sleeps.
    const o = await obligation('QZ-GTJ', periodContaining(TODAY, 'monthly').code);
    const plan = reminderPlan(await loadCalendar(p.db), parsePeriod(o.period)!, o.due_date, [3, 1], 9);
    expect(plan).toHaveLength(2);
    await sleepUntil(new Date(Date.parse(plan[1].at) + 3_600_000).toISOString());
    await eventually(
      async () => (await p.db('notifications').where({ kind: 'obligation.reminder', entity_id: String(o.id) })).length === 2,
      'both reminders',
    );
    const res = await request(p.app).get('/obligations/reminders').set('Authorization', auth['QZ-GTJ']);
    expect(res.status).toBe(200);
    expect(
      res.body.reminders.map((r: { data: { workingDaysBefore: number; date: string } }) => [r.data.workingDaysBefore, r.data.date]).sort(),
    ).toEqual(plan.map((r) => [r.workingDaysBefore, r.date]).sort());
    expect(res.body.reminders[0].title).toContain('报送提醒');
    // another provider sees none of them
    expect((await request(p.app).get('/obligations/reminders').set('Authorization', auth['QZ-KJJ'])).body.reminders).toEqual([]);
    await sleepUntil(new Date(Date.parse(`${o.due_date}T00:00:00+08:00`) + 86_400_000 + 3_600_000).toISOString());
    const overdue = await eventually(inState('QZ-GTJ', o.period, 'overdue'), 'QZ-GTJ overdue');
    const status = await p.env.client.workflow
      .getHandle(o.workflow_id)
      .query<{ remindersSent: string[]; stage: string }>('obligationState');
    expect(status).toMatchObject({ stage: 'overdue', remindersSent: plan.map((r) => r.date) });
    const detail = await request(p.app).get(`/obligations/${overdue.id}`).set('Authorization', auth['QZ-GTJ']);
    expect(detail.body.events.map((e: { kind: string }) => e.kind)).toEqual(['opened', 'reminded', 'reminded', 'overdue']);
    expect(detail.body.case).toMatchObject({ state: 'overdue' });
    recorded.push({ name: 'obligation-reminded-overdue', workflowId: o.workflow_id });
  });

  test('a quarterly provider, its quarter ending 2026-09-30: due after the National Day holiday', async () => {
    // QZ-HBJ reports quarterly by agreement made before its tracking began.
    await p.db('providers').where('code', 'QZ-HBJ').update({ cadence: 'quarterly' });
    const r = await open('2026-09-15', ['QZ-HBJ']);
    expect(r.opened).toBe(1);
    const o = await eventually(inState('QZ-HBJ', '2026-Q3', 'overdue'), 'QZ-HBJ overdue');
    expect(o).toMatchObject({ cadence: 'quarterly', period_start: '2026-07-01', period_end: '2026-09-30', due_date: '2026-10-13' });
    // a monthly period is refused at intake, the quarter is accepted and fulfils it (late)
    expect((await submit('QZ-HBJ', '2026-09')).status).toBe(422);
    expect((await submit('QZ-HBJ', '2026-Q3')).status).toBe(202);
    expect(await plain.workflow.getHandle(o.workflow_id).result()).toMatchObject({
      stage: 'fulfilled',
      onTime: false,
      dueDate: '2026-10-13',
    });
    // the next run as of October opens 2026-Q4, not three months
    await open('2026-10-02', ['QZ-HBJ']);
    expect(await p.db('obligations').where('provider_id', o.provider_id).orderBy('period_start').pluck('period')).toEqual([
      '2026-Q3',
      '2026-Q4',
    ]);
    // and is fulfilled by its batch (on time or late, whatever day this runs), so that it is not on the board below
    expect((await submit('QZ-HBJ', '2026-Q4')).status).toBe(202);
    await eventually(inState('QZ-HBJ', '2026-Q4', 'fulfilled'), 'QZ-HBJ 2026-Q4 fulfilled');
  });
});

describe('access: each principal sees only what is theirs', () => {
  test("a provider sees its own obligations only; another's answers 404", async () => {
    const mine = await request(p.app).get('/obligations').set('Authorization', auth['QZ-KJJ']);
    expect(mine.status).toBe(200);
    expect(mine.body.obligations.map((o: { provider: string }) => o.provider)).toEqual(['QZ-KJJ']);
    const other = await obligation('QZ-RSJ', '2026-10');
    expect((await request(p.app).get(`/obligations/${other.id}`).set('Authorization', auth['QZ-KJJ'])).status).toBe(404);
    expect((await request(p.app).get(`/compliance-cases/${other.case_id}`).set('Authorization', auth['QZ-KJJ'])).status).toBe(404);
    const own = await request(p.app).get(`/compliance-cases/${other.case_id}`).set('Authorization', auth['QZ-RSJ']);
    expect(own.status).toBe(200);
    expect(
      (await request(p.app).get('/compliance-cases').set('Authorization', auth['QZ-KJJ'])).body.cases.every(
        (c: { provider: string }) => c.provider === 'QZ-KJJ',
      ),
    ).toBe(true);
    // the provider-filter of the list is ignored for providers (never another's)
    expect(
      (await request(p.app).get('/obligations?provider=QZ-RSJ').set('Authorization', auth['QZ-KJJ'])).body.obligations.map(
        (o: { provider: string }) => o.provider,
      ),
    ).toEqual(['QZ-KJJ']);
  });

  test('the board and the dashboard are for admins and supervisors', async () => {
    expect((await request(p.app).get('/obligations/board').set('Authorization', auth['QZ-KJJ'])).status).toBe(403);
    expect((await request(p.app).get('/obligations/stats').set('Authorization', auth['QZ-KJJ'])).status).toBe(403);
    expect((await request(p.app).get('/obligations/board')).status).toBe(401);
    expect((await request(p.app).get('/obligations/board').set('Authorization', supervisor)).status).toBe(200);
    expect((await request(p.app).get('/supervision/escalation-due').set('Authorization', auth['QZ-KJJ'])).status).toBe(403);
  });
});

describe('the board and the dashboard', () => {
  test('filters and sorting; bad parameters are a 400', async () => {
    const all = await request(p.app).get('/obligations/board').set('Authorization', admin);
    expect(all.body.rows.map((r: { provider: string; period: string }) => `${r.provider} ${r.period}`)).toEqual([
      'QZ-RSJ 2026-10',
      `QZ-GTJ ${periodContaining(TODAY, 'monthly').code}`,
    ]);
    expect(all.body.total).toBe(2);
    const byPeriod = await request(p.app).get('/obligations/board?period=2026-10&kind=administrative').set('Authorization', admin);
    expect(byPeriod.body.rows.map((r: { provider: string }) => r.provider)).toEqual(['QZ-RSJ']);
    const sorted = await request(p.app).get('/obligations/board?sort=provider&order=asc&limit=1').set('Authorization', admin);
    expect(sorted.body).toMatchObject({ total: 2, rows: [expect.objectContaining({ provider: 'QZ-GTJ' })] });
    const bad = await request(p.app).get('/obligations/board?state=nonsense&period=2026-13').set('Authorization', admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['period', 'state']);
  });

  test('counts per period: on time, late, overdue, escalated', async () => {
    const res = await request(p.app)
      .get(`/obligations/stats?from=2026-07&to=${periodContaining(TODAY, 'monthly').code}`)
      .set('Authorization', admin);
    expect(res.status).toBe(200);
    const by = Object.fromEntries(res.body.periods.map((r: { period: string }) => [r.period, r]));
    expect(by['2026-10']).toMatchObject({ total: 3, on_time: 0, late: 2, overdue: 1, escalated: 1 });
    expect(by[periodContaining(TODAY, 'monthly').code]).toMatchObject({ total: 2, on_time: 1, overdue: 1 });
    expect(by['2026-Q3']).toMatchObject({ total: 1, late: 1 });
    expect((await request(p.app).get('/obligations/stats?from=2026-12&to=2026-01').set('Authorization', admin)).status).toBe(400);
  });

  test("a provider's compliance history", async () => {
    const res = await request(p.app).get('/admin/providers/QZ-RSJ/compliance').set('Authorization', admin);
    expect(res.status).toBe(200);
    expect(res.body.summary).toMatchObject({ total: 1, overdue: 1, escalated: 1 });
    expect(res.body.cases[0]).toMatchObject({ state: 'escalated', kind: 'reporting' });
    expect(res.body.cadence_changes[0]).toMatchObject({ kind: 'initial', cadence: 'monthly', effective_from: '2026-10-01' });
    expect((await request(p.app).get('/admin/providers/QZ-NOPE/compliance').set('Authorization', admin)).status).toBe(404);
  });
});

describe('cadence agreements and providers registered mid-year', () => {
  test('a cadence change is recorded with its date and takes effect from the next period (E7, P9)', async () => {
    const res = await request(p.app)
      .post('/admin/providers/QZ-ZJJ/cadence')
      .set('Authorization', admin)
      .send({ cadence: 'quarterly', agreed_on: TODAY, note: '协商同意按季报送' });
    expect(res.status).toBe(201);
    const expected = cadenceChangeEffectiveFrom('monthly', 'quarterly', TODAY);
    expect(res.body.change).toMatchObject({
      previous_cadence: 'monthly',
      cadence: 'quarterly',
      effective_from: expected,
      agreed_on: TODAY,
    });
    // not in force yet: intake still takes the month
    expect(await p.db('providers').where('code', 'QZ-ZJJ').first('cadence')).toEqual({ cadence: 'monthly' });
    const history = await request(p.app).get('/admin/providers/QZ-ZJJ/compliance').set('Authorization', admin);
    expect(history.body.cadence).toEqual({ in_force: 'monthly', pending: { cadence: 'quarterly', effective_from: expected } });
    expect(await p.db('audit_log').where({ action: 'provider.cadence_change', entity_id: 'QZ-ZJJ' })).toHaveLength(1);
    // a later agreement before it took effect replaces it
    const again = await request(p.app)
      .post('/admin/providers/QZ-ZJJ/cadence')
      .set('Authorization', admin)
      .send({ cadence: 'half_yearly', agreed_on: TODAY });
    expect(again.status).toBe(201);
    expect(again.body.change.superseded).toEqual([res.body.change.id]);
    // bad input
    expect(
      (
        await request(p.app)
          .post('/admin/providers/QZ-ZJJ/cadence')
          .set('Authorization', admin)
          .send({ cadence: 'weekly', agreed_on: TODAY })
      ).status,
    ).toBe(400);
    expect(
      (
        await request(p.app)
          .post('/admin/providers/QZ-ZJJ/cadence')
          .set('Authorization', admin)
          .send({ cadence: 'quarterly', agreed_on: '2099-01-01' })
      ).status,
    ).toBe(400);
    expect(
      (
        await request(p.app)
          .post('/admin/providers/QZ-ZJJ/cadence')
          .set('Authorization', supervisor)
          .send({ cadence: 'quarterly', agreed_on: TODAY })
      ).status,
    ).toBe(403);
    expect(
      (
        await request(p.app)
          .post('/admin/providers/QZ-NOPE/cadence')
          .set('Authorization', admin)
          .send({ cadence: 'quarterly', agreed_on: TODAY })
      ).status,
    ).toBe(404);
  });

  test('across the change the old cadence owes its last periods and the new one starts on its first (set-based opening)', async () => {
    const provider = await p.db('providers').where('code', 'QZ-PBOC').first('id');
    const calendar = await loadCalendar(p.db);
    const open = (today: string) => openMissingObligations(p.db, { today, dueWorkingDays: 5, calendar, providerIds: [provider.id] });
    expect((await open('2026-10-20')).map((o) => o.period)).toEqual(['2026-10']);
    await recordCadenceChange(p.db, {
      providerId: provider.id,
      cadence: 'quarterly',
      agreedOn: '2026-11-10',
      today: '2026-11-10',
      principalId: adminId,
      actor: 'admin:管理机构',
    });
    expect((await open('2026-11-10')).map((o) => o.period)).toEqual(['2026-11']);
    expect(await open('2026-11-10')).toEqual([]);
    // In January 2027: December was still monthly; 2027-Q1 is the first quarter.
    const jan = await open('2027-01-05');
    expect(jan.map((o) => o.period)).toEqual(['2026-12', '2027-Q1']);
    const rows = await p
      .db('obligations')
      .whereIn(
        'id',
        jan.map((o) => o.id),
      )
      .orderBy('period_start')
      .select('period', 'cadence', 'due_date');
    expect(rows).toEqual([
      { period: '2026-12', cadence: 'monthly', due_date: dueDateOf(calendar, parsePeriod('2026-12')!, 5) },
      { period: '2027-Q1', cadence: 'quarterly', due_date: dueDateOf(calendar, parsePeriod('2027-Q1')!, 5) },
    ]);
    const applied = await applyEffectiveCadences(p.db, '2027-01-05');
    expect(applied.filter((a) => a.code === 'QZ-PBOC')).toEqual([{ id: provider.id, code: 'QZ-PBOC', cadence: 'quarterly' }]);
    await p.db('providers').where('id', provider.id).update({ cadence: 'monthly' }); // back to today's state for the other tests
  });

  test('registering a provider mid-year opens its current period and starts its workflow', async () => {
    const body = {
      code: 'QZ-YJJ',
      name_zh: '钦州市应急管理局',
      name_en: 'Emergency Management Bureau',
      kind: 'administrative',
      legal_basis: 'E7(16)',
      items: ['E-HONOR', 'E-PENALTY'],
    };
    const res = await request(p.app).post('/admin/providers').set('Authorization', admin).send(body);
    expect(res.status).toBe(201);
    const current = periodContaining(TODAY, 'monthly').code;
    expect(res.body.obligations.map((o: { period: string }) => o.period)).toEqual([current]);
    const d = await p.env.client.workflow.getHandle(`obligation-QZ-YJJ-${current}`).describe();
    expect(d.status.name).toBe('RUNNING');
    expect(await p.db('audit_log').where({ action: 'provider.register', entity_id: 'QZ-YJJ' })).toHaveLength(1);
    expect((await request(p.app).post('/admin/providers').set('Authorization', admin).send(body)).status).toBe(409);
    const bad = await request(p.app)
      .post('/admin/providers')
      .set('Authorization', admin)
      .send({ ...body, code: 'QZ-X1', items: ['NOPE'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('items');
    expect(await p.db('providers').where('code', 'QZ-X1').first()).toBeUndefined();
  });
});
