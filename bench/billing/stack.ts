/**
 * The stack the billing benchmark runs on, each part in its own process as in production: the
 * Genesis simulator behind HAProxy as EMP's front door, the Upstash REST stand-in on the real
 * Redis, the dev QStash server, and N backend nodes (backend/src/main.ts) behind a round-robin
 * load balancer that QStash delivers to. Notifications go to a sink that echoes them (the events
 * pipeline has its own benchmark). Logs go to bench/results/tmp/: the nodes' at debug level, a
 * line per sale as it leaves ('sale sending'), and the front door's, a line per request with the
 * moment its first byte arrived.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis as IORedis } from 'ioredis';
import { listen, type RunningServer } from '../../backend/src/http/listen';
import { freePort } from '../../dev/running-server';
import { frontDoorSections, startFrontDoor } from '../support/front-door';
import { startScript, stopProcess, waitForUrl } from '../support/processes';
import { notificationEcho, identifyNotification } from '@tether/shared/notification';

/** The last run's logs (nodes, front door) and the front door's config. */
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
  /** The front door's log: a line per request to the simulator (see frontDoorArrivals in bench/support/front-door.ts). */
  frontDoorLog: string;
  /** The environment every node runs with; the bench makes its own services from it, as the CLI does. */
  env: Record<string, string>;
  nodePids: number[];
  nodeUrls: string[];
  nodeLogs: string[];
  close(): Promise<void>;
}

/** HAProxy as EMP's front door (see bench/support/front-door.ts). */
function startEmpFrontDoor(port: number, simPort: number): { process: ChildProcess; log: string } {
  const config = `${LOG_DIRECTORY}billing-front-door.cfg`;
  const log = `${LOG_DIRECTORY}billing-front-door.log`;
  writeFileSync(
    config,
    `global
  nbthread 1

${frontDoorSections(port, simPort)}`,
  );
  writeFileSync(log, '');
  return { process: startFrontDoor([config], log), log };
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

    const [simPort, frontDoorPort, upstashPort, qstashPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    mkdirSync(LOG_DIRECTORY, { recursive: true });
    const simulator = startScript('dev/genesis/main.ts', {
      GENESIS_SIM_PORT: String(simPort),
      GENESIS_SIM_NOTIFICATION_URL: `${sink.url}/emp/notifications`,
      EMP_TERMINAL_TOKEN: SECRETS.terminal,
      EMP_API_LOGIN: SECRETS.login,
      EMP_API_PASSWORD: SECRETS.password,
    });
    const frontDoor = startEmpFrontDoor(frontDoorPort, simPort);
    children.push(
      simulator,
      frontDoor.process,
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
    await waitForUrl(`http://127.0.0.1:${frontDoorPort}/__sim/rate`, 'HAProxy in front of the simulator', frontDoor.process);
    await waitForUrl(upstashUrl, 'Upstash REST stand-in');
    await waitForUrl(`${qstashUrl}/v2/schedules`, 'dev QStash server');

    const nodePorts = await Promise.all(Array.from({ length: options.nodes }, () => freePort()));
    const nodeUrls = nodePorts.map((port) => `http://127.0.0.1:${port}`);
    const balancer = await listen(roundRobin(nodeUrls));
    servers.push(balancer);
    const env: Record<string, string> = {
      // Not production: that would refuse this stack's http URLs (config.ts); nothing else reads NODE_ENV.
      NODE_ENV: 'development',
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
      EMP_GATEWAY_URL: `http://127.0.0.1:${frontDoorPort}`,
      EMP_TERMINAL_TOKEN: SECRETS.terminal,
      EMP_API_LOGIN: SECRETS.login,
      EMP_API_PASSWORD: SECRETS.password,
      RECONCILIATION_SCHEDULE_ON_START: 'false',
      ...options.nodeEnv,
    };
    const nodeLogs = nodePorts.map((_, index) => `${LOG_DIRECTORY}billing-node-${index + 1}.log`);
    // This run's lines only: the bench reads every sale's departure from them.
    for (const log of nodeLogs) writeFileSync(log, '');
    const nodes = nodePorts.map((port, index) => startScript('backend/src/main.ts', { ...env, PORT: String(port) }, { log: nodeLogs[index] }));
    children.push(...nodes);
    await Promise.all(nodeUrls.map((url, index) => waitForUrl(`${url}/health`, `backend node ${index + 1}`)));

    return {
      simUrl,
      frontDoorLog: frontDoor.log,
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
