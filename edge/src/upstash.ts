/**
 * The production wiring: dedup in Upstash Redis, forwarding through QStash, both over HTTP
 * (fetch only), so the same clients run on Workers and on Node.
 */
import { Client } from '@upstash/qstash';
import { Redis } from '@upstash/redis/cloudflare';
import type { EdgeConfig } from './config';
import { createRedisDedupStore, type DedupStore } from './dedup';
import { createQStashForwarder, type EventForwarder } from './forwarder';

const REDIS_TIMEOUT_MS = 3_000;
const PUBLISH_TIMEOUT_MS = 10_000;
/** Outlives the slowest publish (PUBLISH_TIMEOUT_MS), so a claim never lapses while its owner still works. */
const CLAIM_TTL_SECONDS = 30;
/** One quick retry of a failed connection; anything slower is EMP's job (it resends until echoed). */
const CLIENT_RETRY = { retries: 1, backoff: () => 25 };

export function createUpstashDependencies(config: EdgeConfig): { dedup: DedupStore; forwarder: EventForwarder } {
  const redis = new Redis({
    url: config.redis.url,
    token: config.redis.token,
    retry: CLIENT_RETRY,
    // A function, so that each command gets its own deadline and an expired one throws
    // (with a plain signal the client turns an abort into a successful "Aborted" reply).
    signal: () => AbortSignal.timeout(REDIS_TIMEOUT_MS),
    automaticDeserialization: false,
    responseEncoding: false,
    readYourWrites: false,
    enableTelemetry: false,
  });
  const qstash = new Client({
    baseUrl: config.qstash.url,
    token: config.qstash.token,
    retry: CLIENT_RETRY,
    enableTelemetry: false,
    devMode: false,
  });
  return {
    dedup: createRedisDedupStore(redis, {
      keyPrefix: config.redis.keyPrefix,
      dedupTtlSeconds: config.dedupTtlSeconds,
      claimTtlSeconds: CLAIM_TTL_SECONDS,
    }),
    forwarder: createQStashForwarder(qstash, {
      url: config.qstash.url,
      token: config.qstash.token,
      destination: config.backendEventsUrl,
      retries: config.qstash.retries,
      timeoutMs: PUBLISH_TIMEOUT_MS,
    }),
  };
}
