/**
 * A billing cluster in the test process, wired as in production: several backend nodes behind
 * one round-robin load balancer (QStash and operators see one PUBLIC_URL), the dev QStash
 * server, Upstash REST on the real Redis (a random key prefix per cluster), the Genesis
 * simulator, and a minimal edge that forwards the simulator's notifications through QStash to
 * the backend's events route, as the real edge does.
 */
import { identifyNotification, notificationEcho } from '@tether/shared/notification';
import type { Client } from '@upstash/qstash';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Redis as IORedis } from 'ioredis';
import { startGenesisSimulator, type GenesisSimulatorOptions, type RunningGenesisSimulator } from '../../../dev/genesis/server';
import { listen, type RunningServer } from '../../src/http/listen';
import { startUpstashRestServer } from '../../../dev/upstash-rest/server';
import { createApp } from '../../src/app';
import { billingContext, type BillingContext } from '../../src/billing/context';
import { getRun, runProgress, type BillingRun } from '../../src/billing/runs';
import { loadConfig } from '../../src/config';
import { billingAttempts, debtors, uploads } from '../../src/db/schema';
import { EMP_EVENTS_PATH } from '../../src/events/delivery-route';
import { createServices, type Services } from '../../src/services';
import { backendEnvironment, waitFor } from './backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './database';
import { testIban } from './events';
import { startTestQStash } from '../../../dev/testing/qstash';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TERMINAL = { token: 'billing-terminal', login: 'billing-login', password: 'billing-password' };

export interface BillingCluster {
  database: MigratedTestDatabase;
  sim: RunningGenesisSimulator;
  url: string;
  nodes: Array<{ services: Services; billing: BillingContext }>;
  /** A context like a node's, for calling billing and reconciliation directly (as the CLI does). */
  operator: BillingContext;
  /** The nodes' environment, for making more services (the CLI's). */
  env: Record<string, string>;
  qstash: Client;
  waitForQStashIdle(): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  env?: Record<string, string>;
  sim?: Partial<GenesisSimulatorOptions>;
}

/** Round-robin over the nodes, as a load balancer would. */
function balancer(apps: Array<{ fetch: (request: Request) => Response | Promise<Response> }>) {
  let next = 0;
  return (request: Request) => apps[next++ % apps.length]!.fetch(request);
}

export async function startBillingCluster(options: ClusterOptions = {}): Promise<BillingCluster> {
  const database = await createMigratedDatabase();
  const qstash = await startTestQStash(database.url);
  const redisToken = randomBytes(8).toString('hex');
  const upstash = await startUpstashRestServer({ redisUrl: REDIS_URL, token: redisToken });
  const keyPrefix = `test:billing:${randomBytes(6).toString('hex')}:`;

  let handle: (request: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const front = await listen((request) => handle(request));

  // The edge: notification in, event through QStash to the backend, echo out.
  const edge: RunningServer = await listen(async (request) => {
    const fields = Object.fromEntries(new URLSearchParams(await request.text()));
    const identity = identifyNotification(fields);
    await qstash.client.publishJSON({
      url: `${front.url}${EMP_EVENTS_PATH}`,
      retries: 10,
      body: { version: 1, dedupKey: identity.dedupKey, receivedAt: new Date().toISOString(), traceId: randomBytes(8).toString('hex'), fields },
    });
    return new Response(notificationEcho(identity), { headers: { 'content-type': 'text/xml' } });
  });

  const sim = await startGenesisSimulator({
    terminals: [{ ...TERMINAL, notificationUrl: `${edge.url}/emp/notifications` }],
    seed: 6,
    notifications: { delayMs: 50 },
    ...options.sim,
  });

  const env = {
    ...backendEnvironment(database.url, qstash.server.url),
    PUBLIC_URL: front.url,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: redisToken,
    REDIS_KEY_PREFIX: keyPrefix,
    EMP_GATEWAY_URL: sim.url,
    EMP_TERMINAL_TOKEN: TERMINAL.token,
    EMP_API_LOGIN: TERMINAL.login,
    EMP_API_PASSWORD: TERMINAL.password,
    EMP_TIMEOUT: '1000',
    EMP_CONNECT_TIMEOUT: '500',
    RECONCILE_UNKNOWN_AFTER: '1500',
    BREAKER_HALF_OPEN_AFTER: '1000',
    RETRY_SPACING: '1',
    ...options.env,
  };
  const nodes = Array.from({ length: options.nodes ?? 2 }, () => {
    const services = createServices(loadConfig(env), pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
    return { services, app: createApp(services), billing: billingContext(services) };
  });
  handle = balancer(nodes.map((node) => node.app));

  return {
    database,
    sim,
    url: front.url,
    nodes: nodes.map(({ services, billing }) => ({ services, billing })),
    operator: billingContext(nodes[0]!.services),
    env,
    qstash: qstash.client,
    waitForQStashIdle: () => qstash.server.idle(),
    async close() {
      await front.close();
      await edge.close();
      await qstash.server.close();
      await sim.close();
      await Promise.all(nodes.map((node) => node.services.close()));
      await upstash.close();
      const redis = new IORedis(REDIS_URL);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await database.destroy();
    },
  };
}

export interface SeededAttempt {
  id: number;
  transactionId: string;
  iban: string;
}

/** An upload with `count` pending attempts, as upload processing leaves them. */
export async function seedUpload(
  database: MigratedTestDatabase,
  count: number,
  options: { name?: (index: number) => string; iban?: (index: number) => string; amountCents?: number } = {},
): Promise<{ uploadId: string; attempts: SeededAttempt[] }> {
  const [upload] = await database.db
    .insert(uploads)
    .values({ fileKey: `uploads/${randomBytes(8).toString('hex')}.csv`, originalName: 'debtors.csv', status: 'completed' })
    .returning({ id: uploads.id });
  const uploadId = upload!.id;
  const rows = Array.from({ length: count }, (_, index) => {
    const name = options.name?.(index) ?? `Erika Mustermann ${index}`;
    return { iban: options.iban?.(index) ?? testIban(), name, nameOriginal: name, uploadId, uploadRow: index + 2 };
  });
  const inserted = await database.db.insert(debtors).values(rows).returning({ id: debtors.id, iban: debtors.iban, row: debtors.uploadRow });
  const attempts = await database.db
    .insert(billingAttempts)
    .values(
      inserted.map((debtor) => ({
        transactionId: `${uploadId}-${debtor.row}`,
        debtorId: debtor.id,
        uploadId,
        amountCents: options.amountCents ?? 1990,
      })),
    )
    .returning({ id: billingAttempts.id, transactionId: billingAttempts.transactionId, debtorId: billingAttempts.debtorId });
  const ibanOf = new Map(inserted.map((debtor) => [debtor.id, debtor.iban]));
  return { uploadId, attempts: attempts.map((attempt) => ({ id: attempt.id, transactionId: attempt.transactionId, iban: ibanOf.get(attempt.debtorId)! })) };
}

export async function waitForRun(
  cluster: BillingCluster,
  runId: string,
  accept: (run: BillingRun) => boolean,
  timeoutMs = 60_000,
): Promise<BillingRun> {
  return waitFor(async () => {
    const run = await getRun(cluster.database.db, runId);
    return run && accept(run) ? run : undefined;
  }, timeoutMs);
}

export async function statusCounts(cluster: BillingCluster, runId: string): Promise<Record<string, number>> {
  return (await runProgress(cluster.database.db, runId)).byStatus;
}
