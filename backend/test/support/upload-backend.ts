/**
 * A backend node, or its services, for upload tests that go through HTTP or the CLI: the test
 * database, the dev S3 server and (optionally) the dev QStash server, wired as in production.
 */
import pino from 'pino';
import { listen } from '../../../dev/running-server';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createServices, type Services } from '../../src/services';
import { backendEnvironment } from './backend';
import type { UploadTestEnvironment } from './uploads';

/** The backend's services, configured for the test database, storage and (optionally) QStash. */
export function uploadServices(environment: UploadTestEnvironment, overrides: Record<string, string> = {}): Services {
  const { storageConfig } = environment;
  const config = loadConfig({
    ...backendEnvironment(environment.database.url, 'http://127.0.0.1:9'),
    S3_ENDPOINT: storageConfig.endpoint,
    S3_REGION: storageConfig.region,
    S3_BUCKET: storageConfig.bucket,
    S3_ACCESS_KEY_ID: storageConfig.accessKeyId,
    S3_SECRET_ACCESS_KEY: storageConfig.secretAccessKey,
    ...overrides,
  });
  return createServices(config, pino({ level: 'silent' }));
}

/** A whole backend node (createApp) on an ephemeral port, with real storage and the dev QStash server. */
export async function startUploadBackend(
  environment: UploadTestEnvironment,
  qstashUrl: string,
  overrides: Record<string, string> = {},
): Promise<{ url: string; services: Services; close(): Promise<void> }> {
  let app: ReturnType<typeof createApp> | undefined;
  const server = await listen((request) => app!.fetch(request));
  const services = uploadServices(environment, { QSTASH_URL: qstashUrl, PUBLIC_URL: server.url, ...overrides });
  app = createApp(services);
  return {
    url: server.url,
    services,
    async close() {
      await server.close();
      await services.close();
    },
  };
}
