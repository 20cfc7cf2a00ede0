/**
 * Forwards accepted notifications to the backend through QStash, which stores them durably and
 * delivers them (signed, with retries) to BACKEND_EVENTS_URL. Resolving means QStash has the
 * message; only then may the edge acknowledge the notification.
 */
import { hexDigest } from '@tether/shared/digest';
import type { ForwardedEvent } from '@tether/shared/notification';
import type { Client } from '@upstash/qstash';

export interface EventForwarder {
  /** Resolves once QStash has accepted the event; `deduplicated` when it already had it. */
  forward(event: ForwardedEvent): Promise<{ messageId: string; deduplicated: boolean }>;
  ping(): Promise<void>;
}

export interface QStashForwarderOptions {
  /** QStash API base URL and token, for the health probe (the client keeps its own copy). */
  url: string;
  token: string;
  destination: string;
  /** How often QStash retries a failed delivery to the destination. */
  retries: number;
  /** Upper bound on one publish; the dedup claim must outlive it. */
  timeoutMs: number;
}

/**
 * How long QStash waits for the backend to answer one delivery. The backend applies an event in
 * milliseconds; without this, QStash's default (up to the plan's maximum, minutes) would hold an
 * event whose delivery hung — on a node that died, or in a QStash that crashed mid-delivery —
 * for that long before retrying it.
 */
export const EVENT_DELIVERY_TIMEOUT_SECONDS = 30;

/**
 * QStash refuses some characters in deduplication ids (':' among them) and documents no
 * length limit, so the id is a digest of the dedup key: same key, same id, in any runtime.
 */
export async function qstashDeduplicationId(dedupKey: string): Promise<string> {
  return `emp-${await hexDigest('SHA-256', dedupKey)}`;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
    void work.finally(() => clearTimeout(timer)).catch(() => {});
  });
  return Promise.race([work, timeout]);
}

export function createQStashForwarder(client: Client, options: QStashForwarderOptions): EventForwarder {
  const probeUrl = `${options.url.replace(/\/$/, '')}/v2/messages/health-probe`;
  return {
    async forward(event) {
      const response = await withTimeout(
        client.publishJSON({
          url: options.destination,
          body: event,
          deduplicationId: await qstashDeduplicationId(event.dedupKey),
          retries: options.retries,
          timeout: EVENT_DELIVERY_TIMEOUT_SECONDS,
        }),
        options.timeoutMs,
        'QStash publish',
      );
      return { messageId: response.messageId, deduplicated: response.deduplicated === true };
    },
    // Reads a message that does not exist: any answer but 401/403 shows QStash is reachable and takes our token.
    async ping() {
      const response = await fetch(probeUrl, {
        headers: { authorization: `Bearer ${options.token}` },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel();
      if (response.status === 401 || response.status === 403) throw new Error(`QStash refused the token (${response.status})`);
      if (response.status >= 500) throw new Error(`QStash answered ${response.status}`);
    },
  };
}
