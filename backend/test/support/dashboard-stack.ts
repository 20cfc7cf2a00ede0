/**
 * Everything the dashboard talks to, in this process: PostgreSQL, the dev S3 server (with the
 * browser CORS the presigned PUT needs), the dev QStash server, the Upstash REST stand-in in
 * front of the real Redis (under a key prefix of its own), the Genesis simulator (holding its
 * notifications: no edge here), and a backend node; plus an operator (an admin) to log in with. For the
 * browser tests and the screenshot script.
 */
import type { Client } from '@upstash/qstash';
import { randomBytes } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import { startGenesisSimulator, type RunningGenesisSimulator } from '../../../dev/genesis/server';
import type { QStashDevServer } from '../../../dev/qstash/server';
import { startUpstashRestServer } from '../../../dev/upstash-rest/server';
import { createApp } from '../../src/app';
import { listen, type RunningServer } from '../../src/http/listen';
import type { Services } from '../../src/services';

import { createTestOperator, type TestOperator } from './operators';
import { uploadServices } from './upload-backend';
import { startUploadTestEnvironment, type UploadTestEnvironment } from './uploads';
import { startTestQStash } from '../../../dev/testing/qstash';

export interface DashboardStack {
  url: string;
  environment: UploadTestEnvironment;
  qstash: { server: QStashDevServer; client: Client };
  services: Services;
  genesis: RunningGenesisSimulator;
  /** What another node needs to reach the same EMP and Redis (to confirm notifications). */
  empEnvironment: Record<string, string>;
  operator: TestOperator;
  close(): Promise<void>;
}

export async function startDashboardStack(overrides: Record<string, string> = {}): Promise<DashboardStack> {
  const environment = await startUploadTestEnvironment();
  const qstash = await startTestQStash(environment.database.url);
  const upstashToken = 'test-upstash-token';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `test:dashboard:${randomBytes(6).toString('hex')}:`;
  const upstash: RunningServer = await startUpstashRestServer({ redisUrl, token: upstashToken });
  const terminal = { token: 'dashboard-terminal', login: 'dashboard-login', password: 'dashboard-password' };
  const genesis = await startGenesisSimulator({
    terminals: [{ ...terminal, notificationUrl: 'http://127.0.0.1:9/emp/notifications' }],
    notifications: { hold: true },
  });
  let app: ReturnType<typeof createApp> | undefined;
  const server = await listen((request) => app!.fetch(request));
  const empEnvironment = {
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstashToken,
    REDIS_KEY_PREFIX: keyPrefix,
    EMP_GATEWAY_URL: genesis.url,
    EMP_TERMINAL_TOKEN: terminal.token,
    EMP_API_LOGIN: terminal.login,
    EMP_API_PASSWORD: terminal.password,
  };
  const services = uploadServices(environment, {
    QSTASH_URL: qstash.server.url,
    PUBLIC_URL: server.url,
    ...empEnvironment,
    ...overrides,
  });
  app = createApp(services);
  const operator = await createTestOperator(environment.database.db, 'ops@tether.test', 'admin');
  return {
    url: server.url,
    environment,
    qstash,
    services,
    genesis,
    empEnvironment,
    operator,
    async close() {
      await server.close();
      await services.close();
      await qstash.server.close();
      await genesis.close();
      await upstash.close();
      const redis = new IORedis(redisUrl);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await environment.close();
    },
  };
}

