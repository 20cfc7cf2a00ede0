/**
 * The whole Tether stack for the end-to-end harness, every part in its own process as in
 * production: PostgreSQL and Redis (the machine's), the dev Upstash REST and QStash servers, the
 * dev S3 server, the Genesis simulator behind EMP's front door, backend nodes behind HAProxy
 * (least connections, health checks on /health; the same HAProxy is the front door) reaching
 * PostgreSQL through pgBouncer in transaction mode, the edge under `wrangler dev`, and Debian's
 * Prometheus scraping the nodes with the alert rules of deploy/prometheus. Faults are methods:
 * kill a node, stop QStash, flush Redis. Logs go to <logDirectory>/<part>.log.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis as IORedis } from 'ioredis';
import { openDatabase, type DatabaseHandle } from '../../backend/src/db/client';
import { startPgBouncer, type RunningPgBouncer } from '../../dev/testing/pgbouncer';
import { createTestDatabase, type TestDatabase } from '../../dev/testing/postgres';
import { freePort } from '../../dev/running-server';
import { requireSystemTool } from '../../scripts/system-tools';
import { frontDoorSections, startFrontDoor } from '../support/front-door';
import { backlogRulesForTests, startPrometheus } from '../support/prometheus';
import { EchoSink } from './sales';
import { answers, cpuSecondsByPart, isRunning, startCommand, startScript, stopProcess, waitForUrl, waitUntil } from '../support/processes';

/** The Redis database the harness owns, so that "flush Redis" flushes nobody else's keys. */
const REDIS_URL = process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379/9';

/** The nodes' EMP_RATE_LIMIT: the billing scenarios check it at the front door. */
export const E2E_EMP_RATE_LIMIT = 50;

/**
 * The nodes' RECONCILE_STALE_CLAIM_AFTER: a claim this old belongs to a dead node. Above the
 * longest a live node holds one here (its wait for a rate slot, then EMP_TIMEOUT).
 */
export const E2E_STALE_CLAIM_AFTER_MS = 8_000;

/**
 * What Prometheus needs to see a QStash outage of a few seconds: a delivery probe every half
 * second, /metrics reading it afresh, a scrape and an evaluation every second, and the backlog
 * alert at 2 s without delivery (bench/support/prometheus.ts) instead of the shipped 5 minutes.
 */
const E2E_PROBE_INTERVAL_MS = 500;
const E2E_METRICS_CACHE_MS = 250;
const E2E_PROMETHEUS_INTERVAL_SECONDS = 1;
export const E2E_BACKLOG_ALERT_SECONDS = 2;

export const E2E_SECRETS = {
  upstashToken: 'e2e-upstash-token',
  qstashToken: 'e2e-qstash-token',
  qstashCurrent: 'sig_e2e_current',
  qstashNext: 'sig_e2e_next',
  s3AccessKeyId: 'e2e-access-key',
  s3SecretAccessKey: 'e2e-secret-key',
  terminal: 'e2e-terminal',
  login: 'e2e-login',
  /** Genesis' API password: signs notifications, and the edge checks them with it. */
  empPassword: 'e2e-emp-password',
} as const;

export interface E2EStackOptions {
  /** Backend nodes running at the start. */
  nodes: number;
  /** Node slots in the load balancer: nodes beyond `nodes` can be started later (scale out). */
  maxNodes: number;
  logDirectory: string;
  /** Extra backend environment, e.g. EMP_TIMEOUT. */
  nodeEnv?: Record<string, string>;
}

interface Ports {
  balancer: number;
  /** HAProxy in front of the simulator: where EMP would count sales (bench/support/front-door.ts). */
  frontDoor: number;
  edge: number;
  upstash: number;
  qstash: number;
  s3: number;
  sim: number;
  prometheus: number;
  nodes: number[];
}

/** The load balancer's configuration as operators ship it. */
const OPERATORS_HAPROXY_CONFIG = fileURLToPath(new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url));

export class E2EStack {
  private readonly nodeProcesses: Array<ChildProcess | undefined>;
  private qstashProcess: ChildProcess | undefined;
  private readonly others: ChildProcess[] = [];
  private readonly named: Record<string, ChildProcess> = {};
  private echoSink: EchoSink | undefined;
  /** Between the nodes and PostgreSQL, in transaction mode, as the go-live plan deploys it. */
  private pgbouncer: RunningPgBouncer | undefined;

  private constructor(
    private readonly options: E2EStackOptions,
    private readonly ports: Ports,
    private readonly databases: { backend: TestDatabase; qstash: TestDatabase },
    private readonly workDirectory: string,
    /** The backend's database, for checking end states. */
    readonly database: DatabaseHandle,
  ) {
    this.nodeProcesses = Array.from({ length: options.maxNodes }, () => undefined);
  }

  static async start(options: E2EStackOptions): Promise<E2EStack> {
    requireSystemTool('haproxy');
    requireSystemTool('prometheus');
    mkdirSync(options.logDirectory, { recursive: true });
    const [backend, qstash] = await Promise.all([createTestDatabase('tether_e2e'), createTestDatabase('tether_e2e_qstash')]);
    const ports: Ports = {
      balancer: await freePort(),
      frontDoor: await freePort(),
      edge: await freePort(),
      upstash: await freePort(),
      qstash: await freePort(),
      s3: await freePort(),
      sim: await freePort(),
      prometheus: await freePort(),
      nodes: [],
    };
    for (let i = 0; i < options.maxNodes; i++) ports.nodes.push(await freePort());
    const stack = new E2EStack(options, ports, { backend, qstash }, mkdtempSync(join(tmpdir(), 'tether-e2e-')), openDatabase(backend.url, { maxConnections: 4 }));
    try {
      await stack.flushRedis();
      stack.pgbouncer = await startPgBouncer();
      stack.echoSink = await EchoSink.start();
      await stack.startServices();
      return stack;
    } catch (error) {
      await stack.close();
      throw error;
    }
  }

  get urls() {
    const local = (port: number) => `http://127.0.0.1:${port}`;
    return {
      balancer: local(this.ports.balancer),
      frontDoor: local(this.ports.frontDoor),
      edge: local(this.ports.edge),
      notifications: `${local(this.ports.edge)}/emp/notifications`,
      upstash: local(this.ports.upstash),
      qstash: local(this.ports.qstash),
      s3: local(this.ports.s3),
      sim: local(this.ports.sim),
      prometheus: local(this.ports.prometheus),
      nodes: this.ports.nodes.map(local),
    };
  }

  /**
   * Where the simulator notifies the sales the harness creates for its own notification traffic
   * (bench/e2e/sales.ts): echoed and dropped, so that only the scenario's notifications reach the edge.
   */
  get sink(): EchoSink {
    if (!this.echoSink) throw new Error('the stack has not started');
    return this.echoSink;
  }

  /** HAProxy's output: its front door logs a line per request to the simulator (frontDoorArrivals). */
  get frontDoorLog() {
    return this.log('haproxy');
  }

  private log(part: string) {
    return join(this.options.logDirectory, `${part}.log`);
  }

  private async startServices() {
    const { urls } = this;
    const sim = startScript(
      'dev/genesis/main.ts',
      {
        GENESIS_SIM_PORT: String(this.ports.sim),
        GENESIS_SIM_NOTIFICATION_URL: urls.notifications,
        EMP_TERMINAL_TOKEN: E2E_SECRETS.terminal,
        EMP_API_LOGIN: E2E_SECRETS.login,
        EMP_API_PASSWORD: E2E_SECRETS.empPassword,
      },
      { log: this.log('genesis') },
    );
    const upstash = startScript(
      'dev/upstash-rest/main.ts',
      { UPSTASH_DEV_PORT: String(this.ports.upstash), UPSTASH_REDIS_REST_TOKEN: E2E_SECRETS.upstashToken, REDIS_URL },
      { log: this.log('upstash-rest') },
    );
    const s3 = startScript(
      'dev/s3/main.ts',
      {
        S3_DEV_PORT: String(this.ports.s3),
        S3_DEV_DIRECTORY: join(this.workDirectory, 's3'),
        S3_BUCKET: 'tether-e2e',
        S3_ACCESS_KEY_ID: E2E_SECRETS.s3AccessKeyId,
        S3_SECRET_ACCESS_KEY: E2E_SECRETS.s3SecretAccessKey,
      },
      { log: this.log('s3') },
    );
    this.others.push(sim, upstash, s3);
    Object.assign(this.named, { 'Genesis simulator': sim, 'Upstash REST': upstash, S3: s3 });
    await Promise.all([
      waitForUrl(`${urls.sim}/__sim/rate`, 'Genesis simulator', sim),
      waitForUrl(urls.upstash, 'Upstash REST stand-in', upstash),
      waitForUrl(`${urls.s3}/`, 'S3 stand-in', s3),
      this.startQStash(),
    ]);

    const balancer = this.startBalancer();
    this.others.push(balancer);
    this.named.HAProxy = balancer;
    await waitForUrl(`${urls.balancer}/health`, 'HAProxy', balancer);
    await Promise.all(Array.from({ length: this.options.nodes }, (_, index) => this.startNode(index)));

    // Every node slot, as an operator lists every node: a stopped one is just a target down.
    const prometheus = await startPrometheus({
      port: this.ports.prometheus,
      targets: this.ports.nodes.map((port) => `127.0.0.1:${port}`),
      rules: backlogRulesForTests(E2E_BACKLOG_ALERT_SECONDS),
      directory: join(this.workDirectory, 'prometheus'),
      log: this.log('prometheus'),
      intervalSeconds: E2E_PROMETHEUS_INTERVAL_SECONDS,
    });
    this.others.push(prometheus.child);
    this.named.Prometheus = prometheus.child;

    const edge = startCommand(
      process.execPath,
      [
        'node_modules/wrangler/bin/wrangler.js',
        'dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(this.ports.edge),
        '--inspector-port',
        String(await freePort()),
        '--log-level',
        'warn',
        ...Object.entries({
          UPSTASH_REDIS_REST_URL: urls.upstash,
          UPSTASH_REDIS_REST_TOKEN: E2E_SECRETS.upstashToken,
          QSTASH_URL: urls.qstash,
          QSTASH_TOKEN: E2E_SECRETS.qstashToken,
          BACKEND_EVENTS_URL: `${urls.balancer}/qstash/emp-events`,
          EMP_API_PASSWORD: E2E_SECRETS.empPassword,
          LOG_LEVEL: 'warn',
        }).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
      ],
      { WRANGLER_SEND_METRICS: 'false' },
      { log: this.log('edge') },
    );
    this.others.push(edge);
    this.named['edge (wrangler dev)'] = edge;
    await waitUntil(() => answers(`${urls.edge}/health`, (status) => status === 200), 120_000, 'the edge under wrangler dev');
  }

  /**
   * HAProxy as operators run it: deploy/haproxy/haproxy.cfg (least connections, health checks on
   * /health, timeouts, body caps, forwarded headers) with the node slots in a second file, and
   * EMP's front door in a third; it listens where TETHER_BIND says.
   */
  private startBalancer(): ChildProcess {
    const nodes = join(this.workDirectory, 'haproxy-nodes.cfg');
    writeFileSync(nodes, `backend nodes from tether-nodes\n${this.ports.nodes.map((port, index) => `  server node${index + 1} 127.0.0.1:${port}`).join('\n')}\n`);
    const frontDoor = join(this.workDirectory, 'haproxy-front-door.cfg');
    writeFileSync(frontDoor, frontDoorSections(this.ports.frontDoor, this.ports.sim));
    return startFrontDoor([OPERATORS_HAPROXY_CONFIG, nodes, frontDoor], this.frontDoorLog, { TETHER_BIND: `127.0.0.1:${this.ports.balancer}` });
  }

  /** The environment every backend node runs with. */
  nodeEnvironment(index: number): Record<string, string> {
    const { urls } = this;
    if (!this.pgbouncer) throw new Error('the stack has not started');
    // The nodes reach PostgreSQL through pgBouncer (transaction mode); the harness's own checks do not.
    const database = new URL(this.pgbouncer.urlFor(this.databases.backend.url));
    database.searchParams.set('application_name', `tether-node-${index + 1}`);
    return {
      // Not production: that would refuse this stack's http URLs (config.ts); nothing else reads NODE_ENV.
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(this.ports.nodes[index]),
      PUBLIC_URL: urls.balancer,
      DATABASE_URL: database.toString(),
      DATABASE_POOL_SIZE: '8',
      UPSTASH_REDIS_REST_URL: urls.upstash,
      UPSTASH_REDIS_REST_TOKEN: E2E_SECRETS.upstashToken,
      QSTASH_URL: urls.qstash,
      QSTASH_TOKEN: E2E_SECRETS.qstashToken,
      QSTASH_CURRENT_SIGNING_KEY: E2E_SECRETS.qstashCurrent,
      QSTASH_NEXT_SIGNING_KEY: E2E_SECRETS.qstashNext,
      S3_ENDPOINT: urls.s3,
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'tether-e2e',
      S3_ACCESS_KEY_ID: E2E_SECRETS.s3AccessKeyId,
      S3_SECRET_ACCESS_KEY: E2E_SECRETS.s3SecretAccessKey,
      EMP_GATEWAY_URL: urls.frontDoor,
      EMP_RATE_LIMIT: String(E2E_EMP_RATE_LIMIT),
      RECONCILE_STALE_CLAIM_AFTER: String(E2E_STALE_CLAIM_AFTER_MS),
      EMP_TERMINAL_TOKEN: E2E_SECRETS.terminal,
      EMP_API_LOGIN: E2E_SECRETS.login,
      EMP_API_PASSWORD: E2E_SECRETS.empPassword,
      RECONCILIATION_SCHEDULE_ON_START: 'false',
      QSTASH_PROBE_INTERVAL: String(E2E_PROBE_INTERVAL_MS),
      METRICS_CACHE_TTL: String(E2E_METRICS_CACHE_MS),
      ...this.options.nodeEnv,
    };
  }

  async startNode(index: number): Promise<void> {
    const existing = this.nodeProcesses[index];
    if (existing && isRunning(existing)) return;
    const node = startScript('backend/src/main.ts', this.nodeEnvironment(index), { log: this.log(`node-${index + 1}`) });
    this.nodeProcesses[index] = node;
    await waitUntil(
      async () => {
        if (!isRunning(node)) throw new Error(`backend node ${index + 1} exited with ${node.exitCode ?? node.signalCode}; see ${this.log(`node-${index + 1}`)}`);
        return answers(`${this.urls.nodes[index]}/health`, (status) => status === 200);
      },
      90_000,
      `backend node ${index + 1}`,
    );
    // In service once HAProxy's next health check (every second, deploy/haproxy/haproxy.cfg) has seen it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  }

  /** CPU seconds used so far per part of the stack, PostgreSQL and Redis, and this harness. */
  cpuSeconds(): Record<string, number> {
    const nodes = Object.fromEntries(this.nodeProcesses.map((node, index) => [`node ${index + 1}`, node]));
    const usage = process.cpuUsage();
    return { ...cpuSecondsByPart({ ...this.named, QStash: this.qstashProcess, ...nodes }), 'harness (EMP)': (usage.user + usage.system) / 1e6 };
  }

  /** SIGKILL: no graceful shutdown, requests in flight are cut. */
  async killNode(index: number): Promise<void> {
    const node = this.nodeProcesses[index];
    if (node) await stopProcess(node, 'SIGKILL');
  }

  nodeRunning(index: number): boolean {
    const node = this.nodeProcesses[index];
    return node !== undefined && isRunning(node);
  }

  /** The node (index) whose run holds the upload's processing lease, if any (`processing_by` is host:pid:run). */
  async nodeProcessingUpload(uploadId: string): Promise<number | undefined> {
    const { rows } = await this.database.pool.query<{ processing_by: string }>(
      'select processing_by from uploads where id = $1 and processing_lease_until > now()',
      [uploadId],
    );
    const pid = Number(rows[0]?.processing_by.split(':')[1]);
    const index = this.nodeProcesses.findIndex((node) => node !== undefined && node.pid === pid);
    return index === -1 ? undefined : index;
  }

  async startQStash(): Promise<void> {
    const qstash = startScript(
      'dev/qstash/main.ts',
      {
        QSTASH_DEV_PORT: String(this.ports.qstash),
        QSTASH_DEV_DATABASE_URL: this.databases.qstash.url,
        QSTASH_TOKEN: E2E_SECRETS.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: E2E_SECRETS.qstashCurrent,
        QSTASH_NEXT_SIGNING_KEY: E2E_SECRETS.qstashNext,
        // QStash's own backoff (12 s, then 2.5 min) would outlast a run; the order of retries is kept.
        QSTASH_DEV_RETRY_BACKOFF_SCALE: '0.1',
      },
      { log: this.log('qstash') },
    );
    this.qstashProcess = qstash;
    await waitForUrl(`${this.urls.qstash}/v2/schedules`, 'QStash stand-in', qstash);
  }

  /** SIGKILL, as a crash or a network partition would: what it accepted is in PostgreSQL. */
  async stopQStash(): Promise<void> {
    if (this.qstashProcess) await stopProcess(this.qstashProcess, 'SIGKILL');
  }

  /** Empties the harness's Redis database: the edge forgets every event it deduplicated. */
  async flushRedis(): Promise<void> {
    const redis = new IORedis(REDIS_URL, { lazyConnect: true });
    try {
      await redis.connect();
      await redis.flushdb();
    } finally {
      redis.disconnect();
    }
  }

  /** The Genesis simulator's admin API (dev/genesis/admin.ts). */
  async sim<T = unknown>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.urls.sim}/__sim${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`simulator ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  async close(): Promise<void> {
    const children = [...this.others.reverse(), ...this.nodeProcesses, this.qstashProcess];
    await Promise.all(children.map((child) => (child ? stopProcess(child) : undefined)));
    await this.echoSink?.close();
    await this.pgbouncer?.close();
    await this.database.close();
    await Promise.all([this.databases.backend.drop(), this.databases.qstash.drop()]).catch(() => undefined);
    rmSync(this.workDirectory, { recursive: true, force: true });
  }
}

