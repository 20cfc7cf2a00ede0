/**
 * Edge benchmark, against the Upstash REST and QStash stand-ins and a sink counting QStash's
 * deliveries. See bench/README.md.
 *
 *   npm run bench:edge -- [--only work] [--work-rate 100] [--work-seconds 10] [--rounds 3]
 *   npm run bench:edge -- --only sweep [--runtimes workerd,node] [--rates 100,500,1000] [--duration 60]
 *
 * work (the default): the edge's own work beyond its two round trips, on Node, against its floor
 *   in the same run (bare.ts: a bare handler making the same round trips); work.ts.
 * sweep: the Worker under `wrangler dev` (workerd) and the Node entry driven with autocannon at
 *   fixed rates: acknowledge latency, errors, and whether every acknowledged event reached the
 *   sink exactly once.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once, type EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTarget, type Runtime, type Target } from './targets';
import { Traffic, type Kind, type SentEvent } from './traffic';
import { measureWork, summarise, type WorkSample } from './work';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'work' },
    'work-rate': { type: 'string', default: '100' },
    'work-seconds': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    runtimes: { type: 'string', default: 'workerd,node' },
    rates: { type: 'string', default: '100,500,1000' },
    duration: { type: 'string', default: '60' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const runtimes = args.runtimes.split(',') as Runtime[];
const rates = args.rates.split(',').map(Number);
const durationSeconds = Number(args.duration);
const MIX = { duplicateShare: 0.05, badSignatureShare: 0.01 };
const PORT = 8787;
const resultsDirectory = fileURLToPath(new URL('../results/tmp/', import.meta.url));

interface StandIns {
  vars: Record<string, string>;
  sinkUrl: string;
  stop(): Promise<void>;
}

/** Each stand-in in its own process, apart from each other and from the load generator. */
async function startStandIns(): Promise<StandIns> {
  const script = fileURLToPath(new URL('../../edge/test/stand-ins.ts', import.meta.url));
  const started = await Promise.all(
    ['redis', 'qstash', 'sink'].map(async (standIn) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, standIn], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      const [line] = await once(createInterface({ input: child.stdout! }), 'line');
      return { vars: JSON.parse(String(line)) as Record<string, string>, child, exited };
    }),
  );
  const { SINK_URL, ...vars } = Object.assign({}, ...started.map(({ vars }) => vars)) as Record<string, string>;
  return {
    vars,
    sinkUrl: SINK_URL!,
    stop: async () => {
      for (const { child } of started) child.kill('SIGTERM');
      await Promise.all(started.map(({ exited }) => exited));
    },
  };
}

async function sinkJson<T>(standIns: StandIns, path: string): Promise<T> {
  return (await (await fetch(`${standIns.sinkUrl}${path}`)).json()) as T;
}

/** Waits until QStash has delivered at least `expectedEvents` events, or deliveries stop for 15 s. */
async function waitForDeliveries(standIns: StandIns, expectedEvents: number): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const { deliveries, events } = await sinkJson<{ deliveries: number; events: number }>(standIns, '/stats');
    if (events >= expectedEvents) return;
    if (deliveries !== last) [last, stableSince] = [deliveries, Date.now()];
    if (Date.now() - stableSince > 15_000) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** What EMP does with an unanswered notification: send it again until it is echoed. */
async function resendUntilEchoed(target: Target, traffic: Traffic, event: SentEvent): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const response = await fetch(`${target.url}/emp/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: event.body,
        signal: AbortSignal.timeout(10_000),
      });
      traffic.record('resend', event, response.status, await response.text());
      if (response.status === 200) return;
    } catch {
      // no answer: like EMP, try again later
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * autocannon's own rate limit lets every connection send its quota at the top of each second, so
 * "1,000 req/s" would arrive as one burst of 1,000. Instead the second is cut into SLOTS: one
 * autocannon instance per slot, started SLOT_MS apart, its connections sending one request a
 * second each. At 1,000 req/s that is 10 requests every 10 ms.
 */
const SLOTS = 100;
const SLOT_MS = 1_000 / SLOTS;

interface Drive {
  requests: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  responseTimes: number[];
  seconds: number;
}

/** Without `traffic`, GET /metrics: no I/O, so its latency is the runtime's and the load generator's floor. */
function driveSlot(target: Target, traffic: Traffic | undefined, connections: number, seconds: number, responseTimes: number[]) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    const notifications: autocannon.Request[] = [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest(request, context) {
          const next = traffic!.next();
          Object.assign(context, next);
          traffic!.sending(next.event);
          request.body = next.event.body;
          return request;
        },
        onResponse(status, body, context) {
          const { kind, event } = context as { kind: Kind; event: SentEvent };
          traffic!.record(kind, event, status, body);
        },
      },
    ];
    const instance = autocannon(
      {
        url: `${target.url}${traffic ? '/emp/notifications' : '/metrics'}`,
        connections,
        connectionRate: 1,
        duration: seconds,
        timeout: 10,
        requests: traffic ? notifications : [{ method: 'GET' }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    // The instance emits (client, status, bytes, responseTime); @types/autocannon leaves out the client.
    (instance as unknown as EventEmitter).on('response', (_client, _status, _bytes, responseTime: number) =>
      responseTimes.push(responseTime),
    );
  });
}

async function drive(target: Target, traffic: Traffic | undefined, rate: number, seconds: number): Promise<Drive> {
  const responseTimes: number[] = [];
  const startedAt = Date.now();
  const slots = Array.from({ length: SLOTS }, (_, slot) => Math.floor(rate / SLOTS) + (slot < rate % SLOTS ? 1 : 0));
  const results = await Promise.all(
    slots.map(async (connections, slot) => {
      if (connections === 0) return undefined;
      await new Promise((resolve) => setTimeout(resolve, slot * SLOT_MS));
      return driveSlot(target, traffic, connections, seconds, responseTimes);
    }),
  );
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let timeouts = 0;
  for (const result of results) {
    if (!result) continue;
    requests += result.requests.total;
    errors += result.errors;
    timeouts += result.timeouts;
    for (const [code, { count = 0 }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  return { requests, errors, timeouts, statusCodes, responseTimes, seconds: (Date.now() - startedAt) / 1_000 };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return Math.round(value * 100) / 100;
}

/**
 * Where the time went, from the edge's own log lines written since `offset`: the whole
 * acknowledgement, the Redis claim and the QStash publish of forwarded notifications.
 */
function timingsFromLog(logFile: string, offset: number) {
  const forwarded = readFileSync(logFile, 'utf8')
    .slice(offset)
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"outcome":"forwarded"'))
    .map((line) => JSON.parse(line) as Record<string, number>);
  const summary = (field: string) => {
    const values = forwarded.map((entry) => entry[field] ?? 0).sort((a, b) => a - b);
    return { p50: percentile(values, 50), p99: percentile(values, 99) };
  };
  if (forwarded.length === 0) return undefined;
  return { lines: forwarded.length, handlerMs: summary('durationMs'), claimMs: summary('claimMs'), publishMs: summary('publishMs') };
}

async function run(standIns: StandIns, target: Target, rate: number, seconds: number, allAcknowledged: Set<string>) {
  const traffic = new Traffic(standIns.vars.EMP_API_PASSWORD!, MIX);
  const logOffset = statSync(target.logFile).size;
  const loadBefore = loadavg()[0]!;
  const driven = await drive(target, traffic, rate, seconds);
  const sorted = driven.responseTimes.sort((a, b) => a - b);
  const loadAfter = loadavg()[0]!;
  const unansweredAtEnd = traffic.awaitingEcho.size;
  const edgeTimings = timingsFromLog(target.logFile, logOffset);
  const toResend = [...traffic.awaitingEcho.values()];
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let event = toResend.pop(); event; event = toResend.pop()) await resendUntilEchoed(target, traffic, event);
    }),
  );
  for (const key of traffic.acknowledged) allAcknowledged.add(key);

  await waitForDeliveries(standIns, allAcknowledged.size);
  const counts = await sinkJson<Record<string, number>>(standIns, '/counts');
  let lost = 0;
  let deliveredTwice = 0;
  for (const key of traffic.acknowledged) {
    const delivered = counts[key] ?? 0;
    if (delivered === 0) lost += 1;
    if (delivered > 1) deliveredTwice += 1;
  }
  const unexpected = Object.keys(counts).filter((key) => !allAcknowledged.has(key)).length;

  return {
    runtime: target.runtime,
    rate,
    seconds,
    requests: driven.requests,
    achievedRate: Math.round(driven.requests / driven.seconds),
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: percentile(sorted, 100) },
    errors: driven.errors,
    timeouts: driven.timeouts,
    statusCodes: driven.statusCodes,
    sent: traffic.sent,
    answered: traffic.answered,
    unansweredAtEnd,
    stillUnacknowledged: traffic.awaitingEcho.size,
    acknowledgedEvents: traffic.acknowledged.size,
    lost,
    deliveredTwice,
    unexpectedDeliveries: unexpected,
    edgeTimings,
    load1m: { before: loadBefore, after: loadAfter },
  };
}

/** The bare handler (bare.ts) as a process of its own, like the edge, with the edge's variables. */
async function startFloor(vars: Record<string, string>) {
  const script = fileURLToPath(new URL('./bare.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...vars }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const [url] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Rounds alternate the floor and the edge, so that both see the machine as it is at the time. */
async function measureEdgeWork(standIns: StandIns) {
  const vars: Record<string, string> = { ...standIns.vars, LOG_LEVEL: 'info' };
  const rate = Number(args['work-rate']);
  const seconds = Number(args['work-seconds']);
  const logFile = `${resultsDirectory}edge-work-node.log`;
  const edge = await startTarget('node', vars, PORT, logFile);
  const floor = await startFloor(vars);
  const rounds: Record<'edge' | 'floor', Array<{ samples: WorkSample[]; unmatched: number }>> = { edge: [], floor: [] };
  try {
    const password = vars.EMP_API_PASSWORD!;
    // Warm-up, not reported: JIT, connections, the stand-ins' own.
    await measureWork({ url: floor.url, password, rate, seconds: 3 });
    await measureWork({ url: edge.url, password, rate, seconds: 3, logFile });
    for (let round = 0; round < Number(args.rounds); round++) {
      rounds.floor.push(await measureWork({ url: floor.url, password, rate, seconds }));
      rounds.edge.push(await measureWork({ url: edge.url, password, rate, seconds, logFile }));
    }
  } finally {
    await floor.stop();
    await edge.stop();
  }
  const floorResult = summarise('floor', rate, rounds.floor);
  const edgeResult = summarise('edge', rate, rounds.edge);
  const own = (field: 'mean' | 'p99') => Number((edgeResult.beyondRoundTripsMs[field] - floorResult.beyondRoundTripsMs[field]).toFixed(3));
  return {
    floor: floorResult,
    edge: edgeResult,
    /** The edge's own work beyond its round trips: its share beyond the floor's (HTTP stack, client). */
    edgeOwnWorkMs: { mean: own('mean'), p99: own('p99') },
    /** Mean acknowledge latency, floor over edge (1 would be the floor). */
    ratio: Number((floorResult.latencyMs.mean / edgeResult.latencyMs.mean).toFixed(2)),
    load1m: loadavg()[0],
  };
}

async function sweep(standIns: StandIns): Promise<Result[]> {
  const vars: Record<string, string> = { ...standIns.vars, LOG_LEVEL: args['log-level'] };
  const results: Result[] = [];
  const allAcknowledged = new Set<string>();
  for (const runtime of runtimes) {
    const target = await startTarget(runtime, vars, PORT, `${resultsDirectory}edge-${runtime}.log`);
    try {
      await run(standIns, target, 200, 5, allAcknowledged); // warm-up, not reported
      for (const rate of rates) {
        const floor = await drive(target, undefined, rate, 10);
        const floorTimes = floor.responseTimes.sort((a, b) => a - b);
        const floorMs = { p50: percentile(floorTimes, 50), p99: percentile(floorTimes, 99) };
        const result = { ...(await run(standIns, target, rate, durationSeconds, allAcknowledged)), floorMs };
        results.push(result);
        console.log(JSON.stringify(result));
      }
    } finally {
      await target.stop();
    }
  }
  return results;
}

async function main(): Promise<void> {
  mkdirSync(resultsDirectory, { recursive: true });
  const standIns = await startStandIns();
  const file = `${resultsDirectory}edge-${new Date().toISOString().replaceAll(':', '-')}.json`;
  try {
    if (args.only === 'sweep') {
      const results = await sweep(standIns);
      writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
      console.log(`\n${table(results)}\nraw results: ${file}`);
    } else {
      const result = await measureEdgeWork(standIns);
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      console.log(JSON.stringify(result, null, 2));
      console.log(`raw results: ${file}`);
    }
  } finally {
    await standIns.stop();
  }
}

type Result = Awaited<ReturnType<typeof run>> & { floorMs: { p50: number; p99: number } };

function table(results: Result[]): string {
  const rows = results.map((r) =>
    [
      r.runtime,
      r.rate,
      r.achievedRate,
      r.requests,
      r.latencyMs.p50,
      r.latencyMs.p95,
      r.latencyMs.p99,
      r.latencyMs.max,
      `${r.floorMs.p50} / ${r.floorMs.p99}`,
      r.edgeTimings ? `${r.edgeTimings.claimMs.p50} / ${r.edgeTimings.claimMs.p99}` : '–',
      r.edgeTimings ? `${r.edgeTimings.publishMs.p50} / ${r.edgeTimings.publishMs.p99}` : '–',
      r.errors + r.timeouts,
      Object.entries(r.statusCodes).map(([code, count]) => `${code}:${count}`).join(' '),
      r.acknowledgedEvents,
      r.lost,
      r.deliveredTwice,
      r.unexpectedDeliveries,
    ].join(' | '),
  );
  return [
    '| runtime | target req/s | achieved req/s | requests | p50 ms | p95 ms | p99 ms | max ms | floor p50/p99 ms | claim p50/p99 ms | publish p50/p99 ms | errors | statuses | acknowledged events | lost | delivered twice | unexpected |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

await main();
