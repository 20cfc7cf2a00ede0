/**
 * POST /emp/notifications: the one public door for EMP. Rejections happen before any side
 * effect; an event is acknowledged (the echo) only once QStash holds it, and a retry of an
 * acknowledged event is echoed without being forwarded again. See dedup.ts for the protocol.
 */
import {
  identifyNotification,
  notificationEcho,
  type ForwardedEvent,
  type NotificationIdentity,
} from '@tether/shared/notification';
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

/** A twin of this event is being published; EMP should come back once it is done. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = '5';

const ECHO_HEADERS = { 'content-type': 'text/xml' };

export function notificationHandler(deps: NotificationDependencies) {
  const { config, dedup, forwarder, logger, counters } = deps;

  return async (c: Context): Promise<Response> => {
    const receivedAt = new Date();
    const traceId = crypto.randomUUID();
    let identity: NotificationIdentity | undefined;

    /** Answers now; counting and logging run after the response, through waitUntil. */
    const finish = (response: Response, outcome: Outcome, level: LogLevel, details: Record<string, unknown> = {}) => {
      afterResponse(c, () => {
        counters.record(outcome, response.status);
        logger.log(level, 'notification', {
          outcome,
          status: response.status,
          traceId,
          durationMs: Date.now() - receivedAt.getTime(),
          ...(identity && { kind: identity.kind, id: identity.id, dedupKey: identity.dedupKey }),
          ...details,
        });
      });
      return response;
    };
    const reject = (status: number, error: string, outcome: Outcome, level: LogLevel, details?: Record<string, unknown>) =>
      finish(Response.json({ error }, { status }), outcome, level, details);
    const retryLater = (error: string, outcome: Outcome, details: Record<string, unknown>) =>
      finish(
        Response.json({ error }, { status: 503, headers: { 'retry-after': IN_FLIGHT_RETRY_AFTER_SECONDS } }),
        outcome,
        outcome === 'in_flight' ? 'info' : 'error',
        details,
      );

    const body = await readBodyWithin(c.req.raw, config.maxNotificationBytes);
    if (!body.ok) {
      return reject(400, `notification body exceeds ${config.maxNotificationBytes} bytes`, 'too_large', 'warn');
    }
    const parsed = parseNotification(body.bytes, c.req.header('content-type'));
    if (!parsed.ok) return reject(400, parsed.reason, 'invalid', 'warn', { reason: parsed.reason });

    const { fields } = parsed;
    identity = identifyNotification(fields);
    const details = { transactionType: fields.transaction_type ?? fields.payment_transaction_transaction_type, notificationStatus: fields.status ?? fields.wpf_status };

    if (!(await verifyNotificationSignature(identity.id, fields.signature!, config.empApiPasswords))) {
      return reject(401, 'invalid signature', 'bad_signature', 'warn', { ...details, clientIp: deps.clientIp(c) });
    }

    let claim;
    try {
      claim = await dedup.claim(identity.dedupKey, traceId);
    } catch (error) {
      return retryLater('deduplication store unavailable', 'dedup_unavailable', { ...details, error: describeError(error) });
    }
    const echo = new Response(notificationEcho(identity), { status: 200, headers: ECHO_HEADERS });
    if (claim.state === 'forwarded') return finish(echo, 'duplicate', 'info', details);
    if (claim.state === 'in-flight') return retryLater('notification is being processed', 'in_flight', details);

    const event: ForwardedEvent = {
      version: 1,
      dedupKey: identity.dedupKey,
      receivedAt: receivedAt.toISOString(),
      traceId,
      fields,
    };
    let accepted;
    try {
      accepted = await forwarder.forward(event);
    } catch (error) {
      // Released before answering, so EMP's next attempt can claim the event again.
      const releaseError = await claim.release().then(
        () => undefined,
        (failure: unknown) => describeError(failure),
      );
      return retryLater('forwarding unavailable', 'forward_failed', {
        ...details,
        error: describeError(error),
        ...(releaseError && { releaseError }),
      });
    }

    afterResponse(c, () =>
      claim.markForwarded().catch((error: unknown) =>
        // The claim then expires on its own; a later retry is published again and QStash or the backend drops it.
        logger.log('error', 'dedup mark failed', { traceId, dedupKey: event.dedupKey, error: describeError(error) }),
      ),
    );
    return finish(echo, 'forwarded', 'info', { ...details, messageId: accepted.messageId, deduplicated: accepted.deduplicated });
  };
}

/** Runs `task` after the response has gone out, keeping the Worker alive until it is done. */
export function afterResponse(c: Context, task: () => unknown): void {
  c.executionCtx.waitUntil(new Promise<void>((resolve) => setTimeout(resolve, 0)).then(task));
}
