/**
 * The dev QStash server for tests, with the official client pointed at it: fast polling and
 * short retry backoffs, so deliveries and retries happen within a test's patience.
 */
import { Client } from '@upstash/qstash';
import { startQStashDevServer, type QStashDevServer, type QStashDevServerOptions } from '../qstash/server';

/** The token and signing keys of every test's QStash: a backend under test is given the same. */
export const TEST_QSTASH_KEYS = { token: 'test-qstash-token', current: 'sig_test_current', next: 'sig_test_next' };

export async function startTestQStash(
  databaseUrl: string,
  options: Partial<QStashDevServerOptions> = {},
): Promise<{ server: QStashDevServer; client: Client }> {
  const server = await startQStashDevServer({
    databaseUrl,
    token: TEST_QSTASH_KEYS.token,
    currentSigningKey: TEST_QSTASH_KEYS.current,
    nextSigningKey: TEST_QSTASH_KEYS.next,
    pollIntervalMs: 25,
    retryBackoffMs: () => 100,
    ...options,
  });
  return { server, client: new Client({ baseUrl: server.url, token: TEST_QSTASH_KEYS.token, enableTelemetry: false }) };
}
