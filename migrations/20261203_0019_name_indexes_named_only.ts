import type { Knex } from 'knex';

/**
 * The three name indexes of `enterprises` (trigram, prefix, one- and two-character pieces) hold only enterprises
 * with a name. Most enterprises reach the table from a department's first record about them, before any
 * registration record gives their name: every such row paid an entry in each name index for a NULL no search can
 * ask for. Every name search uses a strict operator on the name (LIKE, strpos, @> on qz_name_grams), which
 * implies `name IS NOT NULL`, so the planner uses the partial indexes as before.
 */
const INDEXES = [
  ['enterprises_name_trgm', 'USING gin (name gin_trgm_ops)'],
  ['enterprises_name_prefix', '(name text_pattern_ops)'],
  ['enterprises_name_short_grams', 'USING gin (qz_name_grams(name))'],
] as const;

export async function up(knex: Knex): Promise<void> {
  for (const [name, def] of INDEXES) {
    await knex.raw(`DROP INDEX ${name}`);
    await knex.raw(`CREATE INDEX ${name} ON enterprises ${def} WHERE name IS NOT NULL`);
  }
  await knex.raw('ANALYZE enterprises');
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, def] of INDEXES) {
    await knex.raw(`DROP INDEX ${name}`);
    await knex.raw(`CREATE INDEX ${name} ON enterprises ${def}`);
  }
}
