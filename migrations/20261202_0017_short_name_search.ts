import type { Knex } from 'knex';

/**
 * The public search by a name's part of one or two characters (海湾, 物流): the trigram index of 0003 has no
 * fragment that short, so every 1- and 2-character piece of a name is indexed (GIN over qz_name_grams). The
 * search then asks `qz_name_grams(name) @> ARRAY[text]` and checks strpos on what it finds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION qz_name_grams(name text) RETURNS text[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
        SELECT coalesce(array_agg(DISTINCT substr(name, i, l)), '{}')
          FROM generate_series(1, char_length(name)) AS i, (VALUES (1), (2)) AS v(l)
         WHERE i + l - 1 <= char_length(name)
      $$;
    CREATE INDEX enterprises_name_short_grams ON enterprises USING gin (qz_name_grams(name));
    ANALYZE enterprises;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX enterprises_name_short_grams;
    DROP FUNCTION qz_name_grams(text);
  `);
}
