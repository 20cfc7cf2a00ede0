import { and, desc, eq, or } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { webhookEvents } from '../../db/schema';
import type { EventOutcome } from '../../events/outcome';
import { PAGE_SIZE, windowConditions, type ListWindow } from './paging';

/** The window's times are receive times. */
export interface EventFilter extends ListWindow {
  outcome?: EventOutcome;
  transactionType?: string;
  /** An id as EMP or Tether knows it: unique_id, transaction_id or the edge's dedup key. */
  id?: string;
}

/** The audit log, newest first. */
export async function listEvents(db: Database, filter: EventFilter) {
  const conditions = windowConditions(filter, webhookEvents.receivedAt, webhookEvents.id);
  if (filter.outcome) conditions.push(eq(webhookEvents.outcome, filter.outcome));
  if (filter.transactionType) conditions.push(eq(webhookEvents.transactionType, filter.transactionType));
  if (filter.id) {
    conditions.push(
      or(eq(webhookEvents.uniqueId, filter.id), eq(webhookEvents.transactionId, filter.id), eq(webhookEvents.attemptUniqueId, filter.id), eq(webhookEvents.dedupKey, filter.id))!,
    );
  }
  return db
    .select({
      id: webhookEvents.id,
      receivedAt: webhookEvents.receivedAt,
      processedAt: webhookEvents.processedAt,
      outcome: webhookEvents.outcome,
      transactionType: webhookEvents.transactionType,
      empStatus: webhookEvents.empStatus,
      uniqueId: webhookEvents.uniqueId,
      transactionId: webhookEvents.transactionId,
      billingAttemptId: webhookEvents.billingAttemptId,
      attempts: webhookEvents.attempts,
      error: webhookEvents.error,
    })
    .from(webhookEvents)
    .where(and(...conditions))
    .orderBy(desc(webhookEvents.id))
    .limit(PAGE_SIZE);
}

export async function findEvent(db: Database, id: number) {
  const [event] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
  return event;
}
