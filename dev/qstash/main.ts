/**
 * Runs the QStash dev server from the command line:
 *   QSTASH_DEV_DATABASE_URL=postgres://… npx tsx dev/qstash/main.ts
 * Env: QSTASH_DEV_PORT (8077), QSTASH_DEV_HOST (127.0.0.1), QSTASH_DEV_DATABASE_URL or DATABASE_URL,
 * QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY (development defaults),
 * QSTASH_DEV_FLUSH_PUBLISHES=false to answer publishes before PostgreSQL flushes them to disk,
 * QSTASH_DEV_RETRY_BACKOFF_SCALE (e.g. 0.1) to shorten QStash's retry backoff (12 s, 2.5 min, …)
 * for test runs.
 */
import { qstashBackoffMs, startQStashDevServer } from './server';

const env = process.env;
const databaseUrl = env.QSTASH_DEV_DATABASE_URL ?? env.DATABASE_URL;
if (!databaseUrl) {
  console.error('Set QSTASH_DEV_DATABASE_URL or DATABASE_URL to the PostgreSQL database the server keeps its messages in.');
  process.exit(1);
}

const backoffScale = Number(env.QSTASH_DEV_RETRY_BACKOFF_SCALE ?? 1);
if (!(backoffScale > 0)) {
  console.error(`QSTASH_DEV_RETRY_BACKOFF_SCALE must be a positive number, got "${env.QSTASH_DEV_RETRY_BACKOFF_SCALE}"`);
  process.exit(1);
}

const server = await startQStashDevServer({
  databaseUrl,
  port: Number(env.QSTASH_DEV_PORT ?? 8077),
  host: env.QSTASH_DEV_HOST ?? '127.0.0.1',
  token: env.QSTASH_TOKEN ?? 'dev-qstash-token',
  currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY ?? 'sig_dev_current',
  nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY ?? 'sig_dev_next',
  flushPublishes: env.QSTASH_DEV_FLUSH_PUBLISHES !== 'false',
  retryBackoffMs: (retried) => qstashBackoffMs(retried) * backoffScale,
});
console.log(`QStash dev server listening on ${server.url} (QSTASH_URL=${server.url})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
