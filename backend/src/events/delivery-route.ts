/**
 * POST /qstash/emp-events: QStash delivers each EMP event the edge accepted. The answer tells
 * QStash what to do next:
 *
 * - 401: not signed by QStash for this URL (missing, tampered, other key, other URL); nothing
 *   is read or written.
 * - 200: the event is committed: recorded to be confirmed with EMP (awaiting_confirmation),
 *   recorded as ignored (a kind Tether does not act on), or recognised as a duplicate. Also for a signed body that is malformed but carries a dedup key: it is recorded
 *   as a failed event (list it with `events:list --outcome failed`, replay it after a fix), since
 *   redelivering the same bytes cannot succeed.
 * - 489 with Upstash-NonRetryable-Error: a signed body without a dedup key cannot be recorded
 *   anywhere here; QStash moves it straight to its dead-letter queue (`events:dlq`) instead of
 *   retrying it for days. A plain 4xx would be retried like a 5xx.
 * - 500: not committed (database down, transaction aborted); QStash retries with backoff and
 *   finally dead-letters it. The event was recorded as failed where that was still possible.
 */
import type { Receiver } from '@upstash/qstash';
import { forwardedEventSchema } from '@tether/shared/notification';
import { Hono } from 'hono';
import { nonRetryable, parseJson, readSignedBody } from '../http/qstash-delivery';
import { EventBatcher, type EventBatcherOptions } from './batcher';
import type { EventContext } from './context';
import { describeError } from './describe-error';
import { recordFailedNotification, recordNotification, recordNotifications } from './notifications';

export const EMP_EVENTS_PATH = '/qstash/emp-events';

export interface EmpEventRouteOptions {
  context: EventContext;
  receiver: Receiver;
  /** How QStash reaches this backend; the signature's subject must be this URL plus the path. */
  publicUrl: string;
  batching?: EventBatcherOptions;
  /** Called after notifications were recorded to wait for EMP's confirmation (the confirmer's wake-up). */
  onAwaiting?: () => void;
}

/** Up to 100 events a transaction, 5 transactions at once: half the default pool of 10 connections. */
const DEFAULT_BATCHING: EventBatcherOptions = { maxBatch: 100, maxConcurrentBatches: 5 };

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string')
  );
}

/** What can be kept of a signed but malformed delivery: its dedup key, and its fields or its bytes. */
function salvage(parsed: unknown, body: string) {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { dedupKey, fields, receivedAt, traceId } = parsed as Record<string, unknown>;
  if (typeof dedupKey !== 'string' || dedupKey.length === 0 || dedupKey.length > 600) return undefined;
  const received = typeof receivedAt === 'string' ? new Date(receivedAt) : new Date(Number.NaN);
  return {
    dedupKey,
    receivedAt: Number.isNaN(received.getTime()) ? new Date() : received,
    traceId: typeof traceId === 'string' ? traceId.slice(0, 128) : undefined,
    fields: isStringRecord(fields) ? fields : { raw_body: body },
  };
}

export function empEventRoutes({ context, receiver, publicUrl, batching = DEFAULT_BATCHING, onAwaiting }: EmpEventRouteOptions) {
  const url = `${publicUrl}${EMP_EVENTS_PATH}`;
  // Notifications are recorded, never applied as they come: see notifications.ts.
  const batcher = new EventBatcher(context, batching, {
    many: (events) => recordNotifications(context, events),
    one: (event) => recordNotification(context, event),
  });
  // Its body is capped with every other one (http/body-caps.ts).
  return new Hono().post(EMP_EVENTS_PATH, async (c) => {
    const signed = await readSignedBody(c, { receiver, url, log: context.log });
    if (!signed.ok) return signed.response;
    const { body } = signed;

    const parsed = parseJson(body);
    const forwarded = forwardedEventSchema.safeParse(parsed);
    if (!forwarded.success) {
      const kept = salvage(parsed, body);
      const problem = `malformed event: ${forwarded.error.issues.map((issue) => `${issue.path.join('.') || 'body'} ${issue.message}`).join('; ')}`;
      context.log.error({ messageId: c.req.header('upstash-message-id'), dedupKey: kept?.dedupKey, problem }, 'malformed event delivered');
      if (!kept) return nonRetryable(c, problem);
      const eventId = await recordFailedNotification(context, kept, problem);
      return c.json({ eventId, outcome: 'failed', error: problem });
    }

    const event = forwarded.data;
    try {
      const result = await batcher.submit({
        dedupKey: event.dedupKey,
        receivedAt: new Date(event.receivedAt),
        traceId: event.traceId,
        fields: event.fields,
      });
      if (result.outcome === 'awaiting_confirmation') onAwaiting?.();
      return c.json(result);
    } catch (error) {
      context.log.error({ error: describeError(error), dedupKey: event.dedupKey, traceId: event.traceId }, 'event not committed; QStash will retry');
      return c.json({ error: 'event not committed, retry' }, 500);
    }
  });
}
