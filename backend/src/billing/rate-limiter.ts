/**
 * A rate limit shared by every node: requests spaced one interval apart, whichever node sends
 * them. Each caller reserves the next free slot on a schedule kept in Redis (one atomic script,
 * on the Redis clock), then waits on its own clock and sends at that exact moment. No slot goes
 * unused while callers wait, so the rate is the schedule's: `headroom` below the limit.
 *
 * A limit per second in any sliding one-second window then holds too, as long as no request
 * reaches EMP further from its slot than the headroom leaves per second (the "jitter budget":
 * about 31 ms at 3 % for 50/s). Three things take from it:
 * - knowing when a slot is due on this node's clock: Redis answers its own time with every
 *   reservation, and the node keeps the offset measured by its fastest recent round trip (as NTP
 *   does), so the error is half that round trip, not half of whichever answer was slow. Before
 *   its first reservation a node measures a few round trips one after another: the first
 *   reservations come in a burst (every waiting caller at once, on a node still starting up),
 *   and an answer read late makes a slot look due later than it was, so the caller would send
 *   late without knowing it. Round trips that overlapped another are not kept, for the same reason;
 * - waking up late (a busy event loop, garbage collection, a busy machine): a caller that wakes
 *   later than half the budget gives its slot up and reserves another, rather than send bunched
 *   with the requests after it;
 * - the way from the node to EMP, which is the rest.
 */
import type { Redis } from '@upstash/redis';

/**
 * Reserves the next slot: answers [now, slot] in µs on the Redis clock and moves the schedule
 * one interval past the slot. A schedule that fell behind restarts at now. KEYS[1] holds the
 * next free slot.
 */
const RESERVE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', math.ceil((slot - now + interval) / 1000) + 60000)
return {string.format('%.0f', now), string.format('%.0f', slot)}
`;

export interface RateLimiterOptions {
  /** The Redis key holding the next free slot; one per limit. */
  key: string;
  perSecond: number;
  /** Share of the limit left unused, e.g. 0.03 spaces slots for 97 % of it. */
  headroom: number;
  /** Told of each slot a caller woke too late for; each costs one interval of rate. */
  onSlotGivenUp?: () => void;
}

/** Round trips remembered for the clock offset: the fastest of them gives it. */
const CLOCK_SAMPLES = 32;
/** Round trips measured one after another before the first reservation. */
const CALIBRATION_ROUND_TRIPS = 4;

interface ClockSample {
  roundTripMs: number;
  /** Redis clock minus this process's performance.now(), in ms. */
  offsetMs: number;
}

export class SharedRateLimiter {
  readonly intervalMs: number;
  /** A caller waking later than this after its slot gives the slot up. */
  readonly maxLateMs: number;
  private readonly samples: ClockSample[] = [];
  private calibration: Promise<void> | undefined;
  private reservationsInFlight = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: RateLimiterOptions,
  ) {
    this.intervalMs = 1000 / (options.perSecond * (1 - options.headroom));
    const jitterBudgetMs = options.perSecond * this.intervalMs - 1000;
    this.maxLateMs = jitterBudgetMs / 2;
  }

  /** Resolves when this caller's slot is due: send right away. Rejects when Redis cannot be asked. */
  async acquire(): Promise<void> {
    this.calibration ??= this.calibrate().catch((error: unknown) => {
      this.calibration = undefined; // the next caller tries again
      throw error;
    });
    await this.calibration;
    for (;;) {
      const slot = await this.reserve();
      // Converted again after each sleep: the answers that came meanwhile may have measured the
      // offset better (at start-up, a burst of reservations makes every round trip slow).
      const dueAt = () => slot - this.offsetMs();
      while (dueAt() > performance.now()) await sleep(dueAt() - performance.now());
      if (performance.now() - dueAt() <= this.maxLateMs) return;
      this.options.onSlotGivenUp?.();
    }
  }

  /** Reserves a slot; answers its time in ms on the Redis clock. */
  private async reserve(): Promise<number> {
    const asked = performance.now();
    const overlapped = this.reservationsInFlight++ > 0;
    let answer: [string, string];
    try {
      answer = await this.redis.eval<string[], [string, string]>(RESERVE_SLOT, [this.options.key], [String(Math.round(this.intervalMs * 1000))]);
    } finally {
      this.reservationsInFlight--;
    }
    const [redisNow, slot] = answer;
    if (!overlapped && this.reservationsInFlight === 0) this.recordSample(asked, performance.now(), Number(redisNow) / 1000);
    return Number(slot) / 1000;
  }

  private async calibrate(): Promise<void> {
    for (let roundTrip = 0; roundTrip < CALIBRATION_ROUND_TRIPS; roundTrip++) {
      const asked = performance.now();
      const [seconds, microseconds] = await this.redis.time();
      this.recordSample(asked, performance.now(), Number(seconds) * 1000 + Number(microseconds) / 1000);
    }
  }

  private recordSample(asked: number, answered: number, redisNowMs: number): void {
    this.samples.push({ roundTripMs: answered - asked, offsetMs: redisNowMs - (asked + answered) / 2 });
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
  }

  private offsetMs(): number {
    let best = this.samples[0]!;
    for (const sample of this.samples) if (sample.roundTripMs < best.roundTripMs) best = sample;
    return best.offsetMs;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
