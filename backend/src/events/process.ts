/**
 * Exactly-once processing of EMP events. The webhook_events rows (unique on the edge's dedup key)
 * and the events' effects commit in one transaction, so a redelivery — after the edge's Redis
 * forgot the key, or at the same moment on another backend — finds its row and changes nothing,
 * and a crash before the commit leaves no trace for the redelivery to trip over.
 *
 * Several events may share a transaction (`processEvents`): the delivery endpoint groups the
 * deliveries that arrive while earlier ones are committing, which is what lets one process keep
 * up with thousands of events a second. Each event is still decided on its own, in order.
 *
 * Every path locks attempts first and event rows second (a new row is invisible to others until
 * it commits), so deliveries, replays and matching cannot deadlock each other.
 */
import { eq, sql, type SQL } from 'drizzle-orm';
import { recordAudit, type AuditActor } from '../audit/record';
import type { Executor } from '../db/executor';
import { webhookEvents } from '../db/schema';
import type { EventContext } from './context';
import { describeError } from './describe-error';
import {
  applyToAttempts,
  changesAttempt,
  decideAndAdvance,
  lockAttempts,
  type Application,
  type EffectResult,
  type LockedAttempt,
  type LockedAttempts,
  type Verdict,
} from './effect';
import { interpretEvent, type EventMeaning, type Interpretation } from './interpret';
import { matchPendingEvents, type MatchKeys } from './match';
import { recordOutcome } from './metrics';
import { REOPENABLE_OUTCOMES, type EventOutcome, type EventSource } from './outcome';

// Billing and reconciliation import it from here.
export { describeError };

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
  /** Why the event was not applied (stale, illegal, failed), as recorded on it. */
  error?: string;
  /** The attempt the event was recorded for, if any. */
  attemptId?: number;
  /** The event was recorded before this call; nothing was applied twice. */
  duplicate: boolean;
}

export class EventNotFound extends Error {
  override name = 'EventNotFound';
}

/** One of the batch's events is recorded already (earlier, or by another transaction meanwhile): decide the batch again. */
class ConcurrentDelivery extends Error {}

/** Deadlock and serialization failures: the transaction was rolled back and can simply run again. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01']);
/** The first round assumes every event is new (see settle); three more after it, as many as before it did. */
const MAX_ROUNDS = 4;

interface Committed {
  eventId: number;
  outcome: EventOutcome;
  error?: string;
  attemptId?: number;
  receivedAt: Date;
  meaning?: EventMeaning;
  effect?: EffectResult;
}

function isReopenable(outcome: string): boolean {
  return (REOPENABLE_OUTCOMES as readonly string[]).includes(outcome);
}

function judge(interpretation: Interpretation, attempts: LockedAttempts, attempt: LockedAttempt | undefined): Verdict {
  if (!interpretation.ok) return { outcome: 'failed', error: interpretation.error };
  return decideAndAdvance(attempt, interpretation.meaning, attempts.uniqueIdHolder(interpretation.meaning));
}

/** A webhook_events row as written, column names as in the table. */
export interface EventRow {
  dedup_key: string;
  unique_id: string | null;
  transaction_id: string | null;
  transaction_type: string | null;
  emp_status: string | null;
  payload: Record<string, string>;
  trace_id: string | null;
  received_at: Date;
  attempt_unique_id: string | null;
  outcome: EventOutcome;
  error: string | null;
  billing_attempt_id: number | null;
  source: EventSource;
}

function eventRow(
  event: IncomingEvent,
  processing: Pick<EventRow, 'attempt_unique_id' | 'outcome' | 'error' | 'billing_attempt_id'> & Partial<Pick<EventRow, 'source'>>,
): EventRow {
  const { fields } = event;
  return {
    dedup_key: event.dedupKey,
    unique_id: fields.unique_id || fields.wpf_unique_id || null,
    transaction_id: fields.transaction_id || fields.wpf_transaction_id || null,
    transaction_type: fields.transaction_type || fields.payment_transaction_transaction_type || null,
    emp_status: fields.status || fields.notification_status || fields.wpf_status || null,
    payload: fields,
    trace_id: event.traceId ?? null,
    received_at: event.receivedAt,
    source: 'emp_api',
    ...processing,
  };
}

/**
 * One statement for any number of rows, a typed array parameter per column (no JSON to build in
 * Node and parse in PostgreSQL, no column names repeated per row), in key order, so two
 * transactions inserting the same keys wait for each other rather than deadlock.
 */
function insertEventRows(rows: readonly EventRow[], onConflict: SQL) {
  const column = <T>(pick: (row: EventRow) => T) => sql.param(rows.map(pick));
  return sql`
    insert into webhook_events (dedup_key, unique_id, transaction_id, transaction_type, emp_status, payload, trace_id,
                                received_at, attempt_unique_id, outcome, error, billing_attempt_id, source, processed_at)
    select r.*, clock_timestamp()
    from unnest(${column((row) => row.dedup_key)}::text[], ${column((row) => row.unique_id)}::text[],
                ${column((row) => row.transaction_id)}::text[], ${column((row) => row.transaction_type)}::text[],
                ${column((row) => row.emp_status)}::text[], ${column((row) => JSON.stringify(row.payload))}::jsonb[],
                ${column((row) => row.trace_id)}::text[], ${column((row) => row.received_at.toISOString())}::timestamptz[],
                ${column((row) => row.attempt_unique_id)}::text[], ${column((row) => row.outcome)}::text[],
                ${column((row) => row.error)}::text[], ${column((row) => row.billing_attempt_id)}::bigint[],
                ${column((row) => row.source)}::text[])
         as r(dedup_key, unique_id, transaction_id, transaction_type, emp_status, payload, trace_id, received_at,
              attempt_unique_id, outcome, error, billing_attempt_id, source)
    order by r.dedup_key
    ${onConflict}
    returning id, dedup_key`;
}

/** Metrics, logs, and matching what the commits made matchable. Never fails a committed event. */
async function afterCommit(context: EventContext, committed: readonly Committed[], options: { recheckPending: boolean }) {
  const keys = { uniqueIds: new Set<string>(), transactionIds: new Set<string>() };
  for (const event of committed) {
    recordOutcome(context.metrics, event.outcome, event.receivedAt);
    if (event.effect?.blacklistedNow) context.metrics.blacklisted.inc();
    const attention = event.outcome === 'illegal' || event.outcome === 'failed';
    context.log[attention ? 'warn' : 'debug']({ eventId: event.eventId, outcome: event.outcome, error: event.error }, 'event processed');
    if (event.effect?.learnedUniqueId) keys.uniqueIds.add(event.effect.learnedUniqueId);
    // The attempt may have been identified while this event was in flight; matching only looks at
    // committed rows, so look once more now that this one is.
    if (options.recheckPending && event.outcome === 'pending_match' && event.meaning) {
      if (event.meaning.attemptUniqueId) keys.uniqueIds.add(event.meaning.attemptUniqueId);
      if (event.meaning.transactionId) keys.transactionIds.add(event.meaning.transactionId);
    }
  }
  if (keys.uniqueIds.size === 0 && keys.transactionIds.size === 0) return;
  const matchKeys: MatchKeys = { uniqueIds: [...keys.uniqueIds], transactionIds: [...keys.transactionIds] };
  try {
    await matchPendingEvents(context, matchKeys);
  } catch (error) {
    context.log.error({ error: describeError(error), ...matchKeys }, 'matching pending events failed; they stay pending');
  }
}

/** Records a delivery that could not be processed, so it is visible and replayable; retried on redelivery. */
export async function recordFailedEvent(
  context: EventContext,
  event: IncomingEvent,
  error: unknown,
  source: EventSource = 'emp_api',
): Promise<number | undefined> {
  const row = eventRow(event, { attempt_unique_id: null, outcome: 'failed', error: describeError(error), billing_attempt_id: null, source });
  const result = await context.db.execute<{ id: number }>(
    insertEventRows(
      [row],
      sql`on conflict (dedup_key) do update
          set error = excluded.error, processed_at = excluded.processed_at, attempts = webhook_events.attempts + 1
          where webhook_events.outcome = 'failed'`,
    ),
  );
  const [recorded] = result.rows;
  if (recorded) recordOutcome(context.metrics, 'failed', event.receivedAt);
  return recorded?.id;
}

/** An event's row as recorded before this batch. */
interface Recorded {
  eventId: number;
  outcome: EventOutcome;
  error?: string;
  attemptId?: number;
}

/** Where each event of a batch ended up. */
type Placement =
  | { kind: 'new'; fresh: number }
  | { kind: 'again'; fresh: number } // the same event twice in one batch
  | ({ kind: 'recorded' } & Recorded);

interface Fresh {
  event: IncomingEvent;
  meaning?: EventMeaning;
  attempt?: LockedAttempt;
  knownUniqueId: string | null;
  verdict: Verdict;
}

type RecordedRow = { id: number; dedup_key: string; outcome: EventOutcome; error: string | null; billing_attempt_id: number | null };

/**
 * `lookUpRecorded`: read which events were recorded before, so that they are not decided again.
 * Without it the batch assumes all are new, and the insert's ON CONFLICT DO NOTHING tells: one
 * row missing throws ConcurrentDelivery, the transaction rolls back, and the next round looks up.
 * Most batches carry only new events, so most save the statement.
 */
async function settle(
  tx: Executor,
  context: EventContext,
  events: readonly IncomingEvent[],
  interpretations: readonly Interpretation[],
  { lookUpRecorded }: { lookUpRecorded: boolean },
) {
  const attempts = await lockAttempts(
    tx,
    interpretations.flatMap((interpretation) => (interpretation.ok ? [interpretation.meaning] : [])),
  );
  const recorded = new Map<string, RecordedRow>();
  if (lookUpRecorded) {
    const found = await tx.execute<RecordedRow>(sql`
      select id, dedup_key, outcome, error, billing_attempt_id from webhook_events
      where dedup_key = any(${sql.param([...new Set(events.map((event) => event.dedupKey))])}::text[])`);
    for (const row of found.rows) recorded.set(row.dedup_key, row);
  }

  const fresh: Fresh[] = [];
  const freshByKey = new Map<string, number>();
  const placements: Placement[] = events.map((event, index): Placement => {
    const stored = recorded.get(event.dedupKey);
    if (stored) {
      return {
        kind: 'recorded',
        eventId: stored.id,
        outcome: stored.outcome,
        error: stored.error ?? undefined,
        attemptId: stored.billing_attempt_id ?? undefined,
      };
    }
    const earlier = freshByKey.get(event.dedupKey);
    if (earlier !== undefined) return { kind: 'again', fresh: earlier };
    const interpretation = interpretations[index]!;
    const meaning = interpretation.ok ? interpretation.meaning : undefined;
    const attempt = meaning ? attempts.find(meaning) : undefined;
    const knownUniqueId = attempt?.empUniqueId ?? null;
    freshByKey.set(event.dedupKey, fresh.length);
    fresh.push({ event, meaning, attempt, knownUniqueId, verdict: judge(interpretation, attempts, attempt) });
    return { kind: 'new', fresh: fresh.length - 1 };
  });

  const ids = new Map<string, number>();
  if (fresh.length > 0) {
    const rows = fresh.map(({ event, meaning, attempt, verdict }) =>
      eventRow(event, {
        attempt_unique_id: meaning?.attemptUniqueId ?? null,
        outcome: verdict.outcome,
        error: verdict.error ?? null,
        billing_attempt_id: attempt?.id ?? null,
      }),
    );
    const inserted = await tx.execute<{ id: number; dedup_key: string }>(
      insertEventRows(rows, sql`on conflict (dedup_key) do nothing`),
    );
    if (inserted.rows.length < fresh.length) throw new ConcurrentDelivery();
    for (const row of inserted.rows) ids.set(row.dedup_key, row.id);
  }

  const refOf = ({ event }: Fresh) => ({ id: ids.get(event.dedupKey)!, dedupKey: event.dedupKey, receivedAt: event.receivedAt });
  const applications: Application[] = fresh.flatMap((item) =>
    item.attempt && item.meaning && changesAttempt(item.verdict)
      ? [{ attempt: item.attempt, meaning: item.meaning, verdict: item.verdict, event: refOf(item), knownUniqueId: item.knownUniqueId }]
      : [],
  );
  const effects = await applyToAttempts(tx, context, applications);
  const committed: Committed[] = fresh.map((item) => {
    const eventId = ids.get(item.event.dedupKey)!;
    return {
      eventId,
      outcome: item.verdict.outcome,
      error: item.verdict.error,
      attemptId: item.attempt?.id,
      receivedAt: item.event.receivedAt,
      meaning: item.meaning,
      effect: effects.get(eventId),
    };
  });
  return { placements, committed };
}

/**
 * Records the events and applies their effects, in one transaction, each once and in the order
 * given. An event recorded before is skipped, unless its outcome is not final (pending_match,
 * failed): then it is run again. Throws when the transaction fails; nothing is then committed.
 */
export async function processEvents(context: EventContext, events: readonly IncomingEvent[]): Promise<ProcessResult[]> {
  if (events.length === 0) return [];
  const interpretations = events.map((event) => interpretEvent(event.fields));
  let settled: Awaited<ReturnType<typeof settle>> | undefined;
  for (let round = 1; !settled; round++) {
    try {
      settled = await context.db.transaction((tx) => settle(tx, context, events, interpretations, { lookUpRecorded: round > 1 }));
    } catch (error) {
      const transient = error instanceof ConcurrentDelivery || TRANSIENT_SQLSTATES.has((error as { code?: string }).code ?? '');
      if (!transient || round === MAX_ROUNDS) throw error;
    }
  }
  const { placements, committed } = settled;
  await afterCommit(context, committed, { recheckPending: true });

  const results: ProcessResult[] = [];
  for (const placement of placements) {
    if (placement.kind === 'recorded') {
      if (isReopenable(placement.outcome)) {
        results.push({ ...(await reprocessEvent(context, placement.eventId)), duplicate: true });
        continue;
      }
      context.metrics.duplicates.inc();
      const { kind: _kind, ...recordedBefore } = placement;
      results.push({ ...recordedBefore, duplicate: true });
    } else {
      const { eventId, outcome, error, attemptId } = committed[placement.fresh]!;
      if (placement.kind === 'again') context.metrics.duplicates.inc();
      results.push({ eventId, outcome, error, attemptId, duplicate: placement.kind === 'again' });
    }
  }
  return results;
}

/**
 * One event, in a transaction of its own. When it cannot be committed, it is recorded as failed
 * (best effort) and the error is thrown: the caller should have it delivered again.
 */
export async function processEvent(context: EventContext, event: IncomingEvent): Promise<ProcessResult> {
  try {
    return (await processEvents(context, [event]))[0]!;
  } catch (error) {
    await recordFailedEvent(context, event, error).catch((recordError: unknown) =>
      context.log.error({ error: describeError(recordError), dedupKey: event.dedupKey }, 'could not record the failed event'),
    );
    throw error;
  }
}

/** A failed notification that names a signed id waits for the confirmer again; one that names none stays failed. */
async function awaitConfirmationAgain(context: EventContext, eventId: number, replayedBy: AuditActor | undefined): Promise<EventOutcome> {
  return context.db.transaction(async (tx) => {
    const result = await tx.execute<{ outcome: EventOutcome }>(sql`
      update webhook_events set outcome = 'awaiting_confirmation', confirm_after = clock_timestamp(), error = null,
             attempts = attempts + 1
      where id = ${eventId} and outcome = 'failed' and unique_id is not null
      returning outcome`);
    const outcome = result.rows[0]?.outcome;
    if (outcome && replayedBy) await recordReplay(tx, replayedBy, eventId, 'failed', outcome);
    return outcome ?? 'failed';
  });
}

/** An operator's replay that changed the event, in the replay's own transaction. */
function recordReplay(tx: Executor, actor: AuditActor, eventId: number, before: string, after: string) {
  return recordAudit(tx, { actor, action: 'event.replayed', target: { kind: 'emp_event', id: eventId }, before: { outcome: before }, after: { outcome: after } });
}

export interface ReprocessResult {
  eventId: number;
  outcome: EventOutcome;
  error?: string;
  attemptId?: number;
  /** False when the event's outcome was final already, so nothing was run. */
  rerun: boolean;
}

/**
 * Runs a recorded event again through the same decisions and effects, if its outcome is not
 * final: a replay from the CLI, a redelivery of a failed event, or matching a pending one.
 * Idempotent: final events are left alone, and two callers at once run it once (the event row
 * is locked and re-read).
 */
export async function reprocessEvent(context: EventContext, eventId: number, replayedBy?: AuditActor): Promise<ReprocessResult> {
  const [stored] = await context.db.select().from(webhookEvents).where(eq(webhookEvents.id, eventId));
  if (!stored) throw new EventNotFound(`no event ${eventId}`);
  // Left as found, unless this call runs it again.
  const asFound = { eventId, error: stored.error ?? undefined, attemptId: stored.billingAttemptId ?? undefined, rerun: false };
  if (!isReopenable(stored.outcome)) return { ...asFound, outcome: stored.outcome as EventOutcome };
  // A notification is never applied as it claims: running one again means asking EMP again.
  if (stored.source === 'notification') return { ...asFound, outcome: await awaitConfirmationAgain(context, eventId, replayedBy), rerun: true };
  const interpretation = interpretEvent(stored.payload);
  const meaning = interpretation.ok ? interpretation.meaning : undefined;
  let committed: Committed | undefined;
  let outcomeFound: EventOutcome = stored.outcome as EventOutcome;
  try {
    committed = await context.db.transaction(async (tx) => {
      const attempts = await lockAttempts(tx, meaning ? [meaning] : []);
      const attempt = meaning ? attempts.find(meaning) : undefined;
      const [current] = await tx
        .select({ outcome: webhookEvents.outcome })
        .from(webhookEvents)
        .where(eq(webhookEvents.id, eventId))
        .for('update');
      if (!current || !isReopenable(current.outcome)) {
        outcomeFound = (current?.outcome as EventOutcome | undefined) ?? outcomeFound;
        return undefined;
      }
      const knownUniqueId = attempt?.empUniqueId ?? null;
      const verdict = judge(interpretation, attempts, attempt);
      // Still no attempt: leave the row as it is rather than rewrite it on every look.
      if (verdict.outcome === 'pending_match' && current.outcome === 'pending_match') return undefined;
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
      if (replayedBy) await recordReplay(tx, replayedBy, eventId, current.outcome, verdict.outcome);
      const event = { id: eventId, dedupKey: stored.dedupKey, receivedAt: stored.receivedAt };
      const effects =
        attempt && meaning && changesAttempt(verdict)
          ? await applyToAttempts(tx, context, [{ attempt, meaning, verdict, event, knownUniqueId }])
          : undefined;
      return {
        eventId,
        outcome: verdict.outcome,
        error: verdict.error,
        attemptId: attempt?.id,
        receivedAt: stored.receivedAt,
        meaning,
        effect: effects?.get(eventId),
      };
    });
  } catch (error) {
    await context.db
      .update(webhookEvents)
      .set({ error: describeError(error), attempts: sql`${webhookEvents.attempts} + 1` })
      .where(sql`${webhookEvents.id} = ${eventId} and ${webhookEvents.outcome} = 'failed'`)
      .catch((recordError: unknown) => context.log.error({ error: describeError(recordError), eventId }, 'could not record the failure'));
    throw error;
  }
  if (!committed) return { ...asFound, outcome: outcomeFound };
  await afterCommit(context, [committed], { recheckPending: false });
  return { eventId, outcome: committed.outcome, error: committed.error, attemptId: committed.attemptId, rerun: true };
}
