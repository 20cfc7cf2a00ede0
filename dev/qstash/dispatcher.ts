/**
 * The delivery loop. It claims due messages in batches (ungrouped ones in one statement, flow-
 * controlled and queued ones per key within their limits), delivers them concurrently, and records
 * each outcome: delivered messages are deleted in batches, failed ones are rescheduled (when the
 * destination's Retry-After asks, else with backoff) or moved to the DLQ. It sleeps until woken by a publish, a finished delivery, a key's rate window
 * opening, or the poll interval, which is also how it notices work from other instances.
 */
import type pg from 'pg';
import { publishCallback } from './callbacks';
import { attemptDelivery, DestinationAgents, type AttemptOutcome } from './delivery';
import { moveToDlq } from './dlq-store';
import { retryAfterMs } from './durations';
import { claimFromGroup, listDueGroups } from './group-claims';
import type { MessageStore, StoredMessage } from './message-store';
import { WriteBatcher } from './write-batcher';

export interface DispatcherOptions {
  pool: pg.Pool;
  store: MessageStore;
  signingKey: string;
  /** Delay before retry number `retried` (1 for the first retry), in milliseconds. */
  retryBackoffMs: (retried: number) => number;
  pollIntervalMs: number;
  maxInFlight: number;
  defaultTimeoutMs: number;
  onError: (error: unknown) => void;
}

const CLAIM_BATCH = 200;
const COALESCE_MS = 2;
/** How long close() lets running deliveries finish before it aborts them and hands them back. */
const CLOSE_GRACE_MS = 2_000;

const isGrouped = (message: StoredMessage) => message.spec.flowControl !== null || message.spec.queueName !== null;

export class Dispatcher {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly completions: WriteBatcher;
  private readonly abort = new AbortController();
  private readonly agents = new DestinationAgents();
  private readonly aborted: string[] = [];
  private closed = false;
  private claiming = false;
  private wakeRequested = false;
  private groupsMayBeDue = true;
  private nextOpeningAt = Infinity;
  private wakeUp: (() => void) | null = null;
  private roundWaiters: ((claimed: number) => void)[] = [];
  /** Whether a flow-controlled or queued message was delivered since the last deletion batch began. */
  private groupedDelivered = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: DispatcherOptions) {
    this.completions = new WriteBatcher(async (ids) => {
      // Until its row is gone a delivered message still counts against its key's parallelism.
      const grouped = this.groupedDelivered;
      this.groupedDelivered = false;
      await options.store.deleteMessages(ids);
      if (grouped) this.wake({ grouped });
    }, options.onError);
  }

  start(): void {
    this.loop = this.run();
  }

  /** Asks for a claim round soon; `grouped` when flow-controlled or queued work may have become due. */
  wake(options: { grouped?: boolean } = {}): void {
    this.wakeRequested = true;
    if (options.grouped) this.groupsMayBeDue = true;
    this.wakeUp?.();
  }

  /** Wakes the loop when `time` comes, for work that is not due yet (a delay, a retry's backoff). */
  wakeAt(time: number, options: { grouped?: boolean } = {}): void {
    const delay = time - Date.now();
    if (delay <= 0) return this.wake(options);
    setTimeout(() => this.wake(options), delay).unref();
  }

  /** True when nothing is being claimed, delivered or written by this instance. */
  get quiet(): boolean {
    return !this.claiming && this.inFlight.size === 0 && this.completions.idle;
  }

  /** Resolves after the next claim round that starts from now, with how many messages it claimed. */
  nextRound(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.roundWaiters.push(resolve);
      this.wake({ grouped: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp?.();
    await this.loop;
    const grace = new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all(this.inFlight), grace]);
    this.abort.abort();
    await Promise.all(this.inFlight);
    await this.completions.drain();
    this.agents.destroy();
    if (this.aborted.length > 0) await this.options.store.releaseClaims(this.aborted, Date.now());
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      this.wakeRequested = false;
      const waiters = this.roundWaiters;
      this.roundWaiters = [];
      let round = { claimed: 0, moreWaiting: false };
      this.claiming = true;
      try {
        round = await this.claimRound();
      } catch (error) {
        this.options.onError(error);
      } finally {
        this.claiming = false;
      }
      for (const resolve of waiters) resolve(round.claimed);
      if (this.closed) break;
      if (round.moreWaiting) continue;
      // Under a stream of publishes every one wakes the loop; a moment's pause lets one claim
      // statement take several of them instead of one each.
      if (this.wakeRequested) await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      else await this.sleep();
    }
    for (const resolve of this.roundWaiters) resolve(0);
  }

  private sleep(): Promise<void> {
    const untilOpening = this.nextOpeningAt - Date.now();
    const delay = Math.max(0, Math.min(this.options.pollIntervalMs, untilOpening));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.groupsMayBeDue = true;
        finish();
      }, delay);
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      this.wakeUp = finish;
    });
  }

  /** Claims and starts what may start now; `moreWaiting` if a full batch came back, so more is likely due. */
  private async claimRound(): Promise<{ claimed: number; moreWaiting: boolean }> {
    const { pool, store, maxInFlight } = this.options;
    const now = Date.now();
    const initialCapacity = maxInFlight - this.inFlight.size;
    let capacity = initialCapacity;
    if (capacity <= 0) return { claimed: 0, moreWaiting: false };
    const batch = Math.min(capacity, CLAIM_BATCH);
    const ungrouped = await store.claimUngrouped(now, batch);
    for (const message of ungrouped) this.startDelivery(message);
    capacity -= ungrouped.length;
    if (this.groupsMayBeDue && capacity > 0) {
      this.groupsMayBeDue = false;
      this.nextOpeningAt = Infinity;
      for (const group of await listDueGroups(pool, now)) {
        if (capacity <= 0 || this.closed) break;
        const claim = await claimFromGroup(pool, store, group, capacity);
        for (const message of claim.messages) this.startDelivery(message);
        capacity -= claim.messages.length;
        if (claim.nextOpeningAt !== null) this.nextOpeningAt = Math.min(this.nextOpeningAt, claim.nextOpeningAt);
      }
    }
    return { claimed: initialCapacity - capacity, moreWaiting: ungrouped.length === batch };
  }

  private startDelivery(message: StoredMessage): void {
    const delivery = this.deliver(message)
      .catch(this.options.onError)
      .finally(() => {
        const wasFull = this.inFlight.size >= this.options.maxInFlight;
        this.inFlight.delete(delivery);
        // New work wakes the loop by itself; a finished delivery matters only if it frees a slot
        // that was missing, or a flow-control key's capacity.
        if (wasFull || isGrouped(message)) this.wake({ grouped: isGrouped(message) });
      });
    this.inFlight.add(delivery);
  }

  private async deliver(message: StoredMessage): Promise<void> {
    const { pool } = this.options;
    const outcome = await attemptDelivery(message, {
      signingKey: this.options.signingKey,
      timeoutMs: message.spec.timeoutMs ?? this.options.defaultTimeoutMs,
      signal: this.abort.signal,
      agents: this.agents,
    });
    if (!outcome.delivered && this.abort.signal.aborted) {
      this.aborted.push(message.messageId);
      return;
    }
    if (outcome.delivered) {
      this.groupedDelivered ||= isGrouped(message);
      this.completions.add(message.messageId);
    } else {
      await this.recordFailure(message, outcome);
    }
    if (message.spec.callback) await publishCallback(pool, message.spec.callback, message, outcome);
  }

  private async recordFailure(message: StoredMessage, outcome: AttemptOutcome): Promise<void> {
    const { store, pool } = this.options;
    if (message.retried < message.spec.maxRetries) {
      const retried = message.retried + 1;
      const now = Date.now();
      const nextAt = Math.round(now + (retryAfterMs(outcome.responseHeaders, now) ?? this.options.retryBackoffMs(retried)));
      await store.scheduleRetry(message.messageId, retried, nextAt);
      this.wakeAt(nextAt, { grouped: isGrouped(message) });
      return;
    }
    const dlqId = await moveToDlq(pool, message.messageId, outcome, Date.now());
    if (dlqId && message.spec.failureCallback) {
      await publishCallback(pool, message.spec.failureCallback, message, outcome, { dlqId });
    }
  }
}
