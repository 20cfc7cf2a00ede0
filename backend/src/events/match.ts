/**
 * Events that arrived before Tether knew their attempt wait as pending_match; nothing is dropped.
 * Whoever learns an attempt's ids calls `matchPendingEvents` after committing them: billing when
 * it creates an attempt or reads EMP's answer, reconciliation when it finds a unique_id, and the
 * event pipeline itself when a notification teaches an attempt its unique_id. Matched events go
 * through the same path as a delivery (state machine, history, blacklist), once each.
 *
 * Call it after your transaction commits, not inside it: matching only sees committed rows, and
 * an event committing meanwhile looks for its attempt once more itself, so one of the two always
 * sees the other. Reconciliation should also sweep with 'all' now and then, for the case where a
 * process died between committing and matching.
 */
import { and, asc, eq, inArray, or, type SQL } from 'drizzle-orm';
import { webhookEvents } from '../db/schema';
import type { EventContext } from './context';
import type { EventOutcome } from './outcome';
import { reprocessEvent } from './process';

export interface MatchKeys {
  /** Tether transaction_ids of attempts just created or identified. */
  transactionIds?: readonly string[];
  /** Genesis unique_ids just learnt. */
  uniqueIds?: readonly string[];
}

export interface MatchSummary {
  /** Pending events looked at. */
  examined: number;
  /** Those this call matched with their attempt, by the outcome they got (not those another caller matched meanwhile). */
  matched: Partial<Record<EventOutcome, number>>;
  stillPending: number;
}

function pendingCondition(keys: MatchKeys | 'all'): SQL | undefined {
  const pending = eq(webhookEvents.outcome, 'pending_match');
  if (keys === 'all') return pending;
  const byKey: SQL[] = [];
  if (keys.uniqueIds?.length) byKey.push(inArray(webhookEvents.attemptUniqueId, [...keys.uniqueIds]));
  if (keys.transactionIds?.length) byKey.push(inArray(webhookEvents.transactionId, [...keys.transactionIds]));
  return byKey.length ? and(pending, or(...byKey)) : undefined;
}

export async function matchPendingEvents(context: EventContext, keys: MatchKeys | 'all'): Promise<MatchSummary> {
  const summary: MatchSummary = { examined: 0, matched: {}, stillPending: 0 };
  const condition = pendingCondition(keys);
  if (!condition) return summary;
  // Oldest first, so an attempt meets its events in the order EMP sent them where it can.
  const pending = await context.db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(condition)
    .orderBy(asc(webhookEvents.receivedAt), asc(webhookEvents.id));
  for (const { id } of pending) {
    summary.examined++;
    const { outcome, rerun } = await reprocessEvent(context, id);
    if (outcome === 'pending_match') summary.stillPending++;
    else if (rerun) summary.matched[outcome] = (summary.matched[outcome] ?? 0) + 1;
  }
  if (summary.examined > summary.stillPending) context.log.info({ keys, ...summary }, 'pending events matched');
  return summary;
}
