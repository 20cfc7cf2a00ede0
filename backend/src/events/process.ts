/**
 * Exactly-once processing of EMP events. The webhook_events row (unique on the edge's dedup key)
 * and the event's effect commit in one transaction, so a redelivery — after the edge's Redis
 * forgot the key, or at the same moment on another backend — finds the row and changes nothing,
 * and a crash before the commit leaves no trace for the redelivery to trip over.
 *
 * Every path locks the attempt first and the event row second (a new row is invisible to others
 * until it commits), so the delivery path, replays and matching cannot deadlock each other.
 */
import { eq, sql } from 'drizzle-orm';
import { webhookEvents } from '../db/schema';
import type { EventContext } from './context';
import { applyEffect, changesAttempt, decide, lockAttempt, type EffectResult, type Verdict } from './effect';
import { interpretEvent, type EventMeaning, type Interpretation } from './interpret';
import { matchPendingEvents } from './match';
import { recordOutcome } from './metrics';
import { REOPENABLE_OUTCOMES, type EventOutcome } from './outcome';

/** An event as it enters the backend: forwarded by the edge, or built by reconciliation. */
export interface IncomingEvent {
  dedupKey: string;
  /** When the edge (or reconciliation) received it; latency is measured from here. */
  receivedAt: Date;
  traceId?: string;
  fields: Record<string, string>;
}

export interface ProcessResult {
  eventId: number;
  outcome: EventOutcome;
  /** The event was recorded before this call; nothing was applied twice. */
  duplicate: boolean;
}

export class EventNotFound extends Error {
  override name = 'EventNotFound';
}

interface Committed {
  eventId: number;
  outcome: EventOutcome;
  error?: string;
  receivedAt: Date;
  meaning?: EventMeaning;
  effect?: EffectResult;
}

function judge(interpretation: Interpretation, attempt: Parameters<typeof decide>[0]): Verdict {
  return interpretation.ok ? decide(attempt, interpretation.meaning) : { outcome: 'failed', error: interpretation.error };
}

/** An error as text for logs and the event row (the log formatter would flatten an Error to {}). */
export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}

function storedColumns(event: IncomingEvent) {
  const { fields } = event;
  return {
    dedupKey: event.dedupKey,
    uniqueId: fields.unique_id || fields.wpf_unique_id || null,
    transactionId: fields.transaction_id || fields.wpf_transaction_id || null,
    transactionType: fields.transaction_type || fields.payment_transaction_transaction_type || null,
    empStatus: fields.status || fields.notification_status || fields.wpf_status || null,
    payload: fields,
    traceId: event.traceId ?? null,
    receivedAt: event.receivedAt,
  };
}

/** Metrics, and matching what the commit made matchable. Never fails the committed event. */
async function afterCommit(context: EventContext, committed: Committed, options: { recheckPending: boolean }) {
  recordOutcome(context.metrics, committed.outcome, committed.receivedAt);
  const attention = committed.outcome === 'illegal' || committed.outcome === 'failed';
  context.log[attention ? 'warn' : 'debug'](
    { eventId: committed.eventId, outcome: committed.outcome, error: committed.error },
    'event processed',
  );
  if (committed.effect?.blacklistedNow) context.metrics.blacklisted.inc();
  const { meaning } = committed;
  const keys = committed.effect?.learnedUniqueId
    ? { uniqueIds: [committed.effect.learnedUniqueId] }
    : // The attempt may have been identified while this event was in flight; matching only looks at
      // committed rows, so look once more now that this one is.
      options.recheckPending && committed.outcome === 'pending_match' && meaning
      ? { uniqueIds: meaning.attemptUniqueId ? [meaning.attemptUniqueId] : [], transactionIds: meaning.transactionId ? [meaning.transactionId] : [] }
      : undefined;
  if (!keys) return;
  try {
    await matchPendingEvents(context, keys);
  } catch (error) {
    context.log.error({ error: describeError(error), eventId: committed.eventId }, 'matching pending events failed; they stay pending');
  }
}

/** Records a delivery that could not be processed, so it is visible and replayable; retried on redelivery. */
export async function recordFailedEvent(context: EventContext, event: IncomingEvent, error: unknown): Promise<number | undefined> {
  const [row] = await context.db
    .insert(webhookEvents)
    .values({ ...storedColumns(event), outcome: 'failed', processedAt: new Date(), error: describeError(error) })
    .onConflictDoUpdate({
      target: webhookEvents.dedupKey,
      set: { error: describeError(error), processedAt: new Date(), attempts: sql`${webhookEvents.attempts} + 1` },
      setWhere: eq(webhookEvents.outcome, 'failed'),
    })
    .returning({ id: webhookEvents.id });
  if (row) recordOutcome(context.metrics, 'failed', event.receivedAt);
  return row?.id;
}

/**
 * Records the event and applies its effect, once. A delivery of an event already recorded is
 * skipped, unless its outcome is not final (pending_match, failed): then it is run again.
 * Throws when the transaction fails; the event is then recorded as failed (best effort) and the
 * caller should have it redelivered.
 */
export async function processEvent(context: EventContext, event: IncomingEvent): Promise<ProcessResult> {
  const interpretation = interpretEvent(event.fields);
  let committed: Committed | undefined;
  try {
    committed = await context.db.transaction(async (tx) => {
      const meaning = interpretation.ok ? interpretation.meaning : undefined;
      const attempt = meaning ? await lockAttempt(tx, meaning) : undefined;
      const verdict = judge(interpretation, attempt);
      const [row] = await tx
        .insert(webhookEvents)
        .values({
          ...storedColumns(event),
          attemptUniqueId: meaning?.attemptUniqueId ?? null,
          outcome: verdict.outcome,
          error: verdict.error ?? null,
          processedAt: new Date(),
          billingAttemptId: attempt?.id ?? null,
        })
        .onConflictDoNothing({ target: webhookEvents.dedupKey })
        .returning({ id: webhookEvents.id });
      if (!row) return undefined;
      const ref = { id: row.id, dedupKey: event.dedupKey, receivedAt: event.receivedAt };
      const effect = attempt && meaning && changesAttempt(verdict) ? await applyEffect(tx, context, attempt, meaning, verdict, ref) : undefined;
      return { eventId: row.id, outcome: verdict.outcome, error: verdict.error, receivedAt: event.receivedAt, meaning, effect };
    });
  } catch (error) {
    await recordFailedEvent(context, event, error).catch((recordError: unknown) =>
      context.log.error({ error: describeError(recordError), dedupKey: event.dedupKey }, 'could not record the failed event'),
    );
    throw error;
  }
  if (committed) {
    await afterCommit(context, committed, { recheckPending: true });
    return { eventId: committed.eventId, outcome: committed.outcome, duplicate: false };
  }
  const [existing] = await context.db
    .select({ id: webhookEvents.id, outcome: webhookEvents.outcome })
    .from(webhookEvents)
    .where(eq(webhookEvents.dedupKey, event.dedupKey));
  if (!existing) throw new Error(`event ${event.dedupKey} conflicted but cannot be found`);
  if ((REOPENABLE_OUTCOMES as readonly string[]).includes(existing.outcome)) {
    return { ...(await reprocessEvent(context, existing.id)), duplicate: true };
  }
  context.metrics.duplicates.inc();
  return { eventId: existing.id, outcome: existing.outcome as EventOutcome, duplicate: true };
}

export interface ReprocessResult {
  eventId: number;
  outcome: EventOutcome;
  /** False when the event's outcome was final already, so nothing was run. */
  rerun: boolean;
}

/**
 * Runs a recorded event again through the same path, if its outcome is not final: a replay from
 * the CLI, a redelivery of a failed event, or matching a pending one. Idempotent: final events
 * are left alone, and two callers at once run it once (the event row is locked and re-read).
 */
export async function reprocessEvent(context: EventContext, eventId: number): Promise<ReprocessResult> {
  const [stored] = await context.db.select().from(webhookEvents).where(eq(webhookEvents.id, eventId));
  if (!stored) throw new EventNotFound(`no event ${eventId}`);
  const isReopenable = (outcome: string) => (REOPENABLE_OUTCOMES as readonly string[]).includes(outcome);
  if (!isReopenable(stored.outcome)) return { eventId, outcome: stored.outcome as EventOutcome, rerun: false };
  const interpretation = interpretEvent(stored.payload);
  let committed: Committed | undefined;
  let unchangedOutcome: EventOutcome | undefined;
  try {
    committed = await context.db.transaction(async (tx) => {
      const meaning = interpretation.ok ? interpretation.meaning : undefined;
      const attempt = meaning ? await lockAttempt(tx, meaning) : undefined;
      const [current] = await tx
        .select({ outcome: webhookEvents.outcome })
        .from(webhookEvents)
        .where(eq(webhookEvents.id, eventId))
        .for('update');
      if (!current || !isReopenable(current.outcome)) {
        unchangedOutcome = current?.outcome as EventOutcome | undefined;
        return undefined;
      }
      const verdict = judge(interpretation, attempt);
      // Still no attempt: leave the row as it is rather than rewrite it on every look.
      if (verdict.outcome === 'pending_match' && current.outcome === 'pending_match') {
        unchangedOutcome = 'pending_match';
        return undefined;
      }
      await tx
        .update(webhookEvents)
        .set({
          outcome: verdict.outcome,
          error: verdict.error ?? null,
          processedAt: new Date(),
          billingAttemptId: attempt?.id ?? null,
          attemptUniqueId: meaning?.attemptUniqueId ?? null,
          attempts: sql`${webhookEvents.attempts} + 1`,
        })
        .where(eq(webhookEvents.id, eventId));
      const ref = { id: eventId, dedupKey: stored.dedupKey, receivedAt: stored.receivedAt };
      const effect = attempt && meaning && changesAttempt(verdict) ? await applyEffect(tx, context, attempt, meaning, verdict, ref) : undefined;
      return { eventId, outcome: verdict.outcome, error: verdict.error, receivedAt: stored.receivedAt, meaning, effect };
    });
  } catch (error) {
    await context.db
      .update(webhookEvents)
      .set({ error: describeError(error), attempts: sql`${webhookEvents.attempts} + 1` })
      .where(sql`${webhookEvents.id} = ${eventId} and ${webhookEvents.outcome} = 'failed'`)
      .catch((recordError: unknown) => context.log.error({ error: describeError(recordError), eventId }, 'could not record the failure'));
    throw error;
  }
  if (!committed) return { eventId, outcome: unchangedOutcome ?? (stored.outcome as EventOutcome), rerun: false };
  await afterCommit(context, committed, { recheckPending: false });
  return { eventId, outcome: committed.outcome, rerun: true };
}
