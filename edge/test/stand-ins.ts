/**
 * The services the edge talks to, started locally: the Upstash REST stand-in on the real Redis,
 * the QStash stand-in on a throw-away PostgreSQL database, and a sink standing in for the
 * backend that counts what QStash delivers.
 *
 * Run directly (`stand-ins.ts [all|redis|qstash|sink]`), it starts those services, prints the
 * edge's variables for them as one JSON line, and stops on SIGTERM or SIGINT. The tests' global
 * setup runs all of them in one child process; the benchmark runs each in its own, so that
 * they do not share one event loop.
 */
import { startDeliverySink } from '../../dev/delivery-sink';
import { startQStashDevServer } from '../../dev/qstash/server';
import { createTestDatabase } from '../../dev/testing/postgres';
import { startUpstashRestServer } from '../../dev/upstash-rest/server';

export type StandIn = 'redis' | 'qstash' | 'sink';

export interface RunningStandIns {
  /** The edge's variables for these stand-ins (tokens are development values), plus SINK_URL. */
  vars: Record<string, string>;
  close(): Promise<void>;
}

const UPSTASH_TOKEN = 'edge-upstash-token';
const QSTASH_TOKEN = 'edge-qstash-token';

async function startOne(standIn: StandIn): Promise<RunningStandIns> {
  switch (standIn) {
    case 'redis': {
      const server = await startUpstashRestServer({ redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', token: UPSTASH_TOKEN });
      return {
        vars: {
          UPSTASH_REDIS_REST_URL: server.url,
          UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN,
          REDIS_KEY_PREFIX: `test:edge:${crypto.randomUUID()}:`,
        },
        close: () => server.close(),
      };
    }
    case 'qstash': {
      const database = await createTestDatabase('tether_edge');
      const server = await startQStashDevServer({
        databaseUrl: database.url,
        token: QSTASH_TOKEN,
        currentSigningKey: 'sig_edge_current',
        nextSigningKey: 'sig_edge_next',
        retryBackoffMs: () => 200,
        pollIntervalMs: 20,
      });
      return {
        vars: { QSTASH_URL: server.url, QSTASH_TOKEN },
        close: async () => {
          await server.close();
          await database.drop();
        },
      };
    }
    case 'sink': {
      const sink = await startDeliverySink();
      return { vars: { BACKEND_EVENTS_URL: `${sink.url}/qstash/emp-events`, SINK_URL: sink.url }, close: () => sink.close() };
    }
  }
}

export async function startStandIns(standIns: readonly StandIn[]): Promise<RunningStandIns> {
  const started = await Promise.all(standIns.map(startOne));
  return {
    vars: Object.assign({ EMP_API_PASSWORD: 'edge-password' }, ...started.map(({ vars }) => vars)),
    close: async () => {
      await Promise.all(started.map(({ close }) => close()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ?? 'all';
  const standIns = await startStandIns(which === 'all' ? ['redis', 'qstash', 'sink'] : [which as StandIn]);
  process.stdout.write(`${JSON.stringify(standIns.vars)}\n`);
  const stop = () => void standIns.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
