/** Runs the Upstash REST stand-in until interrupted: `npx tsx dev/upstash-rest/main.ts`. */
import { startUpstashRestServer } from './server';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const server = await startUpstashRestServer({
  redisUrl,
  token: process.env.UPSTASH_REDIS_REST_TOKEN ?? 'dev-upstash-token',
  port: Number(process.env.UPSTASH_DEV_PORT ?? 8079),
});

// Only host and port: a Redis URL may carry a password.
const redis = new URL(redisUrl);
console.log(`Upstash REST dev server: ${server.url} -> Redis ${redis.hostname}:${redis.port || 6379}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
