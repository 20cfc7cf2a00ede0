/**
 * What billing and reconciliation need, one per process: the breaker must be shared by every
 * batch this process works on, so the routes, the probe and the CLI of one process use one.
 */
import type { Client as QStashClient } from '@upstash/qstash';
import type { Redis } from '@upstash/redis';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { BillingSettings, ReconciliationSettings } from '../config';
import type { Database } from '../db/client';
import type { GenesisClient } from '../emp/genesis-client';
import { EventBatcher } from '../events/batcher';
import { eventContext, type EventContext } from '../events/context';
import type { Logger } from '../log';
import type { Services } from '../services';
import { createPayeeChecker, type PayeeChecker } from '../vop/payee-check';
import type { VopProvider } from '../vop/provider';
import { standInVopProvider } from '../vop/stand-in-provider';
import { EmpCircuitBreaker } from './emp-breaker';
import { billingMetrics, type BillingMetrics } from './metrics';
import { SharedRateLimiter } from './rate-limiter';

export interface BillingContext {
  db: Database;
  log: Logger;
  qstash: QStashClient;
  redis: Redis;
  /** Redis key prefix of this deployment. */
  keyPrefix: string;
  /** How QStash reaches this backend. */
  publicUrl: string;
  genesis: GenesisClient;
  /** EMP_TERMINAL_TOKEN: what EMP's answers must name where they name a terminal. */
  terminalToken: string;
  breaker: EmpCircuitBreaker;
  /** EMP_RATE_LIMIT for sales, across all nodes. */
  saleLimiter: SharedRateLimiter;
  /** RECONCILIATION_RATE_LIMIT for reconcile and by-date requests, across all nodes. */
  reconcileLimiter: SharedRateLimiter;
  events: EventContext;
  /**
   * Genesis' answers (sales, reconciles) applied through the events path; answers arriving
   * together share a transaction, as deliveries do.
   */
  answers: EventBatcher;
  payees: PayeeChecker;
  settings: BillingSettings;
  reconciliation: ReconciliationSettings;
  /** Written on the attempts this process claims. */
  nodeId: string;
  metrics: BillingMetrics;
}

/** Two transactions at once leave the pool to claims and everything else. */
const ANSWER_BATCHING = { maxBatch: 50, maxConcurrentBatches: 2 };

export function billingContext(
  services: Pick<Services, 'config' | 'database' | 'log' | 'qstash' | 'redis' | 'genesis' | 'metrics'>,
  options: { vopProvider?: VopProvider } = {},
): BillingContext {
  const { config } = services;
  const keyPrefix = config.redis.keyPrefix;
  const headroom = config.rateLimitHeadroom;
  const metrics = billingMetrics(services.metrics);
  const events = eventContext(services);
  const breaker = new EmpCircuitBreaker(config.billing.breaker);
  breaker.onBreak(() => metrics.breakerOpen.set(1));
  breaker.onReset(() => metrics.breakerOpen.set(0));
  const sharedLimit = (name: 'emp-sales' | 'emp-reconcile' | 'vop', perSecond: number) =>
    new SharedRateLimiter(services.redis, {
      key: `${keyPrefix}rate:${name}`,
      perSecond,
      headroom,
      onSlotGivenUp: () => metrics.rateSlotsGivenUp.inc({ limit: name }),
    });
  return {
    db: services.database.db,
    log: services.log.child({ component: 'billing' }),
    qstash: services.qstash,
    redis: services.redis,
    keyPrefix,
    publicUrl: config.http.publicUrl,
    genesis: services.genesis,
    terminalToken: config.emp.terminalToken,
    breaker,
    saleLimiter: sharedLimit('emp-sales', config.emp.rateLimitPerSecond),
    reconcileLimiter: sharedLimit('emp-reconcile', config.emp.reconciliationRateLimitPerSecond),
    events,
    answers: new EventBatcher(events, ANSWER_BATCHING),
    payees: createPayeeChecker({
      redis: services.redis,
      keyPrefix,
      settings: config.vop,
      limiter: sharedLimit('vop', config.vop.rateLimitPerSecond),
      provider: options.vopProvider ?? standInVopProvider,
    }),
    settings: config.billing,
    reconciliation: config.reconciliation,
    nodeId: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    metrics,
  };
}
