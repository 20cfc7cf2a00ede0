/**
 * Events applied per second by one backend process: N concurrent deliveries submitted to the
 * EventBatcher, exactly as the delivery endpoint hands them over after checking the signature
 * (group commit, attempt locks, state machine, history, blacklist), against PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type pg from 'pg';
import pino from 'pino';
import { createTestDatabase } from '../../dev/testing/postgres';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import type { EventContext } from '../../backend/src/events/context';
import { eventMetrics } from '../../backend/src/events/metrics';
import { EventBatcher } from '../../backend/src/events/batcher';
import type { IncomingEvent } from '../../backend/src/events/process';
import { createMetricsRegistry } from '../../backend/src/metrics';
import { DEFAULT_BLACKLIST_CODES } from '@tether/shared/reason-codes';
import { eventMix, percentile, seedAttempts } from './fixtures';

export interface ThroughputResult {
  concurrency: number;
  poolSize: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  callLatencyMs: { p50: number; p99: number };
  /** CPU this process (Node only) spent per event. */
  nodeCpuMicrosecondsPerEvent: number;
  /** CPU the PostgreSQL sessions serving this database spent per event (Linux /proc; not WAL writer or checkpointer). */
  postgresCpuMicrosecondsPerEvent?: number;
  /** What one dedicated 2-core machine would sustain at that CPU cost, had nothing else run on it. */
  twoCoreCeilingPerSecond?: number;
  outcomes: Record<string, number>;
  loadAverage: number[];
}

/** CPU seconds of the server processes behind this database's sessions, where /proc shows them. */
async function postgresCpuSeconds(pool: pg.Pool): Promise<number | undefined> {
  const sessions = await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
  try {
    return sessions.rows.reduce((total, { pid }) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return total + (Number(fields[11]) + Number(fields[12])) / 100;
    }, 0);
  } catch {
    return undefined;
  }
}

async function drive(batcher: EventBatcher, events: IncomingEvent[], concurrency: number) {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next++]!;
      const started = performance.now();
      const result = await batcher.submit({ ...event, receivedAt: new Date() });
      latencies.push(performance.now() - started);
      const key = result.duplicate ? 'duplicate' : result.outcome;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b), outcomes };
}

function costs(nodeMicroseconds: number, before: number | undefined, after: number | undefined, events: number) {
  if (before === undefined || after === undefined) return {};
  const postgresMicroseconds = ((after - before) * 1e6) / events;
  return {
    postgresCpuMicrosecondsPerEvent: Math.round(postgresMicroseconds),
    twoCoreCeilingPerSecond: Math.round(2e6 / (nodeMicroseconds + postgresMicroseconds)),
  };
}

/** `concurrency` deliveries in flight at once, as many HTTP requests would be; pool as in production. */
export async function measureThroughput(options: { attempts: number; concurrency: number; poolSize: number }): Promise<ThroughputResult> {
  const database = await createTestDatabase('tether_bench');
  const handle = openDatabase(database.url, { maxConnections: options.poolSize });
  try {
    await applyMigrations(handle.pool);
    const attempts = await seedAttempts(handle.db, options.attempts);
    const events = eventMix(attempts);
    const context: EventContext = {
      db: handle.db,
      log: pino({ level: 'warn' }),
      metrics: eventMetrics(createMetricsRegistry()),
      blacklistCodes: new Set(DEFAULT_BLACKLIST_CODES),
      personalDataKey: 'bench-personal-data-key-of-32-characters',
    };
    // As app.ts configures it: half the pool for event transactions.
    const batcher = new EventBatcher(context, { maxBatch: 100, maxConcurrentBatches: Math.max(1, Math.floor(options.poolSize / 2)) });
    // Warm the pool and the JIT on a slice that is not timed.
    const warmUp = Math.min(500, Math.floor(events.length / 10));
    await drive(batcher, events.slice(0, warmUp), options.concurrency);
    const postgresBefore = await postgresCpuSeconds(handle.pool);
    const cpuBefore = process.cpuUsage();
    const run = await drive(batcher, events.slice(warmUp), options.concurrency);
    const cpu = process.cpuUsage(cpuBefore);
    const postgresAfter = await postgresCpuSeconds(handle.pool);
    const count = events.length - warmUp;
    return {
      concurrency: options.concurrency,
      poolSize: options.poolSize,
      events: count,
      seconds: Number(run.seconds.toFixed(2)),
      eventsPerSecond: Math.round(count / run.seconds),
      callLatencyMs: { p50: Number(percentile(run.latencies, 50).toFixed(1)), p99: Number(percentile(run.latencies, 99).toFixed(1)) },
      nodeCpuMicrosecondsPerEvent: Math.round((cpu.user + cpu.system) / count),
      ...costs((cpu.user + cpu.system) / count, postgresBefore, postgresAfter, count),
      outcomes: run.outcomes,
      loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
    };
  } finally {
    await handle.close();
    await database.drop();
  }
}
