/**
 * The edge gateway as a Hono app, built from its configuration and dependencies so the Worker,
 * the Node server and the tests all run the same code with their own wiring.
 */
import { Hono, type Context } from 'hono';
import type { EdgeConfig } from './config';
import { NotificationCounters } from './counters';
import type { DedupStore } from './dedup';
import type { EventForwarder } from './forwarder';
import { healthHandler } from './health';
import { createLogger, describeError, type Logger } from './log';
import { notificationHandler } from './notifications';

export interface EdgeDependencies {
  config: EdgeConfig;
  dedup: DedupStore;
  forwarder: EventForwarder;
  logger?: Logger;
  /** The caller's address as the runtime knows it; logged on signature failures. */
  clientIp?: (c: Context) => string | undefined;
}

/** Cloudflare puts the visitor's address in this header, and overwrites any the visitor sent. */
const cloudflareClientIp = (c: Context) => c.req.header('cf-connecting-ip');

export function createEdgeApp(deps: EdgeDependencies): Hono {
  const logger = deps.logger ?? createLogger({ level: deps.config.logLevel });
  const counters = new NotificationCounters();
  const app = new Hono();

  app.post(
    '/emp/notifications',
    notificationHandler({ ...deps, logger, counters, clientIp: deps.clientIp ?? cloudflareClientIp }),
  );
  app.all('/emp/notifications', (c) => c.json({ error: 'method not allowed: EMP notifications are POSTed' }, 405, { allow: 'POST' }));
  app.get('/health', healthHandler({ ...deps, logger }));
  app.get('/metrics', (c) => c.json(counters.snapshot(), 200, { 'cache-control': 'no-store' }));

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    logger.log('error', 'unhandled error', { path: c.req.path, error: describeError(error) });
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
