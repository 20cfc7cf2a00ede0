import { and, asc, desc, eq } from 'drizzle-orm';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import type { Database } from '../../db/client';
import { billingAttempts, debtors, webhookEvents, refunds } from '../../db/schema';
import { PAGE_SIZE, windowConditions, type ListWindow } from './paging';

/** The window's times are creation times. */
export interface AttemptFilter extends ListWindow {
  status?: AttemptStatus;
  uploadId?: string;
  debtorId?: number;
}

export async function listAttempts(db: Database, filter: AttemptFilter) {
  const conditions = windowConditions(filter, billingAttempts.createdAt, billingAttempts.id);
  if (filter.status) conditions.push(eq(billingAttempts.status, filter.status));
  if (filter.uploadId) conditions.push(eq(billingAttempts.uploadId, filter.uploadId));
  if (filter.debtorId) conditions.push(eq(billingAttempts.debtorId, filter.debtorId));
  return db
    .select({
      id: billingAttempts.id,
      transactionId: billingAttempts.transactionId,
      status: billingAttempts.status,
      empStatus: billingAttempts.empStatus,
      amountCents: billingAttempts.amountCents,
      currency: billingAttempts.currency,
      attemptNumber: billingAttempts.attemptNumber,
      errorCode: billingAttempts.errorCode,
      errorMessage: billingAttempts.errorMessage,
      uploadId: billingAttempts.uploadId,
      createdAt: billingAttempts.createdAt,
      updatedAt: billingAttempts.updatedAt,
      debtorName: debtors.nameOriginal,
      iban: debtors.iban,
    })
    .from(billingAttempts)
    .innerJoin(debtors, eq(debtors.id, billingAttempts.debtorId))
    .where(and(...conditions))
    .orderBy(desc(billingAttempts.id))
    .limit(PAGE_SIZE);
}

export async function findAttempt(db: Database, id: number) {
  const [row] = await db
    .select({ attempt: billingAttempts, debtor: debtors })
    .from(billingAttempts)
    .innerJoin(debtors, eq(debtors.id, billingAttempts.debtorId))
    .where(eq(billingAttempts.id, id));
  return row;
}

/** The EMP events recorded for the attempt, oldest first. */
export async function eventsOfAttempt(db: Database, attemptId: number) {
  return db
    .select({
      id: webhookEvents.id,
      receivedAt: webhookEvents.receivedAt,
      transactionType: webhookEvents.transactionType,
      empStatus: webhookEvents.empStatus,
      outcome: webhookEvents.outcome,
      error: webhookEvents.error,
    })
    .from(webhookEvents)
    .where(eq(webhookEvents.billingAttemptId, attemptId))
    .orderBy(asc(webhookEvents.receivedAt), asc(webhookEvents.id));
}

/** The attempt's refunds, oldest first. */
export async function refundsOfAttempt(db: Database, attemptId: number) {
  return db.select().from(refunds).where(eq(refunds.attemptId, attemptId)).orderBy(asc(refunds.id));
}
