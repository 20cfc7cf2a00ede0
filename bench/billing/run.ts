/**
 * Billing benchmark (see bench/README.md, "Billing"): a run of N attempts on two backend
 * processes against the Genesis simulator, through the dev QStash server and the shared Redis
 * rate limiter.
 *
 *   npm run bench:billing -- [--attempts 10000] [--rate 50] [--nodes 2] [--latency 50-250]
 *                            [--batch-size 100] [--parallel-batches 4] [--concurrency 8]
 *
 * Measures the achieved sale rate against EMP_RATE_LIMIT (steady state, and the most sales the
 * simulator saw in any sliding one-second window), double charges (sales per transaction_id),
 * and time to drain (start of the run to its completion). Results are printed and written to
 * bench/results/tmp/billing-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { billingContext } from '../../backend/src/billing/context';
import { getRun, runProgress, startRun } from '../../backend/src/billing/runs';
import { loadConfig } from '../../backend/src/config';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import { createServices } from '../../backend/src/services';
import { createTestDatabase } from '../../dev/testing/postgres';
import { seedUpload } from './fixtures';
import { startBillingStack } from './stack';

const { values: args } = parseArgs({
  options: {
    attempts: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '50' },
    nodes: { type: 'string', default: '2' },
    latency: { type: 'string', default: '50-250' },
    'batch-size': { type: 'string', default: '100' },
    'parallel-batches': { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '8' },
  },
});
const attempts = Number(args.attempts);
const rate = Number(args.rate);
const [latencyMin, latencyMax] = args.latency.split('-').map(Number) as [number, number];

/** Most timestamps within any window of `windowMs` (half-open, as the simulator counts). */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

const database = await createTestDatabase('tether_bench_billing');
const handle = openDatabase(database.url, { maxConnections: 4 });
const loadBefore = loadavg();
let stack: Awaited<ReturnType<typeof startBillingStack>> | undefined;
try {
  await applyMigrations(handle.pool);
  const uploadId = await seedUpload(handle.pool, attempts);
  stack = await startBillingStack({
    databaseUrl: database.url,
    nodes: Number(args.nodes),
    nodeEnv: {
      EMP_RATE_LIMIT: String(rate),
      BILLING_BATCH_SIZE: args['batch-size'],
      BILLING_PARALLEL_BATCHES: args['parallel-batches'],
      BILLING_CONCURRENCY: args.concurrency,
    },
  });
  const sim = (path: string, init?: RequestInit) => fetch(`${stack!.simUrl}/__sim${path}`, init).then((answer) => answer.json());
  await sim('/faults', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs: { min: latencyMin, max: latencyMax } }),
  });

  // The bench starts the run as the CLI does (billing:start), with services of its own.
  const services = createServices(loadConfig(stack.env), pino({ level: 'warn' }));
  const started = performance.now();
  const run = await startRun(billingContext(services), { selection: { uploadId }, createdBy: 'bench' });
  let completed = await getRun(handle.db, run.id);
  let lastReport = performance.now();
  while (completed?.status !== 'completed') {
    await new Promise((resolve) => setTimeout(resolve, 250));
    completed = await getRun(handle.db, run.id);
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(JSON.stringify({ elapsedSeconds: Math.round((lastReport - started) / 1000), ...(await runProgress(handle.db, run.id)), status: completed?.status }));
    }
  }
  const drainSeconds = (performance.now() - started) / 1000;
  await services.close();

  const rateReport = (await sim('/rate')) as { maxPerSecond: Record<string, number>; requests: Record<string, number> };
  const sales = (await sim('/sales')) as { salesPerTransactionId: Record<string, number>; doubleCharges: string[] };
  const transactions = (await sim('/transactions')) as Array<{ createdAt: string }>;
  const times = transactions.map((transaction) => Date.parse(transaction.createdAt)).sort((a, b) => a - b);
  const steadySeconds = (times.at(-1)! - times[0]!) / 1000;
  const { rows: perNode } = await handle.pool.query<{ node: string; count: number }>(
    `select split_part(claimed_by, ':', 2) as node, count(*)::int as count from billing_attempts where billing_run_id = $1 group by 1 order by 1`,
    [run.id],
  );
  const result = {
    benchmark: 'billing',
    startedAt: new Date(Date.now() - drainSeconds * 1000).toISOString(),
    attempts,
    nodes: Number(args.nodes),
    rateLimit: rate,
    simulatorLatencyMs: { min: latencyMin, max: latencyMax },
    batchSize: Number(args['batch-size']),
    parallelBatches: Number(args['parallel-batches']),
    concurrency: Number(args.concurrency),
    sales: times.length,
    achievedRate: Number(((times.length - 1) / steadySeconds).toFixed(2)),
    achievedShareOfLimit: Number(((times.length - 1) / steadySeconds / rate).toFixed(4)),
    maxSalesInAnyOneSecondWindow: rateReport.maxPerSecond.process,
    maxSalesInAnyOneSecondWindowByCreatedAt: maxInWindow(times, 1000),
    processRequests: rateReport.requests.process,
    doubleCharges: sales.doubleCharges.length,
    attemptsNotSentExactlyOnce: Object.values(sales.salesPerTransactionId).filter((count) => count !== 1).length + (attempts - Object.keys(sales.salesPerTransactionId).length),
    drainSeconds: Number(drainSeconds.toFixed(1)),
    idealDrainSeconds: Number((attempts / rate).toFixed(1)),
    finalCounts: completed.counts,
    attemptsPerNode: Object.fromEntries(perNode.map((row) => [row.node, row.count])),
    loadAverage: { before: loadBefore, after: loadavg() },
  };
  console.log(JSON.stringify(result, null, 2));
  const directory = fileURLToPath(new URL('../results/tmp/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  const file = `${directory}billing-${new Date().toISOString().replace(/:/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results written to ${file}`);
} finally {
  await stack?.close();
  await handle.close();
  await database.drop();
}
