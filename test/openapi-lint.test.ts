import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ZodType } from 'zod';
import { createApp } from '../api/app';
import { EXAMPLE, registry } from '../api/openapi';
import { CATALOG_BY_CODE, PROVIDERS } from '../domain/catalog';
import { checkCitizenId, checkUscc } from '../domain/identifiers';
import { RecordValidator } from '../domain/records';
import { readTabularHeader, tabularRows } from '../domain/tabular';

/**
 * The OpenAPI document as GET /openapi.json serves it, fit for integrators: Redocly's lint (the built-in
 * `recommended` rules, the examples held to their schemas) finds no error; every operation has a unique operationId;
 * the public routes say `security: []`; every request body and every error answer has an example, and every credit
 * code and citizen ID in the examples passes its check.
 */

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  security?: unknown;
  requestBody?: { content: Record<string, { schema?: Json; example?: unknown; examples?: Record<string, unknown> }> };
  responses: Record<string, Json>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
/** The routes anyone may call without a key (the public side, the catalog, the calendar, health). */
const PUBLIC = [
  'GET /health',
  'GET /health/ready',
  'GET /catalog',
  'GET /providers',
  'GET /catalog/forbidden-personal-data',
  'GET /catalog/items/{code}/template.xlsx',
  'GET /catalog/items/{code}/template.csv',
  'GET /calendar/working-days',
  'GET /calendar/days/{date}',
  'GET /calendar/years',
  'GET /calendar/years/{year}',
  'GET /public/enterprises',
  'GET /public/enterprises/{uscc}',
  'GET /public/corrections',
  'GET /public/checkpoint',
];
const REDOCLY = path.join(__dirname, '..', 'node_modules', '.bin', 'redocly');
/** The built-in recommended rules; an example that does not fit its schema, or an operation without an id, is an error. */
const REDOCLY_CONFIG = [
  'telemetry: off',
  'extends:',
  '  - recommended',
  'rules:',
  '  no-invalid-media-type-examples: error',
  '  no-invalid-parameter-examples: error',
  '  no-invalid-schema-examples: error',
  '  operation-operationId: error',
  '',
].join('\n');

let doc: Json & { paths: Record<string, Record<string, Operation>>; components: Json };
let dir: string;

beforeAll(async () => {
  // The app serves the document it generates once from every route's registration; no route is called here.
  const app = createApp({
    db: {} as never,
    temporal: {} as never,
    config: { taskQueue: 'openapi-lint', jsonBodyLimit: '20mb', maxReportedErrors: 1000 },
  });
  const res = await request(app).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qz-openapi-'));
  fs.writeFileSync(path.join(dir, 'redocly.yaml'), REDOCLY_CONFIG);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([m, op]) => ({ where: `${m.toUpperCase()} ${p}`, op })),
  );

/** `$ref` of the document followed to what it names. */
function resolve<T>(v: T): T {
  const ref = (v as { $ref?: string } | undefined)?.$ref;
  if (!ref) return v;
  let cur: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) cur = (cur as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return resolve(cur as T);
}

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

/**
 * Redocly's lint of `document`, offline: no telemetry, no update check, the local configuration only, and a proxy
 * that answers nothing, should anything still try to reach the network.
 */
function lint(document: unknown, name: string): { status: number | null; problems: LintProblem[] } {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(document));
  const run = spawnSync(REDOCLY, ['lint', file, '--config', path.join(dir, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      REDOCLY_TELEMETRY: 'off',
      REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
      REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      NO_COLOR: '1',
    },
  });
  if (run.error) throw run.error;
  const out = run.stdout.slice(run.stdout.indexOf('{'));
  const report = JSON.parse(out) as { totals: { errors: number }; problems: LintProblem[] };
  expect(report.problems.filter((p) => p.severity === 'error')).toHaveLength(report.totals.errors);
  return { status: run.status, problems: report.problems };
}

const show = (ps: LintProblem[]) => ps.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);

test('Redocly finds no error in the document the API serves (the recommended rules, examples held to their schemas)', () => {
  const { status, problems } = lint(doc, 'openapi.json');
  expect(show(problems.filter((p) => p.severity === 'error'))).toEqual([]);
  expect(status).toBe(0);
  // A warning does not fail the lint; none is left today, and one that appears is named here.
  const warnings = show(problems.filter((p) => p.severity !== 'error'));
  if (warnings.length) console.warn(`Redocly warnings:\n${warnings.join('\n')}`);
}, 90_000);

test('the lint fails on a public route without `security` and on two operations with one operationId', () => {
  const broken = JSON.parse(JSON.stringify(doc)) as typeof doc;
  delete broken.paths['/catalog'].get.security;
  broken.paths['/providers'].get.operationId = broken.paths['/catalog'].get.operationId;
  const { status, problems } = lint(broken, 'broken.json');
  expect(status).not.toBe(0);
  const errors = problems.filter((p) => p.severity === 'error');
  expect(errors.map((p) => [p.ruleId, p.location[0]?.pointer])).toEqual(
    expect.arrayContaining([
      ['security-defined', '#/paths/~1catalog/get'],
      ['operation-operationId-unique', expect.stringMatching(/^#\/paths\/~1(catalog|providers)\/get/)],
    ]),
  );
}, 90_000);

test('every operation has an operationId of its own, in camelCase', () => {
  const ops = operations();
  expect(ops.length).toBeGreaterThan(100);
  const ids = ops.map(({ op }) => op.operationId);
  expect(ops.filter(({ op }) => !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId ?? '')).map((o) => o.where)).toEqual([]);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  expect(doc.paths['/submissions'].post.operationId).toBe('createSubmission');
  expect(doc.paths['/public/enterprises/{uscc}'].get.operationId).toBe('getPublicEnterprise');
});

test('the public routes say `security: []`; every other one asks for the API key', () => {
  const ops = operations();
  const open = ops.filter(({ op }) => Array.isArray(op.security) && op.security.length === 0).map((o) => o.where);
  expect(open.sort()).toEqual([...PUBLIC].sort());
  const keyed = ops.filter(({ where }) => !PUBLIC.includes(where));
  expect(keyed.filter(({ op }) => JSON.stringify(op.security) !== JSON.stringify([{ apiKey: [] }])).map((o) => o.where)).toEqual([]);
  // A keyed route may refuse the key; a public one never asks for it.
  expect(keyed.filter(({ op }) => !op.responses['401']).map((o) => o.where)).toEqual([]);
  expect(ops.filter(({ where, op }) => PUBLIC.includes(where) && op.responses['401']).map((o) => o.where)).toEqual([]);
});

test('every request body has an example (binary uploads aside), and each fits the schema the route validates with', () => {
  const missing: string[] = [];
  for (const { where, op } of operations()) {
    for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
      if (resolve(media.schema)?.format === 'binary') continue;
      const examples = media.examples ? Object.values(media.examples) : media.example !== undefined ? [media.example] : [];
      if (!examples.length) missing.push(`${where} ${type}`);
    }
  }
  expect(missing).toEqual([]);
  const refused: string[] = [];
  let checked = 0;
  for (const d of registry.definitions) {
    if (d.type !== 'route') continue;
    const media = d.route.request?.body?.content['application/json'];
    const schema = media?.schema as ZodType | undefined;
    if (!media || typeof schema?.safeParse !== 'function') continue;
    const values =
      media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => (e as { value: unknown }).value);
    for (const v of values) {
      checked++;
      const r = schema.safeParse(v);
      if (!r.success) refused.push(`${d.route.method} ${d.route.path}: ${r.error.message}`);
    }
  }
  expect(refused).toEqual([]);
  expect(checked).toBeGreaterThan(50);
});

test('the batch examples are real records that intake accepts (JSON and CSV)', () => {
  const body = doc.paths['/submissions'].post.requestBody!.content;
  const batch = body['application/json'].example as { period: string; records: Json[] };
  expect(batch.records.length).toBeGreaterThan(1);
  for (const r of batch.records) expect(typeof r).toBe('object');
  const gsj = PROVIDERS.find((p) => p.code === 'QZ-GSJ')!;
  // A day after every date of the examples: the check does not depend on today.
  const validator = new RecordValidator({ catalog: CATALOG_BY_CODE, allowedItems: new Set(gsj.items), today: '2026-11-02' });
  const errors = batch.records.flatMap((r, i) => {
    const v = validator.validate(r, i + 1);
    return v.ok ? [] : v.errors;
  });
  expect(errors).toEqual([]);

  const csv = body['text/csv'].example as string;
  const [header, ...rows] = parseCsv(csv, { skip_empty_lines: true }) as string[][];
  const { columns, errors: headerErrors } = readTabularHeader(header);
  expect(headerErrors).toEqual([]);
  expect(rows.length).toBeGreaterThan(0);
  const table = tabularRows(columns);
  const rowErrors = rows.flatMap((cells, i) => {
    const v = table.validate(validator, cells, i + 1);
    return v.ok ? [] : v.errors;
  });
  expect(rowErrors).toEqual([]);
});

/** Every string under an `example` or `examples` key of `node`. */
function exampleStrings(node: unknown, inExample = false, out: string[] = []): string[] {
  if (typeof node === 'string') {
    if (inExample) out.push(node);
  } else if (Array.isArray(node)) {
    for (const v of node) exampleStrings(v, inExample, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) exampleStrings(v, inExample || k === 'example' || k === 'examples', out);
  }
  return out;
}
const IDENTIFIER = /(?<![0-9A-Za-z])[0-9A-Z]{18}(?![0-9A-Za-z])/g;
const valid = (token: string) => checkUscc(token).ok || checkCitizenId(token).ok;

test('every credit code and citizen ID in the document passes its check; only an error example may show the mistyped one', () => {
  // The error answers (a route's own, and those the routes share) apart from the rest of the document.
  const { responses, examples, ...rest } = doc.components as Json;
  const isError = (status: string) => Number(status) >= 400;
  const answers = JSON.stringify([
    examples,
    responses,
    operations().map(({ op }) => Object.entries(op.responses).filter(([status]) => isError(status))),
  ]);
  const paths = JSON.parse(JSON.stringify(doc.paths)) as typeof doc.paths;
  for (const item of Object.values(paths))
    for (const op of Object.values(item))
      for (const status of Object.keys(op.responses ?? {})) if (isError(status)) delete op.responses[status];
  const inputs = { ...doc, components: rest, paths };
  // Anywhere outside the error answers: every identifier valid, under an example or not.
  const everywhere = JSON.stringify(inputs).match(IDENTIFIER) ?? [];
  expect(everywhere.length).toBeGreaterThan(10);
  expect([...new Set(everywhere.filter((t) => !valid(t)))]).toEqual([]);
  const inExamples = exampleStrings(inputs).flatMap((s) => s.match(IDENTIFIER) ?? []);
  expect(inExamples).toEqual(expect.arrayContaining([EXAMPLE.enterprise.uscc, EXAMPLE.person.citizenId]));
  // In the answers: the one mistyped on purpose, refused with the check's own reason.
  expect(checkUscc(EXAMPLE.mistypedUscc.code)).toEqual({ ok: false, reason: EXAMPLE.mistypedUscc.reason });
  const inAnswers = answers.match(IDENTIFIER) ?? [];
  expect(inAnswers.filter((t) => !valid(t) && t !== EXAMPLE.mistypedUscc.code)).toEqual([]);
});

const CJK = /[\u4e00-\u9fff]/;

test('every error answer has examples as the API answers them: its code, its message in Chinese first then English', () => {
  const problems: string[] = [];
  const statuses = new Set<string>();
  for (const { where, op } of operations()) {
    for (const [status, raw] of Object.entries(op.responses)) {
      if (Number(status) < 400) continue;
      const answer = resolve(raw) as {
        content?: Record<string, { schema?: Json; examples?: Record<string, unknown>; example?: unknown }>;
        headers?: Json;
      };
      const media = answer.content?.['application/json'];
      if (!media) {
        problems.push(`${where} ${status}: no JSON content`);
        continue;
      }
      if (media.schema?.$ref !== '#/components/schemas/Error') continue; // /health/ready answers its readiness
      const values =
        media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => resolve(e as Json).value);
      if (!values.length) problems.push(`${where} ${status}: no example`);
      for (const v of values as { error: { code: unknown; message: string; details?: unknown[] } }[]) {
        const { code, message } = v.error;
        const slash = message.search(/\/ /);
        if (typeof code !== 'string' || !code) problems.push(`${where} ${status}: no code`);
        if (slash < 0 || !CJK.test(message.slice(0, slash)) || !/[a-z]/i.test(message.slice(slash)))
          problems.push(`${where} ${status}: "${message}" is not Chinese, then English`);
        if (Number(status) !== 500 && !Array.isArray(v.error.details)) problems.push(`${where} ${status}: no details`);
      }
      if ((status === '429' || status === '503') && !answer.headers?.['Retry-After']) problems.push(`${where} ${status}: no Retry-After`);
      statuses.add(status);
    }
  }
  expect(problems).toEqual([]);
  expect([...statuses]).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '413', '415', '422', '429', '503']));

  // The batch refused row by row: each problem names its row, field and reason, and the article where one applies.
  const refused = resolve(doc.paths['/submissions'].post.responses['422']) as { content: { 'application/json': { examples: Json } } };
  const invalid = (refused.content['application/json'].examples.INVALID_BATCH as Json).value as {
    error: { details: { row: number; field: string; reason: string; article?: string }[]; error_count: number; stored: number };
  };
  expect(invalid.error.details.length).toBeGreaterThan(2);
  for (const d of invalid.error.details)
    expect(d).toEqual(expect.objectContaining({ row: expect.any(Number), field: expect.any(String), reason: expect.any(String) }));
  expect(invalid.error.details.map((d) => d.article)).toEqual(expect.arrayContaining(['GB 32100-2015', 'P6', 'P7']));
  expect(invalid.error).toMatchObject({ error_count: invalid.error.details.length, stored: 0 });
});
