/**
 * Event pipeline benchmarks (see bench/README.md, "Events"):
 *
 *   npm run bench:events -- [--only throughput|latency] [--attempts 10000] [--concurrency 16,64,256]
 *                           [--pool 10] [--stack-rates 100,250,1000] [--endpoint-rates 1000,2000]
 *                           [--duration 30] [--warmup 5]
 *
 * throughput: events applied per second by one backend process with PostgreSQL.
 * latency: receive-to-commit latency at fixed rates through dev QStash → backend node (stack),
 *          and with QStash-signed deliveries sent straight to the node (endpoint).
 * Results are printed and written to bench/results/tmp/events-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureLatency } from './latency';
import { measureThroughput } from './throughput';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    attempts: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16,64,256' },
    pool: { type: 'string', default: '10' },
    'stack-rates': { type: 'string', default: '100,250,1000' },
    'endpoint-rates': { type: 'string', default: '1000,2000' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
  },
});

const results: Record<string, unknown> = { startedAt: new Date().toISOString() };

if (args.only !== 'latency') {
  const runs = [];
  for (const concurrency of args.concurrency.split(',').map(Number)) {
    const result = await measureThroughput({ attempts: Number(args.attempts), concurrency, poolSize: Number(args.pool) });
    console.log(JSON.stringify({ benchmark: 'throughput', ...result }));
    runs.push(result);
  }
  results.throughput = runs;
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
