/**
 * The backend's connections to the outside world, made once per process from the parsed
 * configuration. Nothing here holds request state: any node can serve any request.
 */
import { Client as QStashClient, Receiver } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import type { Config } from './config';
import { openDatabase, type DatabaseHandle } from './db/client';
import { createGenesisClient, type GenesisClient } from './emp/genesis-client';
import { createLogger, type Logger } from './log';
import { createMetricsRegistry, type Registry } from './metrics';
import { ObjectStorage } from './storage/object-storage';

export interface Services {
  config: Config;
  log: Logger;
  database: DatabaseHandle;
  redis: Redis;
  qstash: QStashClient;
  receiver: Receiver;
  /** Prometheus instruments of this process, served at GET /metrics. */
  metrics: Registry;
  /** Uploaded files and reports: no node keeps files on its local disk. */
  storage: ObjectStorage;
  /** EMP's Genesis API for this terminal; keeps its connections alive between requests. */
  genesis: GenesisClient;
  close(): Promise<void>;
}

export function createServices(config: Config, log: Logger = createLogger({ level: config.logLevel })): Services {
  const database = openDatabase(config.database.url, { maxConnections: config.database.poolSize });
  const redis = new Redis({ url: config.redis.url, token: config.redis.token, enableTelemetry: false });
  const qstash = new QStashClient({ baseUrl: config.qstash.url, token: config.qstash.token });
  const storage = new ObjectStorage(config.storage);
  const genesis = createGenesisClient({
    baseUrl: config.emp.gatewayUrl,
    wpfUrl: config.emp.wpfUrl,
    terminalToken: config.emp.terminalToken,
    login: config.emp.login,
    password: config.emp.password,
    timeoutMs: config.emp.timeoutMs,
    connectTimeoutMs: config.emp.connectTimeoutMs,
  });
  const receiver = new Receiver({
    currentSigningKey: config.qstash.currentSigningKey,
    nextSigningKey: config.qstash.nextSigningKey,
  });
  return {
    config,
    log,
    database,
    redis,
    qstash,
    receiver,
    metrics: createMetricsRegistry(),
    storage,
    genesis,
    close: async () => {
      storage.close();
      genesis.close();
      await database.close();
    },
  };
}
