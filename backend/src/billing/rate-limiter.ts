/**
 * A rate limit shared by every node: requests spaced one interval apart, whichever node sends
 * them (GCRA without burst, on the Redis clock, in one atomic script). A limit per second in any
 * sliding one-second window then holds too, as long as the jitter between taking a slot and the
 * request reaching EMP stays within the headroom:
 *
 * - slots are spaced for a rate `headroom` below the limit;
 * - a slot is taken at the moment of sending, not reserved ahead: a process that wakes up late
 *   sends later, never bunched with the requests after it. A slot taken a little late (an eighth
 *   of the time the headroom frees per second, at most half an interval) keeps the schedule, so a
 *   busy machine does not lose throughput to small delays; later than that, the schedule restarts
 *   from now. A slot whose answer came back slowly (a quarter of that time) is left unused. The
 *   rest of the headroom absorbs the jitter between the process and EMP (about 33 ms at the
 *   default 5 %; see bench/README.md, "Billing", for what that costs in rate).
 *
 * Within a process, callers queue in order and a few takers ask Redis on their behalf, so the
 * round trip to Redis does not cap a node's rate.
 */
import type { Redis } from '@upstash/redis';

/**
 * Takes the slot if it is due: answers 0 and moves the schedule one interval on (a slot missed by
 * more than ARGV[2] µs is first moved to now minus that). Otherwise answers the µs until it is
 * due, changing nothing. KEYS[1] holds the next slot's time (µs, Redis clock).
 */
const TAKE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local catchUp = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot > now then return math.ceil(slot - now) end
if slot < now - catchUp then slot = now - catchUp end
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', math.ceil(interval / 1000) + 60000)
return 0
`;

export interface RateLimiterOptions {
  /** The Redis key holding the next slot; one per limit. */
  key: string;
  perSecond: number;
  /** Share of the limit left unused, e.g. 0.04 spaces slots for 96 % of it. */
  headroom: number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Slot requests in flight from one process at once; each round trip to Redis takes one. */
const MAX_TAKERS = 4;

export class SharedRateLimiter {
  readonly intervalMs: number;
  /** How late a slot may be taken and still keep the schedule. */
  private readonly catchUpMs: number;
  /** A slot whose answer took longer than this to come back may be stale by then: it is not used. */
  private readonly maxRoundTripMs: number;
  private readonly waiting: Waiter[] = [];
  private takers = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: RateLimiterOptions,
  ) {
    this.intervalMs = 1000 / (options.perSecond * (1 - options.headroom));
    // Per second, the headroom leaves this much time unscheduled.
    const spareMsPerSecond = options.perSecond * this.intervalMs - 1000;
    this.catchUpMs = Math.min(this.intervalMs / 2, spareMsPerSecond / 8);
    this.maxRoundTripMs = spareMsPerSecond / 4;
  }

  /** Resolves when this caller's slot is due: send right away. */
  acquire(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.addTakers();
    });
  }

  private addTakers(): void {
    while (this.takers < Math.min(MAX_TAKERS, this.waiting.length)) {
      this.takers++;
      void this.take().finally(() => {
        this.takers--;
        // A caller may have queued while this taker was finishing.
        this.addTakers();
      });
    }
  }

  /** Takes slots for the callers at the front of the queue until none is left waiting. */
  private async take(): Promise<void> {
    const args = [String(Math.round(this.intervalMs * 1000)), String(Math.round(this.catchUpMs * 1000))];
    while (this.waiting.length > 0) {
      let waitMicros: number;
      const asked = performance.now();
      try {
        waitMicros = await this.redis.eval<string[], number>(TAKE_SLOT, [this.options.key], args);
      } catch (error) {
        // Redis unreachable: every caller hears it now rather than waiting for a slot that may never come.
        for (const waiter of this.waiting.splice(0)) waiter.reject(error);
        return;
      }
      if (waitMicros > 0) await sleep(waitMicros / 1000);
      // A slow answer (a busy process, a slow network) may have left the slot behind: sending now
      // could bunch with the next ones. So could a slot taken after the queue emptied. Unused
      // slots only lower the rate.
      else if (performance.now() - asked <= this.maxRoundTripMs) this.waiting.shift()?.resolve();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
