/**
 * The backend's HTTP surface, composed from one router per concern. Every node serves the same
 * app; the load balancer may send any request anywhere.
 */
import { Hono } from 'hono';
import { healthRoutes } from './http/health';
import type { Services } from './services';

export function createApp(services: Services) {
  const { database, redis, qstash } = services;
  const app = new Hono();
  app.route(
    '/',
    healthRoutes({
      db: () => database.pool.query('select 1'),
      redis: () => redis.ping(),
      qstash: () => qstash.dlq.listMessages({ count: 1 }),
    }),
  );
  return app;
}
