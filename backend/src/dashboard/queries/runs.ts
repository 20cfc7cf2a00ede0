import { and, count, eq, gt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { billingAttempts, uploads } from '../../db/schema';

/** Over this window the send rate is averaged: long enough to smooth, short enough to follow a pause. */
export const RATE_WINDOW_SECONDS = 60;

/** Sales sent to EMP per second for the run, over the last minute, whichever nodes sent them. */
export async function sendRate(db: Database, runId: string): Promise<number> {
  const [row] = await db
    .select({ sent: count() })
    .from(billingAttempts)
    .where(and(eq(billingAttempts.billingRunId, runId), gt(billingAttempts.sentAt, sql`now() - make_interval(secs => ${RATE_WINDOW_SECONDS})`)));
  return (row?.sent ?? 0) / RATE_WINDOW_SECONDS;
}

/** Completed uploads with attempts still pending: what a new run can bill. */
export async function billableUploads(db: Database) {
  return db
    .select({ id: uploads.id, fileName: uploads.originalName, createdAt: uploads.createdAt, pending: count() })
    .from(uploads)
    .innerJoin(billingAttempts, and(eq(billingAttempts.uploadId, uploads.id), eq(billingAttempts.status, 'pending')))
    .where(eq(uploads.status, 'completed'))
    .groupBy(uploads.id)
    .orderBy(sql`${uploads.createdAt} desc`)
    .limit(50);
}
