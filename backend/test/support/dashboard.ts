/**
 * A backend node for the dashboard's HTTP tests: a real createApp on an ephemeral port. The
 * services it does not need point at a closed port, so their probes fail fast instead of
 * looking for the internet.
 */
import pino from 'pino';
import { listen } from '../../src/http/listen';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createServices, type Services } from '../../src/services';
import { backendEnvironment } from './backend';

export interface DashboardNode {
  url: string;
  services: Services;
  /** The node's Hono app, for what it registered (app.routes). */
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

export async function startDashboardNode(databaseUrl: string, overrides: Record<string, string> = {}): Promise<DashboardNode> {
  let app: ReturnType<typeof createApp> | undefined;
  const server = await listen((request) => app!.fetch(request));
  const config = loadConfig({
    ...backendEnvironment(databaseUrl, 'http://127.0.0.1:9'),
    S3_ENDPOINT: 'http://127.0.0.1:9',
    PUBLIC_URL: server.url,
    ...overrides,
  });
  const services = createServices(config, pino({ level: 'silent' }));
  app = createApp(services);
  return {
    url: server.url,
    services,
    app,
    async close() {
      await server.close();
      await services.close();
    },
  };
}
