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
