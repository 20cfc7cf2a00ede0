/**
 * Upstash-Callback and Upstash-Failure-Callback: after an attempt (callback) or once retries are
 * exhausted (failure callback), QStash publishes a new message carrying the destination's response
 * to the callback URL, with the original message's retry setting.
 */
import type { AttemptOutcome } from './delivery';
import { DEFAULT_DELIVERY, type MessageSpec } from './message-spec';
import { insertMessage } from './message-insert';
import type { Queryable, StoredMessage } from './message-store';

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export async function publishCallback(
  db: Queryable,
  callbackUrl: string,
  message: StoredMessage,
  outcome: AttemptOutcome,
  extra: { dlqId?: string } = {},
): Promise<void> {
  const { spec } = message;
  const payload = {
    status: outcome.status ?? 0,
    header: outcome.responseHeaders,
    body: base64(outcome.responseBody),
    retried: message.retried,
    maxRetries: spec.maxRetries,
    ...extra,
    sourceMessageId: message.messageId,
    url: spec.url,
    method: spec.method,
    sourceHeader: Object.fromEntries(Object.entries(spec.headers).map(([name, value]) => [name, [value]])),
    sourceBody: base64(message.body),
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    scheduleId: spec.scheduleId ?? undefined,
  };
  const callbackSpec: MessageSpec = {
    ...DEFAULT_DELIVERY,
    maxRetries: spec.maxRetries,
    url: callbackUrl,
    headers: { 'content-type': 'application/json' },
    queueName: null,
    scheduleId: null,
  };
  const now = Date.now();
  await insertMessage(db, { spec: callbackSpec, body: Buffer.from(JSON.stringify(payload)), notBefore: now, now });
}
