import type { Knex } from 'knex';

/**
 * Rating-agency agreements (E14(3)): the platform may approve a qualified rating agency's queries of restricted
 * enterprise information per request (rating_requests) or per agreement. An agreement names the agency, the
 * restricted categories (E13), optionally the enterprises it covers (none listed: any enterprise), its period
 * and the signed agreement document; staff may terminate it at once. The signed agreement is a new kind of
 * uploaded document.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE documents
    DROP CONSTRAINT documents_kind_check,
    ADD CONSTRAINT documents_kind_check CHECK (kind IN ('authorization', 'duty_proof', 'rating_agreement'))`);

  await knex.schema.createTable('rating_agreements', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('agency_principal_id').notNullable().references('principals.id');
    t.text('organization');
    t.text('agreement_no').notNullable().unique({ indexName: 'rating_agreements_agreement_no' });
    t.specificType('categories', 'text[]').notNullable();
    t.specificType('enterprises', 'text[]');
    t.text('purpose').notNullable();
    t.date('valid_from').notNullable();
    t.date('valid_until').notNullable();
    t.uuid('document_id').references('documents.id');
    t.uuid('created_by').notNullable().references('principals.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('terminated_at', { useTz: true });
    t.uuid('terminated_by').references('principals.id');
    t.text('termination_reason');
  });
  await knex.raw(`ALTER TABLE rating_agreements
    ADD CONSTRAINT rating_agreements_validity CHECK (valid_until >= valid_from),
    ADD CONSTRAINT rating_agreements_scope CHECK (cardinality(categories) > 0
      AND categories <@ ARRAY['tax', 'financial', 'credit', 'other_restricted']::text[]),
    ADD CONSTRAINT rating_agreements_enterprises CHECK (enterprises IS NULL OR cardinality(enterprises) > 0),
    ADD CONSTRAINT rating_agreements_termination CHECK ((terminated_at IS NULL) = (terminated_by IS NULL))`);
  await knex.raw('CREATE INDEX rating_agreements_agency ON rating_agreements (agency_principal_id, valid_until)');
  await knex.raw('CREATE INDEX rating_agreements_created ON rating_agreements (created_at)');
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
