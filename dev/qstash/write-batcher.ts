/**
 * Collects ids and writes them in one statement per batch, one batch in flight at a time; at
 * 1,000 deliveries a second this turns a thousand single-row deletes into a handful of statements.
 */
export class WriteBatcher {
  private pending: string[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly write: (ids: string[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  add(id: string): void {
    this.pending.push(id);
    if (!this.flushing) this.flushing = this.flushAll();
  }

  get idle(): boolean {
    return this.pending.length === 0 && !this.flushing;
  }

  /** Resolves once everything added so far is written (or has failed and been reported). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushAll(): Promise<void> {
    // Let the deliveries finishing in this turn of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.write(batch);
      } catch (error) {
        this.onError(error);
      }
    }
    this.flushing = null;
  }
}
