/**
 * The shared rate limiter on the real Redis: two nodes (two limiters, two REST clients) drawing
 * from one limit get slots spaced so that no sliding one-second window holds more than the
 * limit, and together they use all of it but the headroom.
 */
import { Redis } from '@upstash/redis';
import { randomBytes } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

let slotsGivenUp = 0;
const limiterOnNode = (perSecond: number, headroom = 0.04) =>
  new SharedRateLimiter(new Redis({ url: server.url, token, enableTelemetry: false }), {
    key,
    perSecond,
    headroom,
    onSlotGivenUp: () => slotsGivenUp++,
  });
beforeEach(() => {
  slotsGivenUp = 0;
});

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

  it('keeps the schedule’s rate while callers wait: no slot goes unused', async () => {
    const limit = 50;
    const nodes = [limiterOnNode(limit, 0.03), limiterOnNode(limit, 0.03)];
    const meter = new RateMeter<'all'>();
    await Promise.all(
      nodes.flatMap((limiter) =>
        Array.from({ length: 16 }, async () => {
          for (let request = 0; request < 6; request++) {
            await limiter.acquire();
            meter.record('all');
          }
        }),
      ),
    );
    expect(meter.total()).toBe(192);
    expect(meter.maxInWindow()).toBeLessThanOrEqual(limit);
    // 192 slots at 48.5/s span 3.94 s from the first to the last; each slot given up (a caller
    // woken too late) adds one interval. A busy machine may cost a few; a lost schedule many.
    const givenUp = slotsGivenUp;
    const span = meter.span('all');
    expect(span).toBeGreaterThan(191 * nodes[0]!.intervalMs - 25);
    expect(span).toBeLessThan((191 + givenUp) * nodes[0]!.intervalMs + 100);
    expect(givenUp).toBeLessThan(20);
  });

  it('gives up a slot its caller woke too late for, rather than send bunched with the requests after it', async () => {
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
    expect(meter.total()).toBe(20);
    // The slots due during the stall (about seven of them) were given up, not bunched at its end.
    expect(slotsGivenUp).toBeGreaterThanOrEqual(5);
    expect(meter.maxInWindow(undefined, 1000)).toBeLessThanOrEqual(50);
    // Within any 100 ms, no more requests than 100 ms of slots (about 5) plus one.
    expect(meter.maxInWindow(undefined, 100)).toBeLessThanOrEqual(6);
  });
});
