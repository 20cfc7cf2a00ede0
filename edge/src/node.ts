/**
 * Node entry (@hono/node-server): the same app as the Worker, configured from process.env, for
 * self-hosting and for benchmarking against the Worker runtime. HOST and PORT choose the socket.
 */
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createEdgeApp } from './app';
import { ConfigError, parseEdgeConfig } from './config';
import { createUpstashDependencies } from './upstash';

/** What Workers' waitUntil gives for free: keep the promise, and let shutdown wait for it. */
function createExecutionContext() {
  const pending = new Set<Promise<unknown>>();
  return {
    context: {
      waitUntil(promise: Promise<unknown>) {
        const tracked = promise.catch(() => {}).finally(() => pending.delete(tracked));
        pending.add(tracked);
      },
      passThroughOnException() {},
      props: {},
    },
    drain: () => Promise.all(pending),
  };
}

function main(): void {
  let config;
  try {
    config = parseEdgeConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 8787);
  const hostname = process.env.HOST ?? '127.0.0.1';

  const app = createEdgeApp({
    config,
    ...createUpstashDependencies(config),
    clientIp: (c) => getConnInfo(c).remote.address,
  });
  const execution = createExecutionContext();
  const server = serve({ fetch: (request, env) => app.fetch(request, env, execution.context), port, hostname }, (info) =>
    console.log(JSON.stringify({ level: 'info', service: 'tether-edge', message: 'listening', host: hostname, port: info.port })),
  );

  const shutdown = () => {
    server.close(() => void execution.drain().then(() => process.exit(0)));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main();
