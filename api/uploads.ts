import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from '../domain/z';
import { DOCUMENT_TYPES } from '../db/documents';
import { HttpError, badRequest } from './errors';

/**
 * Receiving an uploaded file (a document or objection evidence): the raw body up to a size limit, its declared type
 * one of PDF, JPEG or PNG, its content checked against that type by its first bytes, and a file name without a path.
 * The files go to the one store (db/files.ts).
 */
export type FileType = (typeof DOCUMENT_TYPES)[number];

/** Checks a file's content against its declared type by its magic bytes. */
export const MAGIC: Record<FileType, (b: Buffer) => boolean> = {
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
};

export const FileName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[^/\\\u0000]+$/, { message: '文件名不能含路径 / a file name without a path' });

/** The OpenAPI request body of an upload. */
const binary = { schema: z.string().openapi({ format: 'binary' }) };
export const fileBody = { content: { 'application/pdf': binary, 'image/jpeg': binary, 'image/png': binary } };

/** How an upload names itself in its errors: `文件`/`the document`, `证据文件`/`the file`. */
export interface UploadLabel {
  zh: string;
  en: string;
  /** The error code of a file over the limit. */
  tooLargeCode: string;
}

/** The raw body, refused with 413 over `maxBytes`. */
export function rawFileBody(maxBytes: number, label: UploadLabel) {
  const rawParser = express.raw({ type: () => true, limit: maxBytes });
  return (req: Request, res: Response, next: NextFunction) =>
    rawParser(req, res, (err?: unknown) => {
      if (!err) return next();
      if ((err as { type?: string }).type === 'entity.too.large') {
        return next(
          new HttpError(413, label.tooLargeCode, `${label.zh}超过 ${maxBytes} 字节上限 / ${label.en} exceeds ${maxBytes} bytes`, [
            { field: '(body)', reason: `最大 ${maxBytes} 字节 / at most ${maxBytes} bytes` },
          ]),
        );
      }
      next(err);
    });
}

/** The uploaded file's type and content, checked: 415 for a type not accepted or content not of that type, 400 empty. */
export function uploadedFile(req: Request, label: UploadLabel): { type: FileType; content: Buffer } {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!(DOCUMENT_TYPES as readonly string[]).includes(type)) {
    throw new HttpError(415, 'UNSUPPORTED_TYPE', `不接受的文件类型 ${type || '（未注明）'} / type not accepted`, [
      { field: 'Content-Type', reason: `可用：${DOCUMENT_TYPES.join('、')} / one of ${DOCUMENT_TYPES.join(', ')}` },
    ]);
  }
  const content = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!content.length) throw badRequest(`文件为空 / ${label.en} is empty`, [{ field: '(body)', reason: '文件为空 / empty' }]);
  if (!MAGIC[type as FileType](content)) {
    throw new HttpError(415, 'UNSUPPORTED_TYPE', `文件内容不是 ${type} / the content is not ${type}`, [
      { field: '(body)', reason: `文件内容与类型 ${type} 不符 / content does not match ${type}` },
    ]);
  }
  return { type: type as FileType, content };
}
