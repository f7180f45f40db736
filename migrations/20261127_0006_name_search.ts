import type { Knex } from 'knex';

/**
 * The public search by part of a name (E11): how many enterprise names contain each common 3-character fragment.
 *
 * A trigram index answers `name LIKE '%…%'` by intersecting the lists of every trigram of the text, and a
 * fragment most names share (钦州市, 有限公司, 科技, 贸易 …) costs a list as long as the register. The search
 * asks the index only for the rarest fragments of what was typed and checks the whole text on the few rows it
 * finds; this table says which fragments are rare. Fragments in fewer than a few names are not listed (rare by
 * definition). It is derived data, rebuilt by the daily `name-search-statistics` Schedule: stale counts only
 * make a search slower, never wrong.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('enterprise_name_grams', (t) => {
    t.text('gram').primary();
    t.integer('names').notNullable();
  });
  await knex.raw(
    `COMMENT ON TABLE enterprise_name_grams IS '企业名称常见三字片段及其出现的名称数（公开检索用，每日重建）/ common 3-character name fragments and how many names contain them'`,
  );
  await knex.schema.createTable('name_search_refreshes', (t) => {
    t.bigIncrements('id');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true }).notNullable();
    t.integer('enterprises').notNullable();
    t.integer('grams').notNullable();
  });
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
