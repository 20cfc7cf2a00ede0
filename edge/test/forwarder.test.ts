import { describe, expect, it } from 'vitest';
import { qstashDeduplicationId } from '../src/forwarder';
import { createUpstashDependencies } from '../src/upstash';
import { createTestEdge } from './support/edge';

describe('the QStash deduplication id', () => {
  it('is the same for the same event and free of characters QStash refuses', async () => {
    const key = 'emp:api:52775aed3ee5776c906aeba74da69612:sdd_sale::approved';
    const id = await qstashDeduplicationId(key);
    expect(id).toBe(await qstashDeduplicationId(key));
    expect(id).toMatch(/^emp-[0-9a-f]{64}$/);
    expect(await qstashDeduplicationId(`${key}x`)).not.toBe(id);
  });

  it('lets QStash drop a second publish of the same event', async () => {
    const { forwarder } = createUpstashDependencies(createTestEdge().config);
    const event = {
      version: 1 as const,
      dedupKey: `emp:api:${crypto.randomUUID()}:sdd_sale::approved`,
      receivedAt: new Date().toISOString(),
      traceId: crypto.randomUUID(),
      fields: { unique_id: 'x' },
    };
    const first = await forwarder.forward(event);
    const second = await forwarder.forward({ ...event, traceId: crypto.randomUUID() });
    expect(first.deduplicated).toBe(false);
    expect(second).toEqual({ messageId: first.messageId, deduplicated: true });
  });
});
