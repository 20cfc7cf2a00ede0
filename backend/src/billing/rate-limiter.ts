/**
 * A rate limit shared by every node: slots one interval apart, handed out by Redis (GCRA with no
 * burst). Each caller reserves the next free slot in one atomic script on the Redis clock, then
 * waits for it, so requests leave spaced by 1/rate whichever node sends them. A limit per
 * second in any sliding one-second window then holds too, with two safeguards against the
 * jitter between the limiter and EMP:
 *
 * - the slots are spaced for a rate `headroom` below the limit;
 * - a caller that wakes up later than half an interval after its slot gives the slot up and
 *   reserves another, so a stalled process cannot send a bunch of overdue requests at once.
 */
import type { Redis } from '@upstash/redis';

/** Reserves the next slot: microseconds until it starts, measured on Redis' clock. */
const RESERVE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', math.ceil((slot + interval - now) / 1000) + 1000)
return math.floor(slot - now)
`;

export interface RateLimiterOptions {
  /** The Redis key holding the next free slot; one per limit. */
  key: string;
  perSecond: number;
  /** Share of the limit left unused, e.g. 0.04 spaces slots for 96 % of it. */
  headroom: number;
}

export class RateLimitAborted extends Error {
  override name = 'RateLimitAborted';
}

export class SharedRateLimiter {
  readonly intervalMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RateLimiterOptions,
  ) {
    this.intervalMs = 1000 / (options.perSecond * (1 - options.headroom));
  }

  /**
   * Resolves at the start of this caller's slot: send right away. Rejects with RateLimitAborted
   * when `signal` aborts while waiting (nothing was sent; the slot goes unused).
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    const lateness = this.intervalMs / 2;
    for (;;) {
      if (signal?.aborted) throw new RateLimitAborted('stopped while waiting for a rate slot');
      const waitMicros = await this.redis.eval<[string], number>(RESERVE_SLOT, [this.options.key], [
        String(Math.round(this.intervalMs * 1000)),
      ]);
      // Measured from the answer: the slot may start a little later here than on Redis, never earlier.
      const slotAt = performance.now() + waitMicros / 1000;
      if (waitMicros > 0) await sleep(waitMicros / 1000, signal);
      if (signal?.aborted) throw new RateLimitAborted('stopped while waiting for a rate slot');
      if (performance.now() - slotAt <= lateness) return;
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
