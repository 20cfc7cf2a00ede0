/**
 * POST /emp/notifications: the one public door for EMP. Rejections happen before any side
 * effect; an event is acknowledged (the echo) only once QStash holds it, and a retry of an
 * acknowledged event is echoed without being forwarded again. See dedup.ts for the protocol.
 */
import { identifyNotification, notificationEcho, withoutSignature, type ForwardedEvent } from '@tether/shared/notification';
import { verifyNotificationSignature } from '@tether/shared/signature';
import type { Context } from 'hono';
import { readBodyWithin } from './body';
import type { EdgeConfig } from './config';
import type { NotificationCounters, Outcome } from './counters';
import type { DedupStore } from './dedup';
import type { EventForwarder } from './forwarder';
import { describeError, type Logger, type LogLevel } from './log';
import { parseNotification } from './parse';

export interface NotificationDependencies {
  config: EdgeConfig;
  dedup: DedupStore;
  forwarder: EventForwarder;
  logger: Logger;
  counters: NotificationCounters;
  clientIp(c: Context): string | undefined;
}

/** What to answer, and what to log about it once answered. */
interface Answer {
  response: Response;
  outcome: Outcome;
  level: LogLevel;
  details?: Record<string, unknown>;
}

/** A twin of this event is being published, or a dependency failed; EMP should try again soon. */
const RETRY_AFTER_SECONDS = '5';

const ECHO_HEADERS = { 'content-type': 'text/xml' };

/**
 * A twin that finds its event being published asks again after these pauses (3.15 s in all)
 * instead of answering 503 at once: EMP resends soon after a miss, so twins often overlap the
 * original's publish. Asking again settles it either way: "forwarded" is echoed, a released
 * claim (the original's publish failed) is claimed and published by the twin itself.
 */
export const TWIN_WAIT_MS = [50, 100, 200, 400, 800, 1_600];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const refuse = (status: number, error: string, outcome: Outcome, details?: Record<string, unknown>): Answer => ({
  response: Response.json({ error }, { status }),
  outcome,
  level: 'warn',
  details,
});

const retryLater = (error: string, outcome: Outcome, details: Record<string, unknown>): Answer => ({
  response: Response.json({ error }, { status: 503, headers: { 'retry-after': RETRY_AFTER_SECONDS } }),
  outcome,
  level: outcome === 'in_flight' ? 'info' : 'error',
  details,
});

/**
 * Milliseconds since `start` (a performance.now() reading), to the hundredth: the edge's own share
 * of a request is well under a millisecond, which whole milliseconds (Date.now) cannot show.
 */
const msSince = (start: number) => Math.round((performance.now() - start) * 100) / 100;

export function notificationHandler(deps: NotificationDependencies) {
  return async (c: Context): Promise<Response> => {
    const startedAt = performance.now();
    const receivedAt = new Date();
    const traceId = crypto.randomUUID();
    const answer = await handle(c, deps, receivedAt, traceId);
    const durationMs = msSince(startedAt);
    afterResponse(c, () => {
      deps.counters.record(answer.outcome, answer.response.status);
      deps.logger.log(answer.level, 'notification', {
        outcome: answer.outcome,
        status: answer.response.status,
        traceId,
        durationMs,
        ...answer.details,
      });
    });
    return answer.response;
  };
}

async function handle(c: Context, deps: NotificationDependencies, receivedAt: Date, traceId: string): Promise<Answer> {
  const { config, dedup, forwarder, logger } = deps;

  const body = await readBodyWithin(c.req.raw, config.maxNotificationBytes);
  if (!body.ok) return refuse(400, `notification body exceeds ${config.maxNotificationBytes} bytes`, 'too_large');
  const parsed = parseNotification(body.bytes, c.req.header('content-type'));
  if (!parsed.ok) return refuse(400, parsed.reason, 'invalid', { reason: parsed.reason });

  const { fields } = parsed;
  const identity = identifyNotification(fields);
  const details: Record<string, unknown> = {
    kind: identity.kind,
    id: identity.id,
    dedupKey: identity.dedupKey,
    transactionType: fields.transaction_type ?? fields.payment_transaction_transaction_type,
    notificationStatus: fields.status ?? fields.wpf_status,
  };

  if (!(await verifyNotificationSignature(identity.id, fields.signature!, config.empApiPasswords))) {
    return refuse(401, 'invalid signature', 'bad_signature', { ...details, clientIp: deps.clientIp(c) });
  }

  // Round-trip times, logged so that slow acknowledgements can be pinned on Redis or QStash.
  const claimStartedAt = performance.now();
  let claim;
  try {
    claim = await dedup.claim(identity.dedupKey, traceId);
    details.claimMs = msSince(claimStartedAt);
    for (const wait of TWIN_WAIT_MS) {
      if (claim.state !== 'in-flight') break;
      await pause(wait);
      claim = await dedup.claim(identity.dedupKey, traceId);
      details.twinWaitMs = msSince(claimStartedAt) - (details.claimMs as number);
    }
  } catch (error) {
    return retryLater('deduplication store unavailable', 'dedup_unavailable', { ...details, error: describeError(error) });
  }
  const echo = () => new Response(notificationEcho(identity), { status: 200, headers: ECHO_HEADERS });
  if (claim.state === 'forwarded') return { response: echo(), outcome: 'duplicate', level: 'info', details };
  if (claim.state === 'in-flight') return retryLater('notification is being processed', 'in_flight', details);

  const event: ForwardedEvent = {
    version: 1,
    dedupKey: identity.dedupKey,
    receivedAt: receivedAt.toISOString(),
    traceId,
    fields: withoutSignature(fields),
  };
  const publishStartedAt = performance.now();
  let accepted;
  try {
    accepted = await forwarder.forward(event);
    details.publishMs = msSince(publishStartedAt);
  } catch (error) {
    // Released before answering, so that EMP's next attempt can claim the event again.
    const releaseError = await claim.release().then(
      () => undefined,
      (failure: unknown) => describeError(failure),
    );
    return retryLater('forwarding unavailable', 'forward_failed', { ...details, error: describeError(error), releaseError });
  }

  afterResponse(c, () =>
    claim.markForwarded().catch((error: unknown) =>
      // The claim then lapses on its own; a later resend is published again and QStash or the backend drops it.
      logger.log('error', 'dedup mark failed', { traceId, dedupKey: identity.dedupKey, error: describeError(error) }),
    ),
  );
  return {
    response: echo(),
    outcome: 'forwarded',
    level: 'info',
    details: { ...details, messageId: accepted.messageId, deduplicated: accepted.deduplicated },
  };
}

/** Runs `task` after the response has gone out, keeping the Worker alive until it is done. */
export function afterResponse(c: Context, task: () => unknown): void {
  c.executionCtx.waitUntil(new Promise<void>((resolve) => setTimeout(resolve, 0)).then(task));
}
