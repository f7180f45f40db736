import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isoColumn, type Conn } from './time';

/**
 * The one store of uploaded files (`documents`): written authorizations, proofs of duty, signed rating agreements
 * and objection evidence. Each file is kept whole in the database with its type, size and SHA-256, append-only.
 * The repositories of each kind (db/documents.ts, db/objection-attachments.ts) add their rules and their audit entry.
 */
export const FILE_KINDS = ['authorization', 'duty_proof', 'rating_agreement', 'objection_evidence'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export interface StoredFile {
  id: string;
  kind: FileKind;
  objection_id: string | null;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  uploaded_by: string;
  uploaded_at: string;
}

/** The columns of a stored file (never its content); `without` leaves some out. */
export const fileColumns = (db: Conn, without: Array<'kind' | 'objection_id'> = []) => [
  'id',
  ...(['kind', 'objection_id'] as const).filter((c) => !without.includes(c)),
  'file_name',
  'content_type',
  'size_bytes',
  'sha256',
  'uploaded_by',
  isoColumn(db, 'uploaded_at'),
];

export interface NewFile {
  kind: FileKind;
  /** The objection the evidence is for (kind `objection_evidence` only). */
  objectionId?: string;
  fileName: string;
  contentType: string;
  content: Buffer;
  uploadedBy: string;
}

/** Stores one file, in the caller's transaction. */
export async function storeFile(trx: Knex, f: NewFile): Promise<StoredFile> {
  const sha256 = crypto.createHash('sha256').update(f.content).digest('hex');
  const [row] = await trx('documents')
    .insert({
      kind: f.kind,
      objection_id: f.objectionId ?? null,
      file_name: f.fileName,
      content_type: f.contentType,
      size_bytes: f.content.length,
      sha256,
      content: f.content,
      uploaded_by: f.uploadedBy,
    })
    .returning(fileColumns(trx));
  return row as StoredFile;
}
