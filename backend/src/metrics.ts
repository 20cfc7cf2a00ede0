/**
 * The backend's Prometheus registry: one per process (per Services), so two backends in one test
 * process keep separate counts. Each concern registers its own instruments on it (see
 * events/metrics.ts); GET /metrics serves them all in the text format.
 *
 * /metrics carries counts and latencies only, no personal data, and has no auth: in production
 * it must be reachable from the scraper's network only (not routed by the public load balancer).
 */
import { Hono } from 'hono';
import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry };

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tether_backend_' });
  return registry;
}

export function metricsRoutes(registry: Registry) {
  return new Hono().get('/metrics', async (c) => {
    c.header('Content-Type', registry.contentType);
    return c.body(await registry.metrics());
  });
}

export interface ScrapeSourceOptions {
  /** A loaded value answers every scrape for this long (every node is scraped; the sources are shared). */
  ttlMs: number;
  /** A scrape waits no longer than this for a load; the load goes on, and a later scrape takes it. */
  deadlineMs: number;
}

/**
 * Something /metrics reads at scrape time from a shared service (the database, QStash, Redis):
 * loaded lazily, at most one load at a time, reused for `ttlMs`, and never waited for past
 * `deadlineMs`, so a slow query or an unreachable service cannot hold /metrics. Answers undefined
 * while there is no fresh value: the gauges then go missing rather than repeat a stale one.
 */
export function scrapeSource<T>(load: () => Promise<T>, options: ScrapeSourceOptions): () => Promise<T | undefined> {
  let fresh: { value: T; until: number } | undefined;
  let loading: Promise<T | undefined> | undefined;
  return async () => {
    if (fresh && performance.now() < fresh.until) return fresh.value;
    loading ??= load().then(
      (value) => {
        fresh = { value, until: performance.now() + options.ttlMs };
        return value;
      },
      () => undefined,
    ).finally(() => (loading = undefined));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), options.deadlineMs)));
    try {
      return await Promise.race([loading, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}
