import { and, desc, eq, or, sql } from 'drizzle-orm';
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

/**
 * Notifications EMP did not confirm over the last day, by reason (the part of `error` before its
 * colon, as confirmation/ records it): a burst points at someone replaying a signed notification.
 */
export async function recentRejections(db: Database): Promise<Array<{ reason: string; count: number }>> {
  const { rows } = await db.execute<{ reason: string; count: string }>(sql`
    select split_part(error, ':', 1) as reason, count(*) as count from webhook_events
    where outcome = 'rejected' and received_at > now() - interval '1 day'
    group by 1 order by 2 desc`);
  return rows.map((row) => ({ reason: row.reason, count: Number(row.count) }));
}
