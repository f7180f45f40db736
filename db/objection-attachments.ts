import type { Db } from './knex';
import { recordAudit } from './audit';
import type { Conn } from './time';
import { fileColumns, storeFile, type StoredFile } from './files';
import { ObjectionStateError, type Actor } from './objections';
import { articleOf } from '../domain/objections';
import { OBJECTION_STATE_ZH, type ObjectionState } from '../domain/objections';

/** The evidence files of an objection (E18, P21): uploaded by the applicant, read by the provider and staff. */

export type StoredAttachment = Omit<StoredFile, 'kind'> & { objection_id: string };

const EVIDENCE = 'objection_evidence';

const attachmentColumns = (db: Conn) => fileColumns(db, ['kind']);

/** The evidence of one objection, in the file store. */
const evidenceOf = (db: Conn, objectionId: string) => db('documents').where({ kind: EVIDENCE, objection_id: objectionId });

/** Adds one evidence file; refused (ObjectionStateError) once the objection is refused or concluded, or past the per-objection limit. */
export async function addAttachment(
  db: Db,
  objectionId: string,
  file: { fileName: string; contentType: string; content: Buffer },
  maxFiles: number,
  by: Actor,
): Promise<StoredAttachment> {
  return db.transaction(async (trx) => {
    const o = await trx('objections').where('id', objectionId).forUpdate().first('state', 'subject_type');
    if (o.state === 'refused' || o.state === 'corrected' || o.state === 'upheld') {
      throw new ObjectionStateError(
        o.state,
        `异议${OBJECTION_STATE_ZH[o.state as ObjectionState]}，不能再补充证据 / the objection is ${o.state}: no more evidence`,
      );
    }
    const [{ n }] = await evidenceOf(trx, objectionId).count({ n: '*' });
    if (Number(n) >= maxFiles)
      throw new ObjectionStateError(o.state, `每项异议最多 ${maxFiles} 个证据文件 / at most ${maxFiles} files per objection`);
    const { kind: _kind, ...row } = await storeFile(trx, { kind: EVIDENCE, objectionId, ...file, uploadedBy: by.id! });
    const sha256 = row.sha256;
    await recordAudit(trx, {
      principalId: by.id,
      actor: by.actor,
      action: 'objection.attach',
      entity: 'objection',
      id: objectionId,
      article: articleOf(o.subject_type, 'E18', 'P21'),
      detail: { attachment_id: row.id, file_name: file.fileName, content_type: file.contentType, size_bytes: file.content.length, sha256 },
    });
    return row as StoredAttachment;
  });
}

export async function attachmentsOf(db: Conn, objectionId: string): Promise<StoredAttachment[]> {
  return evidenceOf(db, objectionId).orderBy('uploaded_at').select(attachmentColumns(db));
}

/** One evidence file's content; undefined when the objection has no such file. */
export async function attachmentContent(
  db: Conn,
  objectionId: string,
  attachmentId: string,
): Promise<{ file_name: string; content_type: string; content: Buffer } | undefined> {
  return evidenceOf(db, objectionId).where('id', attachmentId).first('file_name', 'content_type', 'content');
}
