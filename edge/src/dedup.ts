/**
 * Which notifications the edge has already forwarded, in Redis, so that EMP's retries are
 * acknowledged without being forwarded again.
 *
 * One key per event (see identifyNotification), one round trip on the acknowledge path:
 *
 *   claim    SET key "inflight:<owner>" NX GET EX <claim ttl>
 *              nil           → the caller owns the event and publishes it
 *              "forwarded"   → already in QStash: acknowledge at once
 *              "inflight:…"  → a twin is publishing it right now: not ours to acknowledge
 *   success  SET key "forwarded" EX <dedup ttl>         (after the echo; it can wait)
 *   failure  DEL key, if it still names the owner        (before answering 5xx)
 *
 * A twin is never acknowledged while the owner's publish can still fail, so an acknowledged
 * event is always in QStash. The claim expires on its own if the owner dies mid-publish.
 *
 * The claim is awaited before publishing, not sent alongside it: how long QStash remembers a
 * deduplication id is not reliably documented (its SDK says 90 days, Upstash support ten minutes;
 * the stand-in keeps ten), and a resend arriving after that would be delivered again. One Redis
 * round trip buys a dedup window the edge controls.
 */
import type { Redis } from '@upstash/redis/cloudflare';

export type Claim =
  | { state: 'claimed'; markForwarded(): Promise<void>; release(): Promise<void> }
  | { state: 'forwarded' }
  | { state: 'in-flight' };

export interface DedupStore {
  /** Claims `key` for `owner` (a trace id), or says why it cannot. Throws when Redis is unreachable. */
  claim(key: string, owner: string): Promise<Claim>;
  ping(): Promise<void>;
}

const FORWARDED = 'forwarded';
const IN_FLIGHT = 'inflight:';

// Compare-and-delete: a claim that outlived its TTL may already belong to someone else.
const RELEASE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface RedisDedupOptions {
  keyPrefix: string;
  /** How long an event counts as seen after it was forwarded (EMP retries within it are duplicates). */
  dedupTtlSeconds: number;
  /** How long an unfinished claim blocks its twins; must exceed the longest publish. */
  claimTtlSeconds: number;
}

export function createRedisDedupStore(redis: Redis, options: RedisDedupOptions): DedupStore {
  return {
    async claim(eventKey, owner) {
      const key = `${options.keyPrefix}dedup:${eventKey}`;
      const mark = `${IN_FLIGHT}${owner}`;
      const previous = await redis.set<string>(key, mark, { nx: true, get: true, ex: options.claimTtlSeconds });
      // Our own mark comes back when a network retry repeated a SET that had already succeeded.
      if (previous === null || previous === mark) {
        return {
          state: 'claimed',
          markForwarded: async () => {
            await redis.set(key, FORWARDED, { ex: options.dedupTtlSeconds });
          },
          release: async () => {
            await redis.eval(RELEASE_IF_OWNER, [key], [mark]);
          },
        };
      }
      if (previous === FORWARDED) return { state: 'forwarded' };
      if (previous.startsWith(IN_FLIGHT)) return { state: 'in-flight' };
      throw new Error(`unexpected value in dedup key ${key}`);
    },
    async ping() {
      await redis.ping();
    },
  };
}
