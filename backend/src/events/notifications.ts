/**
 * Notifications as they arrive: recorded, never applied. A Genesis notification's signature
 * covers only its id and the API password, so a pair seen once can be sent again with any other
 * fields; what it says is a claim. Each notification is committed as awaiting_confirmation (once
 * per dedup key) and the confirmer asks EMP about the signed id before anything changes
 * (confirmation/). Kinds Tether does not act on are recorded as ignored, which still lets the
 * edge's echo stop EMP's resends.
 */
import { identifyNotification } from '@tether/shared/notification';
import { sql } from 'drizzle-orm';
import type { EventContext } from './context';
import { describeError } from './describe-error';
import { recordOutcome } from './metrics';
import type { EventOutcome } from './outcome';
import { recordFailedEvent, type EventRow, type IncomingEvent, type ProcessResult } from './process';

/** The fields worth keeping: everything but the signature, which with the id is a replayable credential. */
export function storedNotificationFields(fields: Record<string, string>): Record<string, string> {
  const { signature: _signature, ...kept } = fields;
  return kept;
}

/** A notification's row says nothing of an attempt until EMP has been asked. */
type NotificationRow = Omit<EventRow, 'attempt_unique_id' | 'billing_attempt_id' | 'source'>;

/** API and WPF notifications speak of payments; KYC and APM events never change a debit. */
function initialOutcome(fields: Record<string, string>): { outcome: EventOutcome; signedId: string | null; error: string | null } {
  try {
    const identity = identifyNotification(fields);
    const confirmable = identity.kind === 'api' || identity.kind === 'wpf';
    return {
      outcome: confirmable ? 'awaiting_confirmation' : 'ignored',
      signedId: identity.id,
      error: confirmable ? null : `a ${identity.kind} notification: Tether does not act on this kind`,
    };
  } catch (error) {
    return { outcome: 'failed', signedId: null, error: `not a notification Tether can identify: ${describeError(error)}` };
  }
}

function notificationRow(event: IncomingEvent): NotificationRow {
  const { fields } = event;
  const { outcome, signedId, error } = initialOutcome(fields);
  return {
    dedup_key: event.dedupKey,
    unique_id: signedId,
    transaction_id: fields.transaction_id || fields.wpf_transaction_id || null,
    transaction_type: fields.transaction_type || fields.payment_transaction_transaction_type || null,
    emp_status: fields.status || fields.notification_status || fields.wpf_status || null,
    payload: storedNotificationFields(fields),
    trace_id: event.traceId ?? null,
    received_at: event.receivedAt,
    outcome,
    error,
  };
}

/**
 * Records the notifications in one statement. A dedup key seen before is a duplicate, unless its
 * row failed (a malformed delivery, say): then this well-formed one takes its place.
 */
export async function recordNotifications(context: EventContext, events: readonly IncomingEvent[]): Promise<ProcessResult[]> {
  if (events.length === 0) return [];
  // One row a key: a statement may not insert and update the same row twice.
  const rows = [...new Map(events.map((event) => [event.dedupKey, notificationRow(event)])).values()];
  const inserted = await context.db.execute<{ id: number; dedup_key: string; outcome: EventOutcome }>(sql`
    insert into webhook_events (dedup_key, unique_id, transaction_id, transaction_type, emp_status, payload, trace_id,
                                received_at, outcome, error, source, confirm_after, processed_at)
    select dedup_key, unique_id, transaction_id, transaction_type, emp_status, payload, trace_id,
           received_at, outcome, error, 'notification', clock_timestamp(), clock_timestamp()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
      dedup_key text, unique_id text, transaction_id text, transaction_type text, emp_status text, payload jsonb,
      trace_id text, received_at timestamptz, outcome text, error text)
    order by dedup_key
    on conflict (dedup_key) do update
      set payload = excluded.payload, outcome = excluded.outcome, error = excluded.error, unique_id = excluded.unique_id,
          source = 'notification', confirm_after = excluded.confirm_after, attempts = webhook_events.attempts + 1
      where webhook_events.outcome = 'failed'
    returning id, dedup_key, outcome`);
  const fresh = new Map(inserted.rows.map((row) => [row.dedup_key, row]));
  const missing = rows.filter((row) => !fresh.has(row.dedup_key)).map((row) => row.dedup_key);
  const earlier = new Map<string, { id: number; outcome: EventOutcome }>();
  if (missing.length > 0) {
    const found = await context.db.execute<{ id: number; dedup_key: string; outcome: EventOutcome }>(sql`
      select id, dedup_key, outcome from webhook_events where dedup_key = any(${sql.param(missing)}::text[])`);
    for (const row of found.rows) earlier.set(row.dedup_key, row);
  }
  const seen = new Set<string>();
  return events.map((event) => {
    const row = fresh.get(event.dedupKey);
    const first = row !== undefined && !seen.has(event.dedupKey);
    seen.add(event.dedupKey);
    const recorded = row ?? earlier.get(event.dedupKey);
    if (!recorded) throw new Error(`notification ${event.dedupKey} was neither recorded nor found`);
    if (first) {
      if (recorded.outcome !== 'awaiting_confirmation') recordOutcome(context.metrics, recorded.outcome, event.receivedAt);
    } else {
      context.metrics.duplicates.inc();
    }
    return { eventId: recorded.id, outcome: recorded.outcome, duplicate: !first };
  });
}

/** One notification; a failure is recorded on a failed row where possible, then thrown. */
export async function recordNotification(context: EventContext, event: IncomingEvent): Promise<ProcessResult> {
  try {
    return (await recordNotifications(context, [event]))[0]!;
  } catch (error) {
    await recordFailedNotification(context, event, error).catch((recordError: unknown) =>
      context.log.error({ error: describeError(recordError), dedupKey: event.dedupKey }, 'could not record the failed notification'),
    );
    throw error;
  }
}

/** A delivery that could not be recorded, kept as failed (without its signature) so that it is visible; a redelivery replaces it. */
export function recordFailedNotification(context: EventContext, event: IncomingEvent, error: unknown): Promise<number | undefined> {
  return recordFailedEvent(context, { ...event, fields: storedNotificationFields(event.fields) }, error, 'notification');
}
