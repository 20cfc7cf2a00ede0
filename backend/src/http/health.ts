/**
 * GET /health: every dependency probed in parallel with a deadline. The answer is 503 only when
 * a check this node cannot work without fails (its database): a load balancer then takes this
 * node out. A shared service being down (Redis, QStash, storage) fails every node alike, so
 * taking nodes out for it would turn a partial outage into a total one; the node stays in with
 * status "degraded".
 *
 * /health is public (the load balancer cannot log in), so it says only that: {status}. Which
 * dependency failed and why (error text naming hosts and ports) is for operators, on the
 * dashboard's status page. And since anyone can call it, the probes are cached: a flood of hits
 * makes at most one round of probes (a QStash request, an S3 request…) per interval.
 */
import { Hono } from 'hono';

export type HealthCheck = () => Promise<unknown>;

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, CheckResult>;
}

/** How long any one probe may take; the status page waits no longer for QStash either. */
export const HEALTH_CHECK_DEADLINE_MS = 2_000;

/** How long one round of probes answers for: shorter than a load balancer's check interval. */
export const HEALTH_CACHE_MS = 5_000;

async function probe(check: HealthCheck): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_CHECK_DEADLINE_MS} ms`)), HEALTH_CHECK_DEADLINE_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: message };
  } finally {
    clearTimeout(timer);
  }
}

async function runHealthChecks(checks: Record<string, HealthCheck>): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => probe(checks[name]!)));
  const report = Object.fromEntries(names.map((name, index) => [name, results[index]!]));
  const ok = results.every((result) => result.ok);
  return { status: ok ? 'ok' : 'degraded', checks: report };
}

/** The latest report: one round of probes at a time, and its result reused for `cacheMs` after it ends. */
export type HealthProbe = () => Promise<HealthReport>;

export function cachedHealthProbe(checks: Record<string, HealthCheck>, cacheMs = HEALTH_CACHE_MS): HealthProbe {
  let latest: { report: Promise<HealthReport>; until: number } | undefined;
  return () => {
    if (latest && performance.now() < latest.until) return latest.report;
    const round = { report: runHealthChecks(checks), until: Number.POSITIVE_INFINITY };
    // Callers during the round share it; the interval counts from its end.
    void round.report.then(() => (round.until = performance.now() + cacheMs));
    latest = round;
    return round.report;
  };
}

/** `required`: the checks without which this node can serve nothing. */
export function healthRoutes(health: HealthProbe, required: readonly string[]) {
  return new Hono().get('/health', async (c) => {
    const report = await health();
    const serving = required.every((name) => report.checks[name]?.ok);
    return c.json({ status: report.status }, serving ? 200 : 503);
  });
}
