/**
 * The public search by part of a name asks the trigram index only for the rarest fragments of the text
 * (enterprise_name_grams) and checks the whole text on what it finds. On PostgreSQL: it answers exactly what
 * `name LIKE '%text%'` answers (fresh, stale or empty counts alike), and the daily refresh counts fragments
 * correctly and idempotently.
 */
import { freshDatabase, type TestDb } from './support/db';
import { uscc } from './support/fixtures';
import { COMMON_GRAM_MIN_NAMES, refreshNameSearchStatistics, searchEnterprises } from '../db/public-pages';

let t: TestDb;
const DISTRICTS = ['钦南', '钦北', '灵山', '浦北'];
const names: Array<[string, string]> = [];

beforeAll(async () => {
  t = await freshDatabase();
  for (let i = 1; i <= 120; i++) names.push([uscc(7000 + i), `钦州市${DISTRICTS[i % 4]}检索企业${i}有限公司`]);
  names.push(
    [uscc(7200), '广西北部湾100%_港务（钦州）有限公司'],
    [uscc(7201), '钦州市A B贸易商行'],
    [uscc(7203), '钦州港海湾物流有限公司'],
    [uscc(7204), '广西北部湾国际物流集团'],
    [uscc(7205), '海湾'],
    [uscc(7202), '钦州市无公开记录企业1有限公司'],
  );
  await t.db('enterprises').insert(names.map(([u, name]) => ({ uscc: u, name, status: '存续' })));
  // Something public for every enterprise but the last (an approved voluntary disclosure).
  await t.db('voluntary_disclosures').insert(
    names.slice(0, -1).map(([u]) => ({
      enterprise_uscc: u,
      title: '信用承诺',
      content: '承诺守法经营。',
      state: 'approved',
      submitted_by: '00000000-0000-4000-8000-000000000001',
    })),
  );
}, 60000);
afterAll(() => t?.close());

/** The oracle: every public enterprise whose name contains the text, in the search's order. */
async function oracle(text: string): Promise<string[]> {
  const rows = await t.db.raw(
    `SELECT e.uscc FROM enterprises e
      WHERE strpos(e.name, ?) > 0 AND EXISTS (SELECT 1 FROM voluntary_disclosures v WHERE v.enterprise_uscc = e.uscc AND v.state = 'approved')
      ORDER BY e.name, e.uscc`,
    [text],
  );
  return rows.rows.map((r: { uscc: string }) => r.uscc);
}

async function searchAll(text: string): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; ; offset += 50) {
    const page = await searchEnterprises(t.db, { name: text, limit: 50, offset });
    out.push(...page.items.map((i) => i.uscc));
    if (!page.hasMore) return out;
  }
}

const TEXTS = [
  '检索企业12',
  '检索企业1有限',
  '钦南检索企业100有限公司',
  '业11',
  '有限公司',
  '100%_港',
  '%_港务',
  'A B贸',
  '（钦州）',
  '无公开记录',
  '不存在的名称',
  '检索企业',
  // One or two characters: found inside a name, not only at its beginning.
  '海湾',
  '物流',
  '北部',
  '湾',
  '司',
  '12',
  '%',
  '_',
  ' ',
  '无公',
  '不在',
];

test('a search of one or two characters finds the names containing it, not only those beginning with it', async () => {
  const found = async (text: string) => (await searchEnterprises(t.db, { name: text, limit: 50, offset: 0 })).items.map((i) => i.name);
  expect(await found('海湾')).toEqual(['海湾', '钦州港海湾物流有限公司']);
  expect(await found('物流')).toEqual(['广西北部湾国际物流集团', '钦州港海湾物流有限公司']);
  expect(await found('湾')).toEqual(['广西北部湾100%_港务（钦州）有限公司', '广西北部湾国际物流集团', '海湾', '钦州港海湾物流有限公司']);
  // The index of short pieces answers it (no scan of every name).
  const trx = await t.db.transaction();
  let plan: { rows: Array<Record<string, string>> };
  try {
    await trx.raw('SET LOCAL enable_seqscan = off');
    plan = await trx.raw(
      `EXPLAIN SELECT uscc FROM enterprises e WHERE qz_name_grams(e.name) @> ARRAY['物流'] AND strpos(e.name, '物流') > 0`,
    );
  } finally {
    await trx.rollback();
  }
  expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/enterprises_name_short_grams/);
});

test('the refresh lists the fragments of at least COMMON_GRAM_MIN_NAMES names with their counts; again, the same', async () => {
  const first = await refreshNameSearchStatistics(t.db);
  expect(first).toMatchObject({ enterprises: names.length });
  const grams = new Map((await t.db('enterprise_name_grams').select('gram', 'names')).map((g) => [g.gram as string, g.names as number]));
  // In every name: the city and the legal form; in 120: the shared word; in 30: a district.
  const containing = (text: string) => names.filter(([, n]) => n.includes(text)).length;
  expect(grams.get('钦州市')).toBe(containing('钦州市'));
  expect(grams.get('有限公')).toBe(containing('有限公'));
  expect(containing('钦州市')).toBeGreaterThan(120);
  expect(grams.get('检索企')).toBe(120);
  expect(grams.get('钦南检')).toBe(30);
  // Fragments of fewer names are not listed, nor fragments with a space or a sign.
  expect(COMMON_GRAM_MIN_NAMES).toBeGreaterThan(1);
  expect(grams.has('港务（')).toBe(false);
  expect(grams.has('企业12')).toBe(false); // 企业12, 企业120: 2 names
  for (const g of grams.keys()) expect(g).toMatch(/^[\p{L}\p{N}]{3}$/u);

  const again = await refreshNameSearchStatistics(t.db);
  expect(again.grams).toBe(first.grams);
  expect(new Map((await t.db('enterprise_name_grams').select('gram', 'names')).map((g) => [g.gram as string, g.names as number]))).toEqual(
    grams,
  );
  expect(await t.db('name_search_refreshes').count({ n: '*' }).first()).toEqual({ n: 2 });
});

test('the search answers exactly what LIKE answers, with fresh counts', async () => {
  await refreshNameSearchStatistics(t.db);
  for (const text of TEXTS) expect([text, await searchAll(text)]).toEqual([text, await oracle(text)]);
  expect((await searchAll('检索企业12')).length).toBe(2); // 12 and 120
  expect((await searchAll('检索企业1')).length).toBe(1 + 10 + 21); // 1, 10–19, 100–120
  expect(await searchAll('无公开记录')).toEqual([]); // nothing of it is public
});

test('stale or missing counts change the speed, never the answer', async () => {
  // Counts that lie (the rarest fragment listed as the commonest and the reverse), then none at all.
  await t.db('enterprise_name_grams').update({ names: t.db.raw('1000000 - names') });
  for (const text of TEXTS) expect([text, await searchAll(text)]).toEqual([text, await oracle(text)]);
  await t.db('enterprise_name_grams').delete();
  for (const text of TEXTS) expect([text, await searchAll(text)]).toEqual([text, await oracle(text)]);
  // A renamed enterprise is found by its new name at once, and the next refresh drops the fragments no longer common.
  await t
    .db('enterprises')
    .whereIn(
      'uscc',
      names.slice(0, 120).map(([u]) => u),
    )
    .update({ name: t.db.raw(`replace(name, '检索企业', '更名企业')`) });
  expect(await searchAll('检索企业')).toEqual([]);
  expect((await searchAll('更名企业1')).length).toBe(32);
  await refreshNameSearchStatistics(t.db);
  const after = await t.db('enterprise_name_grams').whereIn('gram', ['检索企', '更名企']).select('gram', 'names');
  expect(after).toEqual([{ gram: '更名企', names: 120 }]);
});
