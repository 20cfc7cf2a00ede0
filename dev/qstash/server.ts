/**
 * A QStash-compatible server for local use and tests. The official @upstash/qstash Client (with
 * baseUrl pointing here) publishes, batches, enqueues and manages schedules, messages and the DLQ;
 * deliveries are signed so the official Receiver verifies them. Messages live in PostgreSQL
 * (schema qstash_dev), so whatever was acknowledged survives a restart, and several instances may
 * share one database.
 */
import pg from 'pg';
import { listen, type RunningServer } from '../running-server';
import { createApi } from './api';
import { Dispatcher } from './dispatcher';
import type { MessageSpec } from './message-spec';
import { MessageStore } from './message-store';
import { PublishBatcher } from './publish-batcher';
import { repeat } from './repeat';
import { fireDueSchedules } from './schedules';
import { ensureSchema } from './schema';

export interface QStashDevServerOptions {
  databaseUrl: string;
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  port?: number;
  host?: string;
  /** Delay before retry number `retried` (1 for the first retry); QStash's is min(1 day, e^(2.5·retried) s). */
  retryBackoffMs?: (retried: number) => number;
  /** How often to look for work this process was not told about (other instances, schedules). */
  pollIntervalMs?: number;
  /** Deliveries in flight at once, across all destinations. */
  maxConcurrentDeliveries?: number;
  /** Timeout of a delivery without Upstash-Timeout. */
  deliveryTimeoutMs?: number;
  /**
   * Whether a publish waits for PostgreSQL to flush its commit to disk (default true). Without
   * the wait an acknowledged message still survives restarts of this server, only not a crash of
   * PostgreSQL itself, and the acknowledge path loses the disk flush (milliseconds on a busy disk).
   */
  flushPublishes?: boolean;
  onError?: (error: unknown) => void;
}

export interface QStashDevServer extends RunningServer {
  /**
   * Resolves when nothing can be delivered right now: nothing in flight and nothing claimable.
   * Messages delayed into the future, waiting out a retry backoff, or held back by a flow-control
   * limit or a paused queue do not count.
   */
  idle(): Promise<void>;
}

export const qstashBackoffMs = (retried: number) => Math.min(86_400, Math.exp(2.5 * retried)) * 1_000;

const DEDUPLICATION_CLEANUP_MS = 60_000;
/** Generous enough for slow job endpoints; a message's own Upstash-Timeout overrides it. */
const DEFAULT_DELIVERY_TIMEOUT_MS = 15 * 60_000;
/**
 * Publish statements in flight at once. Few, so that under load publishes queue up and share a
 * statement (each statement is a round trip and, with flushPublishes, a disk flush).
 */
const PUBLISH_STATEMENTS = 2;

export async function startQStashDevServer(options: QStashDevServerOptions): Promise<QStashDevServer> {
  const onError = options.onError ?? ((error: unknown) => console.error('[qstash-dev]', error));
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  // Publishes wait for their commit to be flushed: what was acknowledged survives any crash. The
  // delivery loop's own writes (claims, deletes, retries) need not: losing one to a database crash
  // only means a message is delivered again, so they skip the flush wait and leave it to publishes.
  const asyncCommits = '-c synchronous_commit=off';
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 10,
    ...(options.flushPublishes === false ? { options: asyncCommits } : {}),
  });
  const workPool = new pg.Pool({ connectionString: options.databaseUrl, max: 6, options: asyncCommits });
  pool.on('error', onError);
  workPool.on('error', onError);
  await ensureSchema(pool);
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const store = new MessageStore(workPool, deliveryTimeoutMs);
  const dispatcher = new Dispatcher({
    pool: workPool,
    store,
    signingKey: options.currentSigningKey,
    retryBackoffMs: options.retryBackoffMs ?? qstashBackoffMs,
    pollIntervalMs,
    maxInFlight: options.maxConcurrentDeliveries ?? 256,
    defaultTimeoutMs: deliveryTimeoutMs,
    onError,
  });
  dispatcher.start();

  const grouped = (spec: MessageSpec) => spec.flowControl !== null || spec.queueName !== null;
  const publishes = new PublishBatcher(pool, PUBLISH_STATEMENTS);
  const api = createApi(
    {
      pool,
      insert: (message) => publishes.insert(message),
      signingKeys: { current: options.currentSigningKey, next: options.nextSigningKey },
      published: (spec, notBefore) => dispatcher.wakeAt(notBefore, { grouped: grouped(spec) }),
      wake: () => dispatcher.wake({ grouped: true }),
    },
    options.token,
    onError,
  );

  const stopSchedules = repeat(
    async () => {
      if ((await fireDueSchedules(workPool, Date.now())) > 0) dispatcher.wake({ grouped: true });
    },
    Math.min(pollIntervalMs, 1_000),
    onError,
  );
  const stopCleanup = repeat(() => store.deleteExpiredDeduplication(Date.now()), DEDUPLICATION_CLEANUP_MS, onError);

  const http = await listen(api, { port: options.port, host: options.host });
  return {
    ...http,
    async idle() {
      for (;;) {
        // A round that starts once every earlier delivery has been recorded and still finds
        // nothing to claim proves there is nothing deliverable now.
        const settledBefore = dispatcher.quiet;
        const claimed = await dispatcher.nextRound();
        if (settledBefore && claimed === 0 && dispatcher.quiet) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      await http.close();
      await Promise.all([stopSchedules(), stopCleanup()]);
      await dispatcher.close();
      await Promise.all([pool.end(), workPool.end()]);
    },
  };
}
