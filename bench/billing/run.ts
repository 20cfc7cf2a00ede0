/**
 * Billing benchmark (see bench/README.md, "Billing"): a run of N attempts on two backend
 * processes against the Genesis simulator, through the dev QStash server and the shared Redis
 * rate limiter.
 *
 *   npm run bench:billing -- [--attempts 10000] [--rate 50] [--nodes 2] [--latency 50-250]
 *                            [--batch-size 100] [--parallel-batches 8] [--concurrency 8]
 *                            [--timeout-rate 0] [--max-minutes 30]
 *
 * --timeout-rate makes that share of sales go unanswered (processed by the simulator, answer
 * never sent), with EMP_TIMEOUT 5 s and RECONCILE_UNKNOWN_AFTER 10 s, so the drain includes
 * reconciling them.
 *
 * Measures the achieved sale rate against EMP_RATE_LIMIT (steady state: sales between the first
 * and the last; and the most sales that reached EMP's front door in any sliding one-second window),
 * double charges (sales per transaction_id), time to drain (start of the run to its completion),
 * and where an attempt's time goes (the nodes' tether_billing_phase_seconds). Results are printed and written to
 * bench/results/tmp/billing-<time>.json.
 */
import { systemActor } from '../../backend/src/audit/actor';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { billingContext } from '../../backend/src/billing/context';
import { getRun, runProgress, startRun } from '../../backend/src/billing/runs';
import { loadConfig } from '../../backend/src/config';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import { createServices } from '../../backend/src/services';
import { countsPerWindow } from '../../dev/genesis/rate-meter';
import { createTestDatabase } from '../../dev/testing/postgres';
import { seedUpload } from './fixtures';
import { frontDoorArrivals } from '../support/front-door';
import { startBillingStack } from './stack';

const { values: args } = parseArgs({
  options: {
    attempts: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '50' },
    nodes: { type: 'string', default: '2' },
    latency: { type: 'string', default: '50-250' },
    'batch-size': { type: 'string', default: '100' },
    'parallel-batches': { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '8' },
    'timeout-rate': { type: 'string', default: '0' },
    'max-minutes': { type: 'string', default: '30' },
  },
});
const attempts = Number(args.attempts);
const rate = Number(args.rate);
const [latencyMin, latencyMax] = args.latency.split('-').map(Number) as [number, number];
const timeoutRate = Number(args['timeout-rate']);
const timeoutSettings: Record<string, string> = timeoutRate > 0 ? { EMP_TIMEOUT: '5000', RECONCILE_UNKNOWN_AFTER: '10000' } : {};

/** Mean seconds per phase of sending an attempt, over all nodes, from their /metrics. */
async function nodeMetrics(nodeUrls: string[]): Promise<{ meanPhaseMs: Record<string, number>; rateSlotsGivenUp: number }> {
  const totals: Record<string, { sum: number; count: number }> = {};
  let rateSlotsGivenUp = 0;
  for (const url of nodeUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const match of text.matchAll(/^tether_billing_phase_seconds_(sum|count)\{phase="(\w+)"\} (\S+)$/gm)) {
      const total = (totals[match[2]!] ??= { sum: 0, count: 0 });
      total[match[1] as 'sum' | 'count'] += Number(match[3]);
    }
    for (const match of text.matchAll(/^tether_rate_slots_given_up_total\{limit="emp-sales"\} (\S+)$/gm)) rateSlotsGivenUp += Number(match[1]);
  }
  const meanPhaseMs = Object.fromEntries(Object.entries(totals).map(([phase, { sum, count }]) => [phase, Number(((sum / count) * 1000).toFixed(1))]));
  return { meanPhaseMs, rateSlotsGivenUp };
}

/** The most sales within any one second, and where the windows over the limit start (s after the first sale); `times` in ms, in order. */
function windows(times: readonly number[], limit: number): { maxInAnyOneSecond: number; overLimitAtSeconds: number[] } {
  const overLimitAtSeconds: number[] = [];
  let maxInAnyOneSecond = 0;
  countsPerWindow(times).forEach((count, start) => {
    maxInAnyOneSecond = Math.max(maxInAnyOneSecond, count);
    if (count > limit) overLimitAtSeconds.push(Number(((times[start]! - times[0]!) / 1000).toFixed(2)));
  });
  return { maxInAnyOneSecond, overLimitAtSeconds };
}

/** When each sale left a node, from the nodes' debug lines (pino's ms timestamps). */
function departures(nodeLogs: readonly string[]): number[] {
  const times: number[] = [];
  for (const log of nodeLogs) {
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (line.includes('"msg":"sale sending"')) times.push((JSON.parse(line) as { time: number }).time);
    }
  }
  return times.sort((a, b) => a - b);
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
      ...timeoutSettings,
    },
  });
  const sim = (path: string, init?: RequestInit) => fetch(`${stack!.simUrl}/__sim${path}`, init).then((answer) => answer.json());
  await sim('/faults', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs: { min: latencyMin, max: latencyMax }, timeoutRate, endpoints: ['process'], hangMs: 10_000 }),
  });

  // The bench starts the run as the CLI does (billing:start), with services of its own.
  const services = createServices(loadConfig(stack.env), pino({ level: 'warn' }));
  const started = performance.now();
  const run = await startRun(billingContext(services), { selection: { uploadId }, actor: systemActor('bench') });
  let completed = await getRun(handle.db, run.id);
  let lastReport = performance.now();
  const deadline = started + Number(args['max-minutes']) * 60_000;
  while (completed?.status !== 'completed' && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    completed = await getRun(handle.db, run.id);
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(JSON.stringify({ elapsedSeconds: Math.round((lastReport - started) / 1000), ...(await runProgress(handle.db, run.id)), status: completed?.status }));
    }
  }
  const drainSeconds = (performance.now() - started) / 1000;
  const { meanPhaseMs, rateSlotsGivenUp } = await nodeMetrics(stack.nodeUrls);
  if (completed?.status !== 'completed') console.log(`the run did not complete within ${args['max-minutes']} minutes`);
  await services.close();

  const rateReport = (await sim('/rate')) as { requests: Record<string, number>; eventLoopDelayMs: { p99: number; max: number } };
  const sales = (await sim('/sales')) as { salesPerTransactionId: Record<string, number>; doubleCharges: string[] };
  const simulatorArrivals = (await sim('/rate/process/arrivals')) as number[];
  const frontDoor = frontDoorArrivals(stack.frontDoorLog, '/process/');
  if (frontDoor.length !== rateReport.requests.process) {
    throw new Error(`the front door logged ${frontDoor.length} sales where the simulator answered ${rateReport.requests.process}; see ${stack.frontDoorLog}`);
  }
  const arrivals = frontDoor.map((time) => time - frontDoor[0]!);
  const atFrontDoor = windows(arrivals, rate);
  const transactions = (await sim('/transactions')) as unknown[];
  const steadySeconds = arrivals.at(-1)! / 1000;
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
    timeoutRate,
    sales: transactions.length,
    achievedRate: Number(((arrivals.length - 1) / steadySeconds).toFixed(2)),
    achievedShareOfLimit: Number(((arrivals.length - 1) / steadySeconds / rate).toFixed(4)),
    // As EMP would count them: when each sale's first byte reached the front door (HAProxy).
    maxSalesInAnyOneSecondWindow: atFrontDoor.maxInAnyOneSecond,
    windowsOverLimitStartAtSeconds: atFrontDoor.overLimitAtSeconds,
    // The same count on the senders' side, when each node decided to send.
    asSentByNodes: windows(departures(stack.nodeLogs), rate),
    // And behind the front door, timed on the simulator's event loop: a stall longer than the
    // limiter's jitter budget (31 ms at 3 % of 50/s) bunches requests that arrived on time.
    asTimedBySimulator: { ...windows(simulatorArrivals, rate), eventLoopDelayMs: rateReport.eventLoopDelayMs },
    rateSlotsGivenUp,
    processRequests: rateReport.requests.process,
    doubleCharges: sales.doubleCharges.length,
    attemptsNotSentExactlyOnce: Object.values(sales.salesPerTransactionId).filter((count) => count !== 1).length + (attempts - Object.keys(sales.salesPerTransactionId).length),
    drainSeconds: Number(drainSeconds.toFixed(1)),
    idealDrainSeconds: Number((attempts / rate).toFixed(1)),
    runStatus: completed?.status,
    finalCounts: completed?.counts ?? (await runProgress(handle.db, run.id)).byStatus,
    meanPhaseMs,
    attemptsPerNode: Object.fromEntries(perNode.map((row) => [row.node, row.count])),
    loadAverage: { before: loadBefore, after: loadavg() },
  };
  console.log(JSON.stringify(result, null, 2));
  const directory = fileURLToPath(new URL('../results/tmp/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  const file = `${directory}billing-${new Date().toISOString().replace(/:/g, '-')}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  // Every sale's arrival at the front door (ms after the first), for a closer look at the windows over the limit.
  writeFileSync(file.replace(/\.json$/, '-arrivals.json'), `${JSON.stringify(arrivals)}\n`);
  console.log(`results written to ${file}`);
} finally {
  await stack?.close();
  await handle.close();
  await database.drop();
}
