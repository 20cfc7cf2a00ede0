/**
 * The form fields of the notifications the simulator sends (emp-genesis.md §5.2), signed with
 * SHA-x(unique_id + api password) through the same module Tether verifies with.
 */
import { signNotification } from '@tether/shared/signature';
import type { SimChargeback, SimRefund, SimTransaction } from './ledger';
import type { NotificationSettings, OutgoingNotification } from './notifier';
import { sepaReasonDescription } from './sepa-reasons';
import type { SimulatorTerminal } from './state';
import { transactionMessages } from './views';

type Fields = Record<string, string | undefined>;

/** What every API notification in the reference's examples carries (dev/genesis/fixtures/ref-notification-*). */
function coreFields(transaction: SimTransaction): Fields {
  return {
    transaction_id: transaction.transactionId,
    unique_id: transaction.uniqueId,
    transaction_type: transaction.transactionType,
    terminal_token: transaction.terminalToken,
    status: transaction.status,
    amount: String(transaction.request.amount),
  };
}

/**
 * A status notification: the core, the bank details of the reference's bank-account example and,
 * on a decline or error, the error fields of its declined example. Nothing undocumented (no
 * currency, no address).
 */
function saleFields(transaction: SimTransaction): Fields {
  const { request } = transaction;
  const { firstName, lastName } = request.billingAddress;
  const error = transaction.code === undefined ? undefined : transactionMessages(transaction);
  return {
    ...coreFields(transaction),
    account_holder: `${firstName} ${lastName}`,
    bank_account_number: request.iban,
    bank_identifier_code: request.bic,
    error_code: transaction.code,
    error_message: error?.message,
    technical_message: error?.technicalMessage,
  };
}

async function signed(
  url: string,
  id: string,
  fields: Fields,
  terminal: SimulatorTerminal,
  settings: NotificationSettings,
): Promise<OutgoingNotification> {
  const password = settings.invalidSignatures ? `${terminal.password}-not` : terminal.password;
  const present = Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return { url, id, fields: { ...present, signature: await signNotification(id, password, terminal.signatureAlgorithm ?? 'SHA-1') } };
}

/** The notification of the sale's current status, as it is at the moment of calling. */
export function statusNotification(
  url: string,
  transaction: SimTransaction,
  terminal: SimulatorTerminal,
  settings: NotificationSettings,
): Promise<OutgoingNotification> {
  return signed(url, transaction.uniqueId, saleFields(transaction), terminal, settings);
}

export function chargebackNotification(
  url: string,
  original: SimTransaction,
  chargeback: SimChargeback,
  terminal: SimulatorTerminal,
  settings: NotificationSettings,
): Promise<OutgoingNotification> {
  const reason = { rc_code: chargeback.reasonCode, rc_description: sepaReasonDescription(chargeback.reasonCode) };
  if (settings.chargebackShape === 'status_change') {
    // dev/genesis/fixtures/ref-notification-chargeback.txt: the original, its new status, the event and the chargeback's id.
    const fields = { ...coreFields(original), chargeback_unique_id: chargeback.uniqueId, event: 'chargeback', ...(settings.reasonCodes && reason) };
    return signed(url, original.uniqueId, fields, terminal, settings);
  }
  const fields: Fields = {
    transaction_id: original.transactionId,
    unique_id: chargeback.uniqueId,
    transaction_type: 'chargeback',
    terminal_token: chargeback.terminalToken,
    status: 'approved',
    amount: String(chargeback.amount),
    currency: chargeback.currency,
    original_transaction_unique_id: original.uniqueId,
    event: 'chargeback',
    reason_code: chargeback.reasonCode,
    ...reason,
    arn: chargeback.arn,
  };
  return signed(url, chargeback.uniqueId, fields, terminal, settings);
}

/**
 * A refund's notification: its own ids, type and status, and the sale it refunds as
 * `reference_transaction_unique_id` (the reference's notification field "identifies the reference
 * transaction if present", docs/genesis-protocol.md (b)); signed over the refund's unique_id.
 */
export function refundNotification(
  url: string,
  refund: SimRefund,
  terminal: SimulatorTerminal,
  settings: NotificationSettings,
): Promise<OutgoingNotification> {
  const fields: Fields = {
    transaction_id: refund.transactionId,
    unique_id: refund.uniqueId,
    transaction_type: 'sdd_refund',
    terminal_token: refund.terminalToken,
    status: refund.status,
    amount: String(refund.request.amount),
    reference_transaction_unique_id: refund.request.referenceId,
    error_code: refund.code,
  };
  return signed(url, refund.uniqueId, fields, terminal, settings);
}
