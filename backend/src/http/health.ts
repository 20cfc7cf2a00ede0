/**
 * GET /health: every dependency probed in parallel with a deadline, each reported. The answer is
 * 503 only when a check this node cannot work without fails (its database): a load balancer
 * then takes this node out. A shared service being down (Redis, QStash, storage) fails every
 * node alike, so taking nodes out for it would turn a partial outage into a total one; the node
 * stays in with status "degraded". Error messages are reported, secrets are not (the probes
 * never include credentials in what they throw).
 */
import { Hono } from 'hono';

export type HealthCheck = () => Promise<unknown>;

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** How long any one probe may take; the status page waits no longer for QStash either. */
export const HEALTH_CHECK_DEADLINE_MS = 2_000;

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

export async function runHealthChecks(checks: Record<string, HealthCheck>) {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => probe(checks[name]!)));
  const report = Object.fromEntries(names.map((name, index) => [name, results[index]!]));
  const ok = results.every((result) => result.ok);
  return { status: ok ? ('ok' as const) : ('degraded' as const), checks: report };
}

/** `required`: the checks without which this node can serve nothing. */
export function healthRoutes(checks: Record<string, HealthCheck>, required: readonly string[]) {
  return new Hono().get('/health', async (c) => {
    const report = await runHealthChecks(checks);
    const serving = required.every((name) => report.checks[name]?.ok);
    return c.json({ ...report, serving }, serving ? 200 : 503);
  });
}
