import type { Knex } from 'knex';

/**
 * One store for uploaded files. An objection's evidence (E18 相关依据, P21 相关证据) is a document of its own kind,
 * `objection_evidence`, tied to its objection; it lives in `documents` beside written authorizations, proofs of duty
 * and signed agreements, with the same columns, the same hash and the same append-only guard. The rows of
 * `objection_attachments` move over with their ids; the name stays as a read-only view for reports and old queries.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE documents
      ADD COLUMN objection_id uuid REFERENCES objections(id),
      DROP CONSTRAINT documents_kind_check,
      ADD CONSTRAINT documents_kind_check CHECK (kind IN ('authorization', 'duty_proof', 'rating_agreement', 'objection_evidence')),
      ADD CONSTRAINT documents_evidence_has_objection CHECK ((kind = 'objection_evidence') = (objection_id IS NOT NULL));
    INSERT INTO documents (id, kind, objection_id, file_name, content_type, size_bytes, sha256, content, uploaded_by, uploaded_at)
      SELECT id, 'objection_evidence', objection_id, file_name, content_type, size_bytes, sha256, content, uploaded_by, uploaded_at
        FROM objection_attachments;
    DROP TABLE objection_attachments;
    DROP FUNCTION objection_attachments_keep();
    CREATE INDEX documents_objection ON documents (objection_id, uploaded_at) WHERE objection_id IS NOT NULL;
    CREATE VIEW objection_attachments AS
      SELECT id, objection_id, file_name, content_type, size_bytes, sha256, content, uploaded_by, uploaded_at
        FROM documents WHERE kind = 'objection_evidence';
  `);
}

export async function down(knex: Knex): Promise<void> {
  // The evidence goes back to a table of its own; documents keeps its copies (it is append-only).
  await knex.raw(`
    DROP VIEW objection_attachments;
    CREATE TABLE objection_attachments AS
      SELECT id, objection_id, file_name, content_type, size_bytes, sha256, content, uploaded_by, uploaded_at
        FROM documents WHERE kind = 'objection_evidence';
    ALTER TABLE objection_attachments ADD PRIMARY KEY (id);
    CREATE FUNCTION objection_attachments_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'objection_attachments is append-only (异议证据不得修改或删除)';
    END $$;
    CREATE TRIGGER objection_attachments_no_update BEFORE UPDATE OR DELETE ON objection_attachments
      FOR EACH ROW EXECUTE FUNCTION objection_attachments_keep();
  `);
}
