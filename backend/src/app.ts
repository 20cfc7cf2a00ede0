/**
 * The backend's HTTP surface, composed from one router per concern. Every node serves the same
 * app; the load balancer may send any request anywhere. Every route needs an operator's session
 * except the few `isPublic` names (auth/middleware.ts): /health, /metrics, /login, /assets/*
 * and QStash's signed deliveries under /qstash/*.
 */
import { Hono } from 'hono';
import { operatorActor } from './audit/actor';
import { billingContext } from './billing/context';
import { billingDeliveryRoutes } from './billing/delivery-route';
import { billingRoutes } from './billing/routes';
import { authContext } from './auth/context';
import { requireOperator } from './auth/middleware';
import { enforceRoutePermissions } from './auth/route-permissions';
import { dashboardContext } from './dashboard/context';
import { dashboardRoutes } from './dashboard/routes';
import { NotificationConfirmer } from './confirmation/confirmer';
import { empEventRoutes } from './events/delivery-route';
import { capRequestBodies } from './http/body-caps';
import { cachedHealthProbe, healthRoutes } from './http/health';
import { securityHeaders } from './http/security-headers';
import { metricsRoutes } from './metrics';
import { deliveryProbeRoutes } from './monitoring/delivery-probe';
import { registerOperationalMetrics, SCRAPE_DEADLINE_MS } from './monitoring/operational-metrics';
import { personalDataContext } from './personal-data/context';
import { retentionDeliveryRoutes } from './personal-data/routes';
import { reconciliationDeliveryRoutes, reconciliationRoutes } from './reconciliation/routes';
import type { Services } from './services';
import { uploadContext } from './uploads/context';
import { uploadProcessingRoutes } from './uploads/processing-route';
import { uploadRoutes } from './uploads/routes';
import { vopDeliveryRoutes } from './vop/queue';

export function createApp(services: Services) {
  const { config, database, redis, qstash, receiver, storage } = services;
  const health = cachedHealthProbe({
    db: () => database.pool.query('select 1'),
    redis: () => redis.ping(),
    qstash: () => qstash.dlq.listMessages({ count: 1 }),
    storage: () => storage.check(),
  });
  const app = new Hono();
  // Outermost, so that every answer carries them, refusals included.
  app.use(securityHeaders(() => storage.browserOrigin()));
  // Before every route below: no route reads a body past its cap.
  app.use(capRequestBodies());
  app.use(requireOperator(authContext(services)));
  // After the session is known, before any route: the role check of auth/route-permissions.ts.
  app.use(enforceRoutePermissions(services.log));
  app.route('/', healthRoutes(health, ['db']));
  registerOperationalMetrics(services.metrics, {
    database,
    qstash,
    qstashApi: { url: config.qstash.url, token: config.qstash.token },
    redis,
    redisKeyPrefix: config.redis.keyPrefix,
    empRateLimitPerSecond: config.emp.rateLimitPerSecond,
    scrape: { ttlMs: config.metrics.cacheTtlMs, deadlineMs: SCRAPE_DEADLINE_MS },
  });
  app.route('/', metricsRoutes(services.metrics));
  app.route('/', deliveryProbeRoutes({ redis, keyPrefix: config.redis.keyPrefix, publicUrl: config.http.publicUrl, receiver, log: services.log }));
  // One per process: its circuit breaker guards every batch this node works on.
  const billing = billingContext(services);
  const confirmer = new NotificationConfirmer(billing);
  app.route('/', empEventRoutes({ context: billing.events, receiver, publicUrl: config.http.publicUrl, onAwaiting: () => confirmer.wake() }));
  const uploads = uploadContext(services);
  app.route('/', uploadRoutes({ context: uploads, actorOf: (c) => operatorActor(c.get('operator')) }));
  app.route('/', uploadProcessingRoutes({ context: uploads, receiver }));
  app.route('/', dashboardRoutes(dashboardContext(services, billing, health)));
  app.route('/', billingRoutes({ context: billing, actorOf: (c) => operatorActor(c.get('operator')) }));
  app.route('/', billingDeliveryRoutes({ context: billing, receiver }));
  app.route('/', reconciliationRoutes({ context: billing }));
  app.route('/', reconciliationDeliveryRoutes({ context: billing, receiver }));
  app.route('/', vopDeliveryRoutes({ context: billing, receiver }));
  app.route('/', retentionDeliveryRoutes({ context: personalDataContext(services), receiver, publicUrl: config.http.publicUrl }));
  // Whatever waits for confirmation (a node died, EMP was down) is looked at when a node starts.
  confirmer.wake();
  return app;
}
