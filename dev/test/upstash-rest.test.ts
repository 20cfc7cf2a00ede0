import { randomBytes } from 'node:crypto';
import { Redis as UpstashRedis, errors } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../running-server';
import { startUpstashRestServer } from '../upstash-rest/server';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const token = randomBytes(16).toString('hex');
const prefix = `test:upstash-rest:${randomBytes(6).toString('hex')}:`;
let keyCounter = 0;
const newKey = (name: string) => `${prefix}${name}:${++keyCounter}`;

let server: RunningServer;
let redis: IORedis;

function upstashClient(options: { token?: string; enableAutoPipelining?: boolean } = {}) {
  return new UpstashRedis({
    url: server.url,
    token: options.token ?? token,
    enableTelemetry: false,
    enableAutoPipelining: options.enableAutoPipelining,
    retry: false,
  });
}

function rawRequest(path: string, body: string | Buffer | undefined, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

beforeAll(async () => {
  server = await startUpstashRestServer({ redisUrl: REDIS_URL, token });
  redis = new IORedis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await server?.close();
});

// The official client batches commands into /pipeline by default; without auto-pipelining each
// command is its own POST /. Both paths must behave the same.
describe.each([
  { mode: 'auto-pipelined', enableAutoPipelining: true },
  { mode: 'one request per command', enableAutoPipelining: false },
])('@upstash/redis against the dev REST server ($mode)', ({ enableAutoPipelining }) => {
  const client = () => upstashClient({ enableAutoPipelining });

  it('sets with EX and NX and reads back', async () => {
    const key = newKey('set');
    expect(await client().set(key, 'first', { ex: 10 })).toBe('OK');
    expect(await client().set(key, 'second', { nx: true })).toBeNull();
    expect(await client().get(key)).toBe('first');
    const ttl = await client().ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10);
  });

  it('increments', async () => {
    const key = newKey('counter');
    expect(await client().incr(key)).toBe(1);
    expect(await client().incrby(key, 41)).toBe(42);
  });

  it('surfaces a Redis error as the client error', async () => {
    const key = newKey('not-a-number');
    await client().set(key, 'abc');
    const failure = client().incr(key);
    await expect(failure).rejects.toBeInstanceOf(errors.UpstashError);
    await expect(failure).rejects.toThrow(/ERR value is not an integer or out of range/);
    await expect(client().hget(key, 'field')).rejects.toThrow(/WRONGTYPE/);
  });

  it('round-trips unicode text and JSON values', async () => {
    const text = newKey('unicode');
    const value = 'Grüße, Zoë: 5 € → 日本語 🚀 \u0000 end';
    await client().set(text, value);
    expect(await client().get(text)).toBe(value);

    const json = newKey('json');
    await client().set(json, { iban: 'DE89 3704 0044 0532 0130 00', amount: 12.5, tags: ['ä'] });
    expect(await client().get(json)).toEqual({ iban: 'DE89 3704 0044 0532 0130 00', amount: 12.5, tags: ['ä'] });
  });

  it('returns hash replies in Redis shape (flat array), as Upstash does', async () => {
    const key = newKey('hash');
    await client().hset(key, { name: 'Zoë', count: 3 });
    expect(await client().hgetall(key)).toEqual({ name: 'Zoë', count: 3 });
  });
});

describe('pipelines and transactions', () => {
  it('runs a pipeline in order and reports each failing command separately', async () => {
    const key = newKey('pipeline');
    const pipeline = upstashClient().pipeline();
    pipeline.set(key, 'x');
    pipeline.incr(key);
    pipeline.get(key);
    pipeline.del(key);
    expect(await pipeline.exec({ keepErrors: true })).toEqual([
      { result: 'OK', error: undefined },
      { result: undefined, error: 'ERR value is not an integer or out of range' },
      { result: 'x', error: undefined },
      { result: 1, error: undefined },
    ]);
  });

  it('runs a transaction with MULTI/EXEC semantics', async () => {
    const key = newKey('transaction');
    const results = await upstashClient().multi().set(key, 1).incr(key).incrby(key, 10).get(key).exec();
    expect(results).toEqual(['OK', 2, 12, 12]);
  });

  it('keeps running a transaction past a command that fails at run time, like Redis', async () => {
    const text = newKey('tx-text');
    const after = newKey('tx-after');
    const results = await upstashClient().multi().set(text, 'abc').incr(text).set(after, 'done').exec({ keepErrors: true });
    expect(results.map((entry) => entry.error)).toEqual([undefined, 'ERR value is not an integer or out of range', undefined]);
    expect(await redis.get(after)).toBe('done');
  });

  it('discards the whole transaction when Redis refuses to queue a command', async () => {
    const key = newKey('tx-discarded');
    const response = await rawRequest('/multi-exec', JSON.stringify([['SET', key, 'v'], ['GET']]));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/wrong number of arguments/) });
    expect(await redis.exists(key)).toBe(0);
  });
});

describe('binary safety and the real Redis behind it', () => {
  it('writes through to the real Redis, and reads what Redis holds', async () => {
    const key = newKey('visible');
    await upstashClient().set(key, 'written over REST');
    expect(await redis.get(key)).toBe('written over REST');

    await redis.set(key, 'written by ioredis');
    expect(await upstashClient().get(key)).toBe('written by ioredis');
  });

  it('returns arbitrary bytes intact in base64 mode', async () => {
    const key = newKey('binary-read');
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
    await redis.set(key, bytes);
    const response = await rawRequest('/', JSON.stringify(['GET', key]), { 'upstash-encoding': 'base64' });
    const { result } = (await response.json()) as { result: string };
    expect(Buffer.from(result, 'base64').equals(bytes)).toBe(true);
  });

  it('stores a binary request body sent to a path command unchanged', async () => {
    const key = newKey('binary-write');
    const bytes = randomBytes(1024);
    const response = await rawRequest(`/set/${encodeURIComponent(key)}?EX=60`, bytes);
    expect(await response.json()).toEqual({ result: 'OK' });
    expect((await redis.getBuffer(key))?.equals(bytes)).toBe(true);
    expect(await redis.ttl(key)).toBeGreaterThan(0);
  });

  it('answers without base64 encoding when not asked for it', async () => {
    const key = newKey('plain');
    await redis.set(key, 'plain text');
    const response = await fetch(`${server.url}/get/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(await response.json()).toEqual({ result: 'plain text' });
  });
});

describe('requests the server refuses', () => {
  it('rejects a wrong token through the client', async () => {
    await expect(upstashClient({ token: 'not-the-token' }).get(newKey('any'))).rejects.toThrow(/Unauthorized/);
  });

  it('answers 401 without a token and accepts the _token query parameter', async () => {
    expect((await fetch(`${server.url}/ping`)).status).toBe(401);
    const withQueryToken = await fetch(`${server.url}/ping?_token=${token}`);
    expect(withQueryToken.status).toBe(200);
    expect(await withQueryToken.json()).toEqual({ result: 'PONG' });
  });

  it('answers a Redis error with HTTP 400', async () => {
    const response = await rawRequest('/', JSON.stringify(['NOSUCHCOMMAND', 'x']));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/^ERR unknown command/) });
  });

  it('refuses commands that would block or change the shared connection', async () => {
    for (const command of [['SUBSCRIBE', 'channel'], ['BLPOP', 'list', '0'], ['SELECT', '1'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']]) {
      const response = await rawRequest('/', JSON.stringify(command));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/not available/) });
    }
  });

  it('fails to start, clearly, when Redis is unreachable', async () => {
    await expect(startUpstashRestServer({ redisUrl: 'redis://127.0.0.1:1', token })).rejects.toThrow(/Cannot reach Redis/);
  });

  it('answers malformed bodies with HTTP 400', async () => {
    expect((await rawRequest('/', 'not json')).status).toBe(400);
    expect((await rawRequest('/', JSON.stringify([]))).status).toBe(400);
    expect((await rawRequest('/pipeline', JSON.stringify(['GET', 'k']))).status).toBe(400);
    expect((await rawRequest('/', JSON.stringify(['SET', 'k', { nested: true }]))).status).toBe(400);
  });
});
