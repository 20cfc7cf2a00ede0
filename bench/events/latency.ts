/**
 * Receive-to-commit latency at a fixed rate, with a backend node in its own process
 * (backend/src/main.ts) applying the events:
 *
 * - `stack`: the bench publishes each event with the official QStash Client the moment it
 *   "receives" it, as the edge does; the dev QStash server (its own process) delivers it signed.
 * - `endpoint`: the bench delivers each event itself, signed exactly as QStash signs, straight to
 *   the node: the backend's share of the latency, without the dev QStash server's.
 *
 * Latency is processed_at − received_at per event from the database (processed_at is taken just
 * before the commit), and the node's own post-commit histogram from GET /metrics as a cross-check.
 *
 * Processes are measured warm, as a node that has been serving for a while is: `warmupSeconds` of
 * events at the same rate go first (JIT, connection pools, PostgreSQL's caches), every one of them
 * is committed, and only then does the measured run start. Warm-up events count in nothing.
 */
import { Client } from '@upstash/qstash';
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { signDelivery } from '../../dev/qstash/signing';
import { freePort } from '../../dev/running-server';
import { cpuSecondsByPart, startScript, stopProcess, waitForUrl, waitUntil } from '../support/processes';
import { createTestDatabase } from '../../dev/testing/postgres';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import { EMP_EVENTS_PATH } from '../../backend/src/events/delivery-route';
import type { IncomingEvent } from '../../backend/src/events/process';
import { eventMix, seedAttempts } from './fixtures';

const KEYS = { token: 'bench-qstash-token', current: 'sig_bench_current', next: 'sig_bench_next' };
/** Publishes or deliveries in flight at most; beyond that the generator falls behind its rate. */
const MAX_IN_FLIGHT = 256;

export type LatencyPath = 'stack' | 'endpoint';

export interface LatencyResult {
  path: LatencyPath;
  targetRate: number;
  warmupSeconds: number;
  achievedRate: number;
  sent: number;
  committedEvents: number;
  receiveToCommitMs: { p50: number; p95: number; p99: number; max: number };
  /** From the node's histogram (observed after commit): share of events committed within each bound. */
  histogramShareWithin: Record<string, number>;
  deadLettered?: number;
  sendErrors: number;
  /** CPU the node (and the dev QStash server) spent per event, whatever else ran on the machine. */
  cpuMicrosecondsPerEvent: { backend?: number; qstash?: number };
  loadAverage: number[];
}

/** Share of the events committed within each bound, from the node's histogram: `after` minus `before`. */
function histogramShares(after: string, before: string): Record<string, number> {
  const value = (metrics: string, pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? 0);
  const delta = (pattern: RegExp) => value(after, pattern) - value(before, pattern);
  const count = delta(/^tether_event_receive_to_commit_seconds_count (\S+)/m);
  const shares: Record<string, number> = {};
  for (const bound of ['0.05', '0.1', '0.25', '0.5', '1']) {
    const within = delta(new RegExp(`^tether_event_receive_to_commit_seconds_bucket\\{le="${bound}"\\} (\\S+)`, 'm'));
    shares[`${bound}s`] = Number((within / count).toFixed(4));
  }
  return shares;
}

function forwardedBody(event: IncomingEvent, receivedAt: Date): string {
  return JSON.stringify({
    version: 1,
    dedupKey: event.dedupKey,
    receivedAt: receivedAt.toISOString(),
    traceId: event.traceId,
    fields: event.fields,
  });
}

/** Sends item i at start + i/rate through `send`, at most MAX_IN_FLIGHT at once. */
async function sendAtRate<T>(items: readonly T[], rate: number, start: number, send: (item: T) => Promise<void>) {
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  while (Date.now() < start) await new Promise((resolve) => setTimeout(resolve, 1));
  for (let sent = 0; sent < items.length; ) {
    const due = Math.min(items.length, Math.floor(((Date.now() - start) / 1000) * rate));
    for (; sent < due && inFlight.size < MAX_IN_FLIGHT; sent++) {
      const sending = send(items[sent]!).catch(() => {
        errors++;
      });
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(inFlight);
  return { seconds: (Date.now() - start) / 1000, errors };
}

export async function measureLatency(options: { path: LatencyPath; rate: number; durationSeconds: number; warmupSeconds: number }): Promise<LatencyResult> {
  const [backendDatabase, qstashDatabase] = await Promise.all([createTestDatabase('tether_bench'), createTestDatabase('tether_bench_qstash')]);
  const handle = openDatabase(backendDatabase.url, { maxConnections: 4 });
  const children: ChildProcess[] = [];
  try {
    await applyMigrations(handle.pool);
    // eventMix yields about 2.2 events per attempt; warm-up events are about attempts of their own.
    const eventsFor = async (seconds: number) => {
      const total = options.rate * seconds;
      return eventMix(await seedAttempts(handle.db, Math.ceil(total / 2.2))).slice(0, total);
    };
    const warmup = await eventsFor(options.warmupSeconds);
    const events = await eventsFor(options.durationSeconds);

    const [qstashPort, backendPort] = [await freePort(), await freePort()];
    const qstashUrl = `http://127.0.0.1:${qstashPort}`;
    let client: Client | undefined;
    let qstash: ChildProcess | undefined;
    if (options.path === 'stack') {
      qstash = startScript('dev/qstash/main.ts', {
        QSTASH_DEV_DATABASE_URL: qstashDatabase.url,
        QSTASH_DEV_PORT: String(qstashPort),
        QSTASH_TOKEN: KEYS.token,
        QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
        QSTASH_NEXT_SIGNING_KEY: KEYS.next,
      });
      children.push(qstash);
      await waitForUrl(`${qstashUrl}/v2/schedules`, 'dev QStash server', qstash);
      client = new Client({ baseUrl: qstashUrl, token: KEYS.token, enableTelemetry: false });
    }
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    const backend = startScript('backend/src/main.ts', {
      // Not production: that would refuse this stack's http URLs (config.ts); nothing else reads NODE_ENV.
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(backendPort),
      PUBLIC_URL: backendUrl,
      DATABASE_URL: backendDatabase.url,
      UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
      UPSTASH_REDIS_REST_TOKEN: 'unused',
      QSTASH_URL: qstashUrl,
      QSTASH_TOKEN: KEYS.token,
      QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
      QSTASH_NEXT_SIGNING_KEY: KEYS.next,
      S3_BUCKET: 'unused',
      S3_ACCESS_KEY_ID: 'unused',
      S3_SECRET_ACCESS_KEY: 'unused',
      EMP_TERMINAL_TOKEN: 'unused',
      EMP_API_LOGIN: 'unused',
      EMP_API_PASSWORD: 'unused',
    });
    children.push(backend);
    await waitForUrl(`${backendUrl}/health`, 'backend node', backend);

    const destination = `${backendUrl}${EMP_EVENTS_PATH}`;
    const send = async (batch: readonly IncomingEvent[]): Promise<{ seconds: number; errors: number }> => {
      if (client !== undefined) {
        // As the edge does: received, then published at once.
        return sendAtRate(batch, options.rate, Date.now(), async (event) => {
          const body = forwardedBody(event, new Date());
          await client.publish({ url: destination, body, headers: { 'content-type': 'application/json' } });
        });
      }
      // Signed ahead of time, so the generator's CPU goes to sending; each event's receive time is
      // the moment it is due, so a generator falling behind shows as latency, never hides it.
      const start = Date.now() + 2_000 + batch.length * 0.3;
      const deliveries = await Promise.all(
        batch.map(async (event, index) => {
          const body = forwardedBody(event, new Date(start + (index * 1000) / options.rate));
          return { body, signature: await signDelivery(KEYS.current, destination, new TextEncoder().encode(body)) };
        }),
      );
      return sendAtRate(deliveries, options.rate, start, async ({ body, signature }) => {
        const response = await fetch(destination, { method: 'POST', headers: { 'upstash-signature': signature }, body });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      });
    };
    const committed = async () =>
      (await handle.pool.query<{ n: number }>('select count(*)::int as n from webhook_events where processed_at is not null')).rows[0]!.n;
    const distinct = (batch: readonly IncomingEvent[]) => new Set(batch.map((event) => event.dedupKey)).size;
    const allCommitted = (count: number) => waitUntil(async () => (await committed()) >= count, 300_000, 'every event committed');

    if (warmup.length > 0) {
      await send(warmup);
      await allCommitted(distinct(warmup));
    }
    const measuredFrom = new Date();
    const histogramBefore = await (await fetch(`${backendUrl}/metrics`)).text();
    const cpuBefore = cpuSecondsByPart({ backend, qstash });
    const sending = await send(events);
    await allCommitted(distinct(warmup) + distinct(events));
    const perEvent = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1e6) / events.length);
    const cpuAfter = cpuSecondsByPart({ backend, qstash });
    const cpuMicrosecondsPerEvent = {
      backend: perEvent(cpuBefore.backend, cpuAfter.backend),
      qstash: perEvent(cpuBefore.qstash, cpuAfter.qstash),
    };

    const stats = await handle.pool.query<{ p50: number; p95: number; p99: number; max: number }>(
      `
      select percentile_cont(0.5) within group (order by ms) as p50,
             percentile_cont(0.95) within group (order by ms) as p95,
             percentile_cont(0.99) within group (order by ms) as p99,
             max(ms) as max
      from (select extract(epoch from processed_at - received_at) * 1000 as ms from webhook_events where received_at >= $1) latencies`,
      [measuredFrom],
    );
    const [row] = stats.rows;
    const metrics = await (await fetch(`${backendUrl}/metrics`)).text();
    return {
      path: options.path,
      targetRate: options.rate,
      warmupSeconds: options.warmupSeconds,
      achievedRate: Math.round(events.length / sending.seconds),
      sent: events.length,
      committedEvents: (await committed()) - distinct(warmup),
      receiveToCommitMs: { p50: Math.round(row!.p50), p95: Math.round(row!.p95), p99: Math.round(row!.p99), max: Math.round(row!.max) },
      histogramShareWithin: histogramShares(metrics, histogramBefore),
      ...(client && { deadLettered: (await client.dlq.listMessages()).messages.length }),
      sendErrors: sending.errors,
      cpuMicrosecondsPerEvent,
      loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
    };
  } finally {
    await Promise.all(children.map((child) => stopProcess(child)));
    await handle.close();
    await Promise.all([backendDatabase.drop(), qstashDatabase.drop()]);
  }
}
