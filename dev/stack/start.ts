/**
 * `npm start`: the whole Tether stack on this machine, on embedded defaults.
 *   PostgreSQL   DATABASE_URL, or an embedded PGlite under .data/pglite
 *   Redis        REDIS_URL (default redis://127.0.0.1:6379), behind the Upstash REST stand-in
 *   stand-ins    QStash, S3 and the Genesis simulator (dev/)
 *   services     one backend node and the edge Worker under `wrangler dev`
 * A .env file, if present, overrides any default (see .env.example).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Redis as RedisClient } from 'ioredis';
import { startEmbeddedPostgres } from '../embedded-postgres';
import { startGenesisSimulator } from '../genesis/server';
import { startQStashDevServer } from '../qstash/server';
import type { RunningServer } from '../running-server';
import { startS3DevServer } from '../s3/server';
import { startUpstashRestServer } from '../upstash-rest/server';
import { DEV_BUCKET, DEV_DATA_DIRECTORY, DEV_PORTS, DEV_SECRETS } from './defaults';
import { ensureDevOperator } from './dev-operator';
import { startProcess, waitForHealthy, type ManagedProcess } from './processes';

if (existsSync('.env')) process.loadEnvFile('.env');
const env = process.env;
const host = '127.0.0.1';
const require = createRequire(import.meta.url);

const running: Array<RunningServer | ManagedProcess> = [];
let stopping = false;

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  for (const part of running.reverse()) await ('stop' in part ? part.stop() : part.close()).catch(() => undefined);
  process.exit(exitCode);
}

function fail(message: string): Promise<never> {
  console.error(`tether: ${message}`);
  return stopAll(1);
}

async function redisReachable(url: string): Promise<void> {
  const client = new RedisClient(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

async function startEmbedded(): Promise<string> {
  const server = await startEmbeddedPostgres({
    dataDirectory: join(DEV_DATA_DIRECTORY, 'pglite'),
    port: DEV_PORTS.embeddedPostgres,
    host,
  });
  running.push(server);
  return server.url;
}

async function main() {
  const databaseUrl = env.DATABASE_URL ?? (await startEmbedded());
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await redisReachable(redisUrl).catch((error: Error) =>
    fail(`Redis is not reachable at REDIS_URL=${redisUrl} (${error.message}); start redis-server or set REDIS_URL`),
  );

  const upstash = await startUpstashRestServer({ redisUrl, token: DEV_SECRETS.upstashToken, port: DEV_PORTS.upstashRest, host });
  running.push(upstash);
  const qstash = await startQStashDevServer({
    databaseUrl,
    token: DEV_SECRETS.qstashToken,
    currentSigningKey: DEV_SECRETS.qstashCurrentSigningKey,
    nextSigningKey: DEV_SECRETS.qstashNextSigningKey,
    port: DEV_PORTS.qstash,
    host,
  });
  running.push(qstash);
  const s3 = await startS3DevServer({
    directory: join(DEV_DATA_DIRECTORY, 's3'),
    port: DEV_PORTS.s3,
    host,
    buckets: [DEV_BUCKET],
    accessKeyId: DEV_SECRETS.s3AccessKeyId,
    secretAccessKey: DEV_SECRETS.s3SecretAccessKey,
  });
  running.push(s3);
  const edgeUrl = `http://${host}:${DEV_PORTS.edge}`;
  const genesis = await startGenesisSimulator({
    terminals: [
      {
        token: DEV_SECRETS.empTerminalToken,
        login: DEV_SECRETS.empLogin,
        password: DEV_SECRETS.empPassword,
        notificationUrl: `${edgeUrl}/emp/notifications`,
      },
    ],
    port: DEV_PORTS.genesis,
    host,
  });
  running.push(genesis);

  const backendUrl = `http://${host}:${DEV_PORTS.backend}`;
  const backendEnv: NodeJS.ProcessEnv = {
    PORT: String(DEV_PORTS.backend),
    HOST: host,
    PUBLIC_URL: backendUrl,
    DATABASE_URL: databaseUrl,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: DEV_SECRETS.upstashToken,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: DEV_SECRETS.qstashToken,
    QSTASH_CURRENT_SIGNING_KEY: DEV_SECRETS.qstashCurrentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: DEV_SECRETS.qstashNextSigningKey,
    S3_ENDPOINT: s3.url,
    S3_REGION: 'us-east-1',
    S3_BUCKET: DEV_BUCKET,
    S3_ACCESS_KEY_ID: DEV_SECRETS.s3AccessKeyId,
    S3_SECRET_ACCESS_KEY: DEV_SECRETS.s3SecretAccessKey,
    EMP_GATEWAY_URL: genesis.url,
    EMP_TERMINAL_TOKEN: DEV_SECRETS.empTerminalToken,
    EMP_API_LOGIN: DEV_SECRETS.empLogin,
    EMP_API_PASSWORD: DEV_SECRETS.empPassword,
  };
  const onExit = (name: string) => (code: number | null) => {
    if (!stopping) void fail(`${name} exited with code ${code}`);
  };
  running.push(
    startProcess('backend', [require.resolve('tsx/cli'), 'backend/src/main.ts'], {
      env: { ...backendEnv, ...env, PATH: env.PATH },
      onExit: onExit('backend'),
    }),
  );

  const edgeVars = {
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: DEV_SECRETS.upstashToken,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: DEV_SECRETS.qstashToken,
    BACKEND_EVENTS_URL: `${backendUrl}/qstash/emp-events`,
    EMP_API_PASSWORD: DEV_SECRETS.empPassword,
  };
  running.push(
    startProcess(
      'edge',
      [
        join(dirname(require.resolve('wrangler')), '../bin/wrangler.js'),
        'dev',
        '--port',
        String(DEV_PORTS.edge),
        '--ip',
        host,
        ...Object.entries(edgeVars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
      ],
      { env: { ...env, WRANGLER_SEND_METRICS: 'false' }, onExit: onExit('edge') },
    ),
  );

  const [backendHealth, edgeHealth] = await Promise.all([
    waitForHealthy(`${backendUrl}/health`, 60_000),
    waitForHealthy(`${edgeUrl}/health`, 90_000),
  ]);
  const login = await ensureDevOperator(databaseUrl);

  console.log(`
Tether is running.
  Dashboard and API   ${backendUrl}
  Dashboard log-in    ${login}
  Edge (EMP notify)   ${edgeUrl}/emp/notifications
  Backend health      ${backendUrl}/health  ${JSON.stringify(backendHealth)}
  Edge health         ${edgeUrl}/health  ${JSON.stringify(edgeHealth)}
  Genesis simulator   ${genesis.url}
  QStash (dev)        ${qstash.url}
  Upstash REST (dev)  ${upstash.url}
  S3 (dev)            ${s3.url}  bucket ${DEV_BUCKET}
  PostgreSQL          ${env.DATABASE_URL ? 'DATABASE_URL' : `embedded PGlite, ${databaseUrl}`}
Press Ctrl-C to stop.`);
}

process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));
main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
