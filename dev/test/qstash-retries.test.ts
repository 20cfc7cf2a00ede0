import { Client } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryAfterMs } from '../qstash/durations';
import type { QStashDevServer } from '../qstash/server';
import { startTestQStash } from '../testing/qstash';
import { createTestDatabase, type TestDatabase } from '../testing/postgres';
import { eventually, startDestination, waitUntil, type Destination } from './qstash-harness';

let database: TestDatabase;
let server: QStashDevServer;
let client: Client;
let destination: Destination;
/** Paths that answer 500 until the test lets them succeed; "/flaky" fails its first two attempts. */
const failing = new Set<string>();

beforeAll(async () => {
  database = await createTestDatabase('qstash_retries');
  // Retry n waits n × 100 ms, so the gaps between attempts show the backoff was applied.
  ({ server, client } = await startTestQStash(database.url, { retryBackoffMs: (retried) => retried * 100 }));
  destination = await startDestination(async (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/hanging') await new Promise((resolve) => setTimeout(resolve, 3_000));
    const attemptsSoFar = destination.requests.filter((other) => other.url === request.url).length;
    if (path === '/later' && attemptsSoFar === 1) return new Response('busy', { status: 429, headers: { 'Retry-After': '1' } });
    if (failing.has(path) || (path === '/flaky' && attemptsSoFar <= 2)) {
      return new Response(`failed ${path}`, { status: 500, headers: { 'X-Reason': 'test' } });
    }
    return new Response('ok');
  });
});

afterAll(async () => {
  await server?.close();
  await destination?.close();
  await database?.drop();
});

const attemptsAt = (path: string) => destination.requests.filter((request) => new URL(request.url).pathname === path);

describe('retries and the DLQ', () => {
  it('retries a failing delivery with backoff until it succeeds', async () => {
    const { messageId } = await client.publishJSON({ url: `${destination.url}/flaky`, body: { n: 1 }, retries: 3 });
    await waitUntil(() => attemptsAt('/flaky').length === 3);
    await server.idle();
    const attempts = attemptsAt('/flaky');
    expect(attempts).toHaveLength(3);
    expect(attempts.map((attempt) => attempt.headers.get('upstash-retried'))).toEqual(['0', '1', '2']);
    expect(attempts.every((attempt) => attempt.headers.get('upstash-message-id') === messageId)).toBe(true);
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(100);
    expect(attempts[2]!.receivedAt - attempts[1]!.receivedAt).toBeGreaterThanOrEqual(200);
    const { messages } = await client.dlq.listMessages({ filter: { url: `${destination.url}/flaky` } });
    expect(messages).toHaveLength(0);
  });

  it('retries when the destination\'s Retry-After asks, instead of after the backoff', async () => {
    await client.publishJSON({ url: `${destination.url}/later`, body: { n: 1 }, retries: 3 });
    await waitUntil(() => attemptsAt('/later').length === 2);
    const [first, second] = attemptsAt('/later');
    // The backoff would have retried after 100 ms.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1_000);
    expect(second!.headers.get('upstash-retried')).toBe('1');
  });

  it('reads Retry-After as seconds, a date or a duration, and ignores waits beyond a day', () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(retryAfterMs({ 'retry-after': ['10'] }, now)).toBe(10_000);
    expect(retryAfterMs({ 'retry-after': ['Thu, 03 Dec 2026 10:00:30 GMT'] }, now)).toBe(30_000);
    expect(retryAfterMs({ 'x-ratelimit-reset': ['6m5s'] }, now)).toBe(365_000);
    expect(retryAfterMs({ 'x-ratelimit-reset-tokens': ['1.5s'] }, now)).toBe(1_500);
    expect(retryAfterMs({ 'retry-after': ['Thu, 03 Dec 2026 09:00:00 GMT'] }, now)).toBe(0);
    expect(retryAfterMs({ 'retry-after': ['172800'] }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': ['soon'] }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });

  it('moves a message to the DLQ once its retries are exhausted, and a DLQ retry delivers it', async () => {
    failing.add('/broken');
    const url = `${destination.url}/broken`;
    const { messageId } = await client.publishJSON({ url, body: { broken: true }, retries: 1 });
    await waitUntil(() => attemptsAt('/broken').length === 2);
    await server.idle();
    expect(attemptsAt('/broken')).toHaveLength(2);

    const { messages } = await client.dlq.listMessages({ filter: { url } });
    expect(messages).toHaveLength(1);
    const [dead] = messages;
    expect(dead).toMatchObject({
      messageId,
      url,
      method: 'POST',
      body: '{"broken":true}',
      maxRetries: 1,
      responseStatus: 500,
      responseBody: 'failed /broken',
    });
    expect(dead!.responseHeader?.['x-reason']).toEqual(['test']);
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });

    failing.delete('/broken');
    const { responses } = await client.dlq.retry(dead!.dlqId);
    expect(responses).toHaveLength(1);
    await server.idle();
    const retried = attemptsAt('/broken').at(-1)!;
    expect(retried.headers.get('upstash-message-id')).toBe(responses[0]!.messageId);
    expect(retried.body).toBe('{"broken":true}');
    await expect(client.dlq.listMessages({ filter: { url } })).resolves.toMatchObject({ messages: [] });
  });

  it('pages through the DLQ with a cursor and deletes entries', async () => {
    failing.add('/dead');
    const url = `${destination.url}/dead`;
    for (let n = 0; n < 3; n += 1) await client.publishJSON({ url, body: { n }, retries: 0 });
    await waitUntil(() => attemptsAt('/dead').length === 3);
    await server.idle();

    const first = await client.dlq.listMessages({ count: 2, filter: { url } });
    expect(first.messages).toHaveLength(2);
    expect(first.cursor).toBeTruthy();
    const second = await client.dlq.listMessages({ count: 2, cursor: first.cursor, filter: { url } });
    expect(second.messages).toHaveLength(1);
    expect(second.cursor).toBeUndefined();
    const bodies = [...first.messages, ...second.messages].map((message) => JSON.parse(message.body!).n);
    expect(bodies).toEqual([0, 1, 2]);

    await expect(client.dlq.delete(first.messages[0]!.dlqId)).resolves.toEqual({ deleted: 1 });
    await expect(client.dlq.delete([first.messages[1]!.dlqId, second.messages[0]!.dlqId])).resolves.toMatchObject({ deleted: 2 });
    await expect(client.dlq.listMessages({ filter: { url } })).resolves.toMatchObject({ messages: [] });
  });

  it('gives up on an attempt at its Upstash-Timeout and counts it as failed', async () => {
    const url = `${destination.url}/hanging`;
    const published = Date.now();
    const { messageId } = await client.publishJSON({ url, body: {}, retries: 0, timeout: '1s' });
    // The destination answers after 3 s; the message is dead-lettered well before that.
    const { messages } = await eventually(
      () => client.dlq.listMessages({ filter: { url } }),
      (page) => page.messages.length === 1,
      2_500,
    );
    expect(Date.now() - published).toBeLessThan(2_800);
    expect(messages[0]).toMatchObject({ messageId });
    expect(messages[0]!.responseStatus).toBeUndefined();
    expect(attemptsAt('/hanging')).toHaveLength(1);
  });

  it('calls the failure callback with the last response and the DLQ id', async () => {
    failing.add('/doomed');
    const url = `${destination.url}/doomed`;
    const { messageId } = await client.publishJSON({
      url,
      body: { doomed: true },
      retries: 0,
      failureCallback: `${destination.url}/failure-callback`,
    });
    await waitUntil(() => attemptsAt('/failure-callback').length === 1);
    const callback = JSON.parse(attemptsAt('/failure-callback')[0]!.body);
    expect(callback).toMatchObject({ status: 500, retried: 0, maxRetries: 0, sourceMessageId: messageId, url });
    expect(Buffer.from(callback.body, 'base64').toString()).toBe('failed /doomed');
    expect(Buffer.from(callback.sourceBody, 'base64').toString()).toBe('{"doomed":true}');
    const { messages } = await client.dlq.listMessages({ filter: { url } });
    expect(messages.map((message) => message.dlqId)).toEqual([callback.dlqId]);
  });
});
