/**
 * The services the edge talks to, started locally: the Upstash REST stand-in on the real Redis,
 * the QStash stand-in on a throw-away PostgreSQL database, and a sink standing in for the
 * backend that counts what QStash delivers. Used by the tests' global setup (as a child
 * process: see global-setup.ts) and by the benchmark (imported).
 *
 * Run directly, it prints the edge's variables as one JSON line and stops on SIGTERM or SIGINT.
 */
import { startDeliverySink, type DeliverySink } from '../../dev/delivery-sink';
import { startQStashDevServer, type QStashDevServer } from '../../dev/qstash/server';
import { createTestDatabase } from '../../dev/testing/postgres';
import { startUpstashRestServer } from '../../dev/upstash-rest/server';

export interface EdgeStandIns {
  /** The edge's variables pointing at the stand-ins (tokens included; development values). */
  vars: Record<string, string>;
  qstash: QStashDevServer;
  sink: DeliverySink;
  close(): Promise<void>;
}

export async function startEdgeStandIns(options: { ports?: { upstash?: number; qstash?: number; sink?: number } } = {}): Promise<EdgeStandIns> {
  const upstashToken = 'edge-upstash-token';
  const qstashToken = 'edge-qstash-token';
  const database = await createTestDatabase('tether_edge');
  const upstash = await startUpstashRestServer({
    redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    token: upstashToken,
    port: options.ports?.upstash,
  });
  const qstash = await startQStashDevServer({
    databaseUrl: database.url,
    token: qstashToken,
    currentSigningKey: 'sig_edge_current',
    nextSigningKey: 'sig_edge_next',
    port: options.ports?.qstash,
    retryBackoffMs: () => 200,
    pollIntervalMs: 20,
  });
  const sink = await startDeliverySink({ port: options.ports?.sink });
  return {
    vars: {
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstashToken,
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: qstashToken,
      BACKEND_EVENTS_URL: `${sink.url}/qstash/emp-events`,
      EMP_API_PASSWORD: 'edge-password',
      REDIS_KEY_PREFIX: `test:edge:${crypto.randomUUID()}:`,
      SINK_URL: sink.url,
    },
    qstash,
    sink,
    async close() {
      await Promise.all([sink.close(), qstash.close(), upstash.close()]);
      await database.drop();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const standIns = await startEdgeStandIns();
  process.stdout.write(`${JSON.stringify(standIns.vars)}\n`);
  const stop = () => void standIns.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
