/**
 * /metrics as operators alert on it: the work waiting in PostgreSQL, QStash's dead letters and
 * flow-control wait lists (asked through QStash's API, here the dev server), the delivery probe's
 * age through an outage and after it, this node's pool, and a source that never answers not
 * holding the scrape.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@upstash/qstash';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BILLING_FLOW_CONTROL_KEY } from '../src/billing/dispatch';
import { uploads, webhookEvents } from '../src/db/schema';
import { listen, type RunningServer } from '../src/http/listen';
import { scrapeSource } from '../src/metrics';
import { sendDeliveryProbe } from '../src/monitoring/delivery-probe';
import { registerOperationalMetrics } from '../src/monitoring/operational-metrics';
import { waitFor } from './support/backend';
import { startBillingCluster, type BillingCluster } from './support/billing';

let cluster: BillingCluster;
/** Answers after `holdMs`, 500 for /fail: a destination to fill a flow's wait list and the DLQ. */
let destination: RunningServer;
let holdMs = 0;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 1, env: { METRICS_CACHE_TTL: '1' } });
  destination = await listen(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    return new Response(null, { status: new URL(request.url).pathname === '/fail' ? 500 : 200 });
  });
}, 60_000);

afterAll(async () => {
  await destination?.close();
  await cluster?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${cluster.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series, e.g. sample(text, 'tether_events_waiting{state="pending_match"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const hex = () => randomBytes(8).toString('hex');

describe('GET /metrics', () => {
  it('counts what waits in the database: events by state with the oldest age, uploads by status, the chargeback ratio', async () => {
    const before = await scrape();
    expect(sample(before, 'tether_events_waiting{state="awaiting_confirmation"}')).toBe(0);
    expect(sample(before, 'tether_events_waiting{state="pending_match"}')).toBe(0);
    expect(sample(before, 'tether_metrics_source_up{source="database"}')).toBe(1);

    const receivedAt = new Date(Date.now() - 90_000);
    await cluster.database.db.insert(webhookEvents).values([
      // Not due for confirmation for an hour, so that the node's confirmer leaves them waiting.
      ...[1, 2, 3].map(() => ({ dedupKey: `emp:api:${hex()}`, payload: {}, receivedAt, outcome: 'awaiting_confirmation', source: 'notification', confirmAfter: new Date(Date.now() + 3_600_000) })),
      { dedupKey: `emp:api:${hex()}`, payload: {}, receivedAt: new Date(), outcome: 'pending_match', source: 'emp_api' },
    ]);
    await cluster.database.db.insert(uploads).values([
      { fileKey: `uploads/${hex()}`, originalName: 'a.csv', status: 'queued' },
      { fileKey: `uploads/${hex()}`, originalName: 'b.csv', status: 'processing' },
      { fileKey: `uploads/${hex()}`, originalName: 'c.csv', status: 'failed' },
    ]);
    const after = await scrape();
    expect(sample(after, 'tether_events_waiting{state="awaiting_confirmation"}')).toBe(3);
    expect(sample(after, 'tether_events_waiting{state="pending_match"}')).toBe(1);
    expect(sample(after, 'tether_events_oldest_waiting_seconds{state="awaiting_confirmation"}')).toBeGreaterThanOrEqual(89);
    expect(sample(after, 'tether_events_last_notification_timestamp_seconds')).toBeCloseTo(receivedAt.getTime() / 1000, 0);
    for (const status of ['queued', 'processing', 'failed']) expect(sample(after, `tether_uploads{status="${status}"}`)).toBe(1);
    expect(sample(after, 'tether_attempts_changed_last_hour{status="chargebacked"}')).toBe(0);
    expect(sample(after, 'tether_emp_rate_limit_per_second')).toBe(50);
    expect(sample(after, 'tether_db_pool_max')).toBe(10);
    expect(sample(after, 'tether_db_pool_waiting')).toBe(0);
    expect(sample(after, 'tether_db_pool_connections{state="idle"}')).toBeGreaterThanOrEqual(1);
  });

  it("reads QStash's dead letters and a flow's wait list through QStash's API", async () => {
    expect(sample(await scrape(), 'tether_qstash_dead_letters')).toBe(0);
    await cluster.qstash.publishJSON({ url: `${destination.url}/fail`, body: {}, retries: 0 });
    await waitFor(async () => sample(await scrape(), 'tether_qstash_dead_letters') === 1);

    holdMs = 1_500;
    const flowControl = { key: BILLING_FLOW_CONTROL_KEY, parallelism: 1 };
    for (let n = 0; n < 4; n += 1) await cluster.qstash.publishJSON({ url: `${destination.url}/held`, body: { n }, flowControl });
    const held = await waitFor(async () => {
      const text = await scrape();
      return sample(text, `tether_qstash_flow_in_flight{flow_control_key="${BILLING_FLOW_CONTROL_KEY}"}`) === 1 && text;
    });
    expect(sample(held, `tether_qstash_flow_waiting{flow_control_key="${BILLING_FLOW_CONTROL_KEY}"}`)).toBe(3);
    holdMs = 0;
    expect(sample(held, 'tether_metrics_source_up{source="qstash"}')).toBe(1);
  }, 30_000);

  it('ages the oldest undelivered probe while QStash cannot take it, and clears it with the next delivery', async () => {
    const { services } = cluster.nodes[0]!;
    const options = { redis: services.redis, keyPrefix: services.config.redis.keyPrefix, publicUrl: cluster.url, intervalMs: 200, log: services.log };
    expect(sample(await scrape(), 'tether_qstash_oldest_undelivered_seconds')).toBe(0);

    // QStash down: nothing listens there. The probe is noted before the publish fails.
    const unreachable = new Client({ baseUrl: 'http://127.0.0.1:9', token: 'x', retry: false });
    await expect(sendDeliveryProbe({ ...options, qstash: unreachable })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(sample(await scrape(), 'tether_qstash_oldest_undelivered_seconds')).toBeGreaterThanOrEqual(1.2);

    // Only one node sends a probe per interval.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = Date.now();
    expect(await sendDeliveryProbe({ ...options, qstash: cluster.qstash }, now)).toBe(true);
    expect(await sendDeliveryProbe({ ...options, qstash: cluster.qstash }, now)).toBe(false);
    await waitFor(async () => sample(await scrape(), 'tether_qstash_oldest_undelivered_seconds') === 0);
  }, 30_000);

  it('answers without waiting for a source that never does, and says which one is not current', async () => {
    const silent = await listen(() => new Promise<Response>(() => undefined));
    try {
      const registry = new Registry();
      const { services } = cluster.nodes[0]!;
      registerOperationalMetrics(registry, {
        database: services.database,
        qstash: new Client({ baseUrl: silent.url, token: 'x', retry: false }),
        qstashApi: { url: silent.url, token: 'x' },
        redis: services.redis,
        redisKeyPrefix: services.config.redis.keyPrefix,
        empRateLimitPerSecond: 50,
        scrape: { ttlMs: 1, deadlineMs: 300 },
      });
      const started = performance.now();
      const text = await registry.metrics();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(sample(text, 'tether_metrics_source_up{source="qstash"}')).toBe(0);
      expect(sample(text, 'tether_metrics_source_up{source="database"}')).toBe(1);
      expect(sample(text, 'tether_qstash_dead_letters')).toBeNaN();
      expect(text).not.toMatch(/^tether_qstash_flow_waiting/m);
    } finally {
      await silent.close();
    }
  });
});

describe('scrapeSource', () => {
  it('runs one load at a time, reuses it for its time to live, and gives up waiting at the deadline', async () => {
    let loads = 0;
    let release: (value: number) => void = () => undefined;
    const read = scrapeSource(() => {
      loads += 1;
      return new Promise<number>((resolve) => (release = resolve));
    }, { ttlMs: 60_000, deadlineMs: 50 });
    expect(await Promise.all([read(), read()])).toEqual([undefined, undefined]);
    expect(loads).toBe(1);
    release(7);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await read()).toBe(7);
    expect(loads).toBe(1);
  });
});
