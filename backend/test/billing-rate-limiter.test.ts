/**
 * The shared rate limiter on the real Redis: two nodes (two limiters, two REST clients) drawing
 * from one limit get slots spaced so that no sliding one-second window holds more than the
 * limit, and together they still use most of it.
 */
import { Redis } from '@upstash/redis';
import { randomBytes } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateMeter } from '../../dev/genesis/rate-meter';
import { startUpstashRestServer } from '../../dev/upstash-rest/server';
import type { RunningServer } from '../src/http/listen';
import { SharedRateLimiter } from '../src/billing/rate-limiter';
import { REDIS_URL } from './support/billing';

const token = randomBytes(8).toString('hex');
const key = `test:rate-limiter:${randomBytes(6).toString('hex')}`;
let server: RunningServer;

beforeAll(async () => {
  server = await startUpstashRestServer({ redisUrl: REDIS_URL, token });
});
afterAll(async () => {
  const redis = new IORedis(REDIS_URL);
  await redis.del(key);
  redis.disconnect();
  await server?.close();
});

const limiterOnNode = (perSecond: number) =>
  new SharedRateLimiter(new Redis({ url: server.url, token, enableTelemetry: false }), { key, perSecond, headroom: 0.04 });

describe('SharedRateLimiter', () => {
  it('spaces two nodes’ requests to the limit in every one-second window', async () => {
    const limit = 25;
    const nodes = [limiterOnNode(limit), limiterOnNode(limit)];
    const meter = new RateMeter<'all'>();
    const started = performance.now();
    // Ten callers per node, about three seconds' worth of requests in all.
    await Promise.all(
      nodes.flatMap((limiter) =>
        Array.from({ length: 10 }, async () => {
          for (let request = 0; request < 4; request++) {
            await limiter.acquire();
            meter.record('all');
          }
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(meter.total()).toBe(80);
    expect(meter.maxInWindow()).toBeLessThanOrEqual(limit);
    // 80 slots at 24/s (the headroom) take about 3.3 s; more only when the machine is too busy to keep time.
    expect(seconds).toBeGreaterThan(80 / limit - 0.5);
    expect(seconds).toBeLessThan((2 * 80) / (limit * 0.96));
  });

  it('lets a stalled process send late, never bunched with the requests after it', async () => {
    const limiter = limiterOnNode(50);
    const meter = new RateMeter<'all'>();
    const callers = Array.from({ length: 20 }, async (_, index) => {
      await limiter.acquire();
      meter.record('all');
      // One caller blocks the event loop for 150 ms, making every waiting caller late at once.
      if (index === 0) {
        const until = performance.now() + 150;
        while (performance.now() < until);
      }
    });
    await Promise.all(callers);
    expect(meter.maxInWindow(undefined, 1000)).toBeLessThanOrEqual(50);
    // Within any 100 ms, no more requests than 100 ms of slots (about 5) plus one.
    expect(meter.maxInWindow(undefined, 100)).toBeLessThanOrEqual(6);
  });
});
