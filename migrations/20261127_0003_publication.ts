import type { Knex } from 'knex';

/**
 * Publication (发布, E11–E15): per-record publication facts, voluntary disclosures, law-specific periods, the
 * daily sweep's runs, and the indexes of the public search.
 *
 * One `publications` row per public enterprise record (by record_key: a correction keeps the key published with
 * its new content). Facts, not workflows: the submission workflow publishes a batch's rows in one statement, the
 * daily sweep unpublishes every row due in set-based batches (`publications_due`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm');

  await knex.schema.createTable('publications', (t) => {
    t.uuid('record_key').primary();
    // The version that was published (the public page shows the current version of the key).
    t.bigInteger('record_id').notNullable().references('records.id');
    t.uuid('submission_id').references('submissions.id');
    t.integer('provider_id').notNullable().references('providers.id');
    t.text('subject_id').notNullable();
    t.text('item_code').notNullable().references('catalog_items.code');
    t.text('category').notNullable().checkIn(['basic', 'honor', 'warning']);
    t.text('state').notNullable().defaultTo('pending').checkIn(['pending', 'held', 'published', 'rejected', 'cancelled', 'archived']);
    // E12: the 5th working day after receipt, the latest publication date.
    t.date('due_date').notNullable();
    t.text('hold_reason');
    t.uuid('held_by');
    t.timestamp('held_at', { useTz: true });
    t.text('decision');
    t.text('decision_reason');
    t.uuid('decided_by');
    t.timestamp('decided_at', { useTz: true });
    t.timestamp('published_at', { useTz: true });
    t.date('publication_date');
    // Last public day (inclusive); NULL = open-ended (basic: until the enterprise is terminated, E15.1).
    t.date('period_end');
    t.text('period_basis');
    t.timestamp('archived_at', { useTz: true });
    t.text('archive_reason');
    t.date('archived_on');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX publications_submission ON publications (submission_id, state)');
  // The sweep's index: only published rows with an end, in end order.
  await knex.raw(`CREATE INDEX publications_due ON publications (period_end) WHERE state = 'published' AND period_end IS NOT NULL`);
  // The public page and the search's "has anything published".
  await knex.raw(`CREATE INDEX publications_subject ON publications (subject_id, category) WHERE state = 'published'`);
  await knex.raw(`CREATE INDEX publications_held ON publications (due_date) WHERE state = 'held'`);
  await knex.raw(`CREATE INDEX publications_pending ON publications (due_date) WHERE state = 'pending'`);

  // Law-specific publication periods (E15.5): recorded by an administrator, in force for new and published records.
  await knex.schema.createTable('publication_period_overrides', (t) => {
    t.text('item_code').primary().references('catalog_items.code');
    t.integer('period_months').notNullable().checkPositive();
    t.text('legal_basis').notNullable();
    t.uuid('set_by');
    t.timestamp('set_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Items whose override was set or removed: the sweep recomputes their published rows' period ends, then clears it.
  await knex.schema.createTable('publication_recompute_items', (t) => {
    t.text('item_code').primary().references('catalog_items.code');
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Voluntary disclosures (E12.4, E15.4): the enterprise's own, published after staff approval (审定) until it stops them.
  await knex.schema.createTable('voluntary_disclosures', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('enterprise_uscc').notNullable();
    t.text('title').notNullable();
    t.text('content').notNullable();
    t.text('state').notNullable().defaultTo('submitted').checkIn(['submitted', 'approved', 'rejected', 'withdrawn']);
    t.uuid('submitted_by').notNullable();
    t.timestamp('submitted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('reviewed_by');
    t.timestamp('reviewed_at', { useTz: true });
    t.text('review_reason');
    t.timestamp('published_at', { useTz: true });
    t.date('publication_date');
    t.uuid('withdrawn_by');
    t.timestamp('withdrawn_at', { useTz: true });
    t.text('withdraw_reason');
  });
  await knex.raw(`CREATE INDEX voluntary_enterprise ON voluntary_disclosures (enterprise_uscc, submitted_at)`);
  await knex.raw(`CREATE INDEX voluntary_published ON voluntary_disclosures (enterprise_uscc) WHERE state = 'approved'`);
  await knex.raw(`CREATE INDEX voluntary_to_review ON voluntary_disclosures (submitted_at) WHERE state = 'submitted'`);

  // One row per sweep date: what it did, and the highest record id it had seen (corrections after it are refreshed next time).
  await knex.schema.createTable('publication_sweeps', (t) => {
    t.date('run_date').primary();
    t.bigInteger('max_record_id').notNullable().defaultTo(0);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.jsonb('counts').notNullable().defaultTo('{}');
  });

  // Public search: partial names (Chinese) by trigram; short queries by prefix; codes by primary key.
  await knex.raw('CREATE INDEX enterprises_name_trgm ON enterprises USING gin (name gin_trgm_ops)');
  await knex.raw('CREATE INDEX enterprises_name_prefix ON enterprises (name text_pattern_ops)');
  // Termination (E15.1) found without scanning: the registry's state, and current registration records saying so.
  await knex.raw(`CREATE INDEX enterprises_terminated ON enterprises (uscc) WHERE status IN ('注销', '吊销', '撤销')`);
  await knex.raw(
    `CREATE INDEX records_terminated_reg ON records (subject_id)
      WHERE is_current AND status = 'active' AND item_code = 'E-BASIC-REG' AND (payload->>'status') IN ('注销', '吊销', '撤销')`,
  );
  // Corrections since the last sweep are found by id range (version > 1 only).
  await knex.raw('CREATE INDEX records_corrections ON records (id) WHERE version > 1');
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
