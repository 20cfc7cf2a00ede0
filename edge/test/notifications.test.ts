import { identifyNotification, type ForwardedEvent } from '@tether/shared/notification';
import { signNotification } from '@tether/shared/signature';
import { describe, expect, it } from 'vitest';
import { createTestEdge, deliveries, expectedEcho, notificationRequest, PASSWORD, randomUniqueId, sddNotification } from './support/edge';

const keyOf = (fields: Record<string, string>) => identifyNotification(fields).dedupKey;

describe('a valid notification', () => {
  it('is forwarded once and echoed as Genesis expects', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const { response, text } = await edge.post(fields);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/xml');
    expect(text).toBe(expectedEcho('unique_id', fields.unique_id!));
    expect(edge.publishes(keyOf(fields))).toBe(1);
    expect(await deliveries(keyOf(fields))).toBe(1);
  });

  it.each(['SHA-256', 'SHA-512'] as const)('is accepted when signed with %s', async (algorithm) => {
    const edge = createTestEdge();
    const fields = await sddNotification({ algorithm });
    const { response, text } = await edge.post(fields);
    expect(response.status).toBe(200);
    expect(text).toBe(expectedEcho('unique_id', fields.unique_id!));
  });

  it('is accepted as JSON too', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const { response, text } = await edge.send(
      notificationRequest(JSON.stringify({ ...fields, amount: 100 }), { 'content-type': 'application/json' }),
    );
    expect(response.status).toBe(200);
    expect(text).toBe(expectedEcho('unique_id', fields.unique_id!));
  });

  it('from WPF is verified on wpf_unique_id and echoed with it', async () => {
    const edge = createTestEdge();
    const wpfUniqueId = randomUniqueId();
    const fields = {
      wpf_unique_id: wpfUniqueId,
      wpf_transaction_id: 'wpf-1',
      wpf_status: 'approved',
      notification_type: 'wpf',
      payment_transaction_transaction_type: 'sdd_sale',
      payment_transaction_unique_id: randomUniqueId(),
      signature: await signNotification(wpfUniqueId, PASSWORD, 'SHA-512'),
    };
    const { response, text } = await edge.post(fields);
    expect(response.status).toBe(200);
    expect(text).toBe(expectedEcho('wpf_unique_id', wpfUniqueId));
    expect(await deliveries(keyOf(fields))).toBe(1);
  });

  it('is accepted with the current and the next password during a rotation', async () => {
    const edge = createTestEdge({ vars: { EMP_API_PASSWORD_NEXT: 'next-password' } });
    const withCurrent = await sddNotification();
    const withNext = await sddNotification({ password: 'next-password' });
    const withOther = await sddNotification({ password: 'retired-password' });

    expect((await edge.post(withCurrent)).response.status).toBe(200);
    expect((await edge.post(withNext)).response.status).toBe(200);
    expect((await edge.post(withOther)).response.status).toBe(401);
  });
});

describe('a tampered notification', () => {
  it('is refused with 401, logged with the client IP, and has no effect', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const tampered = { ...fields, signature: `${fields.signature!.slice(0, -1)}${fields.signature!.endsWith('0') ? '1' : '0'}` };

    const { response, text } = await edge.post(tampered, { headers: { 'cf-connecting-ip': '203.0.113.7' } });
    expect(response.status).toBe(401);
    expect(JSON.parse(text)).toEqual({ error: 'invalid signature' });
    expect(edge.logs.at(-1)).toMatchObject({ outcome: 'bad_signature', clientIp: '203.0.113.7', id: fields.unique_id });
    expect(edge.publishes(keyOf(fields))).toBe(0);

    // Nothing was claimed: the genuine notification still goes through.
    expect((await edge.post(fields)).response.status).toBe(200);
    expect(edge.publishes(keyOf(fields))).toBe(1);
  });

  it('signed for another unique_id is refused', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const { response } = await edge.post({ ...fields, unique_id: randomUniqueId() });
    expect(response.status).toBe(401);
  });
});

describe('a replayed notification', () => {
  it('is acknowledged again but not forwarded again', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification();
    const first = await edge.post(fields);
    const replay = await edge.post(fields);

    expect(first.response.status).toBe(200);
    expect(replay.response.status).toBe(200);
    expect(replay.text).toBe(first.text);
    expect(edge.logs.at(-1)).toMatchObject({ outcome: 'duplicate' });
    expect(edge.publishes(keyOf(fields))).toBe(1);
    expect(await deliveries(keyOf(fields))).toBe(1);
  });

  it('is still a duplicate when sent by another edge instance', async () => {
    const fields = await sddNotification();
    await createTestEdge().post(fields);
    const other = createTestEdge();
    expect((await other.post(fields)).response.status).toBe(200);
    expect(other.publishes(keyOf(fields))).toBe(0);
  });
});

describe('a later event for the same unique_id', () => {
  it('is forwarded as a new event: a status change, then a chargeback', async () => {
    const edge = createTestEdge();
    const uniqueId = randomUniqueId();
    const approved = await sddNotification({ uniqueId });
    const error = await sddNotification({ uniqueId, status: 'error' });
    const chargeback = await sddNotification({
      uniqueId,
      status: 'chargebacked',
      extra: { event: 'chargeback', reason_code: 'MD06' },
    });

    for (const fields of [approved, error, chargeback, approved]) {
      const { response, text } = await edge.post(fields);
      expect(response.status).toBe(200);
      expect(text).toBe(expectedEcho('unique_id', uniqueId));
    }
    expect(new Set([keyOf(approved), keyOf(error), keyOf(chargeback)]).size).toBe(3);
    for (const fields of [approved, error, chargeback]) {
      expect(edge.publishes(keyOf(fields))).toBe(1);
      expect(await deliveries(keyOf(fields), { settleMs: 0 })).toBe(1);
    }
  });
});

describe('logs', () => {
  it('carry no IBAN, name, e-mail or signature', async () => {
    const edge = createTestEdge();
    const fields = await sddNotification({ extra: { rc_description: 'returned: DE89370400440532013000 (Travis Pastrana)' } });
    await edge.post(fields);
    await edge.post({ ...fields, signature: '0'.repeat(40) });
    const logged = JSON.stringify(edge.logs);
    expect(edge.logs.length).toBeGreaterThanOrEqual(2);
    for (const secret of ['DE89370400440532013000', 'Pastrana', 'travis@example.com', fields.signature!, PASSWORD]) {
      expect(logged).not.toContain(secret);
    }
  });
});

describe('a notification of a kind Tether does not act on', () => {
  const kycNotification = async (referenceId: string, password = PASSWORD) => ({
    reference_id: referenceId,
    notification_type: 'kyc_service_execution',
    status: 'approved',
    signature: await signNotification(referenceId, password),
  });
  const apmEvent = async (paymentTransactionUniqueId: string, password = PASSWORD) => ({
    notification_type: 'apm_external_event',
    payment_transaction_unique_id: paymentTransactionUniqueId,
    category: 'transaction',
    priority: 'low',
    code: '100',
    message: 'external event',
    signature: await signNotification(paymentTransactionUniqueId, password, 'SHA-512'),
  });

  it.each([
    ['KYC', 'reference_id', kycNotification],
    ['an APM external event', 'payment_transaction_unique_id', apmEvent],
  ] as const)('(%s) is verified on its id, echoed with it, forwarded once and deduplicated', async (_kind, element, make) => {
    const edge = createTestEdge();
    const id = randomUniqueId();
    const fields = await make(id);

    const first = await edge.post(fields);
    expect(first.response.status).toBe(200);
    expect(first.text).toBe(expectedEcho(element, id));
    const replay = await edge.post(fields);
    expect(replay.response.status).toBe(200);
    expect(replay.text).toBe(first.text);
    expect(edge.publishes(keyOf(fields))).toBe(1);
    expect(await deliveries(keyOf(fields))).toBe(1);
  });

  it.each([
    ['KYC', kycNotification],
    ['an APM external event', apmEvent],
  ] as const)('(%s) with a wrong signature is refused with 401', async (_kind, make) => {
    const edge = createTestEdge();
    const fields = await make(randomUniqueId(), 'another-password');
    expect((await edge.post(fields)).response.status).toBe(401);
    expect(edge.publishes(keyOf(fields))).toBe(0);
  });
});

describe('the forwarded event', () => {
  it('carries every field but the signature', async () => {
    const forwarded: ForwardedEvent[] = [];
    const edge = createTestEdge({
      wrapForwarder: (forwarder) => ({
        forward: (event) => (forwarded.push(event), forwarder.forward(event)),
        ping: () => forwarder.ping(),
      }),
    });
    const fields = await sddNotification();
    expect((await edge.post(fields)).response.status).toBe(200);

    const { signature: _signature, ...unsigned } = fields;
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]!.fields).toEqual(unsigned);
  });
});
