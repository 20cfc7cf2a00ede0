/** How the simulator's records look on the wire: Genesis payment responses and chargeback records. */
import type { ChargebackRecord, PaymentResponse } from '@tether/shared/genesis-xml';
import type { SimChargeback, SimTransaction } from './ledger';
import { MESSAGES, technicalMessage } from './messages';
import { sepaReasonDescription } from './sepa-reasons';

const DEFAULT_DESCRIPTOR = 'Tether Genesis simulator';

/** Genesis timestamps have no milliseconds. */
export const genesisTimestamp = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const day = (date: Date) => date.toISOString().slice(0, 10);

function messages(transaction: SimTransaction): { message: string; technicalMessage: string } {
  if (transaction.code !== undefined) {
    const message = transaction.status === 'declined' ? MESSAGES.declined : MESSAGES.failure;
    return { message, technicalMessage: technicalMessage(transaction.code) };
  }
  if (transaction.status === 'pending_async') return { message: MESSAGES.pending, technicalMessage: MESSAGES.pending };
  const message = transaction.mode === 'test' ? MESSAGES.approvedTestMode : MESSAGES.approved;
  return { message, technicalMessage: message };
}

/** A sale answers without the billing address; a reconcile includes it (emp-genesis.md §4.1). */
export function paymentResponseOf(transaction: SimTransaction, detail: 'sale' | 'reconcile'): PaymentResponse {
  const { request } = transaction;
  return {
    transactionType: 'sdd_sale',
    status: transaction.status,
    mode: transaction.mode,
    transactionId: transaction.transactionId,
    uniqueId: transaction.uniqueId,
    code: transaction.code,
    ...messages(transaction),
    timestamp: genesisTimestamp(transaction.createdAt),
    descriptor: request.dynamicDescriptorParams?.merchantName ?? DEFAULT_DESCRIPTOR,
    amount: request.amount,
    currency: request.currency,
    sentToAcquirer: transaction.status !== 'error',
    redirectUrl: transaction.redirectUrl,
    billingAddress: detail === 'reconcile' ? request.billingAddress : undefined,
  };
}

export function chargebackRecordOf(chargeback: SimChargeback, original: SimTransaction): ChargebackRecord {
  return {
    type: '1st chargeback',
    arn: chargeback.arn,
    postDate: day(chargeback.createdAt),
    reasonCode: chargeback.reasonCode,
    reasonDescription: sepaReasonDescription(chargeback.reasonCode),
    amount: chargeback.amount,
    currency: chargeback.currency,
    chargebackAmount: chargeback.amount,
    chargebackCurrency: chargeback.currency,
    originalTransactionAmount: original.request.amount,
    originalTransactionCurrency: original.request.currency,
    originalType: 'sdd_sale',
    originalPostDate: day(original.createdAt),
    originalTransactionDate: day(original.createdAt),
    customerEmail: original.request.customerEmail,
    customerPhone: original.request.customerPhone,
    transactionType: 'sdd_sale',
    originalTransactionUniqueId: original.uniqueId,
  };
}
