/**
 * The event pipeline's instruments. Created once per registry (registering a name twice throws),
 * so every caller asks `eventMetrics(registry)` for the same set.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventOutcome } from './outcome';

export interface EventMetrics {
  /** Events whose processing committed, by the outcome recorded on them. */
  processed: Counter<'outcome'>;
  /** Deliveries recognised as already processed and skipped. */
  duplicates: Counter;
  /** From the edge receiving the notification to the commit of its effect. */
  receiveToCommit: Histogram;
  blacklisted: Counter;
}

const byRegistry = new WeakMap<Registry, EventMetrics>();

export function eventMetrics(registry: Registry): EventMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const metrics: EventMetrics = {
    processed: new Counter({
      name: 'tether_events_processed_total',
      help: 'EMP events processed, by outcome (applied, unchanged, stale, illegal, pending_match, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'tether_events_duplicates_total',
      help: 'Deliveries of an event already processed, recognised and skipped',
      registers: [registry],
    }),
    receiveToCommit: new Histogram({
      name: 'tether_event_receive_to_commit_seconds',
      help: 'Time from the edge receiving an EMP notification to the commit of its effect',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    blacklisted: new Counter({
      name: 'tether_events_blacklisted_total',
      help: 'IBANs blacklisted automatically because of a chargeback reason code',
      registers: [registry],
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

export function recordOutcome(metrics: EventMetrics, outcome: EventOutcome, receivedAt: Date): void {
  metrics.processed.inc({ outcome });
  metrics.receiveToCommit.observe(Math.max(0, Date.now() - receivedAt.getTime()) / 1000);
}
