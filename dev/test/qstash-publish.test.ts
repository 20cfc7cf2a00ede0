import { Client, Receiver } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QStashDevServer } from '../qstash/server';
import { signDelivery } from '../qstash/signing';
import { TEST_QSTASH_KEYS, startTestQStash } from '../testing/qstash';
import { createTestDatabase, type TestDatabase } from '../testing/postgres';
import { startDestination, waitUntil, type Destination } from './qstash-harness';

let database: TestDatabase;
let server: QStashDevServer;
let client: Client;
let destination: Destination;
const receiver = new Receiver({ currentSigningKey: TEST_QSTASH_KEYS.current, nextSigningKey: TEST_QSTASH_KEYS.next });

beforeAll(async () => {
  database = await createTestDatabase('qstash_publish');
  ({ server, client } = await startTestQStash(database.url));
  destination = await startDestination();
});

afterAll(async () => {
  await server?.close();
  await destination?.close();
  await database?.drop();
});

const requestsFor = (messageId: string) =>
  destination.requests.filter((request) => request.headers.get('upstash-message-id') === messageId);

describe('publish', () => {
  it('delivers a JSON message once, signed so that the official Receiver accepts it', async () => {
    const url = `${destination.url}/events?source=test`;
    const { messageId } = await client.publishJSON({ url, body: { hello: 'wörld' }, headers: { 'X-Trace': 't-1' } });
    await server.idle();

    const [delivered, ...others] = requestsFor(messageId);
    expect(others).toHaveLength(0);
    expect(delivered!.method).toBe('POST');
    expect(delivered!.url).toBe(url);
    expect(JSON.parse(delivered!.body)).toEqual({ hello: 'wörld' });
    expect(delivered!.headers.get('content-type')).toBe('application/json');
    expect(delivered!.headers.get('x-trace')).toBe('t-1');
    expect(delivered!.headers.get('upstash-retried')).toBe('0');
    expect(delivered!.headers.get('user-agent')).toBe('Upstash-QStash');
    expect(delivered!.headers.get('authorization')).toBeNull();

    const signature = delivered!.headers.get('upstash-signature')!;
    await expect(receiver.verify({ signature, body: delivered!.body, url })).resolves.toBe(true);
    await expect(receiver.verify({ signature, body: delivered!.body.replace('w', 'W'), url })).rejects.toThrow(/body hash/);
    await expect(receiver.verify({ signature, body: delivered!.body, url: `${destination.url}/other` })).rejects.toThrow(
      /invalid subject/,
    );
    const [header, payload, mac] = signature.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'https://evil.example' }),
    ).toString('base64url');
    await expect(receiver.verify({ signature: `${header}.${forgedPayload}.${mac}`, body: delivered!.body })).rejects.toThrow();
    await expect(
      new Receiver({ currentSigningKey: 'sig_other', nextSigningKey: 'sig_other_next' }).verify({ signature, body: delivered!.body }),
    ).rejects.toThrow();
  });

  it('accepts signatures made with the next signing key, as after a key rotation', async () => {
    const url = `${destination.url}/rotated`;
    const body = '{"rotated":true}';
    const signature = await signDelivery(TEST_QSTASH_KEYS.next, url, new TextEncoder().encode(body));
    await expect(receiver.verify({ signature, body, url })).resolves.toBe(true);
    const unknownKey = await signDelivery('sig_unknown', url, new TextEncoder().encode(body));
    await expect(receiver.verify({ signature: unknownKey, body, url })).rejects.toThrow();
  });

  it('forwards a raw body, its content type, Upstash-Forward-* headers and Upstash-Method as given', async () => {
    const url = `${destination.url}/raw`;
    const { messageId } = await client.publish({
      url,
      body: 'plain text, not JSON',
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Upstash-Forward-X-Tenant': 'acme' },
    });
    await server.idle();
    const [delivered] = requestsFor(messageId);
    expect(delivered!.method).toBe('PUT');
    expect(delivered!.body).toBe('plain text, not JSON');
    expect(delivered!.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(delivered!.headers.get('x-tenant')).toBe('acme');
    await expect(
      receiver.verify({ signature: delivered!.headers.get('upstash-signature')!, body: delivered!.body, url }),
    ).resolves.toBe(true);
  });

  it('accepts a duplicate deduplication id without delivering it again', async () => {
    const url = `${destination.url}/dedup`;
    const first = await client.publishJSON({ url, body: { n: 1 }, deduplicationId: 'emp-api-abc-sale-approved' });
    const second = await client.publishJSON({ url, body: { n: 2 }, deduplicationId: 'emp-api-abc-sale-approved' });
    expect(second).toMatchObject({ messageId: first.messageId, deduplicated: true });
    expect(first).not.toHaveProperty('deduplicated');

    const byContent = await client.publishJSON({ url, body: { same: true }, contentBasedDeduplication: true });
    const again = await client.publishJSON({ url, body: { same: true }, contentBasedDeduplication: true });
    const different = await client.publishJSON({ url, body: { same: false }, contentBasedDeduplication: true });
    expect(again).toMatchObject({ messageId: byContent.messageId, deduplicated: true });
    expect(different.messageId).not.toBe(byContent.messageId);

    // As QStash does, so that ids it would refuse do not pass here.
    await expect(client.publishJSON({ url, body: {}, deduplicationId: 'emp:api:abc' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("cannot contain ':'"),
    });

    await server.idle();
    const paths = destination.requests.filter((request) => request.url === url).map((request) => request.body);
    expect(paths.sort()).toEqual(['{"n":1}', '{"same":false}', '{"same":true}']);
  });

  it('lets exactly one of many concurrent publishes with one deduplication id through', async () => {
    const url = `${destination.url}/dedup-race`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) => client.publishJSON({ url, body: { n }, deduplicationId: 'race' })),
    );
    const inBatch = await client.batchJSON([
      { url, body: { batch: 1 }, deduplicationId: 'in-batch' },
      { url, body: { batch: 2 }, deduplicationId: 'in-batch' },
    ]);
    await server.idle();
    const accepted = results.filter((result) => !result.deduplicated);
    expect(accepted).toHaveLength(1);
    expect(new Set(results.map((result) => result.messageId))).toEqual(new Set([accepted[0]!.messageId]));
    expect(inBatch[1]).toMatchObject({ messageId: inBatch[0]!.messageId, deduplicated: true });
    expect(destination.requests.filter((request) => request.url === url)).toHaveLength(2);
  });

  it('publishes a batch in one request', async () => {
    const url = `${destination.url}/batch`;
    const results = await client.batchJSON([
      { url, body: { n: 1 } },
      { url, body: { n: 2 }, headers: { 'X-Part': 'two' } },
      { url, body: { n: 3 }, deduplicationId: 'batch-3' },
    ]);
    expect(results).toHaveLength(3);
    await server.idle();
    for (const [index, { messageId }] of results.entries()) {
      expect(requestsFor(messageId).map((request) => JSON.parse(request.body))).toEqual([{ n: index + 1 }]);
    }
    expect(requestsFor(results[1]!.messageId)[0]!.headers.get('x-part')).toBe('two');
  });

  it('holds a delayed message until its time, shows it while pending, and cancels it', async () => {
    const url = `${destination.url}/delayed`;
    const publishedAt = Date.now();
    const delayed = await client.publishJSON({ url, body: { delayed: true }, delay: '1s', retries: 2 });
    const cancelled = await client.publishJSON({ url, body: { cancelled: true }, notBefore: Math.floor(Date.now() / 1000) + 2 });

    const pending = await client.messages.get(delayed.messageId);
    expect(pending).toMatchObject({ messageId: delayed.messageId, url, method: 'POST', maxRetries: 2, body: '{"delayed":true}' });
    expect(pending.notBefore).toBeGreaterThanOrEqual(publishedAt + 1000);
    await expect(client.messages.cancel(cancelled.messageId)).resolves.toEqual({ cancelled: 1 });

    await server.idle();
    expect(requestsFor(delayed.messageId)).toHaveLength(0);
    await waitUntil(() => requestsFor(delayed.messageId).length === 1, 5_000);
    expect(requestsFor(delayed.messageId)[0]!.receivedAt - publishedAt).toBeGreaterThanOrEqual(1000);
    await server.idle();
    await expect(client.messages.get(delayed.messageId)).rejects.toMatchObject({ status: 404 });
    await new Promise((resolve) => setTimeout(resolve, 2_200 - (Date.now() - publishedAt)));
    await server.idle();
    expect(requestsFor(cancelled.messageId)).toHaveLength(0);
  });

  it('delivers a queue in order, one at a time by default', async () => {
    const url = `${destination.url}/queued`;
    const queue = client.queue({ queueName: 'uploads' });
    const ids = [];
    for (let n = 0; n < 5; n += 1) ids.push((await queue.enqueueJSON({ url, body: { n } })).messageId);
    await server.idle();
    const delivered = destination.requests.filter((request) => request.url === url);
    expect(delivered.map((request) => JSON.parse(request.body).n)).toEqual([0, 1, 2, 3, 4]);
    await expect(queue.get()).resolves.toMatchObject({ name: 'uploads', parallelism: 1, lag: 0 });
  });

  it('answers 401 to a wrong or missing token', async () => {
    const intruder = new Client({ baseUrl: server.url, token: 'wrong', retry: false });
    await expect(intruder.publishJSON({ url: `${destination.url}/x`, body: {} })).rejects.toMatchObject({ status: 401 });
    const anonymous = await fetch(`${server.url}/v2/publish/${destination.url}/x`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
    await expect(fetch(`${server.url}/v2/keys`, { headers: { Authorization: `Bearer ${TEST_QSTASH_KEYS.token}` } }).then((r) => r.json())).resolves.toEqual({
      current: TEST_QSTASH_KEYS.current,
      next: TEST_QSTASH_KEYS.next,
    });
  });
});
