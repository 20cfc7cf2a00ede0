import { identifyNotification, MAX_NOTIFICATION_BYTES } from '@tether/shared/notification';
import { describe, expect, it } from 'vitest';
import { createTestEdge, notificationRequest, sddNotification } from './support/edge';

function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 1024) controller.enqueue(bytes.slice(offset, offset + 1024));
      controller.close();
    },
  });
}

/** The rejected notification left nothing behind: sent properly afterwards, it is forwarded. */
async function expectNoSideEffect(edge: ReturnType<typeof createTestEdge>, fields: Record<string, string>) {
  const { dedupKey } = identifyNotification(fields);
  expect(edge.publishes(dedupKey)).toBe(0);
  expect((await edge.post(fields)).response.status).toBe(200);
  expect(edge.publishes(dedupKey)).toBe(1);
}

describe('an oversized notification', () => {
  const padding = 'x'.repeat(MAX_NOTIFICATION_BYTES);

  it('is refused on its declared length', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const body = new URLSearchParams({ ...fields, padding }).toString();
    const { response, text } = await edge.send(notificationRequest(body));
    expect(response.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: `notification body exceeds ${MAX_NOTIFICATION_BYTES} bytes` });
    await expectNoSideEffect(edge, fields);
  });

  it('is refused on its actual bytes when no length is declared', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const request = notificationRequest(streamOf(new URLSearchParams({ ...fields, padding }).toString()));
    expect(request.headers.get('content-length')).toBeNull();
    expect((await edge.send(request)).response.status).toBe(400);
    await expectNoSideEffect(edge, fields);
  });

  it('honours MAX_NOTIFICATION_BYTES', async () => {
    const edge = createTestEdge({ vars: { MAX_NOTIFICATION_BYTES: '200' } });
    const fields = await sddNotification();
    expect((await edge.post(fields)).response.status).toBe(400);
  });
});

describe('a malformed notification', () => {
  it.each([
    ['form without unique_id', 'transaction_type=sdd_sale&status=approved&signature=abc', 'application/x-www-form-urlencoded'],
    ['KYC form without reference_id', 'notification_type=kyc_service_execution&status=approved&signature=abc', 'application/x-www-form-urlencoded'],
    ['APM event without payment_transaction_unique_id', 'notification_type=apm_external_event&code=1&signature=abc', 'application/x-www-form-urlencoded'],
    ['payment_transaction_unique_id without a notification_type', 'payment_transaction_unique_id=abc&signature=abc', 'application/x-www-form-urlencoded'],
    ['form without signature', 'unique_id=52775aed3ee5776c906aeba74da69612&status=approved', 'application/x-www-form-urlencoded'],
    ['empty body', '', 'application/x-www-form-urlencoded'],
    ['JSON that does not parse', '{"unique_id": ', 'application/json'],
    ['a JSON array', '["unique_id"]', 'application/json'],
    ['JSON with nested values', '{"unique_id": "a", "signature": "b", "x": {"y": 1}}', 'application/json'],
    ['multipart', '--x\r\ncontent-disposition: form-data; name="unique_id"\r\n\r\na\r\n--x--', 'multipart/form-data; boundary=x'],
    ['an over-long unique_id', `unique_id=${'a'.repeat(256)}&signature=${'0'.repeat(40)}`, 'application/x-www-form-urlencoded'],
  ])('is refused with 400: %s', async (_case, body, contentType) => {
    const edge = createTestEdge();
    const { response, text, settled } = await edge.send(notificationRequest(body, { 'content-type': contentType }));
    expect(response.status).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: expect.any(String) });
    await settled;
    expect(edge.logs).toMatchObject([{ outcome: 'invalid', status: 400 }]);
  });

  it('is refused with 400 when not UTF-8', async () => {
    const edge = createTestEdge();
    const body = new Uint8Array([...new TextEncoder().encode('unique_id=a&signature=b&name='), 0xff, 0xfe]);
    expect((await edge.send(notificationRequest(body))).response.status).toBe(400);
  });

  it('with a missing field costs no publish and no claim', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const { signature: _signature, ...unsigned } = fields;
    expect((await edge.post(unsigned)).response.status).toBe(400);
    await expectNoSideEffect(edge, fields);
  });
});

describe('a request to the notification URL with another method', () => {
  it('is answered 405 with Allow: POST, and forwards nothing', async () => {
    const edge = createTestEdge();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const { response, text } = await edge.send(new Request('http://edge.test/emp/notifications', { method }));
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(JSON.parse(text)).toEqual({ error: 'method not allowed: EMP notifications are POSTed' });
    }
    expect(edge.logs.filter((entry) => entry.outcome === 'forwarded')).toHaveLength(0);
  });
});
