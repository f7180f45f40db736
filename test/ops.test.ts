/**
 * What operators read (ops/): the logs — one JSON line per request with its id, route, status, duration and principal,
 * secrets redacted and citizen IDs masked, the id carried into the audit entry and the workflow start — and GET /metrics
 * in the Prometheus format, on a port of its own. The whole platform in process (real PostgreSQL and Temporal).
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import request from 'supertest';
import { logger, maskIdentifiers, useLogDestination } from '../ops/log';
import { registry, serveMetrics } from '../ops/metrics';
import { registerPlatformGauges } from '../api/metrics';
import { TemporalPinoLogger } from '../worker/runtime';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { principalWithKey } from './support/principals';
import { citizenId, penaltyRow, uscc } from './support/fixtures';

const lines: string[] = [];
process.env.LOG_LEVEL = 'info';
useLogDestination(
  new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  }),
);
const logged = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

let p: TestPlatform;
let admin: { id: string; auth: string };
let metrics: http.Server;
let metricsUrl: string;
beforeAll(async () => {
  p = await startTestPlatform();
  admin = await principalWithKey(p.db, { name: '管理员', role: 'admin' });
  registerPlatformGauges(p.db);
  metrics = await serveMetrics(registry, '127.0.0.1', 0);
  metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}`;
}, 120000);
afterAll(async () => {
  await new Promise((r) => metrics?.close(r));
  await p?.stop();
});

describe('citizen IDs and secrets never leave in clear', () => {
  test('a citizen ID keeps its division code and last four characters; credit codes and other numbers are left', () => {
    const id = citizenId(7);
    const masked = maskIdentifiers(`subject ${id} queried`);
    expect(masked).toBe(`subject ${id.slice(0, 6)}********${id.slice(-4)} queried`);
    expect(maskIdentifiers(`企业 ${uscc(7)}`)).toBe(`企业 ${uscc(7)}`);
    expect(maskIdentifiers('order 20261204123456789012 of 2026-12-04')).toBe('order 20261204123456789012 of 2026-12-04');
  });

  test('a key, a password and an ID in a field or a message are redacted or masked in the line written', () => {
    const id = citizenId(8);
    logger('test').warn(
      { key: 'qzk_abc_secret', password: 'p@ss', nested: { subject_id: id, authorization: 'Bearer qzk_x_y' } },
      `about ${id}`,
    );
    const line = lines[lines.length - 1];
    expect(line).not.toContain('qzk_');
    expect(line).not.toContain('p@ss');
    expect(line).not.toContain(id);
    expect(JSON.parse(line)).toMatchObject({
      level: 'warn',
      component: 'test',
      key: '[redacted]',
      password: '[redacted]',
      msg: `about ${id.slice(0, 6)}********${id.slice(-4)}`,
    });
  });
});

describe('the Temporal SDK logs through the same logger', () => {
  test('at the level it is given: a WARN logger drops the SDK lines below it and passes the rest with their fields', () => {
    lines.length = 0;
    const sdk = new TemporalPinoLogger('WARN');
    sdk.info('Worker state changed', { state: 'RUNNING' });
    sdk.warn('Activity failed', { taskQueue: 'q-1' });
    sdk.error('Workflow task failed', { workflowId: 'w-1' });
    expect(logged().map((l) => [l.component, l.level, l.msg])).toEqual([
      ['temporal', 'warn', 'Activity failed'],
      ['temporal', 'error', 'Workflow task failed'],
    ]);
    expect(logged()[0]).toMatchObject({ taskQueue: 'q-1' });
  });
});

describe('one line per request, its id carried on', () => {
  test('the id given is answered, logged with route, status, duration and principal, and stored in the audit entry', async () => {
    lines.length = 0;
    const res = await request(p.app)
      .post('/admin/principals')
      .set('Authorization', admin.auth)
      .set('X-Request-Id', 'ops-test-001')
      .send({ name: '审核员乙', role: 'staff' });
    expect(res.status).toBe(201);
    expect(res.headers['x-request-id']).toBe('ops-test-001');
    const line = logged().find((l) => l.req?.id === 'ops-test-001');
    expect(line).toMatchObject({
      component: 'http',
      level: 'info',
      route: '/admin/principals',
      principal_id: admin.id,
      req: { method: 'POST', url: '/admin/principals' },
      status: 201,
    });
    expect(typeof line!.responseTime).toBe('number');
    expect(lines.join('\n')).not.toContain(admin.auth.slice('Bearer '.length));
    const entry = await p.db('audit_log').where({ action: 'principal.create', entity_id: res.body.principal.id }).first('detail');
    expect(entry.detail.request_id).toBe('ops-test-001');
  });

  test('without one (or a malformed one) a new id is made; a refusal is logged at warn; an ID in the path is masked', async () => {
    lines.length = 0;
    const id = citizenId(9);
    const res = await request(p.app).get(`/admin/principals?name=${id}`).set('X-Request-Id', 'bad id with spaces');
    expect(res.status).toBe(401);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const line = logged().find((l) => l.req?.id === res.headers['x-request-id']);
    expect(line).toMatchObject({ level: 'warn', status: 401 });
    expect(lines.join('\n')).not.toContain(id);
    expect(line!.req.url).toContain(`${id.slice(0, 6)}********${id.slice(-4)}`);
  });

  test('a workflow started by a request carries its id in its memo', async () => {
    const gsj = await principalWithKey(p.db, { name: '工商局报送员', role: 'provider', providerCode: 'QZ-GSJ' });
    const res = await request(p.app)
      .post('/submissions')
      .set('Authorization', gsj.auth)
      .set('Idempotency-Key', 'ops-memo-1')
      .set('X-Request-Id', 'ops-test-memo')
      .send({
        period: '2026-10',
        records: [penaltyRow(11)],
      });
    expect(res.status).toBe(202);
    const described = await p.env.client.workflow.getHandle(res.body.submission.workflow_id).describe();
    expect(described.memo).toMatchObject({ request_id: 'ops-test-memo' });
  });
});

describe('GET /metrics (Prometheus), on a port of its own', () => {
  test('HTTP latency by route, intake rows by provider and outcome, what the database knows, the process itself', async () => {
    await request(p.app).get(`/public/enterprises?q=${encodeURIComponent('钦州')}`);
    // Two obligations, one of them overdue (as their workflows would leave them; none runs for these).
    const provider = (await p.db('providers').where('code', 'QZ-KJJ').first('id')).id;
    const row = (period: string, state: string) => ({
      provider_id: provider,
      period,
      cadence: 'monthly',
      period_start: `${period}-01`,
      period_end: `${period}-28`,
      due_working_days: 10,
      state,
      workflow_id: `ops-obligation-${period}`,
      workflow_started_at: new Date(),
      opened_by: 'test',
    });
    await p.db('obligations').insert([row('2020-01', 'open'), row('2020-02', 'overdue')]);
    const expected = (await p.db('obligations').groupBy('state').select('state').count({ n: '*' })) as Array<{ state: string; n: string }>;
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/qz_http_request_duration_seconds_bucket\{[^}]*route="\/admin\/principals"[^}]*status="201"/);
    expect(text).toMatch(/qz_http_request_duration_seconds_count\{method="GET",route="\/public\/enterprises",status="200"\} \d+/);
    expect(text).toMatch(/qz_intake_rows_total\{provider="QZ-GSJ",outcome="accepted"\} 1/);
    for (const { state, n } of expected) expect(text).toContain(`qz_obligations{state="${state}"} ${n}\n`);
    expect(expected.find((e) => e.state === 'overdue')).toBeTruthy();
    expect(text).toMatch(/# HELP qz_publication_batches_unpublished/);
    expect(text).toMatch(/qz_process_resident_memory_bytes \d+/);
    // No value of a path goes into a label: the route is the pattern.
    expect(text).not.toMatch(/route="\/public\/enterprises\?/);
    expect((await fetch(`${metricsUrl}/other`)).status).toBe(404);
  });

  test('a refused batch counts its rows and its reason', async () => {
    const gsj = await principalWithKey(p.db, { name: '工商局报送员乙', role: 'provider', providerCode: 'QZ-GSJ' });
    const res = await request(p.app)
      .post('/submissions')
      .set('Authorization', gsj.auth)
      .set('Idempotency-Key', 'ops-refused-1')
      .send({ period: '2026-10', records: [{ item_code: 'E-PENALTY', subject_id: 'not-a-code', event_date: '2026-10-10', payload: {} }] });
    expect(res.status).toBe(422);
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(text).toMatch(/qz_intake_refusals_total\{provider="QZ-GSJ",reason="invalid"\} 1/);
    expect(text).toMatch(/qz_intake_rows_total\{provider="QZ-GSJ",outcome="refused"\} 1/);
  });
});
