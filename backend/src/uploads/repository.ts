/**
 * The upload record and its life: created → uploaded (content checked) → queued → processing →
 * completed | failed. Every move is a conditional update, so a repeated request or a second
 * node cannot move an upload backwards.
 */
import type { ColumnMapping } from '@tether/shared/debtor-columns';
import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { uploads, type Collection } from '../db/schema';
import type { InspectedContent } from './content-check';
import type { Delimiter } from './csv-dialect';
import type { UploadFormat } from './file-types';
import type { TextEncoding } from './text-inspection';

export type UploadRecord = typeof uploads.$inferSelect;

export type UploadStatus = UploadRecord['status'];

/** Statuses from which processing may (re)start: a crash leaves an upload in "processing". */
const PROCESSABLE: UploadStatus[] = ['uploaded', 'queued', 'processing'];

/**
 * Where the client puts the file while the upload is "created" (the upload's first file_key): the
 * only key a presigned PUT ever names, and that URL stays valid until it expires.
 */
export function incomingFileKey(uploadId: string, format: UploadFormat): string {
  return `uploads/${uploadId}/incoming.${format}`;
}

/**
 * Where `complete` copies the file before checking it, a new key each time: no presigned URL
 * names it, so the file checked, checksummed and processed is the file kept (lifecycle.ts).
 */
export function sealedFileKey(uploadId: string, format: UploadFormat): string {
  return `uploads/${uploadId}/source-${randomBytes(6).toString('hex')}.${format}`;
}

export interface NewUpload {
  id: string;
  originalName: string;
  format: UploadFormat;
  contentType: string;
  sizeBytes: number;
  columnMapping?: ColumnMapping;
  encoding?: TextEncoding;
  delimiter?: Delimiter;
  collection?: Collection;
  createdBy?: string;
}

export async function createUpload(db: Executor, upload: NewUpload): Promise<UploadRecord> {
  const [created] = await db
    .insert(uploads)
    .values({
      id: upload.id,
      fileKey: incomingFileKey(upload.id, upload.format),
      originalName: upload.originalName,
      format: upload.format,
      contentType: upload.contentType,
      sizeBytes: upload.sizeBytes,
      columnMapping: upload.columnMapping,
      encoding: upload.encoding,
      delimiter: upload.delimiter,
      collection: upload.collection,
      createdBy: upload.createdBy,
    })
    .returning();
  return created!;
}

export async function findUpload(db: Executor, id: string): Promise<UploadRecord | undefined> {
  const [upload] = await db.select().from(uploads).where(eq(uploads.id, id));
  return upload;
}

export async function listUploads(db: Executor, limit: number): Promise<UploadRecord[]> {
  return db.select().from(uploads).orderBy(desc(uploads.createdAt)).limit(limit);
}

/**
 * The content passed its check: the object's real size and checksum replace what the client
 * declared, and `fileKey`, the sealed copy they were taken from, replaces the incoming key.
 */
export async function markUploaded(db: Executor, id: string, content: InspectedContent & { fileKey: string }): Promise<UploadRecord | undefined> {
  const [upload] = await db
    .update(uploads)
    .set({
      status: 'uploaded',
      fileKey: content.fileKey,
      sizeBytes: content.sizeBytes,
      checksumSha256: content.checksumSha256,
      encoding: content.encoding,
      delimiter: content.delimiter,
      error: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'created')))
    .returning();
  return upload;
}

/** True for the one caller that moved the upload to "queued": only that one publishes it. */
export async function markQueued(db: Executor, id: string): Promise<boolean> {
  const moved = await db
    .update(uploads)
    .set({ status: 'queued', updatedAt: sql`now()` })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'uploaded')))
    .returning({ id: uploads.id });
  return moved.length === 1;
}

/** Publishing failed: back to "uploaded", so completing again queues it. */
export async function unmarkQueued(db: Executor, id: string): Promise<void> {
  await db
    .update(uploads)
    .set({ status: 'uploaded', updatedAt: sql`now()` })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'queued')));
}

/**
 * How long a run holds an upload without renewing its lease. It renews every third of that while
 * it works; a node that dies leaves the upload to the next delivery once the lease has run out.
 */
export const PROCESSING_LEASE_SECONDS = 20;

/** Takes the upload for the run `by`, unless another run's lease on it still lasts. */
export async function claimForProcessing(db: Executor, id: string, by: string): Promise<UploadRecord | undefined> {
  const [upload] = await db
    .update(uploads)
    .set({
      status: 'processing',
      processingBy: by,
      processingLeaseUntil: sql`now() + make_interval(secs => ${PROCESSING_LEASE_SECONDS})`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(uploads.id, id),
        inArray(uploads.status, PROCESSABLE),
        or(isNull(uploads.processingLeaseUntil), lte(uploads.processingLeaseUntil, sql`now()`)),
      ),
    )
    .returning();
  return upload;
}

/** The run still holds the upload, for another lease; false once it is no longer its own. */
export async function renewProcessingLease(db: Executor, id: string, by: string): Promise<boolean> {
  const renewed = await db
    .update(uploads)
    .set({ processingLeaseUntil: sql`now() + make_interval(secs => ${PROCESSING_LEASE_SECONDS})` })
    .where(and(eq(uploads.id, id), eq(uploads.processingBy, by), eq(uploads.status, 'processing')))
    .returning({ id: uploads.id });
  return renewed.length === 1;
}

/** Gives the upload back before the lease runs out (the run stopped), so the next delivery need not wait. */
export async function releaseProcessingLease(db: Executor, id: string, by: string): Promise<void> {
  await db
    .update(uploads)
    .set({ processingLeaseUntil: null })
    .where(and(eq(uploads.id, id), eq(uploads.processingBy, by)));
}

/** Seconds until another run's lease on the upload runs out (at least 1), or undefined when none holds it. */
export async function processingLeaseSecondsLeft(db: Executor, id: string): Promise<number | undefined> {
  const [row] = await db
    .select({ seconds: sql<number>`ceil(extract(epoch from ${uploads.processingLeaseUntil} - now()))::int` })
    .from(uploads)
    .where(and(eq(uploads.id, id), inArray(uploads.status, PROCESSABLE), gt(uploads.processingLeaseUntil, sql`now()`)));
  return row ? Math.max(1, row.seconds) : undefined;
}

export async function markCompleted(db: Executor, id: string, errorReportKey: string | undefined): Promise<void> {
  await db
    .update(uploads)
    .set({
      status: 'completed',
      errorReportKey: errorReportKey ?? null,
      bytesRead: sql`coalesce(${uploads.sizeBytes}, ${uploads.bytesRead})`,
      processingLeaseUntil: null,
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'processing')));
}

/** A problem with the file itself: retrying cannot help, the operator must fix the file. */
export async function markFailed(db: Executor, id: string, error: string): Promise<void> {
  await db
    .update(uploads)
    .set({ status: 'failed', error, processingLeaseUntil: null, completedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(uploads.id, id), inArray(uploads.status, ['created', ...PROCESSABLE])));
}
