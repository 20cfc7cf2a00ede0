/**
 * EMP's side of the notification traffic: notifications about billing attempts, signed as
 * Genesis signs them, posted to the edge at a given rate, and sent again until echoed, as EMP
 * does with a notification it did not get the echo for. Every answer's latency is kept, per
 * second of the run, for the report.
 */
import { parseNotificationEcho } from '@tether/shared/genesis-xml';
import { identifyNotification } from '@tether/shared/notification';
import { signNotification } from '@tether/shared/signature';
import { randomBytes } from 'node:crypto';
import { percentile } from '../events/fixtures';
import type { LatencySecond, LatencySummary } from './results';

export interface Notification {
  /** The edge's deduplication key for it: the same event sent twice has the same key. */
  dedupKey: string;
  uniqueId: string;
  body: string;
}

export interface AttemptRef {
  transactionId: string;
  uniqueId: string;
  /** Minor units, as EMP has the sale; 1990 when not given. */
  amount?: number;
  iban?: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * Signs fields as Genesis does: SHA-1 of the notification's id (unique_id, or wpf_unique_id for a
 * WPF notification) and the API password. Nothing else is covered.
 */
export async function signed(fields: Record<string, string>, password: string): Promise<Notification> {
  const identity = identifyNotification({ ...fields, signature: 'x' });
  const signature = await signNotification(identity.id, password, 'SHA-1');
  return {
    dedupKey: identity.dedupKey,
    uniqueId: identity.id,
    body: new URLSearchParams({ ...fields, signature }).toString(),
  };
}

/** A status notification of the sale, with the fields the simulator's carry (dev/genesis/notification-fields.ts). */
export function saleNotification(attempt: AttemptRef, status: string, password: string): Promise<Notification> {
  return signed(
    {
      transaction_id: attempt.transactionId,
      unique_id: attempt.uniqueId,
      transaction_type: 'sdd_sale',
      terminal_token: 'e2e-terminal',
      status,
      amount: String(attempt.amount ?? 1990),
      account_holder: 'Erika Mustermann',
      bank_account_number: attempt.iban ?? 'DE89370400440532013000',
    },
    password,
  );
}

/**
 * A chargeback as the reference notifies it (dev/genesis/fixtures/ref-notification-chargeback.txt):
 * on the original sdd_sale, status chargebacked, event chargeback, the chargeback's own id, and no
 * reason code (EMP's Chargeback API has it; the backend reads it there).
 */
export function chargebackNotification(attempt: AttemptRef, password: string): Promise<Notification> {
  return signed(
    {
      transaction_id: attempt.transactionId,
      unique_id: attempt.uniqueId,
      transaction_type: 'sdd_sale',
      terminal_token: 'e2e-terminal',
      status: 'chargebacked',
      amount: String(attempt.amount ?? 1990),
      chargeback_unique_id: hex(16),
      event: 'chargeback',
    },
    password,
  );
}

interface Answer {
  at: number;
  latencyMs: number;
  status: number;
}

/**
 * Posts notifications to the edge and resends every one not echoed (5xx, timeout, refused
 * connection) after `resendAfterMs`, until it is.
 */
export class EmpSender {
  readonly answers: Answer[] = [];
  /** Dedup keys echoed by the edge. */
  readonly echoed = new Set<string>();
  readonly statuses: Record<string, number> = {};
  sent = 0;
  private readonly unechoed = new Map<string, Notification>();
  /** The last answer to each notification not echoed yet: what a drain that times out reports. */
  private readonly lastAnswer = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly url: string,
    private readonly options: { resendAfterMs: number; timeoutMs: number; maxInFlight: number },
  ) {}

  get pending(): number {
    return this.unechoed.size;
  }

  /** Sends now if fewer than maxInFlight requests are open; false when it could not. */
  trySend(notification: Notification): boolean {
    if (this.inFlight.size >= this.options.maxInFlight) return false;
    const sending = this.post(notification);
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
    return true;
  }

  private async post(notification: Notification): Promise<void> {
    this.sent += 1;
    if (!this.echoed.has(notification.dedupKey)) this.unechoed.set(notification.dedupKey, notification);
    const started = performance.now();
    let status = 0;
    let text = '';
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: notification.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
      status = response.status;
      if (status === 200 && parseNotificationEcho(text)?.id === notification.uniqueId) {
        this.echoed.add(notification.dedupKey);
        this.unechoed.delete(notification.dedupKey);
      }
    } catch {
      status = 0; // no answer: timeout or connection refused
    }
    this.answers.push({ at: Date.now(), latencyMs: performance.now() - started, status });
    const label = status === 0 ? 'no answer' : String(status);
    if (this.echoed.has(notification.dedupKey)) this.lastAnswer.delete(notification.dedupKey);
    else this.lastAnswer.set(notification.dedupKey, status === 200 || status === 0 ? label : `${label} ${text.slice(0, 80)}`);
    this.statuses[label] = (this.statuses[label] ?? 0) + 1;
    if (!this.echoed.has(notification.dedupKey)) {
      setTimeout(() => this.resend(notification), this.options.resendAfterMs).unref();
    }
  }

  private resend(notification: Notification) {
    if (this.echoed.has(notification.dedupKey)) return;
    if (!this.trySend(notification)) setTimeout(() => this.resend(notification), 50).unref();
  }

  /** Sends `notifications` in order at `rate` per second, or as fast as maxInFlight allows. */
  async sendAtRate(notifications: readonly Notification[], rate: number): Promise<void> {
    const start = Date.now();
    for (let next = 0; next < notifications.length; ) {
      const due = Math.min(notifications.length, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
      while (next < due && this.trySend(notifications[next]!)) next++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Waits until every notification sent has been echoed (resending as it goes). */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.unechoed.size > 0 || this.inFlight.size > 0) {
      if (Date.now() > deadline) {
        const examples = [...this.unechoed.keys()].slice(0, 3).map((key) => `${key} (last answer ${this.lastAnswer.get(key) ?? 'none yet'})`);
        throw new Error(`${this.unechoed.size} notifications still not echoed after ${timeoutMs / 1000} s, e.g. ${examples.join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  latency(): LatencySummary {
    const sorted = this.answers.map((answer) => answer.latencyMs).sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 10) / 10;
    return {
      count: sorted.length,
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? Number.NaN),
    };
  }

  /** Seconds since `since` (default: this sender's creation). */
  timeline(since = this.startedAt): LatencySecond[] {
    const seconds = new Map<number, number[]>();
    for (const answer of this.answers) {
      const second = Math.floor((answer.at - since) / 1000);
      if (second < 0) continue;
      const list = seconds.get(second) ?? [];
      list.push(answer.latencyMs);
      seconds.set(second, list);
    }
    return [...seconds.entries()]
      .sort(([a], [b]) => a - b)
      .map(([second, latencies]) => {
        latencies.sort((a, b) => a - b);
        return { second, sent: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
      });
  }
}
