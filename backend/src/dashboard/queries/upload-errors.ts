import { asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { uploadErrors } from '../../db/schema';

/** The first rejected rows, for a glance on the upload's page; the whole list is the error report. */
export async function firstUploadErrors(db: Database, uploadId: string, limit = 20) {
  return db
    .select()
    .from(uploadErrors)
    .where(eq(uploadErrors.uploadId, uploadId))
    .orderBy(asc(uploadErrors.row), asc(uploadErrors.id))
    .limit(limit);
}
