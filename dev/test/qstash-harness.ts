/**
 * Shared pieces of the QStash dev server tests: a recording destination and polling until a
 * condition holds (the server and the official client: dev/testing/qstash).
 */
import { listen, type RunningServer } from '../running-server';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
  receivedAt: number;
}

export interface Destination extends RunningServer {
  requests: ReceivedRequest[];
  /** Most requests being handled at the same moment, for parallelism checks. */
  maxConcurrent: number;
}

export async function startDestination(
  respond: (request: ReceivedRequest, index: number) => Response | Promise<Response> = () => new Response('ok'),
): Promise<Destination> {
  let concurrent = 0;
  const destination = { requests: [] as ReceivedRequest[], maxConcurrent: 0 };
  const server = await listen(async (request) => {
    concurrent += 1;
    destination.maxConcurrent = Math.max(destination.maxConcurrent, concurrent);
    try {
      const received: ReceivedRequest = {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: await request.text(),
        receivedAt: Date.now(),
      };
      destination.requests.push(received);
      return await respond(received, destination.requests.length - 1);
    } finally {
      concurrent -= 1;
    }
  });
  return Object.assign(destination, server);
}

export async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls `probe` until `accept` holds for its result, and returns that result. */
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
