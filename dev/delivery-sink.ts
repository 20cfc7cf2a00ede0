/**
 * Stands in for the backend's QStash delivery endpoint and counts what arrives, so the edge's
 * tests and benchmark can prove that every accepted event was delivered exactly once.
 * Deliveries are told apart by the `dedupKey` of their JSON body (a ForwardedEvent).
 *
 *   POST <any path>                 records a delivery, answers 200
 *   GET  /deliveries?dedupKey=<key> { count }
 *   GET  /stats                     { deliveries, events, repeated: [dedup keys delivered more than once] }
 *   GET  /counts                    { [dedupKey]: deliveries } for every event delivered
 */
import { listen, type RunningServer } from './running-server';

export interface DeliveryStats {
  deliveries: number;
  events: number;
  repeated: string[];
}

export interface DeliverySink extends RunningServer {
  count(dedupKey: string): number;
  stats(): DeliveryStats;
}

const REPEATED_LISTED = 100;

export async function startDeliverySink(options: { port?: number; host?: string } = {}): Promise<DeliverySink> {
  const counts = new Map<string, number>();
  let deliveries = 0;

  const count = (dedupKey: string) => counts.get(dedupKey) ?? 0;
  const stats = (): DeliveryStats => {
    const repeated: string[] = [];
    for (const [key, times] of counts) if (times > 1 && repeated.length < REPEATED_LISTED) repeated.push(key);
    return { deliveries, events: counts.size, repeated };
  };

  const server = await listen(async (request) => {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname === '/deliveries') {
      return Response.json({ count: count(url.searchParams.get('dedupKey') ?? '') });
    }
    if (request.method === 'GET' && url.pathname === '/stats') return Response.json(stats());
    if (request.method === 'GET' && url.pathname === '/counts') return Response.json(Object.fromEntries(counts));
    if (request.method !== 'POST') return new Response('not found', { status: 404 });

    let dedupKey: unknown;
    try {
      dedupKey = ((await request.json()) as { dedupKey?: unknown }).dedupKey;
    } catch {
      return new Response('body is not JSON', { status: 400 });
    }
    if (typeof dedupKey !== 'string') return new Response('dedupKey missing', { status: 400 });
    deliveries += 1;
    counts.set(dedupKey, count(dedupKey) + 1);
    return new Response('ok');
  }, options);

  return { ...server, count, stats };
}
