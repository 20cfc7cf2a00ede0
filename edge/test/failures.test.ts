import { identifyNotification } from '@tether/shared/notification';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createTestEdge, deliveries, expectedEcho, sddNotification } from './support/edge';

describe('with Redis down', () => {
  it('answers 503 and forwards nothing', async () => {
    const edge = createTestEdge({ vars: { UPSTASH_REDIS_REST_URL: env.TEST_UNUSED_URL } });
    const fields = await sddNotification();
    const { dedupKey } = identifyNotification(fields);

    const { response, text } = await edge.post(fields);
    expect(response.status).toBe(503);
    expect(text).not.toContain('notification_echo');
    expect(edge.logs.at(-1)).toMatchObject({ outcome: 'dedup_unavailable', status: 503 });
    expect(edge.publishes(dedupKey)).toBe(0);
    expect(await deliveries(dedupKey, { atLeast: 0 })).toBe(0);
  });
});

describe('with QStash down', () => {
  it('answers 503, releases the claim, and forwards the retry once QStash is back', async () => {
    const down = createTestEdge({ vars: { QSTASH_URL: env.TEST_UNUSED_URL } });
    const fields = await sddNotification();
    const { dedupKey } = identifyNotification(fields);

    const failed = await down.post(fields);
    expect(failed.response.status).toBe(503);
    expect(failed.text).not.toContain('notification_echo');
    expect(down.logs.at(-1)).toMatchObject({ outcome: 'forward_failed', status: 503 });
    expect(down.logs.at(-1)).not.toHaveProperty('releaseError');

    const back = createTestEdge();
    const retry = await back.post(fields);
    expect(retry.response.status).toBe(200);
    expect(retry.text).toBe(expectedEcho('unique_id', fields.unique_id!));
    expect(back.publishes(dedupKey)).toBe(1);
    expect(await deliveries(dedupKey)).toBe(1);
  });

  it('answers 503 and releases the claim when QStash refuses the message', async () => {
    const refused = createTestEdge({ vars: { QSTASH_TOKEN: 'not-the-token' } });
    const fields = await sddNotification();

    expect((await refused.post(fields)).response.status).toBe(503);
    expect((await createTestEdge().post(fields)).response.status).toBe(200);
  });
});
