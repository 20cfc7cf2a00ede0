/**
 * The operators' upload API (JSON), for the dashboard:
 *
 *   POST /uploads                    {fileName, sizeBytes, contentType?, columnMapping?, encoding?, delimiter?, collection?}
 *                                    → 201 {upload, put: {url, headers, expiresAt}}: PUT the file there
 *   PUT  /uploads/:id/content        the file as the body, streamed through to storage (instead of the URL)
 *   POST /uploads/:id/complete       → 202 {upload}: content checked, processing queued; 422 with the reason if refused
 *   GET  /uploads                    → {uploads: [...]}, newest first (?limit=, at most 200)
 *   GET  /uploads/:id                → {upload}: status, row counts, progress
 *   GET  /uploads/:id/file           → {url, expiresAt}: the original file
 *   GET  /uploads/:id/error-report   → {url, expiresAt}: the CSV of rejected rows
 *
 * The session and role checks run in front of every route (app.ts); `actorOf` names who acted,
 * for the upload's record and the audit log.
 */
import { COLLECTIONS } from '../db/schema';
import { DEBTOR_FIELDS } from '@tether/shared/debtor-columns';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AuditActor } from '../audit/record';
import type { UploadContext } from './context';
import { DELIMITERS } from './csv-dialect';
import { completeUpload, errorReportUrl, getUpload, originalFileUrl, receiveContent, startUpload, UploadRequestError } from './lifecycle';
import { listUploads, type UploadRecord } from './repository';
import { TEXT_ENCODINGS } from './text-inspection';

export interface UploadRouteOptions {
  context: UploadContext;
  actorOf: (c: Context) => AuditActor;
}

const createRequest = z.strictObject({
  fileName: z.string().trim().min(1).max(255),
  sizeBytes: z.number().int().positive(),
  contentType: z.string().min(1).max(255).optional(),
  columnMapping: z.partialRecord(z.enum(DEBTOR_FIELDS), z.string().min(1).max(255)).optional(),
  encoding: z.enum(TEXT_ENCODINGS).optional(),
  delimiter: z.enum(DELIMITERS).optional(),
  /** one_off (default) or recurring: how the upload's debtors are collected. */
  collection: z.enum(COLLECTIONS).optional(),
});

const uploadId = z.uuid();

/** What an operator sees of an upload; storage keys stay inside. */
export function uploadView(upload: UploadRecord) {
  const processedShare = upload.sizeBytes ? Math.min(0.99, upload.bytesRead / upload.sizeBytes) : 0;
  return {
    id: upload.id,
    fileName: upload.originalName,
    format: upload.format,
    contentType: upload.contentType,
    sizeBytes: upload.sizeBytes,
    checksumSha256: upload.checksumSha256,
    status: upload.status,
    encoding: upload.encoding,
    delimiter: upload.delimiter,
    collection: upload.collection,
    columnMapping: upload.columnMapping,
    rows: { read: upload.rowsRead, accepted: upload.rowsAccepted, rejected: upload.rowsRejected },
    progress: upload.status === 'completed' ? 1 : upload.status === 'processing' ? processedShare : 0,
    error: upload.error,
    errorReportAvailable: upload.errorReportKey !== null,
    createdBy: upload.createdBy,
    createdAt: upload.createdAt.toISOString(),
    updatedAt: upload.updatedAt.toISOString(),
    completedAt: upload.completedAt?.toISOString() ?? null,
  };
}

function idParameter(c: Context): string {
  const parsed = uploadId.safeParse(c.req.param('id'));
  if (!parsed.success) throw new UploadRequestError(404, 'No such upload');
  return parsed.data;
}

export function uploadRoutes({ context, actorOf }: UploadRouteOptions) {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof UploadRequestError) return c.json({ error: error.message }, error.status);
    context.log.error({ error: error.message, path: c.req.path }, 'upload request failed');
    return c.json({ error: 'internal error' }, 500);
  });

  app.post('/uploads', async (c) => {
    const parsed = createRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      return c.json({ error: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ') }, 400);
    }
    const { upload, put } = await startUpload(context, { ...parsed.data, actor: actorOf(c) });
    return c.json({ upload: uploadView(upload), put }, 201);
  });

  app.put('/uploads/:id/content', async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new UploadRequestError(400, 'The request has no body');
    const length = c.req.header('content-length');
    const upload = await receiveContent(context, idParameter(c), body, length === undefined ? undefined : Number(length));
    return c.json({ upload: uploadView(upload) });
  });

  app.post('/uploads/:id/complete', async (c) => c.json({ upload: uploadView(await completeUpload(context, idParameter(c), actorOf(c))) }, 202));

  app.get('/uploads', async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 200);
    return c.json({ uploads: (await listUploads(context.db, limit)).map(uploadView) });
  });

  app.get('/uploads/:id', async (c) => c.json({ upload: uploadView(await getUpload(context, idParameter(c))) }));
  app.get('/uploads/:id/file', async (c) => c.json(await originalFileUrl(context, idParameter(c))));
  app.get('/uploads/:id/error-report', async (c) => c.json(await errorReportUrl(context, idParameter(c))));
  return app;
}
