/**
 * A backend node in the test process, wired to the dev QStash server the way production wires it
 * to QStash: QStash delivers to `PUBLIC_URL/qstash/emp-events`, signed with the shared keys.
 */
import pino from 'pino';
import { listen, type RunningServer } from '../../src/http/listen';
import { nodeDatabaseUrl } from '../../../dev/testing/pgbouncer';
import { TEST_QSTASH_KEYS } from '../../../dev/testing/qstash';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { EMP_EVENTS_PATH } from '../../src/events/delivery-route';
import { createServices, type Services } from '../../src/services';


/** Everything a node needs; services that these tests never reach get placeholders. */
export function backendEnvironment(databaseUrl: string, qstashUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    // Through pgBouncer when the test project runs one (vitest.config.ts).
    DATABASE_URL: nodeDatabaseUrl(databaseUrl),
    DATABASE_POOL_SIZE: '10',
    UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
    UPSTASH_REDIS_REST_TOKEN: 'unused',
    QSTASH_URL: qstashUrl,
    QSTASH_TOKEN: TEST_QSTASH_KEYS.token,
    QSTASH_CURRENT_SIGNING_KEY: TEST_QSTASH_KEYS.current,
    QSTASH_NEXT_SIGNING_KEY: TEST_QSTASH_KEYS.next,
    S3_BUCKET: 'unused',
    S3_ACCESS_KEY_ID: 'unused',
    S3_SECRET_ACCESS_KEY: 'unused',
    EMP_TERMINAL_TOKEN: 'unused',
    EMP_API_LOGIN: 'unused',
    EMP_API_PASSWORD: 'unused',
  };
}

export interface TestBackend extends RunningServer {
  eventsUrl: string;
  services: Services;
}

export async function startBackend(
  databaseUrl: string,
  qstashUrl: string,
  options: { port?: number; environment?: Record<string, string> } = {},
): Promise<TestBackend> {
  let app: ReturnType<typeof createApp> | undefined;
  // PUBLIC_URL must be the address QStash calls, known once listening.
  const server = await listen((request) => app!.fetch(request), { port: options.port });
  const config = loadConfig({ ...backendEnvironment(databaseUrl, qstashUrl), ...options.environment, PUBLIC_URL: server.url });
  const services = createServices(config, pino({ level: 'silent' }));
  app = createApp(services);
  return {
    ...server,
    eventsUrl: `${server.url}${EMP_EVENTS_PATH}`,
    services,
    async close() {
      await server.close();
      await services.close();
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
