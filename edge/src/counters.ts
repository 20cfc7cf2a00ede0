/**
 * Per-outcome and per-HTTP-status counters of notifications, for GET /metrics. They live in
 * memory, so on Workers each isolate counts only what it served; the same figures are in
 * every log line (outcome, status) for aggregation across isolates.
 */
export type Outcome =
  | 'forwarded'
  | 'duplicate'
  | 'in_flight'
  | 'too_large'
  | 'invalid'
  | 'bad_signature'
  | 'dedup_unavailable'
  | 'forward_failed';

export interface CounterSnapshot {
  since: string;
  byOutcome: Partial<Record<Outcome, number>>;
  byStatus: Record<string, number>;
}

export class NotificationCounters {
  private readonly since = new Date().toISOString();
  private readonly byOutcome: Partial<Record<Outcome, number>> = {};
  private readonly byStatus: Record<string, number> = {};

  record(outcome: Outcome, status: number): void {
    this.byOutcome[outcome] = (this.byOutcome[outcome] ?? 0) + 1;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
  }

  snapshot(): CounterSnapshot {
    return { since: this.since, byOutcome: { ...this.byOutcome }, byStatus: { ...this.byStatus } };
  }
}
