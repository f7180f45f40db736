import request from 'supertest';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { CATALOG, PROVIDERS } from '../domain/catalog';

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform();
}, 120000);
afterAll(async () => {
  await p?.stop();
});

test('GET /catalog is public and lists every item with its Chinese name, category and disclosure level (P6)', async () => {
  const res = await request(p.app).get('/catalog');
  expect(res.status).toBe(200);
  expect(res.body.items).toHaveLength(CATALOG.length);
  const penalty = res.body.items.find((i: { code: string }) => i.code === 'E-PENALTY');
  expect(penalty).toMatchObject({
    subject_type: 'enterprise',
    category: 'warning',
    disclosure: 'public',
    name_zh: '企业行政处罚记录',
    default_period_years: 3,
  });
  expect(penalty.fields.map((f: { name: string }) => f.name)).toContain('decision_no');
  const restricted = res.body.items
    .filter((i: { disclosure: string }) => i.disclosure === 'restricted')
    .map((i: { category: string }) => i.category);
  expect(new Set(restricted)).toEqual(new Set(['tax', 'financial', 'credit', 'other_restricted']));
});

test('GET /providers lists the units E7, E8, E9 and P8 name, each with its cadence and items', async () => {
  const res = await request(p.app).get('/providers');
  expect(res.status).toBe(200);
  expect(res.body.providers).toHaveLength(PROVIDERS.length);
  const court = res.body.providers.find((x: { code: string }) => x.code === 'QZ-COURT');
  expect(court).toMatchObject({ name_zh: '钦州市中级人民法院', cadence: 'monthly', items: ['E-DISHONEST', 'P-DISHONEST'] });
});

test('the OpenAPI document comes from the zod schemas and /docs serves it', async () => {
  const doc = await request(p.app).get('/openapi.json');
  expect(doc.status).toBe(200);
  expect(doc.body.openapi).toBe('3.1.0');
  for (const path of [
    '/submissions',
    '/submissions/{id}',
    '/records/{key}/corrections',
    '/catalog',
    '/calendar/working-days',
    '/admin/principals',
  ]) {
    expect(Object.keys(doc.body.paths)).toContain(path);
  }
  const post = doc.body.paths['/submissions'].post;
  expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '409', '422']));
  expect(doc.body.components.schemas.RecordInput.properties.subject_id).toBeDefined();
  const html = await request(p.app).get('/docs/');
  expect(html.status).toBe(200);
  expect(html.text).toContain('swagger-ui');
});

test('every route of the API is in the OpenAPI document, and every documented path is a route', async () => {
  const routes: string[] = [];
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const walk = (stack: Layer[]) => {
    for (const l of stack) {
      if (l.route)
        for (const m of Object.keys(l.route.methods)) routes.push(`${m.toUpperCase()} ${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
      else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk((p.app as unknown as { router: { stack: Layer[] } }).router.stack);
  const doc = (await request(p.app).get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect(routes.length).toBeGreaterThan(90);
  expect(routes.filter((r) => !documented.includes(r) && r !== 'GET /openapi.json')).toEqual([]);
  expect(documented.filter((d) => !routes.includes(d))).toEqual([]);
});

test('an unknown path is a JSON 404', async () => {
  const res = await request(p.app).get('/nope');
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('NOT_FOUND');
});
