import { Client } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_QSTASH_KEYS, startTestQStash } from '../testing/qstash';
import { createTestDatabase, type TestDatabase } from '../testing/postgres';
import { startDestination, waitUntil, type Destination } from './qstash-harness';

let database: TestDatabase;
let destination: Destination;

beforeAll(async () => {
  database = await createTestDatabase('qstash_durability');
  destination = await startDestination();
});

afterAll(async () => {
  await destination?.close();
  await database?.drop();
});

const deliveriesPerMessage = (path: string) => {
  const counts = new Map<string, number>();
  for (const request of destination.requests.filter((request) => new URL(request.url).pathname === path)) {
    const id = request.headers.get('upstash-message-id')!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
};

describe('durability', () => {
  it.each([
    { flushPublishes: true, path: '/after-restart' },
    { flushPublishes: false, path: '/after-restart-unflushed' },
  ])('delivers after a restart what was acknowledged before it (flushPublishes: $flushPublishes)', async ({ flushPublishes, path }) => {
    const first = await startTestQStash(database.url, { flushPublishes });
    const url = `${destination.url}${path}`;
    // Due only after the restart, so none of them can go out before it.
    const notBefore = Math.ceil(Date.now() / 1000) + 2;
    const published = await first.client.batchJSON(
      Array.from({ length: 20 }, (_, n) => ({ url, body: { n }, notBefore })),
    );
    const queued = await first.client.publishJSON({ url, body: { queued: true }, flowControl: { key: 'restart', parallelism: 1 }, notBefore });
    const ids = [...published.map((result) => result.messageId), queued.messageId];
    await first.server.close();
    expect(deliveriesPerMessage(path).size).toBe(0);

    const second = await startTestQStash(database.url);
    try {
      await waitUntil(() => deliveriesPerMessage(path).size === ids.length, 10_000);
      await second.server.idle();
      const counts = deliveriesPerMessage(path);
      expect([...counts.keys()].sort()).toEqual([...ids].sort());
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await second.server.close();
    }
  });

  it('lets two instances on one database share the work without delivering a message twice', async () => {
    const [a, b] = await Promise.all([startTestQStash(database.url), startTestQStash(database.url)]);
    try {
      const url = `${destination.url}/shared`;
      const clients: Client[] = [a.client, b.client];
      const ids = await Promise.all(
        Array.from({ length: 300 }, (_, n) => clients[n % 2]!.publishJSON({ url, body: { n } }).then((result) => result.messageId)),
      );
      await waitUntil(() => deliveriesPerMessage('/shared').size === ids.length, 15_000);
      await Promise.all([a.server.idle(), b.server.idle()]);
      const counts = deliveriesPerMessage('/shared');
      expect(counts.size).toBe(300);
      expect([...counts.values()].filter((count) => count > 1)).toEqual([]);
    } finally {
      await Promise.all([a.server.close(), b.server.close()]);
    }
  });

  it('keeps the signing keys it was started with across instances', async () => {
    const { server } = await startTestQStash(database.url);
    try {
      const keys = await fetch(`${server.url}/v2/keys`, { headers: { Authorization: `Bearer ${TEST_QSTASH_KEYS.token}` } });
      expect(await keys.json()).toEqual({ current: TEST_QSTASH_KEYS.current, next: TEST_QSTASH_KEYS.next });
    } finally {
      await server.close();
    }
  });
});
