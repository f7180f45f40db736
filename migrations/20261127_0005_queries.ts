import type { Knex } from 'knex';

/**
 * Queries of restricted enterprise information (E13, E14) and personal information (P12–P14): documents (written
 * authorizations, proofs of duty), authorizations, rating-agency requests (E14.3), judicial requests (E14.4, P13),
 * the query log kept at least 5 years (P20, E22), retention runs (P19), and the hash chain that makes the audit
 * log tamper-evident (E19, E23, P11, P26).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');

  // A table nobody may change once written: evidence and logs.
  await knex.raw(`
    CREATE FUNCTION append_only_table() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only (只能追加，不得修改或删除)', TG_TABLE_NAME;
    END $$;
  `);
  const appendOnly = async (table: string) => {
    await knex.raw(`
      CREATE TRIGGER ${table}_no_update BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION append_only_table();
      CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION append_only_table();
    `);
  };

  // Uploaded documents: written authorizations (E14.2, P12.2) and proofs of duty (E14.4, P12.3). Kept unchanged.
  await knex.schema.createTable('documents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('kind').notNullable().checkIn(['authorization', 'duty_proof']);
    t.text('file_name').notNullable();
    t.text('content_type').notNullable();
    t.integer('size_bytes').notNullable();
    t.text('sha256').notNullable();
    t.binary('content').notNullable();
    t.uuid('uploaded_by').notNullable().references('principals.id');
    t.timestamp('uploaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX documents_uploader ON documents (uploaded_by, uploaded_at)');
  await appendOnly('documents');

  // Authorizations granted by an enterprise (E14.2) or a person in writing (P12.2): scope, validity, revocable.
  await knex.schema.createTable('authorizations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('subject_type').notNullable().checkIn(['enterprise', 'person']);
    t.text('subject_id').notNullable();
    t.uuid('granted_by').notNullable().references('principals.id');
    t.uuid('grantee_principal_id').references('principals.id');
    t.text('grantee_organization');
    t.specificType('categories', 'text[]').notNullable();
    t.date('valid_from').notNullable();
    t.date('valid_until').notNullable();
    t.text('purpose').notNullable();
    t.uuid('document_id').notNullable().references('documents.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
    t.uuid('revoked_by').references('principals.id');
    t.text('revoke_reason');
  });
  await knex.raw(`ALTER TABLE authorizations
    ADD CONSTRAINT authorizations_grantee CHECK (grantee_principal_id IS NOT NULL OR grantee_organization IS NOT NULL),
    ADD CONSTRAINT authorizations_validity CHECK (valid_until >= valid_from),
    ADD CONSTRAINT authorizations_scope CHECK (cardinality(categories) > 0)`);
  await knex.raw('CREATE INDEX authorizations_subject ON authorizations (subject_type, subject_id)');
  await knex.raw('CREATE INDEX authorizations_grantee ON authorizations (grantee_principal_id)');
  await knex.raw('CREATE INDEX authorizations_grantee_org ON authorizations (grantee_organization)');

  // Rating-agency requests (E14.3): approved or rejected by staff before a deadline, otherwise they lapse.
  await knex.schema.createTable('rating_requests', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('agency_principal_id').notNullable().references('principals.id');
    t.text('organization');
    t.text('subject_uscc').notNullable();
    t.specificType('categories', 'text[]').notNullable();
    t.text('purpose').notNullable();
    t.text('status').notNullable().defaultTo('requested').checkIn(['requested', 'approved', 'rejected', 'lapsed']);
    t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.date('decision_deadline');
    t.timestamp('decision_due_at', { useTz: true });
    t.timestamp('decided_at', { useTz: true });
    t.uuid('decided_by').references('principals.id');
    t.text('decision_reason');
    t.timestamp('valid_until', { useTz: true });
    t.text('workflow_id').notNullable().unique();
  });
  await knex.raw('CREATE INDEX rating_requests_agency ON rating_requests (agency_principal_id, requested_at)');
  await knex.raw('CREATE INDEX rating_requests_status ON rating_requests (status, requested_at)');

  // Judicial query requests (E14.4, P13): answered within 3 working days of receipt.
  await knex.schema.createTable('judicial_requests', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('requester_principal_id').notNullable().references('principals.id');
    t.text('organization');
    t.text('subject_type').notNullable().checkIn(['enterprise', 'person']);
    t.text('subject_id').notNullable();
    t.specificType('categories', 'text[]');
    t.text('case_no').notNullable();
    t.text('purpose').notNullable();
    t.uuid('document_id').notNullable().references('documents.id');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.date('receipt_date');
    t.date('answer_due');
    t.timestamp('due_at', { useTz: true });
    t.date('alert_date');
    t.timestamp('alerted_at', { useTz: true });
    t.timestamp('overdue_at', { useTz: true });
    t.text('status').notNullable().defaultTo('pending').checkIn(['pending', 'answered', 'rejected']);
    t.timestamp('answered_at', { useTz: true });
    t.uuid('answered_by').references('principals.id');
    t.text('answer_reason');
    t.bigInteger('query_log_id');
    t.boolean('met');
    t.text('workflow_id').notNullable().unique();
  });
  await knex.raw('CREATE INDEX judicial_requests_requester ON judicial_requests (requester_principal_id, received_at)');
  await knex.raw('CREATE INDEX judicial_requests_status ON judicial_requests (status, answer_due)');

  // The query log (P20, E22): every query of personal or restricted information, answered or refused. Kept at
  // least 5 years; never changed (no API path, and the trigger refuses UPDATE, DELETE and TRUNCATE).
  await knex.schema.createTable('query_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('principal_id').notNullable();
    t.text('principal_role').notNullable();
    t.text('principal_name').notNullable();
    t.text('organization');
    t.text('channel').notNullable().checkIn(['direct', 'judicial_request']);
    t.uuid('handled_by');
    t.text('subject_type').notNullable().checkIn(['enterprise', 'person']);
    t.text('subject_id').notNullable();
    t.specificType('categories_requested', 'text[]').notNullable();
    t.specificType('categories_answered', 'text[]').notNullable();
    t.jsonb('withheld').notNullable().defaultTo('[]');
    t.text('basis').notNullable();
    t.text('basis_ref');
    t.uuid('document_id');
    t.text('document_sha256');
    t.text('purpose');
    t.text('fee').notNullable().checkIn(['chargeable', 'free']);
    t.text('outcome').notNullable().checkIn(['answered', 'refused']);
    t.text('refusal_code');
    t.text('refusal_reason');
    t.text('refusal_article');
    t.integer('item_count').notNullable().defaultTo(0);
    t.date('retain_until').notNullable().defaultTo(knex.raw(`((now() AT TIME ZONE 'Asia/Shanghai')::date + interval '5 years')::date`));
  });
  await knex.raw('CREATE INDEX query_log_subject ON query_log (subject_type, subject_id, at)');
  await knex.raw('CREATE INDEX query_log_principal ON query_log (principal_id, at)');
  await knex.raw('CREATE INDEX query_log_at ON query_log (at)');
  await appendOnly('query_log');

  // The record versions each answered query returned (P23: whoever queried a record is told of its correction).
  // No foreign key: the log outlives the records it names (P19, P20).
  await knex.schema.createTable('query_log_items', (t) => {
    t.bigInteger('query_log_id').notNullable().references('query_log.id');
    t.uuid('record_key').notNullable();
    t.integer('version').notNullable();
    t.text('item_code').notNullable();
    t.text('category').notNullable();
    t.primary(['query_log_id', 'record_key']);
  });
  await knex.raw('CREATE INDEX query_log_items_record ON query_log_items (record_key)');
  await appendOnly('query_log_items');

  // One row per retention sweep (P19): what it removed.
  await knex.schema.createTable('retention_runs', (t) => {
    t.text('run_id').primary();
    t.date('as_of').notNullable();
    t.integer('record_keys').notNullable();
    t.integer('rows_deleted').notNullable();
    t.integer('batches').notNullable();
    t.timestamp('finished_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The retention sweep finds expired personal records by their concluded date.
  await knex.raw(
    `CREATE INDEX records_person_concluded ON records (concluded_date) WHERE subject_type = 'person' AND is_current AND concluded_date IS NOT NULL`,
  );

  // ---- The tamper-evident audit chain (E19, E23, P11, P26) ----
  // Every audit entry carries the hash of the one before it: hash = sha256(prev_hash || canonical content).
  // The chain follows `seq`, given under a lock on the chain head (one row), so concurrent writers line up and
  // the order of the chain is the order of commit. Nothing that writes audit_log needs to know.
  await knex.raw(`
    ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash text, ADD COLUMN hash text;

    CREATE TABLE audit_chain_head (
      id smallint PRIMARY KEY CHECK (id = 1),
      seq bigint NOT NULL,
      hash text NOT NULL
    );

    CREATE FUNCTION audit_log_canonical(e audit_log) RETURNS text LANGUAGE sql STABLE AS $$
      SELECT jsonb_build_array(
        e.seq, e.id, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.principal_id, e.actor, e.action, e.entity, e.entity_id, e.detail
      )::text
    $$;

    CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      head audit_chain_head%ROWTYPE;
    BEGIN
      -- The row lock is held to the end of the transaction: the next writer waits and then sees this entry.
      SELECT * INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
      NEW.at := coalesce(NEW.at, now());
      NEW.detail := coalesce(NEW.detail, '{}'::jsonb);
      NEW.seq := head.seq + 1;
      NEW.prev_hash := head.hash;
      NEW.hash := encode(digest(NEW.prev_hash || audit_log_canonical(NEW), 'sha256'), 'hex');
      UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
      RETURN NEW;
    END $$;
  `);
  // The entries written before the chain existed are chained in id order.
  await knex.raw(`
    ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
    DO $$
    DECLARE
      r record;
      prev text := repeat('0', 64);
      n bigint := 0;
    BEGIN
      FOR r IN SELECT id FROM audit_log ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_log SET seq = n, prev_hash = prev WHERE id = r.id;
        UPDATE audit_log a SET hash = encode(digest(a.prev_hash || audit_log_canonical(a), 'sha256'), 'hex') WHERE a.id = r.id RETURNING a.hash INTO prev;
      END LOOP;
      INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, n, prev);
    END $$;
    ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;
    ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
    CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
    CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
    CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head FOR EACH ROW EXECUTE FUNCTION append_only_table();
    CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head FOR EACH STATEMENT EXECUTE FUNCTION append_only_table();
  `);
  // Per-day audit lookups of the access monitor (failed authentications by key prefix).
  await knex.raw(`CREATE INDEX audit_log_auth_failed ON audit_log (at) WHERE action = 'auth.failed'`);
}

export async function down(): Promise<void> {
  throw new Error('forward-only migration');
}
