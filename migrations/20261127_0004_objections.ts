import type { Knex } from 'knex';

/**
 * Objections (异议, E18, P21–P23): the objection, the records it names, its evidence, the public correction
 * notices (E18 公示), and the suspension of a published record while an objection is open (E18, 2nd para.).
 *
 * Records are named by `record_key` (stable across versions) without a foreign key: the retention sweep removes
 * personal records (P19) and the objection stays as the account of what was done.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('objections', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('applicant_principal_id').notNullable().references('principals.id');
    t.text('applicant_role').notNullable();
    t.text('applicant_name').notNullable();
    t.text('applicant_organization');
    t.text('subject_type').notNullable().checkIn(['enterprise', 'person']);
    t.text('subject_id').notNullable();
    // One provider per objection: the platform verifies with that provider (E18 会同信息提供单位核实).
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('claim').notNullable();
    t.text('evidence_summary').notNullable();
    t.text('state')
      .notNullable()
      .defaultTo('submitted')
      .checkIn(['submitted', 'refused', 'accepted', 'verifying', 'overdue', 'answered', 'corrected', 'upheld']);
    t.timestamp('filed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Acceptance or refusal by staff.
    t.timestamp('accepted_at', { useTz: true });
    t.uuid('accepted_by');
    t.timestamp('refused_at', { useTz: true });
    t.uuid('refused_by');
    t.text('refusal_reason');
    // The 10-working-day clock (E18, P22).
    t.date('acceptance_date');
    t.date('deadline');
    t.timestamp('due_at', { useTz: true });
    t.text('workflow_id').unique();
    t.timestamp('verification_requested_at', { useTz: true });
    // The provider's verification.
    t.text('provider_verdict').checkIn(['confirmed_wrong', 'confirmed_right']);
    t.text('provider_reason');
    t.jsonb('provider_corrections');
    t.timestamp('provider_answered_at', { useTz: true });
    t.uuid('provider_answered_by');
    t.boolean('answered_in_time');
    t.timestamp('verification_overdue_at', { useTz: true });
    t.uuid('compliance_case_id');
    // P22 last para.: a personal record withdrawn from every query while its provider has not verified it in time.
    t.timestamp('withdrawn_from_queries_at', { useTz: true });
    // The outcome, signalled by staff, and the written answer to the applicant.
    t.text('outcome').checkIn(['corrected', 'upheld']);
    t.text('outcome_reason');
    t.timestamp('decided_at', { useTz: true });
    t.uuid('decided_by');
    t.text('written_answer');
    t.timestamp('concluded_at', { useTz: true });
    // P22: the applicant still disagrees after the outcome — the record keeps its disputed mark.
    t.timestamp('still_disagrees_at', { useTz: true });
    t.text('still_disagrees_statement');
    // E18 2nd para.: publication suspended while the objection is open.
    t.boolean('suspension_requested').notNullable().defaultTo(false);
    t.text('suspension_request_reason');
    t.timestamp('suspended_at', { useTz: true });
    t.uuid('suspended_by');
    t.text('suspension_reason');
    t.boolean('suspension_on_request');
    t.timestamp('suspension_ended_at', { useTz: true });
    t.text('suspension_end_reason');
  });
  await knex.raw(`CREATE INDEX objections_applicant ON objections (applicant_principal_id, filed_at)`);
  await knex.raw(
    `CREATE INDEX objections_provider ON objections (provider_id, filed_at) WHERE state <> 'submitted' AND state <> 'refused'`,
  );
  await knex.raw(`CREATE INDEX objections_state ON objections (state, filed_at)`);
  await knex.raw(`CREATE INDEX objections_subject ON objections (subject_type, subject_id)`);

  // The records an objection names, with what became of each.
  await knex.schema.createTable('objection_items', (t) => {
    t.uuid('objection_id').notNullable().references('objections.id');
    t.uuid('record_key').notNullable();
    t.integer('version_at_filing').notNullable();
    t.text('item_code').notNullable().references('catalog_items.code');
    t.text('result').checkIn(['corrected', 'deleted', 'unchanged', 'gone']);
    t.integer('result_version');
    t.primary(['objection_id', 'record_key']);
  });
  await knex.raw('CREATE INDEX objection_items_record ON objection_items (record_key)');

  // Evidence (E18 相关依据, P21 相关证据): files kept in the database with their size, type and SHA-256.
  await knex.schema.createTable('objection_attachments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('objection_id').notNullable().references('objections.id');
    t.text('file_name').notNullable();
    t.text('content_type').notNullable();
    t.integer('size_bytes').notNullable();
    t.text('sha256').notNullable();
    t.binary('content').notNullable();
    t.uuid('uploaded_by').notNullable().references('principals.id');
    t.timestamp('uploaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX objection_attachments_objection ON objection_attachments (objection_id, uploaded_at)');
  await knex.raw(`
    CREATE FUNCTION objection_attachments_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'objection_attachments is append-only (异议证据不得修改或删除)';
    END $$;
    CREATE TRIGGER objection_attachments_no_update BEFORE UPDATE OR DELETE ON objection_attachments
      FOR EACH ROW EXECUTE FUNCTION objection_attachments_keep();
  `);

  // E18: a correction of a published enterprise record is made public (更正并进行公示).
  await knex.schema.createTable('correction_notices', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('objection_id').notNullable().references('objections.id');
    t.uuid('record_key').notNullable();
    t.text('enterprise_uscc').notNullable();
    t.text('enterprise_name');
    t.text('item_code').notNullable().references('catalog_items.code');
    t.text('action').notNullable().checkIn(['corrected', 'deleted']);
    t.integer('new_version');
    t.text('summary').notNullable();
    t.timestamp('published_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.date('publication_date').notNullable();
    t.unique(['objection_id', 'record_key']);
  });
  await knex.raw('CREATE INDEX correction_notices_published ON correction_notices (published_at DESC, id DESC)');
  await knex.raw('CREATE INDEX correction_notices_enterprise ON correction_notices (enterprise_uscc, published_at DESC)');

  // E18 2nd para.: a published record whose publication is suspended while an objection is open is hidden from
  // the public pages and the search; NULL = not suspended.
  await knex.schema.alterTable('publications', (t) => {
    t.timestamp('suspended_at', { useTz: true });
  });
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
