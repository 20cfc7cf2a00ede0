/**
 * Starts one backend node: configuration, migrations, HTTP. Start-up failures print one line
 * (which variable, which dependency) and exit non-zero.
 */
import { listen } from './http/listen';
import { createApp } from './app';
import { ConfigError, loadConfig, redactUrl } from './config';
import { applyMigrations } from './db/client';
import { startDeliveryProbes } from './monitoring/delivery-probe';
import { ensureRetentionSchedule } from './personal-data/schedule';
import { ensureReconciliationSchedules } from './reconciliation/schedule';
import { createServices } from './services';

async function main() {
  const config = loadConfig();
  const services = createServices(config);
  try {
    await applyMigrations(services.database.pool);
  } catch (error) {
    throw new StartupError(
      `Cannot prepare the database at DATABASE_URL (${redactUrl(config.database.url)}): ${(error as Error).message}`,
    );
  }
  const app = createApp(services);
  const server = await listen(app.fetch, { port: config.http.port, host: config.http.host });
  services.log.info({ url: server.url }, 'backend listening');
  if (config.reconciliation.scheduleOnStart) {
    // Not fatal: the node serves without them, and `reconcile:schedule` creates them later.
    await ensureReconciliationSchedules({ qstash: services.qstash, publicUrl: config.http.publicUrl, reconciliation: config.reconciliation }).catch(
      (error: unknown) => services.log.warn({ error: (error as Error).message }, 'reconciliation schedules not created; run reconcile:schedule'),
    );
    // The same switch: a deployment that schedules reconciliation on start schedules its sweep too.
    await ensureRetentionSchedule({ qstash: services.qstash, publicUrl: config.http.publicUrl, cron: config.personalData.retentionSweepCron }).catch(
      (error: unknown) => services.log.warn({ error: (error as Error).message }, 'retention sweep schedule not created; run retention:schedule'),
    );
  }

  const stopProbes = startDeliveryProbes({
    redis: services.redis,
    qstash: services.qstash,
    publicUrl: config.http.publicUrl,
    keyPrefix: config.redis.keyPrefix,
    intervalMs: config.qstash.probeIntervalMs,
    log: services.log,
  });

  const shutdown = async (signal: string) => {
    services.log.info({ signal }, 'shutting down');
    stopProbes();
    await server.close({ drainMs: SHUTDOWN_DRAIN_MS });
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

class StartupError extends Error {}

/** Requests in flight at SIGTERM may finish for this long; well within a container's usual 30 s grace. */
const SHUTDOWN_DRAIN_MS = 20_000;

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    console.error(error.message);
  } else {
    console.error(`backend failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
