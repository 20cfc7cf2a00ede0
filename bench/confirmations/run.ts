/**
 * Confirming notifications with EMP (see bench/README.md, "Confirmations"):
 *
 *   npm run bench:confirmations -- [--backlog 5000] [--rate 100] [--duration 30] [--limit 20]
 *
 * backlog: N notifications wait (a storm, or EMP back after an outage); confirmed per second
 *          until none waits. Floor: what EMP's reconcile limit allows, RECONCILIATION_RATE_LIMIT
 *          requests a second × 100 transactions a by-date page, and the same pages fetched bare
 *          (no database, no judging) in the same run.
 * latency: notifications arriving at a steady rate, recorded as the delivery route records them
 *          and confirmed by the node's confirmer; recorded-to-verdict-committed p50/p99. Floor:
 *          a bare single reconcile round trip to the same simulator.
 * Against the Genesis simulator, real PostgreSQL and Redis (through the Upstash REST stand-in).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { startGenesisSimulator } from '../../dev/genesis/server';
import { createTestDatabase } from '../../dev/testing/postgres';
import { startUpstashRestServer } from '../../dev/upstash-rest/server';
import { billingContext, type BillingContext } from '../../backend/src/billing/context';
import { loadConfig } from '../../backend/src/config';
import { confirmAllDue } from '../../backend/src/confirmation/confirm';
import { NotificationConfirmer } from '../../backend/src/confirmation/confirmer';
import { applyMigrations } from '../../backend/src/db/client';
import { recordNotifications } from '../../backend/src/events/notifications';
import type { IncomingEvent } from '../../backend/src/events/process';
import { createLogger } from '../../backend/src/log';
import { createServices } from '../../backend/src/services';
import { identifyNotification } from '@tether/shared/notification';
import { percentile } from '../events/fixtures';

const { values: args } = parseArgs({
  options: {
    backlog: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '30' },
    limit: { type: 'string', default: '20' },
  },
});
const backlog = Number(args.backlog);
const rate = Number(args.rate);
const durationSeconds = Number(args.duration);
const limit = Number(args.limit);
const PAGE = 100;
/** A billing run's pace: EMP_RATE_LIMIT's default. */
const SEND_INTERVAL_MS = 1000 / 50;

const TERMINAL = { token: 'bench-terminal', login: 'bench-login', password: 'bench-password' };
const database = await createTestDatabase('tether_bench');
const sim = await startGenesisSimulator({ terminals: [TERMINAL] });
const redisToken = randomBytes(8).toString('hex');
const upstash = await startUpstashRestServer({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', token: redisToken });
const config = loadConfig({
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  DATABASE_URL: database.url,
  DATABASE_POOL_SIZE: '10',
  PUBLIC_URL: 'http://127.0.0.1:9',
  UPSTASH_REDIS_REST_URL: upstash.url,
  UPSTASH_REDIS_REST_TOKEN: redisToken,
  REDIS_KEY_PREFIX: `bench:confirm:${randomBytes(4).toString('hex')}:`,
  QSTASH_URL: 'http://127.0.0.1:9',
  QSTASH_TOKEN: 'unused',
  QSTASH_CURRENT_SIGNING_KEY: 'unused',
  QSTASH_NEXT_SIGNING_KEY: 'unused',
  S3_BUCKET: 'unused',
  S3_ACCESS_KEY_ID: 'unused',
  S3_SECRET_ACCESS_KEY: 'unused',
  EMP_GATEWAY_URL: sim.url,
  EMP_TERMINAL_TOKEN: TERMINAL.token,
  EMP_API_LOGIN: TERMINAL.login,
  EMP_API_PASSWORD: TERMINAL.password,
  RECONCILIATION_RATE_LIMIT: String(limit),
});
const services = createServices(config, createLogger({ level: 'warn' }));
await applyMigrations(services.database.pool);
const context = billingContext(services);

interface Sale {
  transactionId: string;
  uniqueId: string;
}

/**
 * Sales EMP approved and their attempts, `count` of them, sent as a billing run sends them: at
 * EMP_RATE_LIMIT (50/s), ending now. The simulator's clock is set for each sale, so that seeding
 * takes seconds while EMP's creation times (what by-date pages list) and Tether's sent_at are
 * spaced as in a real run.
 */
async function seedSales(count: number): Promise<Sale[]> {
  const sales: Array<Sale & { sentAt: string }> = [];
  const firstAt = Date.now() - count * SEND_INTERVAL_MS;
  for (let index = 0; index < count; index++) {
    {
      const transactionId = `bench_${randomBytes(8).toString('hex')}`;
      const sent = new Date(firstAt + index * SEND_INTERVAL_MS);
      sim.control.setClock(sent);
      const sentAt = sent.toISOString();
      const answer = await services.genesis.sddSale({
        transactionId,
        usage: 'bench',
        amount: 1990,
        currency: 'EUR',
        iban: 'DE89370400440532013000',
        billingAddress: { firstName: 'Erika', lastName: 'Mustermann', country: 'DE' },
      });
      sales.push({ transactionId, uniqueId: answer.uniqueId!, sentAt });
    }
  }
  sim.control.setClock(undefined);
  await services.database.db.execute(sql`
    with debtor as (insert into debtors (iban, name, name_original) values ('DE89370400440532013000', 'Erika Mustermann', 'Erika Mustermann') returning id)
    insert into billing_attempts (transaction_id, debtor_id, amount_cents, status, emp_unique_id, sent_at)
    select s.transaction_id, debtor.id, 1990, 'submitted', s.unique_id, s.sent_at
    from debtor, unnest(${sql.param(sales.map((sale) => sale.transactionId))}::text[], ${sql.param(sales.map((sale) => sale.uniqueId))}::text[],
                        ${sql.param(sales.map((sale) => sale.sentAt))}::timestamptz[]) as s(transaction_id, unique_id, sent_at)`);
  return sales;
}

function notification(sale: Sale): IncomingEvent {
  const fields = { unique_id: sale.uniqueId, transaction_id: sale.transactionId, transaction_type: 'sdd_sale', status: 'approved', amount: '1990' };
  return { dedupKey: identifyNotification(fields).dedupKey, receivedAt: new Date(), traceId: randomBytes(4).toString('hex'), fields };
}

async function verdicts(): Promise<Record<string, number>> {
  const { rows } = await services.database.db.execute<{ outcome: string; count: string }>(sql`
    select outcome, count(*) from webhook_events where source = 'notification' group by outcome`);
  return Object.fromEntries(rows.map((row) => [row.outcome, Number(row.count)]));
}

/** The floor of the backlog: every by-date page of the sales' window, fetched at the limit, nothing else. */
async function barePages(ctx: BillingContext, from: Date, to: Date): Promise<{ transactions: number; seconds: number }> {
  const range = { startDate: from.toISOString().slice(0, 19).replace('T', ' '), endDate: to.toISOString().slice(0, 19).replace('T', ' ') };
  const started = performance.now();
  let transactions = 0;
  for (let page = 1, pages = 1; page <= pages; page++) {
    await ctx.reconcileLimiter.acquire();
    const content = await ctx.genesis.reconcileByDatePage(range, page);
    pages = content.pagination.pagesCount;
    transactions += content.items.length;
  }
  return { transactions, seconds: (performance.now() - started) / 1000 };
}

const progress = (what: string) => process.stderr.write(`${new Date().toISOString()} ${what}\n`);

// ---- backlog
progress('seeding the backlog\'s sales');
const seedStarted = new Date(Date.now() - backlog * SEND_INTERVAL_MS - 1000);
const backlogSales = await seedSales(backlog);
const seedEnded = new Date(Date.now() + 1000);
progress('bare pages (floor)');
const floorRun = await barePages(context, seedStarted, seedEnded);
progress('recording the backlog');
for (let index = 0; index < backlogSales.length; index += 500) await recordNotifications(context.events, backlogSales.slice(index, index + 500).map(notification));
const requestsBefore = { byDate: sim.control.requestCount('reconcile_by_date'), single: sim.control.requestCount('reconcile') };
progress('confirming the backlog');
const started = performance.now();
const summary = await confirmAllDue(context);
const seconds = (performance.now() - started) / 1000;
const backlogResult = {
  benchmark: 'backlog',
  notifications: backlog,
  seconds: Number(seconds.toFixed(2)),
  confirmedPerSecond: Math.round(summary.confirmed / seconds),
  floorPerSecond: limit * PAGE,
  barePagesPerSecond: Math.round(floorRun.transactions / floorRun.seconds),
  ratioToLimit: Number((summary.confirmed / seconds / (limit * PAGE)).toFixed(2)),
  ratioToBarePages: Number((summary.confirmed / seconds / (floorRun.transactions / floorRun.seconds)).toFixed(2)),
  requests: {
    byDate: sim.control.requestCount('reconcile_by_date') - requestsBefore.byDate,
    single: sim.control.requestCount('reconcile') - requestsBefore.single,
  },
  summary,
  loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
};
console.log(JSON.stringify(backlogResult));

// ---- latency at a steady rate
const latencySales = await seedSales(rate * durationSeconds);
const bareRoundTrips: number[] = [];
for (const sale of latencySales.slice(0, 50)) {
  const begun = performance.now();
  await services.genesis.reconcileByUniqueId(sale.uniqueId);
  bareRoundTrips.push(performance.now() - begun);
}
const confirmer = new NotificationConfirmer(context);
const tickMs = 1000 / rate;
const latencyStarted = performance.now();
for (let index = 0; index < latencySales.length; index++) {
  const due = latencyStarted + index * tickMs;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  await recordNotifications(context.events, [notification(latencySales[index]!)]);
  confirmer.wake();
}
const deadline = Date.now() + 120_000;
while ((await verdicts()).awaiting_confirmation && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
await confirmer.idle();
confirmer.close();
const { rows } = await services.database.db.execute<{ ms: number }>(sql`
  select extract(epoch from (processed_at - created_at)) * 1000 as ms from webhook_events
  where source = 'notification' and transaction_id = any(${sql.param(latencySales.map((sale) => sale.transactionId))}::text[])`);
const latencies = rows.map((row) => Number(row.ms)).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    benchmark: 'latency',
    rate,
    durationSeconds,
    notifications: latencies.length,
    confirmToCommitMs: { p50: Math.round(percentile(latencies, 0.5)), p99: Math.round(percentile(latencies, 0.99)) },
    floorSingleReconcileMs: { p50: Math.round(percentile(bareRoundTrips.sort((a, b) => a - b), 0.5)) },
    requests: { byDate: sim.control.requestCount('reconcile_by_date'), single: sim.control.requestCount('reconcile') },
    verdicts: await verdicts(),
    loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
  }),
);

await services.close();
await upstash.close();
await sim.close();
await database.drop();
