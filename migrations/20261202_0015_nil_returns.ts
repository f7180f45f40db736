import type { Knex } from 'knex';

/**
 * A month with nothing to report (零报送, E7, P9): a provider with no new credit information for a period declares
 * so for its own obligation, which is then fulfilled as a batch would fulfil it (on time before its due date
 * ended, late after), and no overdue, order or escalation follows (E20, P24). One declaration per obligation;
 * kept for ever (append-only, like the audit log it is written with).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('nil_returns', (t) => {
    t.bigInteger('obligation_id').primary().references('obligations.id');
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('period').notNullable();
    t.timestamp('declared_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('declared_by').notNullable();
    t.text('actor').notNullable();
    t.text('note');
    t.unique(['provider_id', 'period']);
  });
  await knex.raw('CREATE INDEX nil_returns_period ON nil_returns (period, provider_id)');
  await knex.raw(`
    CREATE FUNCTION nil_returns_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'nil_returns is append-only (零报送声明不得修改或删除)';
    END $$;
    CREATE TRIGGER nil_returns_no_update BEFORE UPDATE OR DELETE ON nil_returns
      FOR EACH ROW EXECUTE FUNCTION nil_returns_keep();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE nil_returns; DROP FUNCTION nil_returns_keep();');
}
