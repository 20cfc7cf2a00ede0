/**
 * Counts gateway requests so a test can check Tether's rate limits: the most requests that
 * arrived within any one-second window, per endpoint or over all of them. An arrival is timed
 * when its handler runs, so a stalled event loop bunches arrivals that came apart: the loop's
 * delays are measured too, to show how far the timings can be trusted.
 */
const LOOP_TICK_MS = 5;
/** Loop delays are counted per whole millisecond up to this; longer ones share the last count. */
const LONGEST_COUNTED_DELAY_MS = 1_000;

/**
 * For each arrival (times in ms, in order), how many arrivals fall within `windowMs` from it,
 * itself included: the counts of every sliding window that starts at an arrival.
 */
export function countsPerWindow(times: readonly number[], windowMs = 1000): number[] {
  const counts = new Array<number>(times.length);
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end]! - times[start]! < windowMs) end++;
    counts[start] = end - start;
  }
  return counts;
}

export class RateMeter<Endpoint extends string> {
  private readonly arrivals = new Map<Endpoint, number[]>();
  /** How late the ticks of a 5 ms timer ran (how long the event loop was held up), counted per whole ms: constant memory however long the process runs. */
  private readonly loopDelayCounts = new Array<number>(LONGEST_COUNTED_DELAY_MS + 1).fill(0);
  private loopTicks = 0;
  private longestLoopDelayMs = 0;
  private readonly loopWatch: NodeJS.Timeout;

  constructor() {
    let expected = performance.now() + LOOP_TICK_MS;
    this.loopWatch = setInterval(() => {
      const now = performance.now();
      const delay = Math.max(0, now - expected);
      this.loopDelayCounts[Math.min(LONGEST_COUNTED_DELAY_MS, Math.floor(delay))]!++;
      this.loopTicks++;
      this.longestLoopDelayMs = Math.max(this.longestLoopDelayMs, delay);
      expected = now + LOOP_TICK_MS;
    }, LOOP_TICK_MS).unref();
  }

  /** How late this process's event loop ran since the last clear(), in ms (p99 rounded down to a whole ms). */
  eventLoopDelay(): { p99: number; max: number } {
    let p99 = 0;
    for (let seen = 0; p99 < LONGEST_COUNTED_DELAY_MS; p99++) {
      seen += this.loopDelayCounts[p99]!;
      if (seen >= 0.99 * this.loopTicks) break;
    }
    return { p99, max: Math.round(this.longestLoopDelayMs) };
  }

  /** Stops watching the event loop; the counts stay readable. */
  close(): void {
    clearInterval(this.loopWatch);
  }

  record(endpoint: Endpoint, at = performance.now()): void {
    const list = this.arrivals.get(endpoint) ?? [];
    list.push(at);
    this.arrivals.set(endpoint, list);
  }

  /** The most arrivals within any sliding window of `windowMs`, on one endpoint or on all. */
  maxInWindow(endpoint?: Endpoint, windowMs = 1000): number {
    const times = endpoint
      ? (this.arrivals.get(endpoint) ?? [])
      : [...this.arrivals.values()].flat().sort((a, b) => a - b);
    let max = 0;
    for (const count of countsPerWindow(times, windowMs)) max = Math.max(max, count);
    return max;
  }

  /** Arrival times in ms after the first arrival, in order. */
  arrivalsSinceFirst(endpoint: Endpoint): number[] {
    const times = this.arrivals.get(endpoint) ?? [];
    return times.map((at) => at - times[0]!);
  }

  /** Milliseconds from the first arrival to the last. */
  span(endpoint: Endpoint): number {
    const times = this.arrivals.get(endpoint) ?? [];
    return times.length < 2 ? 0 : times[times.length - 1]! - times[0]!;
  }

  total(endpoint?: Endpoint): number {
    if (endpoint) return this.arrivals.get(endpoint)?.length ?? 0;
    let count = 0;
    for (const list of this.arrivals.values()) count += list.length;
    return count;
  }

  clear(): void {
    this.arrivals.clear();
    this.loopDelayCounts.fill(0);
    this.loopTicks = 0;
    this.longestLoopDelayMs = 0;
  }
}
