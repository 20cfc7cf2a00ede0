/**
 * Events applied per second by one backend process: N concurrent deliveries of EMP's confirmed
 * answers submitted to the EventBatcher, as billing and the confirmer hand them over (group
 * commit, attempt locks, state machine, history, blacklist), against PostgreSQL; and the floor
 * (floor.ts): the same effect with the least SQL, on the same pool, concurrency and event mix.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import type pg from 'pg';
import pino from 'pino';
import { createTestDatabase } from '../../dev/testing/postgres';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import type { EventContext } from '../../backend/src/events/context';
import { eventMetrics } from '../../backend/src/events/metrics';
import { applyingCommitter, EventBatcher } from '../../backend/src/events/batcher';
import type { IncomingEvent } from '../../backend/src/events/process';
import { createMetricsRegistry } from '../../backend/src/metrics';
import { DEFAULT_BLACKLIST_CODES } from '@tether/shared/reason-codes';
import { eventMix, percentile, seedAttempts } from './fixtures';
import { floorSubmitter } from './floor';

/** Tether's events path, or the floor of the same work (floor.ts). */
export type Subject = 'tether' | 'floor';

export interface ThroughputResult {
  subject: Subject;
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
  /** Transactions committed in the timed run, and events per transaction. */
  transactions: number;
  eventsPerTransaction: { mean: number; p50: number; singleShare: number };
  loadAverage: number[];
}

/** What the drive hands each delivery to. */
type Submit = (event: IncomingEvent) => Promise<{ duplicate: boolean; outcome: string }>;

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

async function drive(submit: Submit, events: IncomingEvent[], concurrency: number) {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next++]!;
      const started = performance.now();
      const result = await submit({ ...event, receivedAt: new Date() });
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

/**
 * With `--cpu-profile <directory>`, a CPU profile of the timed run alone (not the seeding or the
 * warm-up), one file per subject and round, for Chrome DevTools or speedscope.
 */
async function profiled<T>(directory: string | undefined, name: string, work: () => Promise<T>): Promise<T> {
  if (!directory) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${directory}/${name}-${Date.now()}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
}

/** `concurrency` deliveries in flight at once, as many HTTP requests would be; pool as in production. */
export async function measureThroughput(options: {
  subject: Subject;
  attempts: number;
  concurrency: number;
  poolSize: number;
  cpuProfileDirectory?: string;
}): Promise<ThroughputResult> {
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
    const batching = { maxBatch: 100, maxConcurrentBatches: Math.max(1, Math.floor(options.poolSize / 2)) };
    const batchSizes: number[] = [];
    let submit: Submit;
    if (options.subject === 'tether') {
      const applying = applyingCommitter(context);
      const batcher = new EventBatcher(context, batching, {
        many: (batch) => (batchSizes.push(batch.length), applying.many(batch)),
        one: (event) => (batchSizes.push(1), applying.one(event)),
      });
      submit = (event) => batcher.submit(event).then((result) => ({ duplicate: result.duplicate, outcome: result.outcome }));
    } else {
      submit = floorSubmitter(handle.pool, context.blacklistCodes, batching, (size) => batchSizes.push(size)).submit;
    }
    // Warm the pool and the JIT on a slice that is not timed.
    const warmUp = Math.min(500, Math.floor(events.length / 10));
    await drive(submit, events.slice(0, warmUp), options.concurrency);
    batchSizes.length = 0;
    const postgresBefore = await postgresCpuSeconds(handle.pool);
    const cpuBefore = process.cpuUsage();
    const run = await profiled(options.cpuProfileDirectory, `events-${options.subject}`, () => drive(submit, events.slice(warmUp), options.concurrency));
    const cpu = process.cpuUsage(cpuBefore);
    const postgresAfter = await postgresCpuSeconds(handle.pool);
    const count = events.length - warmUp;
    const sizes = [...batchSizes].sort((a, b) => a - b);
    return {
      subject: options.subject,
      concurrency: options.concurrency,
      poolSize: options.poolSize,
      events: count,
      seconds: Number(run.seconds.toFixed(2)),
      eventsPerSecond: Math.round(count / run.seconds),
      callLatencyMs: { p50: Number(percentile(run.latencies, 50).toFixed(1)), p99: Number(percentile(run.latencies, 99).toFixed(1)) },
      nodeCpuMicrosecondsPerEvent: Math.round((cpu.user + cpu.system) / count),
      ...costs((cpu.user + cpu.system) / count, postgresBefore, postgresAfter, count),
      outcomes: run.outcomes,
      transactions: sizes.length,
      eventsPerTransaction: {
        mean: Number((count / Math.max(1, sizes.length)).toFixed(1)),
        p50: percentile(sizes, 50),
        singleShare: Number((sizes.filter((size) => size === 1).length / Math.max(1, sizes.length)).toFixed(2)),
      },
      loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
    };
  } finally {
    await handle.close();
    await database.drop();
  }
}
