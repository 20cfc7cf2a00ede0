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
  /** Notifications judged against EMP's answer: confirmed, contradicted or rejected, and why. */
  verdicts: Counter<'verdict' | 'reason'>;
  /** Times the confirmer could not get an answer from EMP and left notifications waiting. */
  confirmationsDeferred: Counter<'reason'>;
  /** Requests the confirmer sent to EMP, by kind (reconcile, reconcile_by_date, chargebacks, wpf_reconcile). */
  confirmationRequests: Counter<'request'>;
}

const byRegistry = new WeakMap<Registry, EventMetrics>();

export function eventMetrics(registry: Registry): EventMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const metrics: EventMetrics = {
    processed: new Counter({
      name: 'tether_events_processed_total',
      help: 'EMP events processed, by outcome (applied, unchanged, stale, illegal, pending_match, failed; notifications: confirmed, contradicted, rejected, ignored)',
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
    verdicts: new Counter({
      name: 'tether_notification_verdicts_total',
      help: 'Notifications judged against EMP\'s own answer, by verdict (confirmed, contradicted, rejected) and reason; rejections point at forged or misdirected notifications',
      labelNames: ['verdict', 'reason'],
      registers: [registry],
    }),
    confirmationsDeferred: new Counter({
      name: 'tether_notification_confirmations_deferred_total',
      help: 'Notifications left waiting because EMP could not be asked (outage, timeout), by reason; they are asked about again later',
      labelNames: ['reason'],
      registers: [registry],
    }),
    confirmationRequests: new Counter({
      name: 'tether_notification_confirmation_requests_total',
      help: 'Requests sent to EMP to confirm notifications, by request type',
      labelNames: ['request'],
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
