import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../src/http/health';

const ok = async () => undefined;
const down = async () => {
  throw new Error('connect ECONNREFUSED 127.0.0.1:8077');
};

async function health(checks: Parameters<typeof healthRoutes>[0]) {
  const response = await healthRoutes(checks, ['db']).request('/health');
  return { status: response.status, body: (await response.json()) as { status: string; serving: boolean; checks: Record<string, { ok: boolean; error?: string }> } };
}

describe('GET /health', () => {
  it('answers 200 "ok" when every dependency answers', async () => {
    const { status, body } = await health({ db: ok, qstash: ok });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', serving: true });
  });

  it('keeps the node in the load balancer (200, "degraded") when a shared service is down, and says which', async () => {
    const { status, body } = await health({ db: ok, qstash: down, redis: ok });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'degraded', serving: true, checks: { qstash: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:8077' } } });
  });

  it('takes the node out (503) when its database is unreachable', async () => {
    const { status, body } = await health({ db: down, qstash: ok });
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'degraded', serving: false, checks: { db: { ok: false } } });
  });
});
