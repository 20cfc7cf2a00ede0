/**
 * Deleting an upload's stored objects (the original file and its error report) while its row,
 * counts and attempts stay: the retention sweep, a withdrawal and a debtor's erasure all do it.
 * Objects go first and the row is marked after, so a crash in between leaves a row that still
 * names deleted objects (a download answers "gone") rather than objects no row points to.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import type { ObjectStorage } from '../storage/object-storage';

export interface UploadObjects {
  id: string;
  fileKey: string;
  errorReportKey: string | null;
}

/** Deleting a key that is not there succeeds (S3 semantics), so this may be repeated. */
export async function deleteUploadObjects(storage: ObjectStorage, upload: UploadObjects): Promise<void> {
  await storage.deleteObject(upload.fileKey);
  if (upload.errorReportKey) await storage.deleteObject(upload.errorReportKey);
}

/** Records that the uploads' objects are gone: no original to download, no error report. */
export async function markUploadObjectsDeleted(db: Executor, uploadIds: readonly string[]): Promise<void> {
  if (uploadIds.length === 0) return;
  await db.execute(sql`
    update uploads set files_deleted_at = coalesce(files_deleted_at, now()), error_report_key = null, updated_at = now()
    where id = any(${sql.param(uploadIds)}::uuid[])`);
}
