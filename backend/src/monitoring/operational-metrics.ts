/**
 * What operators alert on (deploy/prometheus/alerts.yml, docs/metrics.md), read at scrape time:
 * the work waiting in the database, QStash's dead letters and flow-control wait lists, the age of
 * the oldest undelivered delivery probe, and this node's PostgreSQL pool. The cluster-wide gauges
 * (everything but the pool) are the same on every node; the rules take their max across nodes.
 *
 * Each shared source is a scrapeSource: one load at a time per node, reused for a few seconds, and
 * never waited for past a deadline; `tether_metrics_source_up{source}` says whether its gauges
 * are current. When not, they are not repeated stale: labelled series are left out, others are NaN.
 */
import type { Client as QStashClient } from '@upstash/qstash';
import type { Redis } from '@upstash/redis';
import { sql } from 'drizzle-orm';
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { BILLING_FLOW_CONTROL_KEY } from '../billing/dispatch';
import type { DatabaseHandle } from '../db/client';
import { scrapeSource, type ScrapeSourceOptions } from '../metrics';
import { VOP_FLOW_CONTROL_KEY } from '../vop/queue';
import { countDeadLetters } from './dead-letters';
import { oldestUndeliveredProbeSeconds } from './delivery-probe';

/** How long a scrape waits for a shared source: well inside Prometheus's default 10 s scrape timeout. */
export const SCRAPE_DEADLINE_MS = 2_000;

/** Dead letters are counted by listing them (dead-letters.ts) up to this many. */
export const DEAD_LETTER_COUNT_LIMIT = 1_000;

/** The flow-control keys Tether publishes with; QStash has no listing of a token's keys in the client. */
const FLOW_CONTROL_KEYS = [BILLING_FLOW_CONTROL_KEY, VOP_FLOW_CONTROL_KEY];

/** Statuses whose changes in the last hour make the chargeback ratio. */
const RATIO_STATUSES = ['approved', 'chargebacked'] as const;

/** QStash's REST API, for the calls the official client does not make quietly. */
export interface QStashApi {
  url: string;
  token: string;
}

export interface OperationalSources {
  database: DatabaseHandle;
  qstash: QStashClient;
  qstashApi: QStashApi;
  redis: Redis;
  redisKeyPrefix: string;
  empRateLimitPerSecond: number;
  scrape: ScrapeSourceOptions;
}

interface DatabaseSnapshot {
  waiting: Array<{ state: string; count: number; oldestSeconds: number }>;
  uploads: Array<{ status: string; count: number }>;
  changedLastHour: Array<{ status: string; count: number }>;
  lastNotificationAt: Date | null;
}

async function readDatabase(database: DatabaseHandle): Promise<DatabaseSnapshot> {
  const { db } = database;
  // Each one an index range (webhook_events_outcome_idx, billing_attempts_status_idx), the primary
  // key, or the uploads table, which holds one row per file.
  const [waiting, uploads, changed, last] = await Promise.all([
    db.execute<{ state: string; count: number; oldest: number | null }>(sql`
      select outcome as state, count(*)::int as count, extract(epoch from now() - min(received_at))::float8 as oldest
      from webhook_events where outcome in ('awaiting_confirmation', 'pending_match') group by outcome`),
    db.execute<{ status: string; count: number }>(sql`select status, count(*)::int as count from uploads group by status`),
    db.execute<{ status: string; count: number }>(sql`
      select status, count(*)::int as count from billing_attempts
      where status in ${sql.raw(`('${RATIO_STATUSES.join("', '")}')`)} and updated_at > now() - interval '1 hour' group by status`),
    db.execute<{ received_at: Date }>(sql`select received_at from webhook_events where source = 'notification' order by id desc limit 1`),
  ]);
  const byState = new Map(waiting.rows.map((row) => [row.state, row]));
  const byStatus = new Map(changed.rows.map((row) => [row.status, row.count]));
  return {
    // Zero, not missing, when nothing waits: an alert compares the number.
    waiting: ['awaiting_confirmation', 'pending_match'].map((state) => ({
      state,
      count: byState.get(state)?.count ?? 0,
      oldestSeconds: Math.max(0, byState.get(state)?.oldest ?? 0),
    })),
    uploads: uploads.rows,
    changedLastHour: RATIO_STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 })),
    lastNotificationAt: last.rows[0] ? new Date(last.rows[0].received_at) : null,
  };
}

interface QStashSnapshot {
  deadLetters: number;
  flows: Array<{ key: string; waiting: number; inFlight: number }>;
}

const flowControlInfo = z.object({ waitListSize: z.number(), parallelismCount: z.number() });

/**
 * GET /v2/flowControl/{key}, as the official client's flowControl.get asks it, but without the
 * client: it writes a line to stderr for every answer that is not 2xx, and a key QStash has not
 * seen yet (nothing ever published with it) is answered 404 at every scrape. Nothing waits then.
 */
async function flowOf(api: QStashApi, key: string) {
  const response = await fetch(`${api.url.replace(/\/$/, '')}/v2/flowControl/${encodeURIComponent(key)}`, {
    headers: { authorization: `Bearer ${api.token}` },
    signal: AbortSignal.timeout(SCRAPE_DEADLINE_MS),
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return { key, waiting: 0, inFlight: 0 };
  }
  if (!response.ok) throw new Error(`QStash answered ${response.status} for flow-control key ${key}`);
  const info = flowControlInfo.parse(await response.json());
  return { key, waiting: info.waitListSize, inFlight: info.parallelismCount };
}

async function readQStash(qstash: QStashClient, api: QStashApi): Promise<QStashSnapshot> {
  const [deadLetters, flows] = await Promise.all([countDeadLetters(qstash, DEAD_LETTER_COUNT_LIMIT).then(({ count }) => count), Promise.all(FLOW_CONTROL_KEYS.map((key) => flowOf(api, key)))]);
  return { deadLetters, flows };
}

export function registerOperationalMetrics(registry: Registry, sources: OperationalSources): void {
  const { pool } = sources.database;
  const registers = [registry];
  const sourceRounds: Array<() => Promise<void>> = [];
  const sourceUp = new Gauge({
    name: 'tether_metrics_source_up',
    help: 'Whether the gauges read from this source (database, qstash, redis) are current: 0 when it failed or did not answer in time at the last scrape',
    labelNames: ['source'],
    registers,
    // Collected beside the other gauges: it waits for the same reads.
    collect: async () => {
      await Promise.all(sourceRounds.map((round) => round()));
    },
  });

  /**
   * The collect function of every gauge read from one source: prom-client collects all metrics at
   * once, so the gauges share one read per scrape.
   */
  const collectFrom = <T>(
    source: string,
    read: () => Promise<T>,
    gauges: () => Gauge[],
    unlabelled: () => Gauge[],
    set: (value: T) => void,
  ): (() => Promise<void>) => {
    const load = scrapeSource(read, sources.scrape);
    let round: Promise<void> | undefined;
    const collect = () =>
      (round ??= load()
        .then((value) => {
          // A labelled gauge left out has no series; one without labels would still say 0, so NaN
          // (which no alert's comparison is true for) stands in for "not known now".
          for (const gauge of gauges()) gauge.reset();
          if (value === undefined) for (const gauge of unlabelled()) gauge.set(Number.NaN);
          sourceUp.set({ source }, value === undefined ? 0 : 1);
          if (value !== undefined) set(value);
        })
        .finally(() => setImmediate(() => (round = undefined))));
    sourceRounds.push(collect);
    return collect;
  };

  new Gauge({
    name: 'tether_db_pool_connections',
    help: "This node's PostgreSQL pool connections, by state (in_use, idle)",
    labelNames: ['state'],
    registers,
    collect() {
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
    },
  });
  new Gauge({
    name: 'tether_db_pool_waiting',
    help: "Queries waiting for a connection of this node's PostgreSQL pool",
    registers,
    collect() {
      this.set(pool.waitingCount);
    },
  });
  new Gauge({
    name: 'tether_db_pool_max',
    help: "The size of this node's PostgreSQL pool (DATABASE_POOL_SIZE)",
    registers,
  }).set(pool.options.max ?? 10);
  new Gauge({
    name: 'tether_emp_rate_limit_per_second',
    help: 'EMP_RATE_LIMIT: sales per second to EMP, all nodes together (compare with rate(tether_billing_sends_total))',
    registers,
  }).set(sources.empRateLimitPerSecond);

  const fromDatabase: () => Promise<void> = collectFrom(
    'database',
    () => readDatabase(sources.database),
    () => [eventsWaiting, oldestWaiting, uploads, changedLastHour, lastNotification],
    () => [lastNotification],
    (snapshot) => {
      for (const { state, count, oldestSeconds } of snapshot.waiting) {
        eventsWaiting.set({ state }, count);
        oldestWaiting.set({ state }, oldestSeconds);
      }
      for (const { status, count } of snapshot.uploads) uploads.set({ status }, count);
      for (const { status, count } of snapshot.changedLastHour) changedLastHour.set({ status }, count);
      lastNotification.set(snapshot.lastNotificationAt ? snapshot.lastNotificationAt.getTime() / 1000 : Number.NaN);
    },
  );
  const eventsWaiting: Gauge = new Gauge({
    name: 'tether_events_waiting',
    help: 'EMP events waiting, by state: awaiting_confirmation (a notification EMP has not confirmed yet), pending_match (no attempt found for it yet)',
    labelNames: ['state'],
    registers,
    collect: fromDatabase,
  });
  const oldestWaiting: Gauge = new Gauge({
    name: 'tether_events_oldest_waiting_seconds',
    help: 'Age of the oldest EMP event waiting in each state (0 when none waits)',
    labelNames: ['state'],
    registers,
    collect: fromDatabase,
  });
  const uploads: Gauge = new Gauge({
    name: 'tether_uploads',
    help: 'Uploads by status (created, uploaded, queued, processing, completed, failed)',
    labelNames: ['status'],
    registers,
    collect: fromDatabase,
  });
  const changedLastHour: Gauge = new Gauge({
    name: 'tether_attempts_changed_last_hour',
    help: 'Billing attempts last changed in the past hour that are now approved or chargebacked, by status (the chargeback ratio)',
    labelNames: ['status'],
    registers,
    collect: fromDatabase,
  });
  const lastNotification: Gauge = new Gauge({
    name: 'tether_events_last_notification_timestamp_seconds',
    help: 'When the edge received the newest EMP notification recorded (unix seconds); NaN before the first',
    registers,
    collect: fromDatabase,
  });

  const fromQStash: () => Promise<void> = collectFrom(
    'qstash',
    () => readQStash(sources.qstash, sources.qstashApi),
    () => [deadLetters, flowWaiting, flowInFlight],
    () => [deadLetters],
    (snapshot) => {
      deadLetters.set(snapshot.deadLetters);
      for (const flow of snapshot.flows) {
        flowWaiting.set({ flow_control_key: flow.key }, flow.waiting);
        flowInFlight.set({ flow_control_key: flow.key }, flow.inFlight);
      }
    },
  );
  const deadLetters: Gauge = new Gauge({
    name: 'tether_qstash_dead_letters',
    help: `Messages in QStash's dead-letter queue (counted up to ${DEAD_LETTER_COUNT_LIMIT})`,
    registers,
    collect: fromQStash,
  });
  const flowWaiting: Gauge = new Gauge({
    name: 'tether_qstash_flow_waiting',
    help: 'Messages QStash holds back by flow control (its wait list), by flow-control key',
    labelNames: ['flow_control_key'],
    registers,
    collect: fromQStash,
  });
  const flowInFlight: Gauge = new Gauge({
    name: 'tether_qstash_flow_in_flight',
    help: 'Messages of a flow-control key being delivered now',
    labelNames: ['flow_control_key'],
    registers,
    collect: fromQStash,
  });

  const probeAge: Gauge = new Gauge({
    name: 'tether_qstash_oldest_undelivered_seconds',
    help: 'Age of the oldest delivery probe QStash has not delivered (0 when all arrived): how far behind, or how long down, QStash is',
    registers,
    collect: collectFrom(
      'redis',
      () => oldestUndeliveredProbeSeconds(sources.redis, sources.redisKeyPrefix),
      () => [probeAge],
      () => [probeAge],
      (seconds) => probeAge.set(seconds),
    ),
  });
}
