import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createTestEdge, sddNotification } from './support/edge';

describe('GET /health', () => {
  it('reports Redis and QStash reachable, without secrets', async () => {
    const { response, text } = await createTestEdge().get('/health');
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      status: 'ok',
      redis: { ok: true, latencyMs: expect.any(Number) },
      qstash: { ok: true, latencyMs: expect.any(Number) },
    });
    for (const secret of [env.UPSTASH_REDIS_REST_TOKEN, env.QSTASH_TOKEN, env.EMP_API_PASSWORD]) expect(text).not.toContain(secret);
  });

  it('reports 503 when Redis is unreachable', async () => {
    const { response, text } = await createTestEdge({ vars: { UPSTASH_REDIS_REST_URL: env.TEST_UNUSED_URL } }).get('/health');
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ status: 'degraded', redis: { ok: false }, qstash: { ok: true } });
  });

  it('reports 503 when QStash refuses the token', async () => {
    const { response, text } = await createTestEdge({ vars: { QSTASH_TOKEN: 'not-the-token' } }).get('/health');
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ status: 'degraded', redis: { ok: true }, qstash: { ok: false } });
  });
});

describe('GET /metrics', () => {
  it('counts notifications by outcome and HTTP status', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    await edge.post(fields);
    await edge.post(fields);
    await edge.post({ ...fields, signature: '0'.repeat(40) });

    const { text } = await edge.get('/metrics');
    expect(JSON.parse(text)).toEqual({
      since: expect.any(String),
      byOutcome: { forwarded: 1, duplicate: 1, bad_signature: 1 },
      byStatus: { 200: 2, 401: 1 },
    });
  });
});
