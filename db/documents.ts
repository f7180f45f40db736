import type { Db } from './knex';
import { recordAudit } from './audit';
import type { Conn } from './time';
import { fileColumns, storeFile, type StoredFile } from './files';
import type { DutyProofFacts } from '../domain/access';

/**
 * Uploaded documents: written authorizations (E14(2), P12(2)), proofs of duty (E14(4), P12(3)) and signed rating
 * agreements (E14(3)). A query names the document it was made on; the query log keeps its hash (P20).
 */

/** Types of an uploaded document: written authorizations, proofs of duty and signed rating agreements are scans or PDFs. */
export const DOCUMENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export const DOCUMENT_KINDS = ['authorization', 'duty_proof', 'rating_agreement'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** The article each kind of document is uploaded under. */
const DOCUMENT_ARTICLE: Record<DocumentKind, string> = {
  authorization: 'E14(2), P12(2)',
  duty_proof: 'E14(4), P12(3)',
  rating_agreement: 'E14(3)',
};

export type StoredDocument = Omit<StoredFile, 'kind' | 'objection_id'> & { kind: DocumentKind };

export async function storeDocument(
  db: Db,
  doc: { kind: DocumentKind; fileName: string; contentType: string; content: Buffer },
  by: { id: string; actor: string },
): Promise<StoredDocument> {
  return db.transaction(async (trx) => {
    const { objection_id: _none, ...row } = await storeFile(trx, { ...doc, uploadedBy: by.id });
    const sha256 = row.sha256;
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'document.upload',
      entity: 'document',
      id: row.id,
      article: DOCUMENT_ARTICLE[doc.kind],
      detail: { kind: doc.kind, file_name: doc.fileName, content_type: doc.contentType, size_bytes: doc.content.length, sha256 },
    });
    return row as StoredDocument;
  });
}

export async function documentMeta(db: Conn, id: string): Promise<StoredDocument | undefined> {
  // Objection evidence is read through its objection, not here.
  return db('documents')
    .where('id', id)
    .whereIn('kind', DOCUMENT_KINDS)
    .first(fileColumns(db, ['objection_id']));
}

/** The stored bytes of a document. */
export async function documentContent(db: Conn, id: string): Promise<Buffer> {
  const row = await db('documents').where('id', id).whereIn('kind', DOCUMENT_KINDS).first('content');
  return row.content as Buffer;
}

/** A proof of duty as a query's basis (E14(4), P12(3)). */
export async function dutyProofBasis(
  db: Conn,
  documentId: string,
): Promise<{ proof: DutyProofFacts | null; documentId: string | null; documentSha256: string | null }> {
  const doc = await db('documents').where('id', documentId).whereIn('kind', DOCUMENT_KINDS).first('id', 'kind', 'uploaded_by', 'sha256');
  return {
    proof: doc ? { documentId: doc.id, kind: doc.kind, uploadedBy: doc.uploaded_by } : null,
    documentId: doc?.id ?? null,
    documentSha256: doc?.sha256 ?? null,
  };
}
