/**
 * The edge's floor (issue 19): a bare handler on the same runtime (Node, node:http, global fetch
 * as the edge's Upstash clients use it) that makes the same two round trips to the same
 * stand-ins: the Redis claim (SET NX GET EX through the Upstash REST API) and the QStash publish
 * (the forwarded event, with its deduplication id, retries and delivery timeout), then echoes.
 * No signature check, no validation, no log, no counters: what is left of a request's time
 * beyond its round trips is the runtime's HTTP server and the load generator's client.
 *
 * Started as a child process by run.ts with the edge's variables; prints its URL as one line.
 * Each answer carries `x-round-trips-ms`, the time spent awaiting the two round trips.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const env = process.env as Record<string, string>;
const redisUrl = env.UPSTASH_REDIS_REST_URL!;
const redisAuth = `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}`;
const publishUrl = `${env.QSTASH_URL!.replace(/\/$/, '')}/v2/publish/${env.BACKEND_EVENTS_URL}`;
const qstashAuth = `Bearer ${env.QSTASH_TOKEN}`;
const keyPrefix = `${env.REDIS_KEY_PREFIX ?? 'tether:edge:'}bare:`;

/** One quick retry of a failed connection (a kept-alive socket the server just closed), as the edge's clients make. */
async function post(url: string, init: RequestInit): Promise<string> {
  try {
    return await (await fetch(url, init)).text();
  } catch {
    return (await fetch(url, init)).text();
  }
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    const receivedAt = new Date();
    const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const uniqueId = fields.unique_id ?? '';
    const traceId = randomUUID();
    const startedAt = performance.now();
    try {
      await post(redisUrl, {
      method: 'POST',
      headers: { authorization: redisAuth, 'content-type': 'application/json' },
      body: JSON.stringify(['SET', `${keyPrefix}${uniqueId}`, `inflight:${traceId}`, 'NX', 'GET', 'EX', '30']),
    });
    delete fields.signature;
    await post(publishUrl, {
      method: 'POST',
      headers: {
        authorization: qstashAuth,
        'content-type': 'application/json',
        'upstash-method': 'POST',
        'upstash-deduplication-id': `emp-${createHash('sha256').update(uniqueId).digest('hex')}`,
        'upstash-retries': '3',
        'upstash-timeout': '30s',
      },
      body: JSON.stringify({ version: 1, dedupKey: `bare:${uniqueId}`, receivedAt: receivedAt.toISOString(), traceId, fields }),
    });
    } catch {
      response.writeHead(503).end();
      return;
    }
    const roundTripsMs = performance.now() - startedAt;
    response.writeHead(200, { 'content-type': 'text/xml', 'x-round-trips-ms': roundTripsMs.toFixed(3) });
    response.end(`<?xml version="1.0" encoding="UTF-8"?>\n<notification_echo>\n  <unique_id>${uniqueId}</unique_id>\n</notification_echo>\n`);
  });
});

server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
