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

/** `callersPerNode` callers on each node, each sending `requestsPerCaller` requests in the slots it gets; when each was sent. */
async function sendFromEveryNode(nodes: SharedRateLimiter[], callersPerNode: number, requestsPerCaller: number): Promise<RateMeter<'all'>> {
  const meter = new RateMeter<'all'>();
  await Promise.all(
    nodes.flatMap((limiter) =>
      Array.from({ length: callersPerNode }, async () => {
        for (let request = 0; request < requestsPerCaller; request++) {
          await limiter.acquire();
          meter.record('all');
        }
      }),
    ),
  );
  return meter;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A node still starting up: the answer to its first Redis command is read `lateMs` late (a busy event loop, code not yet compiled). */
function firstAnswerReadLate(redis: Redis, lateMs: number): Redis {
  let first = true;
  return new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const late = first;
        first = false;
        const answer = await (value as (...args: unknown[]) => Promise<unknown>).apply(target, args);
        if (late) await sleep(lateMs);
        return answer;
      };
    },
  });
}

/** Redis' clock minus performance.now(), in ms, from the fastest of a few round trips. */
async function redisClockOffsetMs(redis: Redis): Promise<number> {
  let best = { roundTripMs: Infinity, offsetMs: 0 };
  for (let roundTrip = 0; roundTrip < 10; roundTrip++) {
    const asked = performance.now();
    const [seconds, microseconds] = await redis.time();
    const answered = performance.now();
    if (answered - asked < best.roundTripMs) best = { roundTripMs: answered - asked, offsetMs: seconds * 1000 + microseconds / 1000 - (asked + answered) / 2 };
  }
  return best.offsetMs;
}

describe('SharedRateLimiter', () => {
  it('spaces two nodes’ requests to the limit in every one-second window', async () => {
    const limit = 25;
    const nodes = [limiterOnNode(limit), limiterOnNode(limit)];
    const started = performance.now();
    // Ten callers per node, about three seconds' worth of requests in all.
    const meter = await sendFromEveryNode(nodes, 10, 4);
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
    const meter = await sendFromEveryNode(nodes, 16, 6);
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

  it('knows the time before its first slot: a first answer read late is not taken for a slot on time', async () => {
    const freshKey = `${key}:cold`;
    const redis = new Redis({ url: server.url, token, enableTelemetry: false });
    await redis.ping(); // a connection already open: only the answer's reading is late
    const limiter = new SharedRateLimiter(firstAnswerReadLate(redis, 25), { key: freshKey, perSecond: 50, headroom: 0.03 });
    await limiter.acquire();
    const sentAt = performance.now();
    // The slot it sent in, on this process's clock: the schedule's next free slot is one interval on.
    const nextSlotMs = Number(await redis.get<string>(freshKey)) / 1000;
    const slotAt = nextSlotMs - limiter.intervalMs - (await redisClockOffsetMs(redis));
    await redis.del(freshKey);
    // A reservation answered 25 ms late, its clock read from that same answer, would think
    // itself 12.5 ms late (within the 15.5 ms it may be) and send 25 ms after its slot.
    expect(sentAt - slotAt).toBeLessThanOrEqual(limiter.maxLateMs);
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
