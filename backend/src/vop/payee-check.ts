/**
 * Verification of Payee with a cache and a rate of its own: a (IBAN, name) pair verified within
 * the TTL is answered from Redis; otherwise the provider is asked, no faster than VOP_RATE_LIMIT
 * across all nodes. The cache key holds hashes only, never the IBAN or the name.
 */
import type { Redis } from '@upstash/redis';
import { createHash } from 'node:crypto';
import type { SharedRateLimiter } from '../billing/rate-limiter';
import type { VopSettings } from '../config';
import { normalizePayeeName } from './payee-name';
import type { PayeeToVerify, VopProvider } from './provider';
import type { VopAnswer, VopResult } from './result';

/** "Not possible" is mostly a responder that did not answer: worth asking again sooner. */
const NOT_POSSIBLE_TTL_SECONDS = 60 * 60;

export interface PayeeChecker {
  readonly enabled: boolean;
  verify(payee: PayeeToVerify): Promise<VopAnswer & { cached: boolean }>;
  /** The policy (VOP_HOLD_RESULTS): whether this result keeps the attempt from being billed. */
  holds(result: VopResult): boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function createPayeeChecker(deps: {
  redis: Redis;
  keyPrefix: string;
  settings: VopSettings;
  /** VOP_RATE_LIMIT across all nodes. */
  limiter: SharedRateLimiter;
  provider: VopProvider;
}): PayeeChecker {
  const { redis, settings, provider, limiter } = deps;
  const cacheKey = (payee: PayeeToVerify) =>
    `${deps.keyPrefix}vop:${provider.name}:${sha256(payee.iban.toUpperCase())}:${sha256(normalizePayeeName(payee.name))}`;

  return {
    enabled: settings.enabled,
    holds: (result) => settings.holdResults.includes(result),
    async verify(payee) {
      const key = cacheKey(payee);
      const cached = await redis.get<VopAnswer>(key);
      if (cached) return { ...cached, cached: true };
      await limiter.acquire();
      const answer = await provider.verify(payee);
      const ttl = answer.result === 'not_possible' ? Math.min(NOT_POSSIBLE_TTL_SECONDS, settings.cacheTtlSeconds) : settings.cacheTtlSeconds;
      await redis.set(key, answer, { ex: ttl });
      return { ...answer, cached: false };
    },
  };
}
