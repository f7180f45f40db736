import type { Knex } from 'knex';

/**
 * Reporting obligations (E7, P9) and the rectification order → escalation chain (E20, P24).
 *
 * - `provider_cadence_changes`: the cadence in force for each provider and from when (monthly by default;
 *   quarterly or half-yearly by agreement with the platform, effective from the next period). The first row of a
 *   provider (`kind = 'initial'`) starts its tracking; later rows record agreements with their date and actor.
 * - `obligations`: one per provider and period, unique, so opening twice is a no-op.
 * - `compliance_cases`: a provider's failure (a reporting obligation overdue, an objection verification not
 *   answered in time) and its chain: overdue → ordered (责令限期改正) → escalation_due → escalated
 *   (提请监察部门) | resolved.
 * - `obligation_events`, `compliance_case_events`: every step with its time and actor.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('provider_cadence_changes', (t) => {
    t.bigIncrements('id').primary();
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('kind').notNullable().checkIn(['initial', 'agreement']);
    t.text('cadence').notNullable().checkIn(['monthly', 'quarterly', 'half_yearly']);
    t.text('previous_cadence').checkIn(['monthly', 'quarterly', 'half_yearly']);
    /** First day of the first period reported in this cadence (always a period start of that cadence). */
    t.date('effective_from').notNullable();
    /** The day the agreement with the platform was made (E7, P9: 经与市信用信息征集机构协商同意). */
    t.date('agreed_on');
    t.text('note');
    t.uuid('principal_id');
    t.text('actor').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** A later agreement made before this one took effect replaces it. */
    t.timestamp('superseded_at', { useTz: true });
    t.bigInteger('superseded_by');
  });
  await knex.raw(
    'CREATE UNIQUE INDEX provider_cadence_changes_effective ON provider_cadence_changes (provider_id, effective_from) WHERE superseded_at IS NULL',
  );

  await knex.schema.createTable('compliance_cases', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('kind').notNullable().checkIn(['reporting', 'objection_verification']);
    /** The obligation's id (reporting) or the objection's id (objection_verification). */
    t.text('reference_id').notNullable();
    t.text('state').notNullable().defaultTo('overdue').checkIn(['overdue', 'ordered', 'escalation_due', 'escalated', 'resolved']);
    t.text('article').notNullable();
    t.text('summary').notNullable();
    /** The deadline that was missed (the obligation's due date, the verification deadline). */
    t.date('missed_deadline');
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.date('order_deadline');
    t.text('order_note');
    t.timestamp('ordered_at', { useTz: true });
    t.uuid('ordered_by_principal');
    t.text('ordered_by');
    /** The request that made the order (a retried request finds its own order). */
    t.text('order_request_id');
    t.timestamp('escalation_due_at', { useTz: true });
    t.timestamp('escalated_at', { useTz: true });
    t.uuid('escalated_by_principal');
    t.text('escalated_by');
    t.text('referred_to');
    t.text('responsible_unit');
    t.text('escalation_note');
    t.text('escalation_request_id');
    t.timestamp('resolved_at', { useTz: true });
    t.text('resolved_by');
    t.text('resolution');
    t.text('workflow_id').notNullable().unique();
    t.timestamp('workflow_started_at', { useTz: true });
    t.unique(['kind', 'reference_id']);
  });
  await knex.raw('CREATE INDEX compliance_cases_state ON compliance_cases (state, opened_at)');
  await knex.raw('CREATE INDEX compliance_cases_provider ON compliance_cases (provider_id, opened_at)');

  await knex.schema.createTable('obligations', (t) => {
    t.bigIncrements('id').primary();
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('period').notNullable();
    t.text('cadence').notNullable().checkIn(['monthly', 'quarterly', 'half_yearly']);
    t.date('period_start').notNullable();
    t.date('period_end').notNullable();
    /** Set when the calendar of its year is known (a year not yet loaded leaves it empty until it is). */
    t.date('due_date');
    t.integer('due_working_days').notNullable();
    t.text('state').notNullable().defaultTo('open').checkIn(['open', 'fulfilled', 'overdue']);
    t.timestamp('fulfilled_at', { useTz: true });
    t.uuid('fulfilled_submission_id').references('submissions.id');
    t.boolean('on_time');
    t.timestamp('overdue_at', { useTz: true });
    t.uuid('case_id').references('compliance_cases.id');
    t.text('workflow_id').notNullable().unique();
    t.timestamp('workflow_started_at', { useTz: true });
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('opened_by').notNullable();
    t.unique(['provider_id', 'period']);
  });
  // The overdue board reads only the obligations still overdue, in due-date order.
  await knex.raw("CREATE INDEX obligations_overdue_board ON obligations (due_date, provider_id) WHERE state = 'overdue'");
  await knex.raw('CREATE INDEX obligations_period ON obligations (period, state)');
  await knex.raw('CREATE INDEX obligations_unstarted ON obligations (id) WHERE workflow_started_at IS NULL');

  await knex.schema.createTable('obligation_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('obligation_id').notNullable().references('obligations.id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('kind').notNullable();
    t.uuid('principal_id');
    t.text('actor').notNullable();
    t.jsonb('detail').notNullable().defaultTo('{}');
    /** One event of a kind per key (a reminder sent twice by a retried activity is stored once). */
    t.text('dedupe_key').unique();
  });
  await knex.raw('CREATE INDEX obligation_events_obligation ON obligation_events (obligation_id, at)');

  await knex.schema.createTable('compliance_case_events', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('case_id').notNullable().references('compliance_cases.id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('kind').notNullable();
    t.uuid('principal_id');
    t.text('actor').notNullable();
    t.jsonb('detail').notNullable().defaultTo('{}');
  });
  await knex.raw('CREATE INDEX compliance_case_events_case ON compliance_case_events (case_id, at)');
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
