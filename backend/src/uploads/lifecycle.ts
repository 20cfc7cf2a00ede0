/**
 * The steps an operator takes with an upload, behind the HTTP routes: create it (and get a URL to
 * put the file to), or stream the file through the backend; complete it (sealed copy, content
 * check, queue);
 * read its state; download the original or the error report through presigned URLs.
 */
import type { ColumnMapping } from '@tether/shared/debtor-columns';
import { randomUUID } from 'node:crypto';
import { actorName, recordAudit, type AuditActor } from '../audit/record';
import { pipeline, Readable, Transform } from 'node:stream';
import { ContentRefusedError, inspectContent, type ContentToInspect } from './content-check';
import type { UploadContext } from './context';
import type { Delimiter } from './csv-dialect';
import { acceptsContentType, DEFAULT_CONTENT_TYPE, formatOf, maxBytesFor, type UploadFormat } from './file-types';
import { queueProcessing } from './queue';
import type { Collection } from '../db/schema';
import { createUpload, findUpload, markFailed, markQueued, markUploaded, sealedFileKey, unmarkQueued, type UploadRecord } from './repository';
import type { TextEncoding } from './text-inspection';

/** The request cannot be served as asked; `status` is the HTTP answer. */
export class UploadRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 415 | 422 | 503,
    message: string,
  ) {
    super(message);
  }
}

export interface UploadRequest {
  fileName: string;
  sizeBytes: number;
  contentType?: string;
  columnMapping?: ColumnMapping;
  encoding?: TextEncoding;
  delimiter?: Delimiter;
  collection?: Collection;
  /** Who uploads: the upload's creator, and the audit log's actor for it and for its completion. */
  actor: AuditActor;
}

export interface PresignedUrl {
  url: string;
  expiresAt: string;
}

function expiresAt(context: UploadContext): string {
  return new Date(Date.now() + context.limits.urlTtlSeconds * 1000).toISOString();
}

async function existingUpload(context: UploadContext, id: string): Promise<UploadRecord> {
  const upload = await findUpload(context.db, id);
  if (!upload) throw new UploadRequestError(404, 'No such upload');
  return upload;
}

export async function startUpload(context: UploadContext, request: UploadRequest): Promise<{ upload: UploadRecord; put: PresignedUrl & { headers: Record<string, string> } }> {
  const format = formatOf(request.fileName);
  if (!format) throw new UploadRequestError(415, 'Only .csv (also .txt, .tsv) and .xlsx files can be uploaded');
  const contentType = request.contentType ?? DEFAULT_CONTENT_TYPE[format];
  if (!acceptsContentType(format, contentType)) throw new UploadRequestError(415, `A .${format} file cannot have the content type ${contentType}`);
  const maxBytes = maxBytesFor(format, context.limits);
  if (request.sizeBytes > maxBytes) throw new UploadRequestError(413, `The file has ${request.sizeBytes} bytes, more than the ${maxBytes} allowed for ${format.toUpperCase()}`);

  const { actor, ...described } = request;
  const upload = await context.db.transaction(async (tx) => {
    const created = await createUpload(tx, { ...described, id: randomUUID(), originalName: request.fileName, format, contentType, createdBy: actorName(actor) });
    await recordAudit(tx, {
      actor,
      action: 'upload.created',
      target: { kind: 'upload', id: created.id },
      after: { status: created.status, fileName: created.originalName, format, sizeBytes: created.sizeBytes },
    });
    return created;
  });
  // Content type and length are signed: storage refuses a different file than the one announced.
  const url = await context.storage.presignPut(upload.fileKey, { contentType, contentLength: request.sizeBytes, expiresIn: context.limits.urlTtlSeconds });
  return { upload, put: { url, expiresAt: expiresAt(context), headers: { 'content-type': contentType } } };
}

/** Fails the stream once more than `maxBytes` passed: an oversized body is cut off, not stored whole. */
function capped(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new UploadRequestError(413, `The file is larger than the ${maxBytes} bytes allowed`));
      else done(null, chunk);
    },
  });
}

/** The browser-less path: the file streams through this node into storage, never whole in memory. */
export async function receiveContent(context: UploadContext, id: string, body: ReadableStream<Uint8Array>, declaredLength: number | undefined): Promise<UploadRecord> {
  const upload = await existingUpload(context, id);
  if (upload.status !== 'created') throw new UploadRequestError(409, `The upload is ${upload.status}: its file cannot change any more`);
  const maxBytes = maxBytesFor(formatOfRecord(upload), context.limits);
  if (declaredLength !== undefined && declaredLength > maxBytes) throw new UploadRequestError(413, `The file is larger than the ${maxBytes} bytes allowed`);
  const limited = capped(maxBytes);
  pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream), limited, () => undefined);
  await context.storage.upload(upload.fileKey, limited, { contentType: upload.contentType ?? undefined });
  return upload;
}

function formatOfRecord(upload: UploadRecord): UploadFormat {
  return upload.format ?? formatOf(upload.originalName) ?? 'csv';
}

function inspectionOf(upload: UploadRecord): ContentToInspect {
  return { fileKey: upload.fileKey, format: formatOfRecord(upload), encoding: upload.encoding ?? undefined, delimiter: upload.delimiter ?? undefined };
}

/**
 * The file as put, sealed and checked: copied to a key no presigned URL names, then checked from
 * that copy. The presigned PUT stays valid until it expires, so the incoming object can still be
 * replaced after this; the copy checked, checksummed and later processed cannot. Only the caller
 * that moves the upload to "uploaded" keeps its copy (concurrent completes each check their own).
 */
async function sealAndCheck(context: UploadContext, upload: UploadRecord, actor: AuditActor): Promise<UploadRecord> {
  const completed = { actor, action: 'upload.completed', target: { kind: 'upload', id: upload.id }, before: { status: upload.status } };
  const sealedKey = sealedFileKey(upload.id, formatOfRecord(upload));
  let kept = false;
  try {
    if (!(await context.storage.copyObject(upload.fileKey, sealedKey))) throw new ContentRefusedError('No file was uploaded for this upload yet');
    const content = await inspectContent(context.storage, { ...inspectionOf(upload), fileKey: sealedKey }, context.limits);
    const marked = await context.db.transaction(async (tx) => {
      const uploaded = await markUploaded(tx, upload.id, { ...content, fileKey: sealedKey });
      if (uploaded) await recordAudit(tx, { ...completed, after: { status: uploaded.status, sizeBytes: uploaded.sizeBytes, checksumSha256: uploaded.checksumSha256 } });
      return uploaded;
    });
    kept = marked !== undefined;
    if (marked) await context.storage.deleteObject(upload.fileKey);
    return marked ?? (await existingUpload(context, upload.id));
  } catch (error) {
    if (!(error instanceof ContentRefusedError)) throw error;
    await context.db.transaction(async (tx) => {
      await markFailed(tx, upload.id, error.message);
      await recordAudit(tx, { ...completed, after: { status: 'failed', error: error.message } });
    });
    // A refused file (binary, ZIP bomb) is not kept around.
    await context.storage.deleteObject(upload.fileKey);
    throw new UploadRequestError(422, error.message);
  } finally {
    if (!kept) await context.storage.deleteObject(sealedKey).catch(() => undefined);
  }
}

/** Checks the stored file and queues it; repeating it on a checked or queued upload only queues what is not queued yet. */
export async function completeUpload(context: UploadContext, id: string, actor: AuditActor): Promise<UploadRecord> {
  let upload = await existingUpload(context, id);
  if (upload.status === 'created') upload = await sealAndCheck(context, upload, actor);
  if (upload.status === 'uploaded' && (await markQueued(context.db, id))) {
    try {
      await queueProcessing(context.qstash, context.publicUrl, id, context.limits.parallelism);
    } catch (error) {
      await unmarkQueued(context.db, id);
      context.log.error({ uploadId: id, error: error instanceof Error ? error.message : String(error) }, 'queueing the upload failed');
      throw new UploadRequestError(503, 'The upload is checked but could not be queued: complete it again shortly');
    }
  }
  return existingUpload(context, id);
}

export async function getUpload(context: UploadContext, id: string): Promise<UploadRecord> {
  return existingUpload(context, id);
}

export async function originalFileUrl(context: UploadContext, id: string): Promise<PresignedUrl> {
  const upload = await existingUpload(context, id);
  if (upload.status === 'created') throw new UploadRequestError(409, 'The file has not been uploaded yet');
  if (upload.status === 'failed' && upload.checksumSha256 === null) throw new UploadRequestError(404, 'The file was refused and is not kept');
  if (upload.filesDeletedAt) throw new UploadRequestError(404, 'The file was deleted (retention period, withdrawal or a debtor\'s erasure)');
  const url = await context.storage.presignGet(upload.fileKey, { expiresIn: context.limits.urlTtlSeconds, downloadName: upload.originalName });
  return { url, expiresAt: expiresAt(context) };
}

export async function errorReportUrl(context: UploadContext, id: string): Promise<PresignedUrl> {
  const upload = await existingUpload(context, id);
  if (upload.status !== 'completed') throw new UploadRequestError(409, `The upload is ${upload.status}: the error report is written when processing completes`);
  if (upload.filesDeletedAt && !upload.errorReportKey) throw new UploadRequestError(404, 'The error report was deleted (retention period or withdrawal)');
  if (!upload.errorReportKey) throw new UploadRequestError(404, 'Every row was accepted: there is no error report');
  const downloadName = `${upload.originalName.replace(/\.[^.]*$/, '')}-errors.csv`;
  const url = await context.storage.presignGet(upload.errorReportKey, { expiresIn: context.limits.urlTtlSeconds, downloadName });
  return { url, expiresAt: expiresAt(context) };
}
