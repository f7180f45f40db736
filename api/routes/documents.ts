import { Router } from 'express';
import { z } from '../../domain/z';
import { querySettings } from '../../domain/config';
import type { Principal } from '../../domain/roles';
import type { Db } from '../../db/knex';
import { DOCUMENT_KINDS, documentContent, documentMeta, storeDocument } from '../../db/documents';
import { isAgreementDocumentOf } from '../../db/rating-agreements';
import { FileName, fileBody, rawFileBody, uploadedFile, type UploadLabel } from '../uploads';
import type { AppDeps } from '../app';
import { principalOf, requireRole } from '../auth';
import { HttpError, badRequest, forbidden, notFound } from '../errors';
import { EXAMPLE, document, errorAnswer, registry, validationError } from '../openapi';
import { ANY, IdParam, by, json, seesAll, tags, type Endpoint } from './query-common';

/**
 * Documents a query or a request rests on: written authorizations (E14(2), P12(2)), proofs of duty (E14(4),
 * P12(3)) and signed rating agreements (E14(3)), uploaded as PDF, JPEG or PNG.
 */

const DocumentSchema = registry.register(
  'Document',
  z.object({
    id: z.string().uuid(),
    kind: z.enum(DOCUMENT_KINDS),
    file_name: z.string(),
    content_type: z.string(),
    size_bytes: z.number().int(),
    sha256: z.string(),
    uploaded_by: z.string(),
    uploaded_at: z.string(),
  }),
);

/** The raw body of an upload, at most the configured size (413 beyond). */
const DOCUMENT_UPLOAD: UploadLabel = { zh: '文件', en: 'the document', tooLargeCode: 'DOCUMENT_TOO_LARGE' };

/** A document the principal may read: its uploader, staff, administrators, supervisors, and an agency its agreement's copy. */
async function visibleDocument(db: Db, p: Principal, id: string) {
  const doc = await documentMeta(db, id);
  if (!doc) throw notFound(`文件 ${id}`);
  if (doc.uploaded_by === p.id || seesAll(p)) return doc;
  // A rating agency reads the signed copy of an agreement it is party to.
  if (p.role === 'rating_agency' && doc.kind === 'rating_agreement' && (await isAgreementDocumentOf(db, id, p.id))) return doc;
  throw notFound(`文件 ${id}`);
}

// ─── POST /documents ─────────────────────────────────────────────────────────────────────────────────────────

const DocumentQuery = z.object({
  kind: z.enum(DOCUMENT_KINDS, {
    message:
      'kind 应为 authorization（书面授权）、duty_proof（履职证明）或 rating_agreement（评级查询协议）/ kind must be authorization, duty_proof or rating_agreement',
  }),
  file_name: FileName,
});
const documentNotFound = errorAnswer('文件不存在或无权查看 / no such document, or not yours', notFound(`文件 ${EXAMPLE.documentId}`));
document({
  method: 'post',
  path: '/documents',
  operationId: 'uploadDocument',
  tags,
  summary:
    '上传书面授权、履职证明或已签订的评级查询协议（PDF、JPEG、PNG）/ upload a written authorization, a proof of duty or a signed rating agreement (staff)',
  secured: true,
  request: { query: DocumentQuery, body: fileBody },
  responses: {
    201: { description: 'stored', ...json(z.object({ document: DocumentSchema })) },
    400: errorAnswer(
      '请求无效：文件类别或文件名无效，或文件为空 / bad request: the kind or the file name, or an empty file',
      validationError(DocumentQuery, { kind: 'contract', file_name: '授权书.pdf' }),
      badRequest('文件为空 / the document is empty', [{ field: '(body)', reason: '文件为空 / empty' }]),
    ),
    403: errorAnswer(
      '该类文件须由其出具方上传 / this kind of document is uploaded by whoever issues it',
      forbidden('书面授权文件由授权的企业或个人上传 / authorizations are uploaded by the enterprise or person granting them'),
      forbidden('履职证明由行政机关、司法机关上传 / proofs of duty are uploaded by administrative and judicial bodies'),
    ),
    413: errorAnswer(
      '文件过大 / the document is too large',
      new HttpError(413, 'DOCUMENT_TOO_LARGE', '文件超过 5242880 字节上限 / the document exceeds 5242880 bytes', [
        { field: '(body)', reason: '最大 5242880 字节 / at most 5242880 bytes' },
      ]),
    ),
    415: errorAnswer(
      '不接受的文件类型，或内容与类型不符 / a type not accepted, or content not of its type',
      new HttpError(415, 'UNSUPPORTED_TYPE', '不接受的文件类型 image/gif / type not accepted', [
        { field: 'Content-Type', reason: '可用：application/pdf、image/jpeg、image/png / one of application/pdf, image/jpeg, image/png' },
      ]),
      new HttpError(415, 'UNSUPPORTED_TYPE', '文件内容不是 image/png / the content is not image/png', [
        { field: '(body)', reason: '文件内容与类型 image/png 不符 / content does not match image/png' },
      ]),
    ),
  },
});
const uploadDocument: Endpoint = ({ db }) => [
  requireRole('enterprise', 'person', 'government', 'judicial', 'staff'),
  rawFileBody(querySettings().documentMaxBytes, DOCUMENT_UPLOAD),
  async (req, res) => {
    const p = principalOf(req);
    const q = DocumentQuery.parse(req.query);
    if (q.kind === 'authorization' && p.role !== 'enterprise' && p.role !== 'person')
      throw forbidden('书面授权文件由授权的企业或个人上传 / authorizations are uploaded by the enterprise or person granting them');
    if (q.kind === 'duty_proof' && p.role !== 'government' && p.role !== 'judicial')
      throw forbidden('履职证明由行政机关、司法机关上传 / proofs of duty are uploaded by administrative and judicial bodies');
    if (q.kind === 'rating_agreement' && p.role !== 'staff')
      throw forbidden('评级查询协议由市信用信息征集服务机构上传 / signed rating agreements are uploaded by the platform staff');
    const { type, content } = uploadedFile(req, DOCUMENT_UPLOAD);
    const doc = await storeDocument(db, { kind: q.kind, fileName: q.file_name, contentType: type, content }, by(p));
    res.status(201).location(`/documents/${doc.id}`).json({ document: doc });
  },
];

// ─── GET /documents/{id} ─────────────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/documents/{id}',
  operationId: 'getDocument',
  tags,
  summary: '文件信息 / document metadata (uploader, staff, admin)',
  secured: true,
  request: { params: IdParam },
  responses: { 200: { description: 'metadata', ...json(z.object({ document: DocumentSchema })) }, 404: documentNotFound },
});
const getDocument: Endpoint = ({ db }) => [
  requireRole(...ANY),
  async (req, res) => {
    const { id } = IdParam.parse(req.params);
    res.json({ document: await visibleDocument(db, principalOf(req), id) });
  },
];

// ─── GET /documents/{id}/content ─────────────────────────────────────────────────────────────────────────────

document({
  method: 'get',
  path: '/documents/{id}/content',
  operationId: 'getDocumentContent',
  tags,
  summary: '文件内容 / document content',
  secured: true,
  request: { params: IdParam },
  responses: { 200: { description: 'the file' }, 404: documentNotFound },
});
const getDocumentContent: Endpoint = ({ db }) => [
  requireRole(...ANY),
  async (req, res) => {
    const { id } = IdParam.parse(req.params);
    const doc = await visibleDocument(db, principalOf(req), id);
    const content = await documentContent(db, id);
    res
      .status(200)
      .type(doc.content_type)
      .set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(doc.file_name)}`)
      .set('Cache-Control', 'no-store')
      .send(content);
  },
];

// ─── Router ──────────────────────────────────────────────────────────────────────────────────────────────────

export function documentsRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/documents', ...uploadDocument(deps));
  r.get('/documents/:id', ...getDocument(deps));
  r.get('/documents/:id/content', ...getDocumentContent(deps));
  return r;
}
