/** Messages and DLQ entries as the QStash API shows them (the official client's Message type). */
import type { StoredMessage } from './message-store';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** QStash shows a body as text when it is UTF-8, otherwise base64 under the *Base64 name. */
export function bodyFields<Name extends string>(name: Name, body: Uint8Array): Record<string, string> {
  try {
    return { [name]: utf8.decode(body) };
  } catch {
    return { [`${name}Base64`]: Buffer.from(body).toString('base64') };
  }
}

const orUndefined = <T>(value: T | null) => value ?? undefined;

export function messageView(message: StoredMessage) {
  const { spec } = message;
  const flow = spec.flowControl;
  return {
    messageId: message.messageId,
    url: spec.url,
    method: spec.method,
    header: Object.fromEntries(Object.entries(spec.headers).map(([name, value]) => [name, [value]])),
    ...bodyFields('body', message.body),
    maxRetries: spec.maxRetries,
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    callback: orUndefined(spec.callback),
    failureCallback: orUndefined(spec.failureCallback),
    queueName: orUndefined(spec.queueName),
    scheduleId: orUndefined(spec.scheduleId),
    flowControlKey: flow?.key,
    rate: orUndefined(flow?.rate ?? null),
    period: flow ? flow.periodMs / 1_000 : undefined,
    parallelism: orUndefined(flow?.parallelism ?? null),
    label: orUndefined(spec.label),
    labels: spec.label ? spec.label.split(',') : undefined,
  };
}
