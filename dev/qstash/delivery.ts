/**
 * One delivery attempt: the stored body and headers plus the headers QStash adds, to the
 * destination with the message's method, cut off at its timeout.
 */
import type { StoredMessage } from './message-store';
import { signDelivery } from './signing';

export interface AttemptOutcome {
  delivered: boolean;
  /** Undefined when no response came back (refused, timed out). */
  status?: number;
  responseHeaders: Record<string, string[]>;
  responseBody: Uint8Array;
  error?: string;
}

const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

export function responseHeaderMap(headers: Headers): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const [name, value] of headers) (map[name] ??= []).push(value);
  return map;
}

export async function attemptDelivery(
  message: StoredMessage,
  options: { signingKey: string; timeoutMs: number; signal: AbortSignal },
): Promise<AttemptOutcome> {
  const { spec } = message;
  const headers = new Headers(spec.headers);
  headers.set('User-Agent', 'Upstash-QStash');
  headers.set('Upstash-Message-Id', message.messageId);
  headers.set('Upstash-Retried', String(message.retried));
  if (spec.scheduleId) headers.set('Upstash-Schedule-Id', spec.scheduleId);
  const withBody = !BODYLESS_METHODS.has(spec.method);
  headers.set('Upstash-Signature', await signDelivery(options.signingKey, spec.url, withBody ? message.body : new Uint8Array()));
  try {
    const response = await fetch(spec.url, {
      method: spec.method,
      headers,
      body: withBody ? message.body : undefined,
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    const responseBody = new Uint8Array(await response.arrayBuffer());
    return {
      delivered: response.status >= 200 && response.status < 300,
      status: response.status,
      responseHeaders: responseHeaderMap(response.headers),
      responseBody,
    };
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return { delivered: false, responseHeaders: {}, responseBody: new Uint8Array(), error: reason };
  }
}
