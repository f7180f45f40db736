import type { Knex } from 'knex';

/**
 * Foundation schema: catalog, providers, subjects, principals and API keys, submissions, versioned records,
 * the working-day calendar, idempotency keys and the append-only audit log.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');

  await knex.schema.createTable('catalog_items', (t) => {
    t.text('code').primary();
    t.text('subject_type').notNullable().checkIn(['enterprise', 'person']);
    t.text('category').notNullable();
    t.text('disclosure').notNullable().checkIn(['public', 'restricted', 'personal']);
    t.text('period_rule').notNullable();
    t.integer('default_period_years');
    t.text('legal_basis').notNullable();
    t.text('name_zh').notNullable();
    t.text('name_en').notNullable();
    t.jsonb('fields').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
  });

  await knex.schema.createTable('providers', (t) => {
    t.increments('id').primary();
    t.text('code').notNullable().unique();
    t.text('name_zh').notNullable();
    t.text('name_en').notNullable();
    t.text('kind').notNullable();
    t.text('legal_basis').notNullable();
    t.text('cadence').notNullable().defaultTo('monthly').checkIn(['monthly', 'quarterly', 'half_yearly']);
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('provider_items', (t) => {
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('item_code').notNullable().references('catalog_items.code');
    t.primary(['provider_id', 'item_code']);
  });

  await knex.schema.createTable('enterprises', (t) => {
    t.text('uscc').primary();
    t.text('name');
    t.text('status');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('persons', (t) => {
    t.text('citizen_id').primary();
    t.text('name');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('principals', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('role')
      .notNullable()
      .checkIn(['provider', 'staff', 'admin', 'supervisor', 'enterprise', 'person', 'rating_agency', 'government', 'judicial']);
    t.integer('provider_id').references('providers.id');
    t.text('enterprise_uscc');
    t.text('person_id');
    t.text('organization');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('created_by');
  });
  await knex.raw(`ALTER TABLE principals ADD CONSTRAINT principals_org_matches_role CHECK (
      (role <> 'provider' OR provider_id IS NOT NULL)
  AND (role <> 'enterprise' OR enterprise_uscc IS NOT NULL)
  AND (role <> 'person' OR person_id IS NOT NULL))`);

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('principal_id').notNullable().references('principals.id');
    t.text('prefix').notNullable().unique();
    t.text('secret_hash').notNullable();
    t.text('label');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
  });

  await knex.schema.createTable('submissions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('period').notNullable();
    t.text('idempotency_key').notNullable();
    t.text('request_hash').notNullable();
    t.text('format').notNullable().checkIn(['json', 'csv']);
    t.integer('row_count').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.text('workflow_id').notNullable().unique();
    t.timestamp('workflow_started_at', { useTz: true });
    t.timestamp('receipt_recorded_at', { useTz: true });
    t.date('publication_deadline');
    t.uuid('created_by').notNullable();
    t.unique(['provider_id', 'idempotency_key']);
    t.index(['provider_id', 'period']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('key').notNullable();
    t.text('request_hash').notNullable();
    t.integer('response_status').notNullable();
    t.jsonb('response_body').notNullable();
    t.uuid('submission_id').references('submissions.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['provider_id', 'key']);
  });

  // Records are versioned (E10, E23.2, P26.3): a correction or retraction is a new row; the old one stays.
  await knex.schema.createTable('records', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('record_key').notNullable().defaultTo(knex.raw('gen_random_uuid()'));
    t.integer('version').notNullable().defaultTo(1);
    t.boolean('is_current').notNullable().defaultTo(true);
    t.text('status').notNullable().defaultTo('active').checkIn(['active', 'retracted']);
    t.uuid('submission_id').references('submissions.id');
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('item_code').notNullable().references('catalog_items.code');
    t.text('subject_type').notNullable().checkIn(['enterprise', 'person']);
    t.text('subject_id').notNullable();
    t.jsonb('payload').notNullable();
    t.date('event_date').notNullable();
    t.date('concluded_date');
    t.date('valid_until');
    t.date('lifted_date');
    t.text('change_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('created_by').notNullable();
  });
  await knex.raw('CREATE UNIQUE INDEX records_key_version ON records (record_key, version)');
  await knex.raw('CREATE UNIQUE INDEX records_current_key ON records (record_key) WHERE is_current');
  await knex.raw('CREATE INDEX records_subject ON records (subject_type, subject_id) WHERE is_current');
  await knex.raw('CREATE INDEX records_submission ON records (submission_id)');

  // Working-day calendar (mainland China, Asia/Shanghai): a year is known only when loaded.
  await knex.schema.createTable('calendar_years', (t) => {
    t.integer('year').primary();
    t.text('source').notNullable();
    t.timestamp('loaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('loaded_by');
  });
  await knex.schema.createTable('calendar_days', (t) => {
    t.date('day').primary();
    t.integer('year').notNullable().references('calendar_years.year');
    t.text('kind').notNullable().checkIn(['holiday', 'workday']);
    t.text('name').notNullable();
  });

  // Notifications kept in the database and read through the API: reminders to providers, verification requests,
  // alerts to staff, notices to subjects. Addressed to one principal, to every principal of a role, to a provider
  // (all its principals) or to a subject (the enterprise's or person's principals). `dedupe_key` makes sending
  // idempotent: an activity that runs twice notifies once.
  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('recipient_principal_id').references('principals.id');
    t.text('recipient_role');
    t.integer('recipient_provider_id').references('providers.id');
    t.text('recipient_subject_type');
    t.text('recipient_subject_id');
    t.text('kind').notNullable();
    t.text('title').notNullable();
    t.text('body').notNullable();
    t.text('entity');
    t.text('entity_id');
    t.jsonb('data').notNullable().defaultTo('{}');
    t.text('dedupe_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('read_at', { useTz: true });
  });
  await knex.raw(
    'CREATE INDEX notifications_provider ON notifications (recipient_provider_id, created_at) WHERE recipient_provider_id IS NOT NULL',
  );
  await knex.raw(
    'CREATE INDEX notifications_principal ON notifications (recipient_principal_id, created_at) WHERE recipient_principal_id IS NOT NULL',
  );
  await knex.raw('CREATE INDEX notifications_role ON notifications (recipient_role, created_at) WHERE recipient_role IS NOT NULL');
  await knex.raw(
    'CREATE INDEX notifications_subject ON notifications (recipient_subject_type, recipient_subject_id, created_at) WHERE recipient_subject_id IS NOT NULL',
  );

  // Append-only audit log of every change (E19, E23, P11, P26).
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('principal_id');
    t.text('actor').notNullable();
    t.text('action').notNullable();
    t.text('entity').notNullable();
    t.text('entity_id');
    t.jsonb('detail').notNullable().defaultTo('{}');
  });
  await knex.raw(`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only (审计日志只能追加)';
    END $$;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
  `);
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
