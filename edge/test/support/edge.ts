/**
 * Builds the edge app inside workerd against the stand-ins, with a counter of publishes (what
 * the edge forwarded, before QStash's own deduplication) and the log lines it wrote.
 */
import { signNotification, type SignatureAlgorithm } from '@tether/shared/signature';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createEdgeApp } from '../../src/app';
import { parseEdgeConfig } from '../../src/config';
import type { EventForwarder } from '../../src/forwarder';
import { createLogger } from '../../src/log';
import { createUpstashDependencies } from '../../src/upstash';

export const PASSWORD = env.EMP_API_PASSWORD;

let filePrefix: string | undefined;
/** Redis keys of one test file, apart from every other file's and run's. Made lazily: workerd forbids randomness at load time. */
const keyPrefix = () => (filePrefix ??= `${env.REDIS_KEY_PREFIX}${crypto.randomUUID()}:`);

export interface TestEdgeOptions {
  /** Environment overrides, e.g. a URL nothing listens on. */
  vars?: Record<string, string>;
  /** Wraps the real forwarder, e.g. to hold a publish back. */
  wrapForwarder?: (forwarder: EventForwarder) => EventForwarder;
}

export interface Sent {
  response: Response;
  text: string;
  /** Resolves when the work after the response (logs, the "forwarded" mark) is done. */
  settled: Promise<void>;
}

export function createTestEdge(options: TestEdgeOptions = {}) {
  const config = parseEdgeConfig({ ...env, REDIS_KEY_PREFIX: keyPrefix(), ...options.vars });
  const upstash = createUpstashDependencies(config);
  const publishes = new Map<string, number>();
  const counting: EventForwarder = {
    forward(event) {
      publishes.set(event.dedupKey, (publishes.get(event.dedupKey) ?? 0) + 1);
      return upstash.forwarder.forward(event);
    },
    ping: () => upstash.forwarder.ping(),
  };
  const logs: Record<string, unknown>[] = [];
  const app = createEdgeApp({
    config,
    dedup: upstash.dedup,
    forwarder: options.wrapForwarder ? options.wrapForwarder(counting) : counting,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
  });

  async function send(request: Request): Promise<Sent> {
    const ctx = createExecutionContext();
    const response = await app.fetch(request, env, ctx);
    const text = await response.text();
    return { response, text, settled: waitOnExecutionContext(ctx) };
  }

  return {
    config,
    logs,
    publishes: (dedupKey: string) => publishes.get(dedupKey) ?? 0,
    send,
    /** Posts a notification form-encoded, as Genesis does, and waits for the work after the response. */
    async post(fields: Record<string, string>, init: { headers?: Record<string, string> } = {}): Promise<Sent> {
      const sent = await send(notificationRequest(new URLSearchParams(fields).toString(), init.headers));
      await sent.settled;
      return sent;
    },
    get: (path: string) => send(new Request(`http://edge.test${path}`)),
  };
}

export function notificationRequest(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request('http://edge.test/emp/notifications', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

export function randomUniqueId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}

/** An SDD sale notification as Genesis sends it, signed with `password` (SHA-1 unless told). */
export async function sddNotification(
  options: { uniqueId?: string; status?: string; password?: string; algorithm?: SignatureAlgorithm; extra?: Record<string, string> } = {},
): Promise<Record<string, string>> {
  const uniqueId = options.uniqueId ?? randomUniqueId();
  return {
    transaction_id: `tm_api_${uniqueId.slice(0, 8)}`,
    terminal_token: 'e4de7c9d4ea4bccea3cac90190e2ea0be8ad7610',
    unique_id: uniqueId,
    transaction_type: 'sdd_sale',
    status: options.status ?? 'approved',
    amount: '100',
    bank_account_number: 'DE89370400440532013000',
    account_holder: 'Travis Pastrana',
    first_name: 'Travis',
    last_name: 'Pastrana',
    customer_email: 'travis@example.com',
    ...options.extra,
    signature: await signNotification(uniqueId, options.password ?? PASSWORD, options.algorithm ?? 'SHA-1'),
  };
}

export function expectedEcho(
  element: 'unique_id' | 'wpf_unique_id' | 'reference_id' | 'payment_transaction_unique_id',
  id: string,
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<notification_echo>\n  <${element}>${id}</${element}>\n</notification_echo>\n`;
}

/** How often the sink (the backend's stand-in) received the event, once QStash has had time to deliver. */
export async function deliveries(dedupKey: string, options: { atLeast?: number; settleMs?: number } = {}): Promise<number> {
  const { atLeast = 1, settleMs = 300 } = options;
  const read = async () => {
    const response = await fetch(`${env.TEST_SINK_URL}/deliveries?dedupKey=${encodeURIComponent(dedupKey)}`);
    return ((await response.json()) as { count: number }).count;
  };
  const deadline = Date.now() + 10_000;
  let count = await read();
  while (count < atLeast && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    count = await read();
  }
  // A second delivery would follow the first closely; give it the chance to show up.
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return read();
}
