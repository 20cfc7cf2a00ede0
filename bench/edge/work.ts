/**
 * The edge's own work beyond its two round trips, against its floor (bare.ts) in the same run.
 * Requests go out at a fixed rate (open loop, keep-alive), one valid new notification each. Per
 * request: the latency the client saw, and the time the server spent awaiting the Redis claim
 * and the QStash publish (the edge's log line, by unique_id; the bare handler's header). What is
 * left, latency − round trips, is the server's own work plus the HTTP stack and the client, which
 * the floor has too; the edge's own work is its share beyond the floor's.
 */
import { readFileSync, statSync } from 'node:fs';
import { Traffic } from './traffic';

export interface WorkSample {
  latencyMs: number;
  roundTripsMs: number;
  beyondMs: number;
}

export interface Distribution {
  mean: number;
  p50: number;
  p99: number;
}

export interface WorkResult {
  subject: 'edge' | 'floor';
  rate: number;
  requests: number;
  /** Requests without a 200 echo or without their round-trip times; none expected. */
  unmatched: number;
  latencyMs: Distribution;
  roundTripsMs: Distribution;
  beyondRoundTripsMs: Distribution;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return { mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length), p50: round(at(50)), p99: round(at(99)) };
}

interface Sent {
  uniqueId: string;
  latencyMs: number;
  status: number;
  headerRoundTripsMs?: number;
}

/** `rate` requests a second for `seconds`, each sent when due, whatever the answers before it (global fetch keeps connections alive). */
async function send(url: string, password: string, rate: number, seconds: number): Promise<Sent[]> {
  const traffic = new Traffic(password, { duplicateShare: 0, badSignatureShare: 0 });
  const sent: Promise<Sent>[] = [];
  const startedAt = performance.now();
  const total = Math.round(rate * seconds);
  for (let index = 0; index < total; index++) {
      const due = startedAt + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const { event } = traffic.next();
      const requestStartedAt = performance.now();
      sent.push(
        fetch(`${url}/emp/notifications`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: event.body,
        }).then(async (response) => {
          await response.text();
          const header = response.headers.get('x-round-trips-ms');
          return {
            uniqueId: event.uniqueId,
            latencyMs: performance.now() - requestStartedAt,
            status: response.status,
            headerRoundTripsMs: header === null ? undefined : Number(header),
          };
        }, () => ({ uniqueId: event.uniqueId, latencyMs: performance.now() - requestStartedAt, status: 0 })),
      );
    }
  return Promise.all(sent);
}

/** The edge's round trips by unique_id, from its log lines written since `offset`. */
function edgeRoundTrips(logFile: string, offset: number): Map<string, number> {
  const byId = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').slice(offset).split('\n')) {
    if (!line.startsWith('{') || !line.includes('"outcome":"forwarded"')) continue;
    const entry = JSON.parse(line) as { id: string; claimMs: number; publishMs: number };
    byId.set(entry.id, entry.claimMs + entry.publishMs);
  }
  return byId;
}

/** Waits until the edge has written the log lines of its last answers (after the response). */
async function settledLog(logFile: string): Promise<number> {
  let size = statSync(logFile).size;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = statSync(logFile).size;
    if (now === size) return now;
    size = now;
  }
}

export async function measureWork(options: {
  url: string;
  password: string;
  rate: number;
  seconds: number;
  /** The edge's log file, for its round trips; the floor reports them in a header. */
  logFile?: string;
}): Promise<{ samples: WorkSample[]; unmatched: number }> {
  const offset = options.logFile ? statSync(options.logFile).size : 0;
  const sent = await send(options.url, options.password, options.rate, options.seconds);
  let fromLog = new Map<string, number>();
  if (options.logFile) {
    await settledLog(options.logFile);
    fromLog = edgeRoundTrips(options.logFile, offset);
  }
  const samples: WorkSample[] = [];
  for (const request of sent) {
    const roundTripsMs = request.headerRoundTripsMs ?? fromLog.get(request.uniqueId);
    if (request.status !== 200 || roundTripsMs === undefined) continue;
    samples.push({ latencyMs: request.latencyMs, roundTripsMs, beyondMs: request.latencyMs - roundTripsMs });
  }
  return { samples, unmatched: sent.length - samples.length };
}

/** One subject's samples of every round, summed up. */
export function summarise(subject: 'edge' | 'floor', rate: number, rounds: ReadonlyArray<{ samples: WorkSample[]; unmatched: number }>): WorkResult {
  const samples = rounds.flatMap((round) => round.samples);
  const unmatched = rounds.reduce((sum, round) => sum + round.unmatched, 0);
  return {
    subject,
    rate,
    requests: samples.length + unmatched,
    unmatched,
    latencyMs: distribution(samples.map((sample) => sample.latencyMs)),
    roundTripsMs: distribution(samples.map((sample) => sample.roundTripsMs)),
    beyondRoundTripsMs: distribution(samples.map((sample) => sample.beyondMs)),
  };
}
