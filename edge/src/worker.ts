/**
 * Cloudflare Worker entry. Bindings are parsed once per isolate; a configuration error is
 * logged as one line naming the variable and answered with 500 (EMP then retries).
 */
import type { Hono } from 'hono';
import { createEdgeApp } from './app';
import { ConfigError, parseEdgeConfig } from './config';
import { createUpstashDependencies } from './upstash';

let built: { env: object; app: Hono } | { env: object; error: string } | undefined;

function appFor(env: object): Hono | string {
  if (built?.env !== env) {
    try {
      const config = parseEdgeConfig(env as Record<string, unknown>);
      built = { env, app: createEdgeApp({ config, ...createUpstashDependencies(config) }) };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      built = { env, error: error.message };
    }
  }
  return 'app' in built ? built.app : built.error;
}

export default {
  fetch(request, env, ctx) {
    const app = appFor(env);
    if (typeof app === 'string') {
      console.error(JSON.stringify({ level: 'error', service: 'tether-edge', message: app }));
      return Response.json({ error: 'edge is misconfigured' }, { status: 500 });
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Record<string, unknown>>;
