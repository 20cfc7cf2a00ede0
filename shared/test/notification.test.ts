import { describe, expect, it } from 'vitest';
import { identifyNotification, notificationEcho, notificationFieldsSchema } from '../src/notification';

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

  it('refuse what cannot be identified', () => {
    expect(notificationFieldsSchema.safeParse({ signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ unique_id: ' ', signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ unique_id: 'a'.repeat(256), signature: 'x' }).success).toBe(false);
    expect(notificationFieldsSchema.safeParse({ unique_id: 'a' }).success).toBe(false);
  });

  it('escape the id in the echo', () => {
    expect(notificationEcho({ kind: 'api', id: 'a<b&' })).toContain('<unique_id>a&#60;b&#38;</unique_id>');
  });
});
