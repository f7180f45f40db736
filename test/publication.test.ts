/**
 * Publication (E12, E15) end to end: the submission workflow with the real activities on PostgreSQL, on the
 * Temporal time-skipping test server; the staff review, the daily sweep and voluntary disclosures through the API.
 *
 * Batches are stored with the real intake and their receipt time set to the test server's clock before their
 * workflow starts (time skipping moves that clock days ahead of the wall clock).
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { loadConfig } from '../domain/config';
import { deliverPendingSignals } from '../processes/outbox';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { penaltyRow, registrationRow, uscc, citizenId } from './support/fixtures';
import { intakeBatch, intakeProvider } from '../db/intake';
import { ensureSubmissionWorkflow } from '../processes/starts';
import { loadCalendar } from '../db/calendar';
import { addCalendarDays, shanghaiDate, shanghaiStartOfDay } from '../domain/calendar';
import { addMonths } from '../domain/publication';
import { publicationSweepWorkflow } from '../workflows';
import type { SubmissionState } from '../processes/messages';
import type { SweepResult } from '../activities/publication';
import { createActivities } from '../activities';
import { eventually } from './support/wait';

let p: TestPlatform;
/**
 * A client that never unlocks time skipping: awaiting a result through the test environment's own client lets the
 * test server run on to its internal 10-year run timeouts once nothing else is pending. Time moves only by
 * `advanceTo` (env.sleep), so every test knows the server's date.
 */
let plain: Client;
const who: Record<string, { id: string; auth: string }> = {};

beforeAll(async () => {
  p = await startTestPlatform();
  plain = new Client({ connection: p.env.connection });
  who.gsj = await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' });
  who.court = await principalWithKey(p.db, { name: '法院报送员', role: 'provider', providerCode: 'QZ-COURT' });
  who.tax = await principalWithKey(p.db, { name: '税务局报送员', role: 'provider', providerCode: 'QZ-TAX' });
  who.staff = await principalWithKey(p.db, { name: '征集机构审核员', role: 'staff' });
  who.admin = await principalWithKey(p.db, { name: '管理员', role: 'admin' });
  who.ent101 = await principalWithKey(p.db, { name: '企业101', role: 'enterprise', enterpriseUscc: uscc(101) });
  who.ent102 = await principalWithKey(p.db, { name: '企业102', role: 'enterprise', enterpriseUscc: uscc(102) });
}, 120000);
afterAll(async () => {
  await p?.stop();
});

const keyOf = () => `pub-${crypto.randomUUID()}`;

/** Stores a batch with the real intake, its receipt at `receivedAt`, and starts its workflow as the API does. */
async function accept(providerCode: string, principal: { id: string }, records: unknown[], receivedAt: Date) {
  const { id } = await p.db('providers').where('code', providerCode).first('id');
  const out = await intakeBatch(p.db, {
    provider: await intakeProvider(p.db, id),
    principalId: principal.id,
    actor: 'test',
    idempotencyKey: keyOf(),
    format: 'json',
    body: Readable.from([Buffer.from(JSON.stringify({ period: '2026-10', records }))]),
    jsonLimitBytes: 10_000_000,
    maxReportedErrors: 100,
  });
  if (out.kind !== 'accepted') throw new Error(`batch not accepted: ${JSON.stringify(out)}`);
  await p.db('submissions').where('id', out.submissionId).update({ received_at: receivedAt });
  await ensureSubmissionWorkflow(p.db, p.env.client, p.taskQueue, out.submissionId, out.workflowId);
  const handle = p.env.client.workflow.getHandle(out.workflowId);
  const keys = (await p.db('records').where('submission_id', out.submissionId).orderBy('id').select('record_key')).map(
    (r) => r.record_key as string,
  );
  return { submissionId: out.submissionId, handle, keys };
}

/** Moves the test server's clock to a minute past `iso` (never back). */
async function advanceTo(iso: string): Promise<void> {
  const ms = Date.parse(iso) - (await p.env.currentTimeMs()) + 60_000;
  if (ms > 0) await p.env.sleep(ms);
}

/** The workflow's result, waited for in real time (the workflow has nothing left to wait for). */
async function finished(handle: { workflowId: string }): Promise<SubmissionState> {
  return plain.workflow.getHandle(handle.workflowId).result();
}

async function planOf(handle: { query: (q: string) => Promise<unknown> }) {
  await eventually(async () => (await stageOf(handle)) === 'in_review' || (await stageOf(handle)) === 'published', 'the publication plan');
  return ((await handle.query('state')) as SubmissionState).plan!;
}

async function serverNow(): Promise<Date> {
  return new Date(await p.env.currentTimeMs());
}

/** Waits (wall clock) until `check` holds. */
async function stageOf(handle: { query: (q: string) => Promise<unknown> }): Promise<string> {
  return ((await handle.query('state')) as SubmissionState).stage;
}

async function pub(recordKey: string) {
  return p.db('publications').where('record_key', recordKey).first();
}

/** Turns the next `count` ordinary weekdays after `date` into holidays (a test calendar), answering them. */
async function makeHolidays(date: string, count: number): Promise<string[]> {
  const days: string[] = [];
  let d = date;
  while (days.length < count) {
    d = addCalendarDays(d, 1);
    const year = Number(d.slice(0, 4));
    await p.db('calendar_years').insert({ year, source: 'test' }).onConflict('year').ignore();
    const cal = await loadCalendar(p.db);
    if (cal.describe(d).kind !== 'workday') continue;
    await p.db('calendar_days').insert({ day: d, year, kind: 'holiday', name: '测试假日 test holiday' });
    await p
      .db('calendar_years')
      .where('year', year)
      .update({ loaded_at: p.db.raw('clock_timestamp()') });
    days.push(d);
  }
  return days;
}

async function sweep(runDate: string): Promise<SweepResult> {
  return plain.workflow.execute(publicationSweepWorkflow, {
    taskQueue: p.taskQueue,
    workflowId: `sweep-${runDate}-${crypto.randomUUID()}`,
    args: [{ runDate }],
  });
}

const publicPage = (u: string) => request(p.app).get(`/public/enterprises/${u}`);

function honorRow(n: number, validUntil?: string) {
  return {
    item_code: 'E-HONOR',
    subject_id: uscc(n),
    event_date: '2026-06-01',
    ...(validUntil ? { valid_until: validUntil } : {}),
    payload: { title: `守合同重信用企业${n}`, kind: '表彰', issuer: '钦州市人民政府' },
  };
}

// Shared by the tests below: the first batch, published across a holiday.
let first: { submissionId: string; keys: string[]; publicationDate: string };
/** The validity of the first batch's honor: about seven months after its receipt (the server's clock). */
let honorValidUntil = '';

describe('E12: a batch is published no later than the 5th working day after receipt', () => {
  test('across a holiday: the deadline moves past it; records not held are published after the review window and before the deadline; restricted and personal records never', async () => {
    const receivedAt = await serverNow();
    const receiptDate = shanghaiDate(receivedAt);
    const holidays = await makeHolidays(receiptDate, 2);
    const cal = await loadCalendar(p.db);
    const deadline = cal.addWorkingDays(receiptDate, 5);
    honorValidUntil = addCalendarDays(receiptDate, 210);
    expect(deadline > holidays[1]).toBe(true);
    expect(cal.workingDaysBetween(receiptDate, deadline)).toBe(5);

    const { submissionId, handle, keys } = await accept(
      'QZ-GSJ',
      who.gsj,
      [
        registrationRow(101),
        penaltyRow(101),
        honorRow(101, honorValidUntil),
        honorRow(101),
        { item_code: 'P-BASIC', subject_id: citizenId(1), event_date: '2026-01-01', payload: { name: '李四' } },
      ],
      receivedAt,
    );
    const tax = await accept(
      'QZ-TAX',
      who.tax,
      [{ item_code: 'E-TAX', subject_id: uscc(101), event_date: '2026-09-30', payload: { tax_year: 2025, tax_paid: 1000, rating: 'A' } }],
      receivedAt,
    );

    const plan = await planOf(handle);
    await advanceTo(shanghaiStartOfDay(holidays[1]).toISOString());
    expect(await p.db('publications').where({ submission_id: submissionId, state: 'pending' }).count({ n: '*' })).toEqual([{ n: 4 }]);
    await advanceTo(plan.publishAt);
    const state = await finished(handle);
    expect(state.receipt!.publicationDeadline).toBe(deadline);
    expect(state.plan!.deadline).toBe(deadline);
    expect(state.plan!.publishAt).toBe(shanghaiStartOfDay(cal.addWorkingDays(receiptDate, 2)).toISOString());
    expect(state.publication).toMatchObject({ total: 4, published: 4, pending: 0, held: 0 });
    expect(state.stage).toBe('published');

    const rows = await p.db('publications').where('submission_id', submissionId).orderBy('created_at');
    expect(rows).toHaveLength(4); // the person's record has no publication row
    for (const r of rows) {
      expect(r.state).toBe('published');
      expect(new Date(r.published_at).getTime()).toBeGreaterThanOrEqual(Date.parse(state.plan!.publishAt));
      expect(new Date(r.published_at).getTime()).toBeLessThanOrEqual(shanghaiStartOfDay(deadline).getTime());
      expect(r.publication_date <= deadline).toBe(true);
    }
    const pubDate = rows[0].publication_date as string;
    expect(pubDate > holidays[1]).toBe(true);
    const byKey = new Map(rows.map((r) => [r.record_key, r]));
    expect(byKey.get(keys[0])).toMatchObject({ category: 'basic', period_end: null, period_basis: 'until_terminated' });
    expect(byKey.get(keys[1])).toMatchObject({
      category: 'warning',
      period_end: addCalendarDays(addMonths(pubDate, 36), -1),
      period_basis: 'default_years',
    });
    expect(byKey.get(keys[2])).toMatchObject({ category: 'honor', period_end: honorValidUntil, period_basis: 'validity' });
    expect(byKey.get(keys[3])).toMatchObject({
      category: 'honor',
      period_end: addCalendarDays(addMonths(pubDate, 36), -1),
      period_basis: 'default_years',
    });

    // The restricted batch (E13) has nothing to publish; its workflow ends at once.
    expect(await p.db('publications').where('submission_id', tax.submissionId).count({ n: '*' })).toEqual([{ n: 0 }]);
    expect((await finished(tax.handle)).stage).toBe('published');

    // One audit entry for the publication of the batch.
    const audit = await p.db('audit_log').where({ action: 'publication.publish', entity_id: submissionId });
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toMatchObject({ published: 4, article: 'E12' });

    first = { submissionId, keys, publicationDate: pubDate };

    // Publishing is idempotent: a retried or repeated step (a crashed worker) publishes nothing twice, moves no date.
    const acts = createActivities({ db: p.db, publicationWorkingDays: 5, temporal: p.env.client, taskQueue: p.taskQueue });
    const again = await acts.publishBatch({ submissionId, asOf: new Date(Date.parse(state.plan!.deadlineAt) + 86400_000).toISOString() });
    expect(again).toMatchObject({ total: 4, published: 4, pending: 0 });
    const after = await p.db('publications').where('submission_id', submissionId).orderBy('created_at');
    expect(after.map((r) => [r.record_key, String(r.published_at), r.period_end])).toEqual(
      rows.map((r) => [r.record_key, String(r.published_at), r.period_end]),
    );
    expect(await p.db('audit_log').where({ action: 'publication.publish', entity_id: submissionId }).count({ n: '*' })).toEqual([{ n: 1 }]);
    const replan = await acts.planPublication(submissionId);
    expect(replan).toMatchObject({ records: 4, deadline });
  });

  test('staff may publish a reviewed batch at once (records not held do not wait for the review window)', async () => {
    const receivedAt = await serverNow();
    const { handle, keys } = await accept(
      'QZ-COURT',
      who.court,
      [
        {
          item_code: 'E-DISHONEST',
          subject_id: uscc(105),
          event_date: '2026-09-01',
          payload: { case_no: '(2026)桂07执5号', court: '钦州市中级人民法院', obligation: '给付货款' },
        },
      ],
      receivedAt,
    );
    await eventually(async () => (await stageOf(handle)) === 'in_review', 'in_review');
    const res = await request(p.app)
      .post(`/publication/submissions/${(await p.db('publications').where('record_key', keys[0]).first()).submission_id}/publish`)
      .set('Authorization', who.staff.auth);
    expect(res.status).toBe(202);
    const state = await finished(handle);
    const row = await pub(keys[0]);
    expect(row.state).toBe('published');
    expect(new Date(row.published_at).getTime()).toBeLessThan(Date.parse(state.plan!.publishAt));
    // E-DISHONEST: 5 years by default (E15.3, 3 to 5 years: the item says 5)
    expect(row.period_end).toBe(addCalendarDays(addMonths(row.publication_date, 60), -1));
    expect(
      (await request(p.app).post(`/publication/submissions/${state.submissionId}/publish`).set('Authorization', who.gsj.auth)).status,
    ).toBe(403);
  });
});

describe('nothing acknowledged is dropped: Temporal unreachable when staff decide', () => {
  test('"publish now" and a release answered while Temporal is down are queued with their audit entries and delivered when it is back', async () => {
    const receivedAt = await serverNow();
    const { handle, keys, submissionId } = await accept(
      'QZ-COURT',
      who.court,
      [
        {
          item_code: 'E-DISHONEST',
          subject_id: uscc(106),
          event_date: '2026-09-02',
          payload: { case_no: '(2026)桂07执6号', court: '钦州市中级人民法院', obligation: '给付货款' },
        },
        {
          item_code: 'E-DISHONEST',
          subject_id: uscc(107),
          event_date: '2026-09-02',
          payload: { case_no: '(2026)桂07执7号', court: '钦州市中级人民法院', obligation: '给付货款' },
        },
      ],
      receivedAt,
    );
    await eventually(async () => (await stageOf(handle)) === 'in_review', 'in_review');
    await request(p.app)
      .post(`/publication/submissions/${submissionId}/holds`)
      .set('Authorization', who.staff.auth)
      .send({ record_keys: [keys[1]], reason: '核实中' })
      .expect(200);
    // The same API on a Temporal nobody serves (no retry interceptor: nothing keeps calling after the test).
    const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] }) });
    const offline = createApp({ db: p.db, temporal: down, config: { ...loadConfig(), taskQueue: p.taskQueue } });
    try {
      const t0 = Date.now();
      const res = await request(offline).post(`/publication/submissions/${submissionId}/publish`).set('Authorization', who.staff.auth);
      expect(res.status).toBe(202);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const release = await request(offline)
        .post(`/publication/submissions/${submissionId}/releases`)
        .set('Authorization', who.staff.auth)
        .send({ record_keys: [keys[1]] });
      expect(release.status).toBe(200);
    } finally {
      await down.connection.close().catch(() => undefined);
    }
    expect(await p.db('audit_log').where({ action: 'publication.publish_now', entity_id: submissionId }).count({ n: '*' })).toEqual([
      { n: 1 },
    ]);
    const queued = await p.db('workflow_signals').where('workflow_id', handle.workflowId).orderBy('id');
    expect(queued.map((q) => [q.signal, q.delivered_at, q.attempts])).toEqual([
      ['publishNow', null, 1],
      ['publicationChanged', null, 1],
    ]);
    expect(queued[0].last_error).toBeTruthy();
    // Not told: the batch waits in review.
    expect(await stageOf(handle)).toBe('in_review');
    expect((await pub(keys[0])).state).toBe('pending');

    // Temporal is back: the reconciler delivers both, in order; the batch is published before its review window ends.
    expect(await deliverPendingSignals(p.db, p.env.client, 0)).toEqual({ delivered: 2, failed: 0 });
    expect(await deliverPendingSignals(p.db, p.env.client, 0)).toEqual({ delivered: 0, failed: 0 });
    const state = await finished(handle);
    expect((await pub(keys[0])).state).toBe('published');
    expect((await pub(keys[1])).state).toBe('published');
    expect(new Date((await pub(keys[0])).published_at).getTime()).toBeLessThan(Date.parse(state.plan!.publishAt));
    expect(await p.db('workflow_signals').where('workflow_id', handle.workflowId).whereNull('delivered_at').count({ n: '*' })).toEqual([
      { n: 0 },
    ]);
  });
});

describe('staff hold records of a batch; held records are not published; alert on the 4th working day', () => {
  test('hold, reject, alert on day 4 and after the deadline, then release: published when released', async () => {
    const receivedAt = await serverNow();
    const { submissionId, handle, keys } = await accept(
      'QZ-GSJ',
      who.gsj,
      [registrationRow(201), penaltyRow(201), penaltyRow(202), penaltyRow(203)],
      receivedAt,
    );
    const [, held, rejected, plain] = keys;
    await eventually(async () => (await stageOf(handle)) === 'in_review', 'in_review');

    // A request with one key not of this batch changes nothing (all or nothing).
    const bad = await request(p.app)
      .post(`/publication/submissions/${submissionId}/holds`)
      .set('Authorization', who.staff.auth)
      .send({ record_keys: [held, first.keys[1]], reason: '核实处罚决定是否已撤销' });
    expect(bad.status).toBe(409);
    expect(bad.body.error.details[0]).toMatchObject({ field: 'record_keys', article: 'E12' });
    expect((await pub(held)).state).toBe('pending');
    // Input validated at the edge.
    const noReason = await request(p.app)
      .post(`/publication/submissions/${submissionId}/holds`)
      .set('Authorization', who.staff.auth)
      .send({ record_keys: [held] });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details[0].field).toBe('reason');
    // Only staff hold; a provider cannot.
    expect(
      (
        await request(p.app)
          .post(`/publication/submissions/${submissionId}/holds`)
          .set('Authorization', who.gsj.auth)
          .send({ record_keys: [held], reason: '自行暂缓' })
      ).status,
    ).toBe(403);

    const h = await request(p.app)
      .post(`/publication/submissions/${submissionId}/holds`)
      .set('Authorization', who.staff.auth)
      .send({ record_keys: [held, rejected], reason: '核实处罚决定是否已撤销' });
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ changed: 2, state: { held: 2, pending: 2 } });
    const rj = await request(p.app)
      .post(`/publication/submissions/${submissionId}/rejections`)
      .set('Authorization', who.staff.auth)
      .send({ record_keys: [rejected], reason: '涉及商业秘密，不予公开（E11）' });
    expect(rj.status).toBe(200);
    expect((await pub(rejected)).state).toBe('rejected');

    // The provider sees its batch's publication; another provider does not even learn it exists.
    const own = await request(p.app).get(`/publication/submissions/${submissionId}`).set('Authorization', who.gsj.auth);
    expect(own.status).toBe(200);
    expect(own.body.state).toMatchObject({ total: 4, held: 1, rejected: 1, pending: 2 });
    expect((await request(p.app).get(`/publication/submissions/${submissionId}`).set('Authorization', who.court.auth)).status).toBe(404);
    expect((await request(p.app).get(`/publication/submissions/${submissionId}`).set('Authorization', who.ent101.auth)).status).toBe(403);

    // Past the review window and into the 4th working day.
    const plan = await planOf(handle);
    await advanceTo(plan.alertAt);
    const alert = await eventually(
      async () => p.db('notifications').where({ kind: 'publication.hold_deadline_near', entity_id: submissionId }).first(),
      'the day-4 alert',
    );
    expect(alert.recipient_role).toBe('staff');
    expect(alert.body).toContain(plan.deadline);
    expect((await pub(plain)).state).toBe('published');
    expect((await pub(keys[0])).state).toBe('published');
    expect((await pub(held)).state).toBe('held');
    expect((await pub(rejected)).state).toBe('rejected');
    const notes = await request(p.app).get('/notifications?kind=publication.hold_deadline_near').set('Authorization', who.staff.auth);
    expect(notes.body.notifications.map((n: { entity_id: string }) => n.entity_id)).toContain(submissionId);
    const queue = await request(p.app).get('/publication/held').set('Authorization', who.staff.auth);
    expect(queue.body.records.map((r: { record_key: string }) => r.record_key)).toContain(held);

    // The public sees the published record, never the held or the rejected one.
    const page201 = await publicPage(uscc(201));
    expect(page201.status).toBe(200);
    expect(page201.body.warnings.map((r: { record_key: string }) => r.record_key)).toEqual([]);
    expect(page201.body.basic).toHaveLength(1);
    expect((await publicPage(uscc(202))).status).toBe(404);
    expect((await publicPage(uscc(203))).body.warnings.map((r: { record_key: string }) => r.record_key)).toEqual([plain]);

    // Still held after the deadline: told again.
    await advanceTo(plan.deadlineAt);
    await eventually(
      async () => p.db('notifications').where({ kind: 'publication.hold_deadline_passed', entity_id: submissionId }).first(),
      'the overdue alert',
    );
    expect((await pub(held)).state).toBe('held');

    // Released: published at once, and the workflow ends.
    const rel = await request(p.app)
      .post(`/publication/submissions/${submissionId}/releases`)
      .set('Authorization', who.staff.auth)
      .send({ record_keys: [held], reason: '核实无误' });
    expect(rel.status).toBe(200);
    const done = await finished(handle);
    expect(done.stage).toBe('published');
    expect(done.publication).toMatchObject({ published: 3, rejected: 1, held: 0 });
    expect(done.alerted).toEqual(['deadline_near', 'deadline_passed']);
    expect((await pub(held)).state).toBe('published');
    expect((await publicPage(uscc(201))).body.warnings.map((r: { record_key: string }) => r.record_key)).toEqual([held]);
    // A released record cannot be held again once published.
    expect(
      (
        await request(p.app)
          .post(`/publication/submissions/${submissionId}/holds`)
          .set('Authorization', who.staff.auth)
          .send({ record_keys: [held], reason: '再次暂缓' })
      ).status,
    ).toBe(409);
    const audit = await p
      .db('audit_log')
      .where({ entity: 'record', entity_id: held })
      .whereLike('action', 'publication.%')
      .orderBy('id')
      .select('action');
    expect(audit.map((a) => a.action)).toEqual(['publication.hold', 'publication.release']);
  });
});

describe('E15: publication periods end; records are unpublished and kept as archive by the daily sweep', () => {
  test("a warning lifted early (the provider's correction) leaves the public page at once and is archived by the sweep", async () => {
    const [, penalty] = first.keys;
    expect((await publicPage(uscc(101))).body.warnings.map((r: { record_key: string }) => r.record_key)).toEqual([penalty]);
    const lifted = shanghaiDate(new Date());
    const fix = await request(p.app)
      .post(`/records/${penalty}/corrections`)
      .set('Authorization', who.gsj.auth)
      .send({ base_version: 1, reason: '当事人已履行处罚决定，警示解除', changes: { lifted_date: lifted } });
    expect(fix.status).toBe(201);
    expect((await publicPage(uscc(101))).body.warnings).toEqual([]);
    const r = await sweep(addCalendarDays(first.publicationDate, 1));
    expect(r.refreshed).toBe(1);
    const row = await pub(penalty);
    expect(row).toMatchObject({
      state: 'archived',
      period_end: addCalendarDays(lifted, -1),
      period_basis: 'lifted',
      archive_reason: 'period_ended',
    });
    const v2 = await p.db('records').where({ record_key: penalty, is_current: true }).first('id');
    expect(row.record_id).toBe(v2.id);
  });

  test('an enterprise terminated (注销): its basic information is no longer public, and is archived by the sweep', async () => {
    const [reg] = first.keys;
    expect((await publicPage(uscc(101))).body.basic.map((r: { record_key: string }) => r.record_key)).toEqual([reg]);
    const fix = await request(p.app)
      .post(`/records/${reg}/corrections`)
      .set('Authorization', who.gsj.auth)
      .send({
        base_version: 1,
        reason: '企业已注销登记',
        changes: {
          payload: { name: '钦州市测试企业101有限公司', legal_representative: '张三', established_on: '2020-03-01', status: '注销' },
        },
      });
    expect(fix.status).toBe(201);
    const page = await publicPage(uscc(101));
    expect(page.body.basic ?? []).toEqual([]);
    const r = await sweep(addCalendarDays(first.publicationDate, 2));
    expect(r.terminated).toBe(1);
    expect(await pub(reg)).toMatchObject({ state: 'archived', archive_reason: 'enterprise_terminated' });
  });

  test('a retracted record leaves the public page at once; the sweep archives it', async () => {
    const receivedAt = await serverNow();
    const { submissionId, handle, keys } = await accept('QZ-GSJ', who.gsj, [penaltyRow(301)], receivedAt);
    await eventually(async () => (await stageOf(handle)) === 'in_review', 'in_review');
    await request(p.app).post(`/publication/submissions/${submissionId}/publish`).set('Authorization', who.staff.auth).expect(202);
    await finished(handle);
    expect((await publicPage(uscc(301))).body.warnings).toHaveLength(1);
    await request(p.app)
      .post(`/records/${keys[0]}/retraction`)
      .set('Authorization', who.gsj.auth)
      .send({ base_version: 1, reason: '报送错误' })
      .expect(201);
    expect((await publicPage(uscc(301))).status).toBe(404);
    const r = await sweep(addCalendarDays(shanghaiDate(await serverNow()), 1));
    expect(r.retracted).toBe(1);
    expect(await pub(keys[0])).toMatchObject({ state: 'archived', archive_reason: 'retracted' });
  });

  test("a law-specific period (E15.5) overrides the item's rule: set by an admin, applied by the sweep", async () => {
    const receivedAt = await serverNow();
    const { submissionId, handle, keys } = await accept('QZ-GSJ', who.gsj, [honorRow(401, '2099-12-31')], receivedAt);
    await eventually(async () => (await stageOf(handle)) === 'in_review', 'in_review');
    await request(p.app).post(`/publication/submissions/${submissionId}/publish`).set('Authorization', who.staff.auth).expect(202);
    await finished(handle);
    const before = await pub(keys[0]);
    expect(before).toMatchObject({ period_end: '2099-12-31', period_basis: 'validity' });

    expect(
      (
        await request(p.app)
          .put('/publication/period-overrides/E-HONOR')
          .set('Authorization', who.staff.auth)
          .send({ period_months: 6, legal_basis: '某法规' })
      ).status,
    ).toBe(403);
    expect(
      (
        await request(p.app)
          .put('/publication/period-overrides/E-TAX')
          .set('Authorization', who.admin.auth)
          .send({ period_months: 6, legal_basis: '某法规第十条' })
      ).status,
    ).toBe(422);
    expect(
      (
        await request(p.app)
          .put('/publication/period-overrides/E-HONOR')
          .set('Authorization', who.admin.auth)
          .send({ period_months: 0, legal_basis: '某法规第十条' })
      ).status,
    ).toBe(400);
    const set = await request(p.app)
      .put('/publication/period-overrides/E-HONOR')
      .set('Authorization', who.admin.auth)
      .send({ period_months: 6, legal_basis: '《某条例》第十条' });
    expect(set.status).toBe(200);
    // The public page applies it at once.
    const expected = addCalendarDays(addMonths(before.publication_date, 6), -1);
    expect((await publicPage(uscc(401))).body.honors[0]).toMatchObject({ period_end: expected, period_basis: 'law' });
    const r = await sweep(shanghaiDate(await serverNow()));
    expect(r.recomputed).toBeGreaterThanOrEqual(1);
    expect(await pub(keys[0])).toMatchObject({ period_end: expected, period_basis: 'law', state: 'published' });
    expect((await request(p.app).delete('/publication/period-overrides/E-HONOR').set('Authorization', who.admin.auth)).status).toBe(204);
    await sweep(shanghaiDate(await serverNow()));
    expect(await pub(keys[0])).toMatchObject({ period_end: '2099-12-31', period_basis: 'validity' });
  });

  test('an honor with validity ends the day after its validity; one without lasts 3 years; a repeated or late run changes nothing more', async () => {
    const [, , withValidity, withoutValidity] = first.keys;
    const dayAfter = addCalendarDays(honorValidUntil, 1);
    let r = await sweep(honorValidUntil);
    expect((await pub(withValidity)).state).toBe('published');
    r = await sweep(dayAfter);
    expect(r.expired).toBeGreaterThanOrEqual(1);
    expect(await pub(withValidity)).toMatchObject({ state: 'archived', archive_reason: 'period_ended', archived_on: dayAfter });
    expect((await pub(withoutValidity)).state).toBe('published');

    const again = await sweep(dayAfter);
    expect(again).toMatchObject({ expired: 0, terminated: 0, refreshed: 0, retracted: 0, publishedOverdue: 0 });
    const earlier = await sweep(addCalendarDays(honorValidUntil, -15));
    expect(earlier.expired).toBe(0);

    const end = (await pub(withoutValidity)).period_end as string;
    await sweep(end);
    expect((await pub(withoutValidity)).state).toBe('published');
    await sweep(addCalendarDays(end, 1));
    expect((await pub(withoutValidity)).state).toBe('archived');
    // Archived records stay in the database (E15: 转为长期保存) and leave the public page.
    expect(await p.db('records').where('record_key', withoutValidity).count({ n: '*' })).toEqual([{ n: 1 }]);
    // Basic information (terminated), the lifted warning and both honors are archived: nothing of 101 is public now.
    expect((await publicPage(uscc(101))).status).toBe(404);
    const sweeps = await p.db('audit_log').where('action', 'publication.sweep').count({ n: '*' });
    expect(Number(sweeps[0].n)).toBeGreaterThanOrEqual(5);
  });
});

describe('voluntary disclosures (E12.4, E15.4): submitted by the enterprise, approved by staff, published until withdrawn', () => {
  test('submit, approve, publish, withdraw; reject with a reason; only the enterprise itself', async () => {
    const sub = await request(p.app)
      .post('/voluntary-disclosures')
      .set('Authorization', who.ent102.auth)
      .send({ title: '社会责任报告', content: '本企业2026年度履行社会责任情况……' });
    expect(sub.status).toBe(201);
    const id = sub.body.disclosure.id;
    expect(sub.body.disclosure).toMatchObject({ state: 'submitted', enterprise_uscc: uscc(102), published_at: null });
    expect((await publicPage(uscc(102))).status).toBe(404);
    expect(await p.db('notifications').where({ kind: 'voluntary.to_review', entity_id: id, recipient_role: 'staff' }).first()).toBeTruthy();

    // Others cannot approve, see or withdraw it.
    expect((await request(p.app).post(`/voluntary-disclosures/${id}/approval`).set('Authorization', who.ent102.auth).send({})).status).toBe(
      403,
    );
    expect((await request(p.app).get(`/voluntary-disclosures/${id}`).set('Authorization', who.ent101.auth)).status).toBe(404);
    expect(
      (await request(p.app).post(`/voluntary-disclosures/${id}/withdrawal`).set('Authorization', who.ent101.auth).send({})).status,
    ).toBe(404);
    expect((await request(p.app).get('/voluntary-disclosures').set('Authorization', who.ent101.auth)).body.disclosures).toEqual([]);
    // Bad input.
    expect(
      (await request(p.app).post('/voluntary-disclosures').set('Authorization', who.ent102.auth).send({ title: '', content: 'x' })).status,
    ).toBe(400);

    const ok = await request(p.app).post(`/voluntary-disclosures/${id}/approval`).set('Authorization', who.staff.auth).send({});
    expect(ok.status).toBe(200);
    expect(ok.body.disclosure).toMatchObject({ state: 'approved' });
    expect(ok.body.disclosure.published_at).toBeTruthy();
    const page = await publicPage(uscc(102));
    expect(page.status).toBe(200);
    expect(page.body.voluntary).toEqual([
      expect.objectContaining({ id, title: '社会责任报告', period_end: null, period_basis: 'until_withdrawn' }),
    ]);
    expect((await request(p.app).post(`/voluntary-disclosures/${id}/approval`).set('Authorization', who.staff.auth).send({})).status).toBe(
      409,
    );
    const told = await request(p.app).get('/notifications?kind=voluntary.approved').set('Authorization', who.ent102.auth);
    expect(told.body.notifications).toHaveLength(1);

    const wd = await request(p.app)
      .post(`/voluntary-disclosures/${id}/withdrawal`)
      .set('Authorization', who.ent102.auth)
      .send({ reason: '内容已过时' });
    expect(wd.status).toBe(200);
    expect(wd.body.disclosure.state).toBe('withdrawn');
    expect((await publicPage(uscc(102))).status).toBe(404);
    expect(
      (await request(p.app).post(`/voluntary-disclosures/${id}/withdrawal`).set('Authorization', who.ent102.auth).send({})).status,
    ).toBe(409);

    const other = await request(p.app)
      .post('/voluntary-disclosures')
      .set('Authorization', who.ent102.auth)
      .send({ title: '产品质量承诺', content: '……' + '承诺'.repeat(5) });
    expect(
      (
        await request(p.app)
          .post(`/voluntary-disclosures/${other.body.disclosure.id}/rejection`)
          .set('Authorization', who.staff.auth)
          .send({})
      ).status,
    ).toBe(400);
    const no = await request(p.app)
      .post(`/voluntary-disclosures/${other.body.disclosure.id}/rejection`)
      .set('Authorization', who.staff.auth)
      .send({ reason: '内容无法核实' });
    expect(no.body.disclosure).toMatchObject({ state: 'rejected', review_reason: '内容无法核实', published_at: null });
    expect((await publicPage(uscc(102))).status).toBe(404);
    const actions = await p.db('audit_log').where('entity', 'voluntary_disclosure').orderBy('id').select('action');
    expect(actions.map((a) => a.action)).toEqual([
      'voluntary.submit',
      'voluntary.approve',
      'voluntary.withdraw',
      'voluntary.submit',
      'voluntary.reject',
    ]);
  });
});
