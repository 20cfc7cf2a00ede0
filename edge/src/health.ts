/**
 * GET /health: whether this edge can reach Redis and QStash right now. The answer names each
 * dependency with its latency and never an error text, URL or token; details go to the log.
 */
import type { Context } from 'hono';
import type { DedupStore } from './dedup';
import type { EventForwarder } from './forwarder';
import { describeError, type Logger } from './log';

interface Probe {
  ok: boolean;
  latencyMs: number;
}

async function probe(name: string, check: () => Promise<void>, logger: Logger): Promise<Probe> {
  const startedAt = Date.now();
  try {
    await check();
    return { ok: true, latencyMs: Date.now() - startedAt };
  } catch (error) {
    logger.log('error', 'health probe failed', { dependency: name, error: describeError(error) });
    return { ok: false, latencyMs: Date.now() - startedAt };
  }
}

export function healthHandler(deps: { dedup: DedupStore; forwarder: EventForwarder; logger: Logger }) {
  return async (c: Context): Promise<Response> => {
    const [redis, qstash] = await Promise.all([
      probe('redis', () => deps.dedup.ping(), deps.logger),
      probe('qstash', () => deps.forwarder.ping(), deps.logger),
    ]);
    const ok = redis.ok && qstash.ok;
    return c.json({ status: ok ? 'ok' : 'degraded', redis, qstash }, ok ? 200 : 503, { 'cache-control': 'no-store' });
  };
}
