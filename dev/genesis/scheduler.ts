/**
 * Every timer and wait the simulator starts, so that a reset or closing it leaves nothing
 * running: pending notifications, delayed status changes and hung requests all end with it.
 */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private generation = new AbortController();
  private closed = false;

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Aborted at the next reset or close; work started now should stop then. */
  get signal(): AbortSignal {
    return this.generation.signal;
  }

  after(ms: number, task: () => unknown): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      Promise.resolve()
        .then(task)
        .catch((error: unknown) => this.onError(error));
    }, ms);
    this.timers.add(timer);
  }

  /** Resolves after `ms`, or early at a reset, a close, or when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const signals = signal ? [this.signal, signal] : [this.signal];
    return new Promise((resolve) => {
      if (signals.some((candidate) => candidate.aborted)) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        for (const candidate of signals) candidate.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.timers.add(timer);
      for (const candidate of signals) candidate.addEventListener('abort', done, { once: true });
    });
  }

  /** Cancels everything scheduled so far; new work may be scheduled afterwards. */
  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.generation.abort();
    this.generation = new AbortController();
  }

  close(): void {
    this.closed = true;
    this.reset();
    this.generation.abort();
  }
}
