import { freshDatabase, type TestDb } from './support/db';
import { NAME_SEARCH_SQL } from '../db/public-pages';

/**
 * The name indexes of `enterprises` hold named enterprises only (migration 0019): an enterprise known only from a
 * record has no entry in them, and every name search still finds its way through them, generic plan included.
 */
let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
  await t.db.raw(`INSERT INTO enterprises (uscc, name)
    SELECT '91450700MA' || lpad(i::text, 8, '0'), CASE WHEN i % 2 = 0 THEN '钦州' || i || '号海湾物流有限公司' END
      FROM generate_series(1, 2000) AS i`);
  await t.db.raw('ANALYZE enterprises');
}, 60000);
afterAll(async () => {
  await t?.close();
});

async function plan(sql: string, params: unknown[], bitmapOnly = false): Promise<string> {
  const conn = await t.db.client.acquireConnection();
  try {
    await conn.query('BEGIN');
    await conn.query('SET LOCAL enable_seqscan = off');
    // GIN indexes are read by bitmap scans only: a plain index scan of the prefix index would otherwise win on a table this small.
    if (bitmapOnly) await conn.query('SET LOCAL enable_indexscan = off');
    await conn.query("SET LOCAL plan_cache_mode = 'force_generic_plan'");
    const types = params.map((p) => (typeof p === 'number' ? 'int' : 'text')).join(', ');
    await conn.query(`PREPARE q (${types}) AS ${sql}`);
    const res = await conn.query(`EXPLAIN EXECUTE q (${params.map((p) => (typeof p === 'number' ? p : `'${p}'`)).join(', ')})`);
    return res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  } finally {
    await conn.query('ROLLBACK');
    await conn.query('DEALLOCATE ALL');
    await t.db.client.releaseConnection(conn);
  }
}

test('the name indexes hold no entry for an enterprise without a name', async () => {
  const defs = await t.db.raw(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'enterprises' AND indexdef LIKE '%name%'`);
  expect(defs.rows.map((r: { indexname: string }) => r.indexname).sort()).toEqual([
    'enterprises_name_prefix',
    'enterprises_name_short_grams',
    'enterprises_name_trgm',
  ]);
  for (const r of defs.rows) expect(r.indexdef).toMatch(/WHERE \(name IS NOT NULL\)$/);
});

test('a part of a name (3+ characters) and a short piece (1–2 characters) are searched through the partial indexes', async () => {
  expect(await plan(NAME_SEARCH_SQL, ['海湾物流', 20, 0, '%海湾物流%'], true)).toMatch(/enterprises_name_trgm/);
  expect(
    await plan(
      `SELECT e.uscc FROM enterprises e WHERE qz_name_grams(e.name) @> ARRAY[$1::text] AND strpos(e.name, $1) > 0 LIMIT $2`,
      ['海湾', 20],
      true,
    ),
  ).toMatch(/enterprises_name_short_grams/);
  expect(await plan(`SELECT e.uscc FROM enterprises e WHERE e.name LIKE $1 LIMIT $2`, ['钦州1%', 20])).toMatch(
    /enterprises_name_(prefix|trgm)/,
  );
});
