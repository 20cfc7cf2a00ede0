/**
 * Upload recovery (issue 17), on top of the pipeline's own steps:
 *
 * - the stored file's header row, CSV or XLSX, read from object storage, so that a failed upload
 *   can be mapped again against the columns it really has;
 * - processing a failed upload again with another column mapping, encoding or delimiter: back to
 *   "uploaded", then queued as `complete` queues it. Only an upload none of whose rows were
 *   imported: rows already committed under one reading of the file must not be read again under
 *   another (withdraw it and upload again instead);
 * - withdrawing an upload: its attempts not yet sent are cancelled, those already sent stay as they
 *   are, the file and error report are deleted from storage, the row stays with its counts.
 *
 * Each action writes its audit entry in the transaction that changes the upload.
 */
import type { ColumnMapping, DebtorField } from '@tether/shared/debtor-columns';
import { cellText } from '@tether/shared/debtor-row';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { recordAudit, type AuditActor } from '../audit/record';
import { moveAttempts } from '../billing/attempt-moves';
import { PREVIEW_BYTES, previewCsvColumns, suggestedMapping, type ColumnPreview } from '../dashboard/column-preview';
import { billingAttempts, uploads } from '../db/schema';
import type { UploadContext } from './context';
import type { Delimiter } from './csv-dialect';
import { completeUpload, UploadRequestError } from './lifecycle';
import { findUpload, type UploadRecord, type UploadStatus } from './repository';
import { isEmptyRow } from './sheet-row';
import { deleteUploadObjects, markUploadObjectsDeleted } from './stored-objects';
import { StoredFile } from './stored-file';
import type { TextEncoding } from './text-inspection';
import { XlsxRefusedError } from './xlsx-package';
import { openXlsxRows } from './xlsx-rows';

/** Processing may be adding attempts right now: withdraw once it has ended. */
const WITHDRAWABLE: UploadStatus[] = ['created', 'uploaded', 'queued', 'completed', 'failed'];

async function existing(context: UploadContext, id: string): Promise<UploadRecord> {
  const upload = await findUpload(context.db, id);
  if (!upload) throw new UploadRequestError(404, 'No such upload');
  return upload;
}

/** Why the upload cannot be processed again, or undefined when it can. */
export function reprocessRefusal(upload: UploadRecord): string | undefined {
  if (upload.status !== 'failed') return `The upload is ${upload.status}: only a failed upload can be processed again`;
  if (upload.checksumSha256 === null || upload.filesDeletedAt !== null) return 'The file is not kept any more: upload it again';
  if (upload.committedRow > 0) return `Rows up to ${upload.committedRow} were imported before it failed: withdraw it and upload the corrected file`;
  return undefined;
}

/** The stored file's header row: a CSV judged from its first bytes as the upload form does, an XLSX from its first sheet row. */
export async function storedColumns(context: UploadContext, id: string): Promise<ColumnPreview | { ok: true; headers: string[]; suggested: Partial<Record<DebtorField, string>>; format: 'xlsx' }> {
  const upload = await existing(context, id);
  if (upload.sizeBytes === null || upload.filesDeletedAt !== null) return { ok: false, problem: 'The file is not kept any more' };
  const file = new StoredFile(context.storage, upload.fileKey, upload.sizeBytes);
  if (upload.format !== 'xlsx') {
    const chunks: Buffer[] = [];
    for await (const chunk of await file.stream({ start: 0, end: Math.min(PREVIEW_BYTES, upload.sizeBytes) })) chunks.push(chunk as Buffer);
    return previewCsvColumns(Buffer.concat(chunks));
  }
  try {
    const source = await openXlsxRows(file, context.limits);
    for await (const { cells } of source.rows) {
      if (isEmptyRow(cells)) continue;
      const headers = cells.map(cellText);
      // Leaving the loop closes the sheet's stream: only the header row is read.
      return { ok: true, headers, suggested: suggestedMapping(headers), format: 'xlsx' };
    }
    return { ok: false, problem: 'The file has no header row' };
  } catch (error) {
    if (error instanceof XlsxRefusedError) return { ok: false, problem: error.message };
    throw error;
  }
}

export interface ReprocessRequest {
  columnMapping: ColumnMapping;
  /** CSV only; the upload's own when not given. */
  encoding?: TextEncoding;
  delimiter?: Delimiter;
}

export async function reprocessUpload(context: UploadContext, id: string, request: ReprocessRequest, actor: AuditActor): Promise<UploadRecord> {
  const upload = await existing(context, id);
  const refusal = reprocessRefusal(upload);
  if (refusal) throw new UploadRequestError(409, refusal);
  const csv = upload.format !== 'xlsx';
  const next = {
    columnMapping: request.columnMapping,
    encoding: csv ? (request.encoding ?? upload.encoding) : null,
    delimiter: csv ? (request.delimiter ?? upload.delimiter) : null,
  };
  await context.db.transaction(async (tx) => {
    const moved = await tx
      .update(uploads)
      .set({ ...next, status: 'uploaded', error: null, completedAt: null, rowsRead: 0, rowsAccepted: 0, rowsRejected: 0, bytesRead: 0, updatedAt: sql`now()` })
      .where(and(eq(uploads.id, id), eq(uploads.status, 'failed'), eq(uploads.committedRow, 0)))
      .returning({ id: uploads.id });
    if (moved.length === 0) throw new UploadRequestError(409, 'The upload changed meanwhile: look again');
    // Rejected rows of the failed run, if it got that far without committing, are not this run's.
    await tx.execute(sql`delete from upload_errors where upload_id = ${id}`);
    await recordAudit(tx, {
      actor,
      action: 'upload.reprocessed',
      target: { kind: 'upload', id },
      before: { status: upload.status, error: upload.error, columnMapping: upload.columnMapping, encoding: upload.encoding, delimiter: upload.delimiter },
      after: { status: 'uploaded', ...next },
    });
  });
  context.log.info({ uploadId: id }, 'failed upload queued to be processed again');
  return completeUpload(context, id, actor);
}

export interface WithdrawalResult {
  upload: UploadRecord;
  attemptsCancelled: number;
  /** Attempts already sent (or being sent), left as they are. */
  attemptsUntouched: number;
}

export async function withdrawUpload(context: UploadContext, id: string, actor: AuditActor, reason: string): Promise<WithdrawalResult> {
  const upload = await existing(context, id);
  if (!WITHDRAWABLE.includes(upload.status)) {
    throw new UploadRequestError(409, upload.status === 'withdrawn' ? 'The upload is withdrawn already' : `The upload is ${upload.status}: withdraw it once processing has ended`);
  }
  // Objects first: deleting one twice is harmless, keeping one after a withdrawal is not.
  if (upload.filesDeletedAt === null) await deleteUploadObjects(context.storage, { id, fileKey: upload.fileKey, errorReportKey: upload.errorReportKey });
  const result = await context.db.transaction(async (tx) => {
    const moved = await tx
      .update(uploads)
      .set({ status: 'withdrawn', updatedAt: sql`now()` })
      .where(and(eq(uploads.id, id), inArray(uploads.status, WITHDRAWABLE)))
      .returning({ id: uploads.id });
    if (moved.length === 0) throw new UploadRequestError(409, 'The upload changed meanwhile: look again');
    const cancelled = await moveAttempts(tx, {
      where: eq(billingAttempts.uploadId, id),
      from: 'pending',
      to: 'cancelled',
      note: { source: 'operator', reason: `its upload was withdrawn: ${reason}` },
      set: { errorCode: 'upload_withdrawn', errorMessage: 'upload withdrawn' },
    });
    const { rows } = await tx.execute<{ count: number }>(
      sql`select count(*)::int as count from billing_attempts where upload_id = ${id} and status <> 'cancelled'`,
    );
    const attemptsUntouched = rows[0]?.count ?? 0;
    await markUploadObjectsDeleted(tx, [id]);
    await recordAudit(tx, {
      actor,
      action: 'upload.withdrawn',
      target: { kind: 'upload', id },
      before: { status: upload.status },
      after: { status: 'withdrawn', attempts_cancelled: cancelled.length, attempts_untouched: attemptsUntouched, files_deleted: true },
      reason,
    });
    return { attemptsCancelled: cancelled.length, attemptsUntouched };
  });
  context.log.info({ uploadId: id, ...result }, 'upload withdrawn');
  return { upload: await existing(context, id), ...result };
}
