/**
 * Genesis' answers about a transaction — the synchronous sale answer, a reconcile, a by-date page —
 * enter the backend as events, through the same apply path and state machine as notifications.
 * So an answer racing a notification, and a reconciled status standing in for a lost one, end
 * in the same state. The same answer read twice is the same event (recorded once).
 */
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import type { IncomingEvent } from '../events/process';

export type AnswerOrigin = 'sale' | 'reconcile';

const keyPart = (part: string | undefined) => encodeURIComponent((part ?? '').trim().toLowerCase());

/** `transactionId` is the attempt's own: a refused sale may not echo it. */
export function genesisAnswerEvent(payment: PaymentResponse, origin: AnswerOrigin, transactionId: string, receivedAt = new Date()): IncomingEvent {
  const fields: Record<string, string> = {
    transaction_id: transactionId,
    transaction_type: payment.transactionType ?? 'sdd_sale',
    status: payment.status,
  };
  const optional: Record<string, string | undefined> = {
    unique_id: payment.uniqueId,
    code: payment.code,
    message: payment.message,
    technical_message: payment.technicalMessage,
    amount: payment.amount === undefined ? undefined : String(payment.amount),
    currency: payment.currency,
    mode: payment.mode,
    timestamp: payment.timestamp,
  };
  for (const [name, value] of Object.entries(optional)) if (value) fields[name] = value;
  const dedupKey = [`genesis-${origin}`, payment.uniqueId, transactionId, payment.status, payment.code].map(keyPart).join(':');
  return { dedupKey, receivedAt, fields };
}
