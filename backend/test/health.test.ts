import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cachedHealthProbe, healthRoutes, type HealthCheck } from '../src/http/health';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { createTestOperator, logIn } from './support/operators';

const ok = async () => undefined;
const down = async () => {
  throw new Error('connect ECONNREFUSED 127.0.0.1:8077');
};

async function health(checks: Record<string, HealthCheck>) {
  const response = await healthRoutes(cachedHealthProbe(checks), ['db']).request('/health');
  return { status: response.status, text: await response.text() };
}

describe('GET /health', () => {
  it('answers 200 "ok" when every dependency answers, and nothing else', async () => {
    const { status, text } = await health({ db: ok, qstash: ok });
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ status: 'ok' });
  });

  it('keeps the node in the load balancer (200, "degraded") when a shared service is down, without saying which or why', async () => {
    const { status, text } = await health({ db: ok, qstash: down, redis: ok });
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ status: 'degraded' });
    expect(text).not.toContain('ECONNREFUSED');
    expect(text).not.toContain('qstash');
  });

  it('takes the node out (503) when its database is unreachable', async () => {
    const { status, text } = await health({ db: down, qstash: ok });
    expect(status).toBe(503);
    expect(JSON.parse(text)).toEqual({ status: 'degraded' });
  });

  it('makes at most one round of probes per interval, however many hits arrive', async () => {
    const db = vi.fn(ok);
    const qstash = vi.fn(async () => new Promise((resolve) => setTimeout(resolve, 20)));
    const app = healthRoutes(cachedHealthProbe({ db, qstash }, 200), ['db']);
    // A flood while the first round runs, and right after it.
    const answers = await Promise.all(Array.from({ length: 200 }, () => app.request('/health')));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    await Promise.all(Array.from({ length: 200 }, () => app.request('/health')));
    expect(qstash).toHaveBeenCalledTimes(1);
    expect(db).toHaveBeenCalledTimes(1);
    // Past the interval, the next hit probes again.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await app.request('/health');
    expect(qstash).toHaveBeenCalledTimes(2);
  });
});

describe('on a backend node', () => {
  let database: MigratedTestDatabase;
  let node: DashboardNode;
  beforeAll(async () => {
    database = await createMigratedDatabase();
    // QStash, Redis and storage point at a closed port: they are down.
    node = await startDashboardNode(database.url);
  });
  afterAll(async () => {
    await node?.close();
    await database?.destroy();
  });

  it('tells the public the status only, and operators each dependency with its error on the status page', async () => {
    const response = await fetch(`${node.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'degraded' });

    const session = await logIn(node.url, await createTestOperator(database.db));
    const page = await (await session.fetch('/dashboard/status/live')).text();
    expect(page).toContain('data-dependency="db"');
    expect(page).toContain('data-dependency="qstash"');
    expect(page).toMatch(/127\.0\.0\.1:9|fetch failed|bad port/);
  });
});
