/** Reading an event's meaning from its fields: every chargeback shape leads to the same meaning. */
import { describe, expect, it } from 'vitest';
import { interpretEvent, type EventMeaning } from '../src/events/interpret';

function meaning(fields: Record<string, string>): EventMeaning {
  const result = interpretEvent(fields);
  if (!result.ok) throw new Error(result.error);
  return result.meaning;
}

describe('interpreting an event', () => {
  it('maps a status notification onto its own attempt', () => {
    expect(meaning({ unique_id: 'u1', transaction_id: 't1', transaction_type: 'sdd_sale', status: 'pending_async' })).toMatchObject({
      attemptUniqueId: 'u1',
      transactionId: 't1',
      ownUniqueId: true,
      target: 'submitted',
      empStatus: 'pending_async',
    });
  });

  it('reads the Java SDK’s notification_status', () => {
    expect(meaning({ unique_id: 'u1', notification_status: 'declined' }).target).toBe('declined');
  });

  it('keeps a status that says nothing about a debit as information only', () => {
    expect(meaning({ unique_id: 'u1', status: 'new' }).target).toBeUndefined();
  });

  it.each([
    ['status=chargebacked on the sdd_sale', { unique_id: 'orig', transaction_id: 't1', transaction_type: 'sdd_sale', status: 'chargebacked', rc_code: 'md06' }],
    ['event=chargeback on the sdd_sale', { unique_id: 'orig', transaction_type: 'sdd_sale', event: 'chargeback', status: 'approved', reason_code: 'MD06' }],
    ['a chargeback record by original_transaction_unique_id', { unique_id: 'cb1', transaction_type: 'chargeback', original_transaction_unique_id: 'orig', status: 'approved', reason_code: 'MD06' }],
    ['event=chargeback by reference_transaction_unique_id', { unique_id: 'cb1', event: 'chargeback', reference_transaction_unique_id: 'orig', rc_code: 'MD06' }],
  ])('reads %s as a chargeback of the original', (_shape, fields) => {
    const read = meaning(fields);
    expect(read).toMatchObject({ attemptUniqueId: 'orig', target: 'chargebacked', chargeback: { reasonCode: 'MD06' } });
  });

  it('tells a chargeback record’s own id from the original’s', () => {
    const read = meaning({ unique_id: 'cb1', transaction_id: 'emp-1', transaction_type: 'chargeback', original_transaction_unique_id: 'orig', amount: '1990', currency: 'eur', reason: 'Refund', arn: 'a1' });
    expect(read).toMatchObject({ ownUniqueId: false, transactionId: undefined, empStatus: 'chargebacked' });
    expect(read.chargeback).toEqual({ uniqueId: 'cb1', amount: 1990, currency: 'EUR', reason: 'Refund', reasonCode: undefined, arn: 'a1' });
  });

  it('reads a chargeback reversal', () => {
    expect(meaning({ unique_id: 'r1', transaction_type: 'chargeback_reversal', original_transaction_unique_id: 'orig' })).toMatchObject({
      attemptUniqueId: 'orig',
      target: 'chargeback_reversed',
      chargeback: undefined,
    });
  });

  it('moves the original to refunded only when the refund is approved', () => {
    const refund = { unique_id: 'rf1', transaction_type: 'sdd_refund', reference_transaction_unique_id: 'orig' };
    expect(meaning({ ...refund, status: 'approved' })).toMatchObject({ attemptUniqueId: 'orig', target: 'refunded' });
    expect(meaning({ ...refund, status: 'declined' }).target).toBeUndefined();
  });

  it('reads a recurring sale’s reference as its init transaction, not as the attempt', () => {
    const read = meaning({ unique_id: 'rec1', transaction_type: 'sdd_recurring_sale', reference_transaction_unique_id: 'init', status: 'approved' });
    expect(read).toMatchObject({ attemptUniqueId: 'rec1', target: 'approved' });
  });

  it('reads a WPF notification through its payment transaction', () => {
    expect(
      meaning({ wpf_unique_id: 'w1', wpf_transaction_id: 't1', wpf_status: 'approved', payment_transaction_unique_id: 'u1', payment_transaction_transaction_type: 'sdd_sale' }),
    ).toMatchObject({ attemptUniqueId: 'u1', transactionId: 't1', target: 'approved' });
  });

  it('refuses events that name no transaction', () => {
    expect(interpretEvent({ status: 'approved' })).toEqual({ ok: false, error: 'the event names no transaction' });
    expect(interpretEvent({ transaction_type: 'chargeback', reason_code: 'MD06' }).ok).toBe(false);
  });
});
