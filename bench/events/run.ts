/**
 * Event pipeline benchmarks (see bench/README.md, "Events"):
 *
 *   npm run bench:events -- [--only throughput|latency] [--attempts 10000] [--concurrency 256]
 *                           [--pool 10] [--rounds 3] [--subjects tether,floor] [--cpu-profile <dir>] [--stack-rates 100,250,1000] [--endpoint-rates 1000,2000]
 *                           [--duration 30] [--warmup 5]
 *
 * throughput: events applied per second by one backend process with PostgreSQL, and its floor
 *             (floor.ts) in the same run: rounds alternate Tether and the floor, each on a fresh
 *             database; the medians and their ratio are printed.
 * latency: receive-to-commit latency at fixed rates through dev QStash → backend node (stack),
 *          and with QStash-signed deliveries sent straight to the node (endpoint).
 * Results are printed and written to bench/results/tmp/events-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureLatency } from './latency';
import { measureThroughput, type Subject, type ThroughputResult } from './throughput';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    attempts: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    // One of them alone, for profiling (node --cpu-prof, pg_stat_statements).
    subjects: { type: 'string', default: 'tether,floor' },
    'cpu-profile': { type: 'string' },
    pool: { type: 'string', default: '10' },
    'stack-rates': { type: 'string', default: '100,250,1000' },
    'endpoint-rates': { type: 'string', default: '1000,2000' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
  },
});

const results: Record<string, unknown> = { startedAt: new Date().toISOString() };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

if (args.only !== 'latency') {
  const runs: ThroughputResult[] = [];
  const summaries = [];
  for (const concurrency of args.concurrency.split(',').map(Number)) {
    const bySubject: Record<Subject, ThroughputResult[]> = { tether: [], floor: [] };
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const subject of args.subjects.split(',') as Subject[]) {
        const result = await measureThroughput({
          subject,
          attempts: Number(args.attempts),
          concurrency,
          poolSize: Number(args.pool),
          cpuProfileDirectory: args['cpu-profile'],
        });
        console.log(JSON.stringify({ benchmark: 'throughput', ...result }));
        bySubject[subject].push(result);
        runs.push(result);
      }
    }
    if (bySubject.tether.length === 0 || bySubject.floor.length === 0) continue;
    const tether = median(bySubject.tether.map((result) => result.eventsPerSecond));
    const floor = median(bySubject.floor.map((result) => result.eventsPerSecond));
    const summary = { benchmark: 'throughput-summary', concurrency, tetherEventsPerSecond: tether, floorEventsPerSecond: floor, ratio: Number((tether / floor).toFixed(2)) };
    console.log(JSON.stringify(summary));
    summaries.push(summary);
  }
  results.throughput = runs;
  results.throughputSummary = summaries;
}

if (args.only !== 'throughput') {
  const runs = [];
  const paths = [
    ['stack', args['stack-rates']],
    ['endpoint', args['endpoint-rates']],
  ] as const;
  for (const [path, rates] of paths) {
    for (const rate of rates.split(',').filter(Boolean).map(Number)) {
      const result = await measureLatency({ path, rate, durationSeconds: Number(args.duration), warmupSeconds: Number(args.warmup) });
      console.log(JSON.stringify({ benchmark: 'latency', ...result }));
      runs.push(result);
    }
  }
  results.latency = runs;
}

const directory = fileURLToPath(new URL('../results/tmp/', import.meta.url));
mkdirSync(directory, { recursive: true });
const file = `${directory}events-${new Date().toISOString().replace(/:/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`results written to ${file}`);
