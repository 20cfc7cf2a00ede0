/** Billing's and reconciliation's instruments, once per registry (see events/metrics.ts). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BillingMetrics {
  /** Attempts that reached the end of a send, by what became of them (answered, unknown, released…). */
  sends: Counter<'outcome'>;
  /** 1 while this process's circuit breaker around EMP is open. */
  breakerOpen: Gauge;
  /** Attempts reconciliation asked EMP about, by what it learnt (found, not_found, failed, unrecorded). */
  reconciled: Counter<'result'>;
  /** Answers from EMP that could not be recorded on their attempt (answer-recording.ts), by origin (sale, reconcile). */
  unrecordedAnswers: Counter<'origin'>;
  /** Where a sent attempt's time goes: claim (with the blacklist), rate_slot, emp, record. */
  phaseSeconds: Histogram<'phase'>;
  /** Rate slots reserved and not used because their caller woke too late (see rate-limiter.ts), by limit. */
  rateSlotsGivenUp: Counter<'limit'>;
  /** Chargeback API records that could not be read; the rest of their page was applied. */
  unusableChargebacks: Counter;
}

const byRegistry = new WeakMap<Registry, BillingMetrics>();

export function billingMetrics(registry: Registry): BillingMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const metrics: BillingMetrics = {
    sends: new Counter({
      name: 'tether_billing_sends_total',
      help: 'Billing attempts processed by a billing worker, by outcome (answered, unknown, released, broken, cancelled, held, skipped)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    breakerOpen: new Gauge({
      name: 'tether_billing_breaker_open',
      help: '1 while the circuit breaker around EMP is open in this process',
      registers: [registry],
    }),
    unusableChargebacks: new Counter({
      name: 'tether_chargeback_records_unusable_total',
      help: 'Chargeback API records Tether could not read (logged with their ids); the other records of their page were applied',
      registers: [registry],
    }),
    reconciled: new Counter({
      name: 'tether_reconciliation_attempts_total',
      help: 'Attempts reconciled with EMP, by result (found, not_found, failed, unrecorded)',
      labelNames: ['result'],
      registers: [registry],
    }),
    unrecordedAnswers: new Counter({
      name: 'tether_emp_answers_unrecorded_total',
      help: 'Answers from EMP (sale, reconcile) that could not be recorded on their attempt: the cause is logged and shown on the attempt',
      labelNames: ['origin'],
      registers: [registry],
    }),
    phaseSeconds: new Histogram({
      name: 'tether_billing_phase_seconds',
      help: 'Time per phase of sending one attempt: claim (with the blacklist check), rate_slot (waiting for the shared limit), emp (the sale), record',
      labelNames: ['phase'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rateSlotsGivenUp: new Counter({
      name: 'tether_rate_slots_given_up_total',
      help: 'Shared rate-limit slots left unused because the caller woke too late to send without bunching, by limit (emp-sales, emp-reconcile, vop)',
      labelNames: ['limit'],
      registers: [registry],
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
