import { Client } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QStashDevServer } from '../qstash/server';
import { startTestQStash } from '../testing/qstash';
import { createTestDatabase, type TestDatabase } from '../testing/postgres';
import { sleep, startDestination, waitUntil, type Destination } from './qstash-harness';

let database: TestDatabase;
let server: QStashDevServer;
let client: Client;
let destination: Destination;

beforeAll(async () => {
  database = await createTestDatabase('qstash_flow');
  ({ server, client } = await startTestQStash(database.url));
  destination = await startDestination(async (request) => {
    if (new URL(request.url).pathname === '/slow') await sleep(150);
    return new Response('ok');
  });
});

afterAll(async () => {
  await server?.close();
  await destination?.close();
  await database?.drop();
});

const arrivalsAt = (path: string) =>
  destination.requests.filter((request) => new URL(request.url).pathname === path).map((request) => request.receivedAt);

/** The most arrivals inside any window of `windowMs`, wherever it is placed. */
function busiestWindow(arrivals: number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  return Math.max(...sorted.map((start) => sorted.filter((time) => time >= start && time < start + windowMs).length));
}

describe('flow control', () => {
  it('never starts more than `rate` deliveries of a key per period, counting publish and batch together', async () => {
    const url = `${destination.url}/rated`;
    const flowControl = { key: 'rated-key', rate: 3, period: '2s' as const };
    const started = Date.now();
    for (let n = 0; n < 5; n += 1) await client.publishJSON({ url, body: { n }, flowControl });
    await client.batchJSON(Array.from({ length: 4 }, (_, n) => ({ url, body: { n: n + 5 }, flowControl })));
    await waitUntil(() => arrivalsAt('/rated').length === 9, 10_000);

    const arrivals = arrivalsAt('/rated');
    expect(arrivals).toHaveLength(9);
    // Nine deliveries at three per two seconds need two full periods after the first three.
    expect(Math.max(...arrivals) - started).toBeGreaterThanOrEqual(4_000);
    // The window is measured at the destination, so it allows for the hop from dispatch to arrival,
    // which on a busy machine varies by up to a few hundred milliseconds.
    expect(busiestWindow(arrivals, 1_600), JSON.stringify(arrivals.map((time) => time - started))).toBeLessThanOrEqual(3);
  });

  it('never has more than `parallelism` deliveries of a key in flight', async () => {
    const url = `${destination.url}/slow`;
    const flowControl = { key: 'parallel-key', parallelism: 2 };
    destination.maxConcurrent = 0;
    const started = Date.now();
    for (let n = 0; n < 8; n += 1) await client.publishJSON({ url, body: { n }, flowControl });
    await server.idle();

    expect(arrivalsAt('/slow')).toHaveLength(8);
    expect(destination.maxConcurrent).toBe(2);
    // Four rounds of two 150 ms deliveries.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('leaves messages without a key, or with another key, unthrottled', async () => {
    const url = `${destination.url}/free`;
    await client.publishJSON({ url: `${destination.url}/held`, body: {}, flowControl: { key: 'other', rate: 1, period: '1m' } });
    await client.publishJSON({ url: `${destination.url}/held`, body: {}, flowControl: { key: 'other', rate: 1, period: '1m' } });
    for (let n = 0; n < 10; n += 1) await client.publishJSON({ url, body: { n } });
    for (let n = 0; n < 2; n += 1) await client.publishJSON({ url, body: { n }, flowControl: { key: `own-${n}`, rate: 1 } });
    await waitUntil(() => arrivalsAt('/free').length === 12, 5_000);
    await server.idle();
    // The second message of "other" waits a minute for its key; nothing else waited for it.
    expect(arrivalsAt('/held')).toHaveLength(1);
  });
});
