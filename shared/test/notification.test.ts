import { describe, expect, it } from 'vitest';
import { identifyNotification, notificationEcho, notificationFieldsSchema, withoutSignature } from '../src/notification';

const sddSale = {
  unique_id: '52775aed3ee5776c906aeba74da69612',
  transaction_type: 'sdd_sale',
  status: 'approved',
  signature: '3bbdb69c48739a41eabf7acb6d95d23a1135d558',
};

describe('EMP notifications', () => {
  it('name a retry of the same event with the same key', () => {
    expect(identifyNotification({ ...sddSale, amount: '100' }).dedupKey).toBe(identifyNotification(sddSale).dedupKey);
  });

  it('name a status change and a chargeback as new events', () => {
    const keys = new Set([
      identifyNotification(sddSale).dedupKey,
      identifyNotification({ ...sddSale, status: 'error' }).dedupKey,
      identifyNotification({ ...sddSale, status: 'chargebacked', event: 'chargeback' }).dedupKey,
    ]);
    expect(keys.size).toBe(3);
  });

  it('keep key parts apart even when a value contains the separator', () => {
    const a = identifyNotification({ ...sddSale, transaction_type: 'sdd_sale:x', event: '' }).dedupKey;
    const b = identifyNotification({ ...sddSale, transaction_type: 'sdd_sale', event: 'x' }).dedupKey;
    expect(a).not.toBe(b);
  });

  it('identify WPF notifications by wpf_unique_id', () => {
    const identity = identifyNotification({ wpf_unique_id: 'ABC', wpf_status: 'approved', signature: 'x' });
    expect(identity).toMatchObject({ kind: 'wpf', id: 'ABC' });
    expect(notificationEcho(identity)).toContain('<wpf_unique_id>ABC</wpf_unique_id>');
  });

  it('identify KYC notifications by reference_id and APM external events by payment_transaction_unique_id', () => {
    const kyc = identifyNotification({ reference_id: 'R1', notification_type: 'kyc_service_execution', status: 'approved', signature: 'x' });
    expect(kyc).toMatchObject({ kind: 'kyc', id: 'R1' });
    expect(notificationEcho(kyc)).toContain('<reference_id>R1</reference_id>');

    const apm = identifyNotification({ notification_type: 'apm_external_event', payment_transaction_unique_id: 'P1', signature: 'x' });
    expect(apm).toMatchObject({ kind: 'apm', id: 'P1' });
    expect(notificationEcho(apm)).toContain('<payment_transaction_unique_id>P1</payment_transaction_unique_id>');
  });

  it('decide the kind in the SDKs\' order: unique_id, then wpf_unique_id, then reference_id', () => {
    const all = { unique_id: 'U', wpf_unique_id: 'W', reference_id: 'R', payment_transaction_unique_id: 'P', signature: 'x' };
    expect(identifyNotification({ ...all, notification_type: 'apm_external_event' })).toMatchObject({ kind: 'api', id: 'U' });
    const { unique_id: _u, ...wpf } = all;
    expect(identifyNotification({ ...wpf, notification_type: 'wpf' })).toMatchObject({ kind: 'wpf', id: 'W' });
    const { wpf_unique_id: _w, ...kyc } = wpf;
    expect(identifyNotification(kyc)).toMatchObject({ kind: 'kyc', id: 'R' });
  });

  it('name events of different kinds apart even when their ids are equal', () => {
    const keys = new Set([
      identifyNotification({ unique_id: 'same', signature: 'x' }).dedupKey,
      identifyNotification({ wpf_unique_id: 'same', signature: 'x' }).dedupKey,
      identifyNotification({ reference_id: 'same', signature: 'x' }).dedupKey,
      identifyNotification({ payment_transaction_unique_id: 'same', notification_type: 'apm_external_event', signature: 'x' }).dedupKey,
    ]);
    expect(keys.size).toBe(4);
  });

  it('refuse what cannot be identified', () => {
    expect(notificationFieldsSchema.safeParse({ notification_type: 'kyc_service_execution', signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ payment_transaction_unique_id: 'P', signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ unique_id: ' ', signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ unique_id: 'a'.repeat(256), signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ unique_id: 'a' }).success).toBe(false);
  });

  it('escape the id in the echo', () => {
    expect(notificationEcho({ kind: 'api', id: 'a<b&' })).toContain('<unique_id>a&#60;b&#38;</unique_id>');
  });

  it('lose their signature, and nothing else, on the way to the backend', () => {
    const fields = { ...sddSale, amount: '100' };
    const { signature: _signature, ...rest } = fields;
    expect(withoutSignature(fields)).toEqual(rest);
    expect(fields.signature).toBe(sddSale.signature);
    expect(withoutSignature(rest)).toEqual(rest);
  });
});
