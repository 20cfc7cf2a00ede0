/**
 * The stack the billing benchmark runs on, each part in its own process as in production: the
 * Genesis simulator, the Upstash REST stand-in on the real Redis, the dev QStash server, and N
 * backend nodes (backend/src/main.ts) behind a round-robin load balancer that QStash delivers to.
 * Notifications go to a sink that echoes them (the events pipeline has its own benchmark). The
 * nodes' logs go to bench/results/tmp/billing-node-<n>.log, at debug level: a line per sale
 * as it leaves ('sale sending').
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis as IORedis } from 'ioredis';
import { listen, type RunningServer } from '../../backend/src/http/listen';
import { freePort } from '../../dev/running-server';
import { startScript, stopProcess, waitForUrl } from '../support/processes';
import { notificationEcho, identifyNotification } from '@tether/shared/notification';

/** The nodes' logs of the last run. */
const LOG_DIRECTORY = fileURLToPath(new URL('../results/tmp/', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRETS = {
  qstashToken: 'bench-qstash-token',
  current: 'sig_bench_current',
  next: 'sig_bench_next',
  upstashToken: 'bench-upstash-token',
  terminal: 'bench-terminal',
  login: 'bench-login',
  password: 'bench-password',
};

export interface BillingStack {
  simUrl: string;
  /** The environment every node runs with; the bench makes its own services from it, as the CLI does. */
  env: Record<string, string>;
  nodePids: number[];
  nodeUrls: string[];
  nodeLogs: string[];
  close(): Promise<void>;
}

/**
 * The simulator times each sale as its handler runs. On two cores shared with the whole stack it
 * would otherwise wait its turn for the CPU now and then (stalls of 100 ms and more were seen),
 * then time the requests that queued meanwhile as arriving together: the instrument would bunch
 * what the limiter spaced. A higher priority keeps it prompt; without the right to raise it (not
 * root), the bench says so and measures anyway.
 */
function givePriority(child: ChildProcess): void {
  try {
    setPriority(child.pid!, -10);
  } catch (error) {
    console.warn(`the simulator runs at normal priority (${(error as Error).message}): its one-second counts may bunch under load`);
  }
}

/** Forwards each request to the next node in turn, as the load balancer in front of the nodes does. */
function roundRobin(nodeUrls: string[]) {
  let next = 0;
  return async (request: Request) => {
    const url = new URL(request.url);
    const target = `${nodeUrls[next++ % nodeUrls.length]}${url.pathname}${url.search}`;
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    const answer = await fetch(target, { method: request.method, headers: request.headers, body });
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
  };
}

export async function startBillingStack(options: {
  databaseUrl: string;
  nodes: number;
  nodeEnv: Record<string, string>;
}): Promise<BillingStack> {
  const children: ChildProcess[] = [];
  const servers: RunningServer[] = [];
  const keyPrefix = `bench:billing:${randomBytes(6).toString('hex')}:`;
  try {
    const sink = await listen(async (request) => {
      const fields = Object.fromEntries(new URLSearchParams(await request.text()));
      return new Response(notificationEcho(identifyNotification(fields)), { headers: { 'content-type': 'text/xml' } });
    });
    servers.push(sink);

    const [simPort, upstashPort, qstashPort] = [await freePort(), await freePort(), await freePort()];
    const simulator = startScript('dev/genesis/main.ts', {
      GENESIS_SIM_PORT: String(simPort),
      GENESIS_SIM_NOTIFICATION_URL: `${sink.url}/emp/notifications`,
      EMP_TERMINAL_TOKEN: SECRETS.terminal,
      EMP_API_LOGIN: SECRETS.login,
      EMP_API_PASSWORD: SECRETS.password,
    });
    givePriority(simulator);
    children.push(
      simulator,
      startScript('dev/upstash-rest/main.ts', { UPSTASH_DEV_PORT: String(upstashPort), UPSTASH_REDIS_REST_TOKEN: SECRETS.upstashToken, REDIS_URL }),
      startScript('dev/qstash/main.ts', {
        QSTASH_DEV_PORT: String(qstashPort),
        QSTASH_DEV_DATABASE_URL: options.databaseUrl,
        QSTASH_TOKEN: SECRETS.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: SECRETS.current,
        QSTASH_NEXT_SIGNING_KEY: SECRETS.next,
      }),
    );
    const simUrl = `http://127.0.0.1:${simPort}`;
    const upstashUrl = `http://127.0.0.1:${upstashPort}`;
    const qstashUrl = `http://127.0.0.1:${qstashPort}`;
    await waitForUrl(`${simUrl}/__sim/rate`, 'Genesis simulator');
    await waitForUrl(upstashUrl, 'Upstash REST stand-in');
    await waitForUrl(`${qstashUrl}/v2/schedules`, 'dev QStash server');

    const nodePorts = await Promise.all(Array.from({ length: options.nodes }, () => freePort()));
    const nodeUrls = nodePorts.map((port) => `http://127.0.0.1:${port}`);
    const balancer = await listen(roundRobin(nodeUrls));
    servers.push(balancer);
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      HOST: '127.0.0.1',
      PUBLIC_URL: balancer.url,
      DATABASE_URL: options.databaseUrl,
      DATABASE_POOL_SIZE: '10',
      UPSTASH_REDIS_REST_URL: upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: SECRETS.upstashToken,
      REDIS_KEY_PREFIX: keyPrefix,
      QSTASH_URL: qstashUrl,
      QSTASH_TOKEN: SECRETS.qstashToken,
      QSTASH_CURRENT_SIGNING_KEY: SECRETS.current,
      QSTASH_NEXT_SIGNING_KEY: SECRETS.next,
      S3_BUCKET: 'unused',
      S3_ACCESS_KEY_ID: 'unused',
      S3_SECRET_ACCESS_KEY: 'unused',
      EMP_GATEWAY_URL: simUrl,
      EMP_TERMINAL_TOKEN: SECRETS.terminal,
      EMP_API_LOGIN: SECRETS.login,
      EMP_API_PASSWORD: SECRETS.password,
      RECONCILIATION_SCHEDULE_ON_START: 'false',
      ...options.nodeEnv,
    };
    mkdirSync(LOG_DIRECTORY, { recursive: true });
    const nodeLogs = nodePorts.map((_, index) => `${LOG_DIRECTORY}billing-node-${index + 1}.log`);
    // This run's lines only: the bench reads every sale's departure from them.
    for (const log of nodeLogs) writeFileSync(log, '');
    const nodes = nodePorts.map((port, index) => startScript('backend/src/main.ts', { ...env, PORT: String(port) }, { log: nodeLogs[index] }));
    children.push(...nodes);
    await Promise.all(nodeUrls.map((url, index) => waitForUrl(`${url}/health`, `backend node ${index + 1}`)));

    return {
      simUrl,
      env,
      nodePids: nodes.map((node) => node.pid!),
      nodeUrls,
      nodeLogs,
      async close() {
        for (const child of children.reverse()) await stopProcess(child);
        for (const server of servers) await server.close();
        const redis = new IORedis(REDIS_URL);
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      },
    };
  } catch (error) {
    for (const child of children) await stopProcess(child);
    for (const server of servers) await server.close();
    throw error;
  }
}
