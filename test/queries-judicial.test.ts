import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freshDatabase, type TestDb } from './support/db';
import { timeSkippingEnv, uniqueTaskQueue, realWorker, stopAll } from './support/temporal';
import { TEST_CALENDAR_SOURCE, removeCalendarYears, weeksAhead } from './support/calendar';
import { startCalendarYearLoaded } from '../processes/starts';
import { calendarYearStamp } from '../db/calendar';
import { citizenId, uscc } from './support/fixtures';
import { replaceCalendarYear } from '../db/calendar';
import { createPrincipal } from '../db/principals';
import { createJudicialRequest } from '../db/judicial-requests';
import { storeDocument } from '../db/documents';
import { querierOf } from '../domain/querier';
import { judicialRequestWorkflow } from '../workflows/query';
import { answerJudicialRequestUpdate, judicialRequestStateQuery } from '../processes/messages';
import type { Principal } from '../domain/roles';
import { waitFor as until } from './support/wait';

/**
 * The judicial answer deadline (E14.4, P13: 3 working days) across the New Year holiday, on the time-skipping
 * server with the real activities on PostgreSQL. The request arrives on Thursday 2026-12-31; Friday 2027-01-01
 * is a holiday and the weekend follows, so the 3rd working day is Wednesday 2027-01-06 (without the holiday it
 * would be Tuesday 2027-01-05). Staff are alerted on the working day before, 2027-01-05.
 *
 * The scenario lies ahead of the server's clock whatever day the suite runs: its dates are moved on by whole weeks
 * (`weeksAhead`, weekdays kept), and the years they fall in get a test calendar whose only day off is the moved
 * New Year's Day (TEST DATA, not the State Council's schedule).
 */
let t: TestDb;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('judicial');
let judge: Principal;
let staff: Principal;
let proofId: string;

/** The scenario's dates moved ahead of the server's clock (set in beforeAll). */
let d: (iso: string) => string = (iso) => iso;
const at = (iso: string) => Date.parse(d(iso));
const RECEIVED = '2026-12-31T10:00:00+08:00';

/** Moves the server's clock to the (moved) instant `iso`. */
async function sleepUntil(iso: string): Promise<void> {
  const now = await env.currentTimeMs();
  if (at(iso) > now) await env.sleep(at(iso) - now);
}

async function fileRequest(subject: { type: 'enterprise' | 'person'; id: string }, receivedAt: string): Promise<string> {
  const { id } = await createJudicialRequest(t.db, querierOf(judge), {
    subjectType: subject.type,
    subjectId: subject.id,
    categories: null,
    caseNo: '(2026)桂07执500号',
    purpose: '执行财产调查',
    documentId: proofId,
  });
  await t
    .db('judicial_requests')
    .where('id', id)
    .update({ received_at: d(receivedAt) });
  await env.client.workflow.start(judicialRequestWorkflow, { taskQueue, workflowId: `judicial-request-${id}`, args: [{ requestId: id }] });
  return id;
}

const row = (id: string) => t.db('judicial_requests').where('id', id).first();

beforeAll(async () => {
  t = await freshDatabase();
  env = await timeSkippingEnv();
  d = weeksAhead(RECEIVED, await env.currentTimeMs()).at;
  const mk = async (name: string, role: Principal['role'], organization: string) => {
    const { id } = await createPrincipal(t.db, { name, role, organization }, null, 'test');
    return { id, name, role, organization, providerId: null, providerCode: null, enterpriseUscc: null, personId: null } as Principal;
  };
  judge = await mk('执行法官', 'judicial', '钦州市中级人民法院');
  staff = await mk('征集机构工作人员', 'staff', '市信用信息征集服务机构');
  const admin = await mk('管理员', 'admin', '市社会信用体系建设管理机构');
  // The years the scenario falls in, as test data: weekends and the (moved) New Year's Day off, nothing else.
  const newYear = d('2027-01-01');
  for (const year of new Set([d('2026-12-31'), d('2027-01-07')].map((x) => Number(x.slice(0, 4))))) {
    const holidays = newYear.startsWith(`${year}-`) ? [{ date: newYear, name: '元旦（测试数据）/ test data' }] : [];
    await replaceCalendarYear(t.db, { year, holidays, workdays: [] }, admin.id, 'test', TEST_CALENDAR_SOURCE);
  }
  proofId = (
    await storeDocument(
      t.db,
      { kind: 'duty_proof', fileName: '协助查询通知书.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 协助查询') },
      { id: judge.id, actor: 'judicial:执行法官' },
    )
  ).id;
  const provider = await t.db('providers').where('code', 'QZ-COURT').first('id');
  await t.db('records').insert([
    {
      provider_id: provider.id,
      item_code: 'P-DISHONEST',
      subject_type: 'person',
      subject_id: citizenId(77),
      payload: JSON.stringify({ case_no: '(2025)桂07执7号', court: '钦州市中级人民法院', obligation: '给付' }),
      event_date: '2025-05-01',
      created_by: judge.id,
    },
    {
      provider_id: provider.id,
      item_code: 'P-LOAN',
      subject_type: 'person',
      subject_id: citizenId(77),
      payload: JSON.stringify({ lender: '银行', kind: '贷款', amount: 1, status: '正常' }),
      event_date: '2025-05-01',
      created_by: judge.id,
    },
  ]);
  worker = await realWorker(env, t.db, taskQueue);
  running = worker.run();
}, 120000);

afterAll(() => stopAll([worker && { worker, running }], env, t), 90000);

test('the 3rd working day after receipt across the New Year holiday; alert the day before; met when answered on the due day, missed after it', async () => {
  const onTime = await fileRequest({ type: 'person', id: citizenId(77) }, RECEIVED);
  const late = await fileRequest({ type: 'enterprise', id: uscc(77) }, RECEIVED);
  const opened = await until(async () => {
    const r = await row(onTime);
    return r.answer_due ? r : null;
  });
  expect(opened).toMatchObject({
    receipt_date: d('2026-12-31'),
    answer_due: d('2027-01-06'),
    alert_date: d('2027-01-05'),
    calendar_pending_year: null,
  });
  expect(new Date(opened.due_at).toISOString()).toBe(d('2027-01-06T16:00:00.000Z')); // the end of 2027-01-06 in Shanghai
  await until(async () => (await row(late)).answer_due);
  const received = await t
    .db('notifications')
    .where({ recipient_role: 'staff', kind: 'judicial_request.received', entity_id: onTime })
    .first();
  expect(received.title).toContain(d('2027-01-06'));
  expect(received.title).not.toContain('暂定');

  // Monday 2027-01-04: no alert yet.
  await sleepUntil('2027-01-04T12:00:00+08:00');
  expect(await t.db('notifications').where({ kind: 'judicial_request.due_soon' }).count({ n: '*' })).toEqual([{ n: 0 }]);

  // Tuesday 2027-01-05, 09:00: staff are alerted about both requests.
  await sleepUntil('2027-01-05T10:00:00+08:00');
  await until(async () => Number((await t.db('notifications').where({ kind: 'judicial_request.due_soon' }).count({ n: '*' }))[0].n) === 2);
  const h1 = env.client.workflow.getHandle(`judicial-request-${onTime}`);
  expect((await h1.query(judicialRequestStateQuery)).stage).toBe('alerted');

  // Wednesday 2027-01-06 afternoon — past a weekend-only count's deadline, still within the real one.
  await sleepUntil('2027-01-06T15:00:00+08:00');
  const answered = await h1.executeUpdate(answerJudicialRequestUpdate, {
    args: [{ decision: 'answer', reason: null, staffPrincipalId: staff.id, staffActor: 'staff:征集机构工作人员' }],
  });
  expect(answered).toMatchObject({ status: 'answered', met: true, itemCount: 1 });
  expect(Date.parse(answered.answeredAt)).toBeGreaterThanOrEqual(at('2027-01-06T15:00:00+08:00'));
  expect(await row(onTime)).toMatchObject({ status: 'answered', met: true, overdue_at: null, answered_by: staff.id });
  const log = await t.db('query_log').where('id', answered.queryLogId!).first();
  expect(log).toMatchObject({
    channel: 'judicial_request',
    principal_id: judge.id,
    handled_by: staff.id,
    categories_answered: ['public_credit'],
    fee: 'free',
    item_count: 1,
  });
  // a second answer is refused by the workflow's validator
  await expect(
    h1.executeUpdate(answerJudicialRequestUpdate, {
      args: [{ decision: 'answer', reason: null, staffPrincipalId: staff.id, staffActor: 'x' }],
    }),
  ).rejects.toThrow();

  // Thursday 2027-01-07: the other request is overdue — missed, staff and administrators told.
  await sleepUntil('2027-01-07T10:00:00+08:00');
  const overdue = await until(async () => {
    const r = await row(late);
    return r.overdue_at ? r : null;
  });
  expect(overdue).toMatchObject({ status: 'pending', met: false });
  expect(await t.db('notifications').where({ kind: 'judicial_request.overdue', entity_id: late }).pluck('recipient_role')).toEqual(
    expect.arrayContaining(['staff', 'admin']),
  );
  const h2 = env.client.workflow.getHandle(`judicial-request-${late}`);
  expect((await h2.query(judicialRequestStateQuery)).stage).toBe('overdue');
  // answered late: still answered, recorded as missed
  const lateAnswer = await h2.executeUpdate(answerJudicialRequestUpdate, {
    args: [{ decision: 'answer', reason: null, staffPrincipalId: staff.id, staffActor: 'staff:征集机构工作人员' }],
  });
  expect(lateAnswer).toMatchObject({ status: 'answered', met: false });
  expect(await h2.result()).toMatchObject({ stage: 'answered', overdue: true });
  expect(await h1.result()).toMatchObject({ stage: 'answered', overdue: false });
  const audit = await t.db('audit_log').whereIn('entity_id', [onTime, late]).orderBy('id').pluck('action');
  expect(audit).toEqual(expect.arrayContaining(['judicial_request.file', 'judicial_request.answer', 'judicial_request.overdue']));
}, 120000);

test('a request in a year without a calendar: a provisional deadline (the earliest it can be), settled when an admin loads the year', async () => {
  // A Wednesday (14 June 2028, or moved on by whole weeks) in a year with no calendar, nor the next one.
  const y = weeksAhead('2028-06-14T10:00:00+08:00', await env.currentTimeMs()).at;
  const year = Number(y('2028-06-14').slice(0, 4));
  await removeCalendarYears(t.db, [year, year + 1]);
  const { id } = await createJudicialRequest(t.db, querierOf(judge), {
    subjectType: 'person',
    subjectId: citizenId(78),
    categories: null,
    caseNo: '(2028)桂07执9号',
    purpose: '执行财产调查',
    documentId: proofId,
  });
  await t
    .db('judicial_requests')
    .where('id', id)
    .update({ received_at: y('2028-06-14T10:00:00+08:00') });
  await env.client.workflow.start(judicialRequestWorkflow, { taskQueue, workflowId: `judicial-request-${id}`, args: [{ requestId: id }] });
  // Every day of the missing year counted: Thursday, Friday, Saturday — never later than the true day.
  const provisional = await until(async () => {
    const x = await row(id);
    return x.answer_due ? x : null;
  });
  expect(provisional).toMatchObject({
    receipt_date: y('2028-06-14'),
    answer_due: y('2028-06-17'),
    alert_date: y('2028-06-16'),
    calendar_pending_year: year,
  });
  const told = await t
    .db('notifications')
    .where({ recipient_role: 'staff', kind: 'judicial_request.received', entity_id: id })
    .first('title');
  expect(told.title).toContain(`${y('2028-06-17')}（暂定，${year} 年工作日历尚未载入）`);
  // The administrators are told (once) right after the deadline is stored.
  await until(
    async () =>
      (await t.db('notifications').where({ recipient_role: 'admin', kind: 'calendar.year_missing', entity_id: String(year) })).length === 1,
  );
  const h = env.client.workflow.getHandle(`judicial-request-${id}`);
  await until(async () => (await h.query(judicialRequestStateQuery)).schedule);
  expect((await h.query(judicialRequestStateQuery)).schedule).toMatchObject({ provisional: true });

  // An admin loads the year (weekends only here): the deadline is settled and the workflow woken.
  const admin = await t.db('principals').where('role', 'admin').first('id');
  await replaceCalendarYear(t.db, { year: year + 1, holidays: [], workdays: [] }, admin.id, 'admin:管理员');
  await replaceCalendarYear(t.db, { year: year, holidays: [], workdays: [] }, admin.id, 'admin:管理员');
  expect(await startCalendarYearLoaded(env.client, taskQueue, year, await calendarYearStamp(t.db, year))).toMatch(/^calendar-loaded-/);
  const r = await until(async () => {
    const x = await row(id);
    return x.calendar_pending_year === null ? x : null;
  }, 30000);
  // Wednesday: Thursday, Friday, then Monday.
  expect(r).toMatchObject({ receipt_date: y('2028-06-14'), answer_due: y('2028-06-19'), alert_date: y('2028-06-16') });
  await until(async () => (await h.query(judicialRequestStateQuery)).schedule?.provisional === false, 30000);
  expect((await h.query(judicialRequestStateQuery)).schedule).toMatchObject({ answerDue: y('2028-06-19'), provisional: false });
  expect(await t.db('notifications').where({ kind: 'judicial_request.deadline_settled', entity_id: id })).toHaveLength(1);
}, 120000);
