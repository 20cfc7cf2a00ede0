/** How the simulator's records look on the wire: Genesis payment responses and chargeback records. */
import type { ChargebackRecord, PaymentResponse } from '@tether/shared/genesis-xml';
import type { SimChargeback, SimRefund, SimTransaction } from './ledger';
import { MESSAGES, technicalMessage } from './messages';
import { sepaReasonDescription } from './sepa-reasons';

const DEFAULT_DESCRIPTOR = 'Tether Genesis simulator';

/** Genesis timestamps have no milliseconds. */
export const genesisTimestamp = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const day = (date: Date) => date.toISOString().slice(0, 10);

/** What Genesis says about a transaction's status, in answers (message, technical_message) and notifications (error_message, technical_message). */
export function transactionMessages(transaction: SimTransaction): { message: string; technicalMessage: string } {
  if (transaction.code !== undefined) {
    const message = transaction.status === 'declined' ? MESSAGES.declined : MESSAGES.failure;
    return { message, technicalMessage: technicalMessage(transaction.code) };
  }
  if (transaction.status === 'pending_async') return { message: MESSAGES.pending, technicalMessage: MESSAGES.pending };
  const message = transaction.mode === 'test' ? MESSAGES.approvedTestMode : MESSAGES.approved;
  return { message, technicalMessage: message };
}

type PaymentElement = keyof PaymentResponse;

/**
 * The elements of each answer in the order of its documented example (dev/genesis/fixtures): the
 * reference's sdd_sale answers, and for reconcile its by-date records with the bank and customer
 * elements of its single-transaction example (the examples disagree on order; parsers ignore it).
 */
const ELEMENTS: Record<'sale' | 'reconcile', readonly PaymentElement[]> = {
  sale: [
    'transactionType', 'status', 'mode', 'transactionId', 'uniqueId', 'code', 'technicalMessage', 'message',
    'redirectUrl', 'timestamp', 'descriptor', 'amount', 'currency', 'sentToAcquirer',
  ],
  reconcile: [
    'transactionType', 'status', 'uniqueId', 'transactionId', 'code', 'technicalMessage', 'message', 'redirectUrl',
    'mode', 'timestamp', 'descriptor', 'amount', 'currency', 'bankAccountNumber', 'bankIdentifierCode',
    'sentToAcquirer', 'customerEmail', 'billingCountry', 'usage',
  ],
};

export function paymentResponseOf(transaction: SimTransaction, answer: 'sale' | 'reconcile'): PaymentResponse {
  const { request } = transaction;
  const values: PaymentResponse = {
    transactionType: transaction.transactionType,
    status: transaction.status,
    mode: transaction.mode,
    transactionId: transaction.transactionId,
    uniqueId: transaction.uniqueId,
    code: transaction.code,
    ...transactionMessages(transaction),
    timestamp: genesisTimestamp(transaction.createdAt),
    descriptor: request.dynamicDescriptorParams?.merchantName ?? DEFAULT_DESCRIPTOR,
    amount: request.amount,
    currency: request.currency,
    sentToAcquirer: transaction.status !== 'error',
    redirectUrl: transaction.redirectUrl,
    bankAccountNumber: request.iban,
    bankIdentifierCode: request.bic,
    customerEmail: request.customerEmail,
    billingCountry: request.billingAddress.country,
    usage: request.usage,
  };
  return Object.fromEntries(ELEMENTS[answer].map((element) => [element, values[element]])) as PaymentResponse;
}

/**
 * An sdd_refund as the reference prints its answer (fixtures/ref-sdd-refund-response-*.xml), and
 * on reconcile with `reference_transaction_unique_id`, as its refund reconcile example does
 * (fixtures/ref-reconcile-single-refund-response.xml).
 */
export function refundResponseOf(refund: SimRefund, answer: 'sale' | 'reconcile'): PaymentResponse {
  const { request } = refund;
  const error = refund.code === undefined ? undefined : { code: refund.code, message: refund.status === 'declined' ? MESSAGES.declined : MESSAGES.failure, technicalMessage: technicalMessage(refund.code) };
  const message = refund.status === 'pending_async' || refund.status === 'approved' ? MESSAGES.approved : undefined;
  return {
    transactionType: 'sdd_refund',
    status: refund.status,
    mode: refund.mode,
    transactionId: refund.transactionId,
    uniqueId: refund.uniqueId,
    code: error?.code,
    technicalMessage: error?.technicalMessage ?? message,
    message: error?.message ?? message,
    timestamp: genesisTimestamp(refund.createdAt),
    descriptor: DEFAULT_DESCRIPTOR,
    amount: request.amount,
    currency: request.currency,
    sentToAcquirer: refund.status !== 'error',
    ...(answer === 'reconcile' && { referenceTransactionUniqueId: request.referenceId, usage: request.usage }),
  };
}

/**
 * A chargeback record as the reference prints one (dev/genesis/fixtures/ref-chargeback-*), in its
 * order, without the card scheme's elements: `amount` negative for a 1st chargeback, the issuer's
 * amounts as major-unit decimals.
 */
export function chargebackRecordOf(chargeback: SimChargeback, original: SimTransaction): ChargebackRecord {
  return {
    type: '1st Chargeback',
    postDate: day(chargeback.createdAt),
    reasonCode: chargeback.reasonCode,
    reasonDescription: sepaReasonDescription(chargeback.reasonCode),
    amount: -chargeback.amount,
    currency: chargeback.currency,
    // Minor units here; the XML writer prints the issuer's amounts as major-unit decimals ("300.0").
    chargebackAmount: chargeback.amount,
    chargebackCurrency: chargeback.currency,
    originalTransactionAmount: original.request.amount,
    originalTransactionCurrency: original.request.currency,
    originalType: original.transactionType,
    originalPostDate: day(original.createdAt),
    originalTransactionDate: day(original.createdAt),
    customerEmail: original.request.customerEmail,
    customerPhone: original.request.customerPhone,
    transactionType: original.transactionType,
    originalTransactionUniqueId: original.uniqueId,
    arn: chargeback.arn,
  };
}
