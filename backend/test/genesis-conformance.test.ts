/**
 * Genesis as emerchantpay documents it, not as Tether understood it: every quoted example of the
 * API reference and the official SDKs under dev/genesis/fixtures (sources in its README) goes
 * through Tether's real parser, builder, signature check, notification identification and event
 * interpretation. A test names the fixture it reads; the fixture names its source.
 */
import { eventOfChargebackType, readGenesisEvent } from '@tether/shared/genesis-meaning';
import {
  buildSddRecurringSaleXml,
  buildSddRefundXml,
  buildSddSaleXml,
  parseGenesisResponse,
  parseNotificationEcho,
  readGenesisXml,
  sddRecurringSaleRequestSchema,
  sddRefundRequestSchema,
  sddSaleRequestSchema,
  type GenesisResponse,
} from '@tether/shared/genesis-xml';
import { identifyNotification } from '@tether/shared/notification';
import { verifyNotificationSignature } from '@tether/shared/signature';
import { describe, expect, it } from 'vitest';
import { fixture, readNotificationFixture } from '../../dev/test/genesis-fixtures';
import { saleRequestFor } from '../src/billing/sale-request';
import { interpretEvent } from '../src/events/interpret';
import { chargebackRecordFromGenesis } from '../src/reconciliation/chargeback-record';
import { refundStatusFromGenesis } from '../src/refunds/outcome';

const response = (name: string): GenesisResponse => parseGenesisResponse(fixture(name));
const notification = (name: string): Record<string, string> => Object.fromEntries(readNotificationFixture(fixture(name)));

function meaningOf(fields: Record<string, string>) {
  const interpretation = interpretEvent(fields);
  if (!interpretation.ok) throw new Error(interpretation.error);
  return interpretation.meaning;
}

describe('Chargeback API records', () => {
  it('reads the reference\'s single record: a negative amount and the issuer\'s decimals in major units (ref-chargeback-single-response.xml)', () => {
    const parsed = response('ref-chargeback-single-response.xml');
    expect(parsed.kind).toBe('chargeback');
    if (parsed.kind !== 'chargeback') return;
    expect(parsed.chargeback).toMatchObject({
      type: '1st Chargeback',
      amount: -14625,
      currency: 'USD',
      chargebackAmount: 30000, // 300.0 EUR
      chargebackCurrency: 'EUR',
      originalTransactionAmount: 14800, // 148.0 EUR
      originalTransactionUniqueId: 'f9634ec5e7dbe6ca3871974accb875cd',
    });
    // What Tether applies: the issuer's EUR 300.00, never the sign-carrying acquirer amount.
    expect(chargebackRecordFromGenesis(parsed.chargeback)).toMatchObject({ amount: 30000, currency: 'EUR', type: '1st Chargeback' });
  });

  it.each([
    ['ref-chargeback-by-date-response.xml', 2],
    ['php-chargeback-by-date-response.xml', 12],
    ['net-chargeback-by-date-response.xml', 2],
  ])('reads every record of %s', (name, records) => {
    const parsed = response(name);
    expect(parsed.kind).toBe('chargebacks');
    if (parsed.kind !== 'chargebacks') return;
    expect(parsed.chargebacks.length + (parsed.unusable?.length ?? 0)).toBe(records);
    expect(parsed.unusable).toEqual([]);
    for (const record of parsed.chargebacks) expect(eventOfChargebackType(record.type!)).toBeDefined();
  });

  it('keeps a page readable when one of its records is not: the record is reported, the others applied', () => {
    const original = fixture('ref-chargeback-by-date-response.xml');
    const second = original.lastIndexOf('<amount>3456</amount>');
    const page = `${original.slice(0, second)}<amount>34,56</amount>${original.slice(second + '<amount>3456</amount>'.length)}`;
    const parsed = parseGenesisResponse(page);
    expect(parsed.kind).toBe('chargebacks');
    if (parsed.kind !== 'chargebacks') return;
    expect(parsed.chargebacks).toHaveLength(1);
    expect(parsed.unusable).toEqual([expect.objectContaining({ index: 1, error: expect.stringContaining('amount') })]);
  });

  it.each(['ref-chargeback-not-found-error.xml', 'net-chargeback-not-found-error.xml'])('reads the not-found answer %s as code 470', (name) => {
    expect(response(name)).toMatchObject({ kind: 'error', error: { code: '470' } });
  });

  it('maps every documented record type to its event, and leaves the bookkeeping types for review (REF "Chargeback types")', () => {
    expect(
      ['1st Chargeback', '2nd Chargeback', '1st Chargeback Reversal', '2nd Chargeback Reversal', 'Re-presentment', 'Representment Reversal'].map(
        eventOfChargebackType,
      ),
    ).toEqual(['chargeback', 'second_chargeback', 'chargeback_reversal', 'chargeback_reversal', 'representment', 'representment_reversal']);
    // The SDK fixtures' spellings: lower case, trailing spaces.
    expect(['1st chargeback ', 're-presentment', '1st chargeback reversal'].map(eventOfChargebackType)).toEqual([
      'chargeback',
      'representment',
      'chargeback_reversal',
    ]);
    for (const type of ['Transfer Reversal', 'Chargeback Transfer to Merchant Hold Acc', 'Pre-arbitration']) expect(eventOfChargebackType(type)).toBeUndefined();
  });

  it('reads a representment reversal as charged back again, one mapping for records and events', () => {
    expect(readGenesisEvent('representment_reversal')).toEqual({ known: true, event: 'representment_reversal', moves: 'chargebacked' });
    expect(readGenesisEvent(eventOfChargebackType('Representment Reversal')!)).toMatchObject({ moves: 'chargebacked' });
  });
});

describe('reconcile', () => {
  it('reads the reference\'s single answer (ref-reconcile-single-sale-response.xml)', () => {
    const parsed = response('ref-reconcile-single-sale-response.xml');
    expect(parsed).toMatchObject({ kind: 'payment', payment: { status: expect.any(String), uniqueId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });

  it.each(['ref-reconcile-by-date-response.xml', 'net-reconcile-by-date-response.xml'])('reads the pages of %s with their pagination', (name) => {
    const parsed = response(name);
    expect(parsed.kind).toBe('payments');
    if (parsed.kind !== 'payments') return;
    expect(parsed.pagination.pagesCount).toBeGreaterThanOrEqual(1);
    expect(parsed.payments.length).toBeGreaterThanOrEqual(1);
  });

  it('reads not found (460) and another terminal (220) as refusals (net-reconcile-not-found-error.xml, rb-reconcile-error-invalid-terminal.xml)', () => {
    expect(response('net-reconcile-not-found-error.xml')).toMatchObject({ kind: 'error', error: { code: '460' } });
    expect(response('rb-reconcile-error-invalid-terminal.xml')).toMatchObject({ kind: 'error', error: { code: '220', technicalMessage: 'Invalid Terminal' } });
  });

  it('reads WPF reconcile answers with their payment transactions and terminal (ref-wpf-reconcile-response-funds-status.xml, rb-wpf-reconcile-refunded.xml)', () => {
    const parsed = response('ref-wpf-reconcile-response-funds-status.xml');
    expect(parsed).toMatchObject({
      kind: 'wpf',
      wpf: { uniqueId: '26aa150ee68b1b2d6758a0e6c44fce4c', payments: [{ uniqueId: 'bad08183a9ec545daf0f24c48361aa10', terminalToken: expect.any(String) }] },
    });
    expect(response('rb-wpf-reconcile-refunded.xml').kind).toBe('wpf');
    expect(response('ref-wpf-reconcile-error-no-search-param.xml')).toMatchObject({ kind: 'error', root: 'wpf_payment', error: { code: '320' } });
  });
});

describe('sdd_sale', () => {
  it('validates the reference\'s request and writes it back the same (ref-sdd-sale-request.xml)', () => {
    const request = sddSaleRequestSchema.parse(readGenesisXml(fixture('ref-sdd-sale-request.xml')).fields);
    expect(readGenesisXml(buildSddSaleXml(request)).fields).toMatchObject(readGenesisXml(fixture('ref-sdd-sale-request.xml')).fields);
  });

  it('sends no notification_url: the documented request model has none', () => {
    const request = saleRequestFor({
      transactionId: 't1',
      amountCents: 100,
      currency: 'EUR',
      iban: 'DE89370400440532013000',
      name: 'Travis Pastrana',
    } as Parameters<typeof saleRequestFor>[0]);
    expect(buildSddSaleXml(request)).not.toContain('notification_url');
    expect(readGenesisXml(fixture('ref-sdd-sale-request.xml')).fields).not.toHaveProperty('notificationUrl');
  });

  it.each(['ref-sdd-sale-response-approved.xml', 'ref-sdd-sale-response-error.xml'])('reads %s', (name) => {
    expect(['payment', 'error']).toContain(response(name).kind);
  });
});

describe('recurring debits', () => {
  it('writes an sdd_init_recurring_sale as the reference\'s request: an sdd_sale\'s fields under its own type (ref-sdd-init-recurring-sale-request.xml)', () => {
    const documented = readGenesisXml(fixture('ref-sdd-init-recurring-sale-request.xml')).fields;
    const request = sddSaleRequestSchema.parse(documented);
    expect(readGenesisXml(buildSddSaleXml(request, 'sdd_init_recurring_sale')).fields).toEqual(documented);
  });

  it('validates the reference\'s sdd_recurring_sale and writes it back the same (ref-sdd-recurring-sale-request.xml)', () => {
    const documented = readGenesisXml(fixture('ref-sdd-recurring-sale-request.xml')).fields;
    const request = sddRecurringSaleRequestSchema.parse(documented);
    expect(request.referenceId).toBe('2ee4287e67971380ef7f97d5743bb523');
    expect(readGenesisXml(buildSddRecurringSaleXml(request)).fields).toEqual(documented);
    const { referenceId: _, ...unreferenced } = documented;
    expect(sddRecurringSaleRequestSchema.safeParse(unreferenced).success).toBe(false);
  });
});

describe('sdd_refund', () => {
  it('validates the reference\'s request and writes it back the same (ref-sdd-refund-request.xml)', () => {
    const documented = readGenesisXml(fixture('ref-sdd-refund-request.xml')).fields;
    const request = sddRefundRequestSchema.parse(documented);
    expect(request).toMatchObject({ referenceId: '2ee4287e67971380ef7f97d5743bb523', amount: 100, currency: 'EUR' });
    expect(readGenesisXml(buildSddRefundXml(request)).fields).toEqual(documented);
  });

  it('refuses a request without the debit it refunds', () => {
    const { referenceId: _, ...withoutReference } = readGenesisXml(fixture('ref-sdd-refund-request.xml')).fields;
    expect(sddRefundRequestSchema.safeParse(withoutReference).success).toBe(false);
  });

  it('reads the documented answers: pending_async, and an error that still has a unique_id (ref-sdd-refund-response-*.xml)', () => {
    const pending = response('ref-sdd-refund-response-pending-async.xml');
    expect(pending).toMatchObject({ kind: 'payment', payment: { transactionType: 'sdd_refund', status: 'pending_async', amount: 100 } });
    if (pending.kind === 'payment') expect(refundStatusFromGenesis(pending.payment.status)).toBe('submitted');
    expect(response('ref-sdd-refund-response-error.xml')).toMatchObject({ kind: 'payment', payment: { status: 'error', code: '320' } });
  });

  it('reads a refund\'s reconcile answer with the debit it refunds (ref-reconcile-single-refund-response.xml, php-reconcile-error-status.xml)', () => {
    const approved = response('ref-reconcile-single-refund-response.xml');
    expect(approved).toMatchObject({ kind: 'payment', payment: { status: 'approved', referenceTransactionUniqueId: '44177a21403427eb96664a6d7e5d5d48' } });
    if (approved.kind === 'payment') expect(refundStatusFromGenesis(approved.payment.status)).toBe('approved');
    expect(response('php-reconcile-error-status.xml')).toMatchObject({ kind: 'payment', payment: { status: 'error', code: '440' } });
  });
});

describe('notifications', () => {
  it('reads the reference\'s chargeback notification as a chargeback of the sale it is signed for (ref-notification-chargeback.txt)', () => {
    const fields = notification('ref-notification-chargeback.txt');
    expect(identifyNotification(fields)).toMatchObject({ kind: 'api', id: '57ff74d1ca8727f59f243de6d01ff027' });
    expect(meaningOf(fields)).toMatchObject({ attemptUniqueId: '57ff74d1ca8727f59f243de6d01ff027', target: 'chargebacked', eventName: 'chargeback' });
  });

  it('reads error_code and error_message of a declined notification (ref-notification-declined-error-code.txt, ref-wpf-notification-declined.txt)', () => {
    expect(meaningOf(notification('ref-notification-declined-error-code.txt'))).toMatchObject({ target: 'declined', code: '520', message: 'Credit card has expired.' });
    const wpf = notification('ref-wpf-notification-declined.txt');
    expect(identifyNotification(wpf)).toMatchObject({ kind: 'wpf', id: '26bb150ee68b1b2d6758a0e6c44fce4c' });
    expect(meaningOf(wpf)).toMatchObject({ target: 'declined', code: '520' });
  });

  it('moves no money on a retrieval request, whatever its status says (ref-notification-retrieval-request.txt)', () => {
    const meaning = meaningOf(notification('ref-notification-retrieval-request.txt'));
    expect(meaning).toMatchObject({ eventName: 'retrieval_request', target: undefined, chargeback: undefined });
  });

  it('records an undocumented event value for review instead of guessing', () => {
    const fields = { ...notification('ref-notification-chargeback.txt'), event: 'rapid_dispute_resolution' };
    expect(meaningOf(fields)).toMatchObject({ target: undefined, review: expect.stringContaining('rapid_dispute_resolution') });
  });

  it('identifies APM external events and KYC notifications by their own ids (ref-notification-apm-external-event.txt, net-kyc-notification-fields.txt)', () => {
    expect(identifyNotification(notification('ref-notification-apm-external-event.txt'))).toMatchObject({ kind: 'apm', id: '64216236bced683952325b6698b3954a' });
    const kyc = { ...notification('net-kyc-notification-fields.txt'), reference_id: 'kyc-ref-1', notification_type: 'kyc_service_execution' };
    expect(identifyNotification(kyc)).toMatchObject({ kind: 'kyc', id: 'kyc-ref-1' });
  });

  it('checks signatures with the .NET SDK\'s vectors (SHA-1 and SHA-512), the password case-sensitive', async () => {
    expect(await verifyNotificationSignature('fc6c3c8c0219730c7a099eaa540f70dc', '08d01ae1ebdc22b6a1a764257819bb26e9e94e8d', ['bogus'])).toBe(true);
    const wpfSignature = 'c5219b3d385e74496b2b48a5497b347e102849f10eacd25b062f823bbd11249ce4e233f031c0ecebc9b691e69d23eb0c1cd65a79621152467b56ac2bf103b512';
    expect(await verifyNotificationSignature('26aa150ee68b1b2d6758a0e6c44fce4c', wpfSignature, ['50fd87e65eb415f42fb5af4c9cf497662e00b785'])).toBe(true);
    expect(await verifyNotificationSignature('26aa150ee68b1b2d6758a0e6c44fce4c', wpfSignature, ['50Fd87e65eb415f42fb5af4c9cf497662e00b785'])).toBe(false);
  });

  it('reads the echoes the reference prints (ref-notification-echo.xml, ref-wpf-notification-echo.xml)', () => {
    expect(parseNotificationEcho(fixture('ref-notification-echo.xml'))).toEqual({ kind: 'api', id: '44177a21403427eb96664a6d7e5d5d48' });
    expect(parseNotificationEcho(fixture('ref-wpf-notification-echo.xml'))).toEqual({ kind: 'wpf', id: '3f760162ef57a829011e5e2379b3fa17' });
  });
});
