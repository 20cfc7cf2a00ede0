/**
 * What a publish asks for, read from its Upstash-* headers the way QStash reads them. The same
 * reading serves publish, enqueue, batch entries, schedules and the overrides of a DLQ retry.
 */
import { createHash } from 'node:crypto';
import { badRequest } from './api-error';
import { parseDurationMs } from './durations';
import { parseFlowControl, type FlowControl } from './flow-control';

export const DEFAULT_RETRIES = 3;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);
const FORWARD_PREFIX = 'upstash-forward-';

/** How a message is delivered; each field can be set by a header and overridden on DLQ retry. */
export interface DeliveryOptions {
  method: string;
  maxRetries: number;
  timeoutMs: number | null;
  callback: string | null;
  failureCallback: string | null;
  flowControl: FlowControl | null;
  label: string | null;
}

export interface MessageSpec extends DeliveryOptions {
  url: string;
  /** Headers the destination receives besides QStash's own: Content-Type and Upstash-Forward-*. */
  headers: Record<string, string>;
  queueName: string | null;
  scheduleId: string | null;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  method: 'POST',
  maxRetries: DEFAULT_RETRIES,
  timeoutMs: null,
  callback: null,
  failureCallback: null,
  flowControl: null,
  label: null,
};

export function readDestination(destination: string): string {
  // Some HTTP stacks squash "//" in paths; QStash destinations are full URLs, so restore them.
  const repaired = destination.replace(/^(https?):\/(?!\/)/, '$1://');
  let url: URL;
  try {
    url = new URL(repaired);
  } catch {
    throw badRequest(`invalid destination url: ${destination}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(`destination must be an http(s) url (url groups are not supported): ${destination}`);
  }
  return repaired;
}

export function readForwardedHeaders(headers: Headers): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name === 'content-type') forwarded[name] = value;
    else if (name.startsWith(FORWARD_PREFIX) && name.length > FORWARD_PREFIX.length) {
      forwarded[name.slice(FORWARD_PREFIX.length)] = value;
    }
  }
  return forwarded;
}

function readCallbackUrl(headers: Headers, name: string): string | null | undefined {
  const value = headers.get(name);
  return value === null ? undefined : readDestination(value);
}

/** Only the options the headers set, so that a DLQ retry can lay them over the stored ones. */
export function readDeliveryOverrides(headers: Headers): Partial<DeliveryOptions> {
  const overrides: Partial<DeliveryOptions> = {};
  const method = headers.get('upstash-method');
  if (method !== null) {
    if (!METHODS.has(method.toUpperCase())) throw badRequest(`invalid Upstash-Method: ${method}`);
    overrides.method = method.toUpperCase();
  }
  const retries = headers.get('upstash-retries');
  if (retries !== null) {
    if (!/^\d+$/.test(retries.trim())) throw badRequest(`invalid Upstash-Retries: ${retries}`);
    overrides.maxRetries = Number(retries);
  }
  const timeout = headers.get('upstash-timeout');
  if (timeout !== null) overrides.timeoutMs = parseDurationOrReject(timeout, 'Upstash-Timeout');
  const callback = readCallbackUrl(headers, 'upstash-callback');
  if (callback !== undefined) overrides.callback = callback;
  const failureCallback = readCallbackUrl(headers, 'upstash-failure-callback');
  if (failureCallback !== undefined) overrides.failureCallback = failureCallback;
  const flowKey = headers.get('upstash-flow-control-key');
  if (flowKey !== null) {
    overrides.flowControl = parseFlowControl(flowKey, headers.get('upstash-flow-control-value') ?? '');
  }
  const label = headers.get('upstash-label');
  if (label !== null) overrides.label = label;
  return overrides;
}

function parseDurationOrReject(text: string, header: string): number {
  try {
    return parseDurationMs(text);
  } catch {
    throw badRequest(`invalid ${header}: ${text}`);
  }
}

/** Upstash-Delay relative to now; not for Upstash-Not-Before, which is absolute and wins. */
export function readDelayMs(headers: Headers): number {
  const delay = headers.get('upstash-delay');
  return delay === null ? 0 : parseDurationOrReject(delay, 'Upstash-Delay');
}

/** The earliest time the first delivery may start, in unix milliseconds. */
export function readNotBefore(headers: Headers, now: number): number {
  const notBefore = headers.get('upstash-not-before');
  if (notBefore !== null) {
    if (!/^\d+$/.test(notBefore.trim())) throw badRequest(`invalid Upstash-Not-Before: ${notBefore}`);
    return Number(notBefore) * 1_000;
  }
  return now + readDelayMs(headers);
}

/**
 * The key a duplicate is recognised by: the given id, or for content-based deduplication a hash
 * of destination, body and the headers that reach the destination, as QStash documents it.
 */
export function readDeduplicationKey(headers: Headers, spec: MessageSpec, body: Uint8Array): string | null {
  const id = headers.get('upstash-deduplication-id');
  // Real QStash rejects this; failing here too keeps such ids from passing local tests.
  if (id?.includes(':')) throw badRequest("DeduplicationId cannot contain ':'");
  if (id !== null) return `id:${id}`;
  if (headers.get('upstash-content-based-deduplication')?.toLowerCase() !== 'true') return null;
  const hash = createHash('sha256').update(spec.url).update('\n');
  for (const name of Object.keys(spec.headers).sort()) hash.update(`${name}:${spec.headers[name]}\n`);
  return `content:${hash.update(body).digest('hex')}`;
}

export function readMessageSpec(
  headers: Headers,
  destination: string,
  context: { queueName?: string | null; scheduleId?: string | null } = {},
): MessageSpec {
  return {
    ...DEFAULT_DELIVERY,
    ...readDeliveryOverrides(headers),
    url: readDestination(destination),
    headers: readForwardedHeaders(headers),
    queueName: context.queueName ?? null,
    scheduleId: context.scheduleId ?? null,
  };
}
