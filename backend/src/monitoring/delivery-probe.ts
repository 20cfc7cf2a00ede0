/**
 * How long QStash is taking to deliver, measured the only way that works against the real service
 * and during its outages: QStash's API has no "oldest pending message" (messages can be looked up
 * by id only), and an API that is down cannot be asked anyway. So the nodes publish a small probe
 * message every `intervalMs` (one node per interval, elected in Redis) to POST /qstash/probe, and
 * note its time in a Redis sorted set before publishing. A delivered probe removes itself and
 * every older one from the set (a later delivery shows the path works). The age of the oldest
 * probe left is how long QStash has not delivered what it was given, or could not take it at all:
 * 0 while deliveries flow, growing through an outage, back to 0 with the first delivery after it.
 *
 * A probe costs one QStash message per interval for the whole cluster (1,440 a day at the default
 * minute). Flushing Redis forgets the probes in flight: the age restarts from the next one.
 */
import type { Client as QStashClient, Receiver } from '@upstash/qstash';
import type { Redis } from '@upstash/redis';
import { Hono } from 'hono';
import { z } from 'zod';
import { describeError } from '../events/describe-error';
import { readDelivery } from '../http/qstash-delivery';
import type { Logger } from '../log';

export const DELIVERY_PROBE_PATH = '/qstash/probe';

/** Probes are tiny and idempotent; a few retries, then QStash's DLQ (where a failing route belongs). */
const PROBE_RETRIES = 2;

export interface DeliveryProbeOptions {
  redis: Redis;
  qstash: QStashClient;
  publicUrl: string;
  keyPrefix: string;
  intervalMs: number;
  log: Logger;
}

const probeSchema = z.object({ sentAt: z.number().int().positive() });

const probesKey = (keyPrefix: string) => `${keyPrefix}qstash-probes`;

/**
 * Publishes this interval's probe unless another node already has. The probe is noted before the
 * publish, so a publish QStash refuses or never answers still counts as undelivered.
 */
export async function sendDeliveryProbe(options: DeliveryProbeOptions, now = Date.now()): Promise<boolean> {
  const { redis, keyPrefix, intervalMs } = options;
  const interval = Math.floor(now / intervalMs);
  const elected = await redis.set(`${keyPrefix}qstash-probe:${interval}`, '1', { nx: true, px: intervalMs * 2 });
  if (elected !== 'OK') return false;
  await redis.zadd(probesKey(keyPrefix), { score: now, member: String(interval) });
  await options.qstash.publishJSON({
    url: `${options.publicUrl}${DELIVERY_PROBE_PATH}`,
    body: { sentAt: now },
    retries: PROBE_RETRIES,
    deduplicationId: `delivery-probe-${interval}`,
  });
  return true;
}

/** Seconds since the oldest probe not delivered yet was sent; 0 when every probe has arrived. */
export async function oldestUndeliveredProbeSeconds(redis: Redis, keyPrefix: string, now = Date.now()): Promise<number> {
  const oldest = await redis.zrange<string[]>(probesKey(keyPrefix), 0, 0, { withScores: true });
  const sentAt = oldest.length >= 2 ? Number(oldest[1]) : undefined;
  return sentAt === undefined ? 0 : Math.max(0, (now - sentAt) / 1000);
}

/** Sends a probe every interval until stopped; failures are logged, and show in the age. */
export function startDeliveryProbes(options: DeliveryProbeOptions): () => void {
  const timer = setInterval(() => {
    sendDeliveryProbe(options).catch((error: unknown) =>
      options.log.warn({ error: describeError(error) }, 'QStash delivery probe not published; its age grows until one is delivered'),
    );
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function deliveryProbeRoutes({ redis, keyPrefix, publicUrl, receiver, log }: Pick<DeliveryProbeOptions, 'redis' | 'keyPrefix' | 'publicUrl' | 'log'> & { receiver: Receiver }) {
  const url = `${publicUrl}${DELIVERY_PROBE_PATH}`;
  return new Hono().post(DELIVERY_PROBE_PATH, async (c) => {
    const delivery = await readDelivery(c, { receiver, url, schema: probeSchema, log });
    if (!delivery.ok) return delivery.response;
    await redis.zremrangebyscore(probesKey(keyPrefix), '-inf', delivery.message.sentAt);
    return c.json({ delivered: true });
  });
}
