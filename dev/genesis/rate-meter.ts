/**
 * Counts gateway requests so a test can check Tether's rate limits: the most requests that
 * arrived within any one-second window, per endpoint or over all of them. An arrival is timed
 * when its handler runs, so a stalled event loop bunches arrivals that came apart: the loop's
 * delays are measured too, to show how far the timings can be trusted.
 */
const LOOP_TICK_MS = 5;

export class RateMeter<Endpoint extends string> {
  private readonly arrivals = new Map<Endpoint, number[]>();
  /** How late each tick of a 5 ms timer ran: how long the event loop was held up at that moment. */
  private loopDelays: number[] = [];

  constructor() {
    let expected = performance.now() + LOOP_TICK_MS;
    setInterval(() => {
      const now = performance.now();
      this.loopDelays.push(Math.max(0, now - expected));
      expected = now + LOOP_TICK_MS;
    }, LOOP_TICK_MS).unref();
  }

  /** How late this process's event loop ran since the last clear(), in ms. */
  eventLoopDelay(): { p99: number; max: number } {
    const sorted = [...this.loopDelays].sort((a, b) => a - b);
    const at = (share: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0);
    return { p99: at(0.99), max: at(1) };
  }

  record(endpoint: Endpoint, at = performance.now()): void {
    const list = this.arrivals.get(endpoint) ?? [];
    list.push(at);
    this.arrivals.set(endpoint, list);
  }

  /** Sliding window over arrival times: for each arrival, how many follow within `windowMs`. */
  maxInWindow(endpoint?: Endpoint, windowMs = 1000): number {
    const times = endpoint
      ? (this.arrivals.get(endpoint) ?? [])
      : [...this.arrivals.values()].flat().sort((a, b) => a - b);
    let max = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while (times[end]! - times[start]! >= windowMs) start++;
      max = Math.max(max, end - start + 1);
    }
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
    this.loopDelays = [];
  }
}
