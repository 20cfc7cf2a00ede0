/**
 * The form fields of the notifications the simulator sends (emp-genesis.md §5.2), signed with
 * SHA-x(unique_id + api password) through the same module Tether verifies with.
 */
import { signNotification } from '@tether/shared/signature';
import type { SimChargeback, SimTransaction } from './ledger';
import type { NotificationSettings, OutgoingNotification } from './notifier';
import { sepaReasonDescription } from './sepa-reasons';
import type { SimulatorTerminal } from './state';

type Fields = Record<string, string | undefined>;

function saleFields(transaction: SimTransaction): Fields {
  const { request } = transaction;
  const billing = request.billingAddress;
  return {
    transaction_id: transaction.transactionId,
    unique_id: transaction.uniqueId,
    transaction_type: 'sdd_sale',
    terminal_token: transaction.terminalToken,
    status: transaction.status,
    amount: String(request.amount),
    currency: request.currency,
    mode: transaction.mode,
    bank_account_number: request.iban,
    bank_identifier_code: request.bic,
    account_holder: `${billing.firstName} ${billing.lastName}`,
    customer_email: request.customerEmail,
    customer_phone: request.customerPhone,
    first_name: billing.firstName,
    last_name: billing.lastName,
    address1: billing.address1,
    address2: billing.address2,
    zip_code: billing.zipCode,
    city: billing.city,
    state: billing.state,
    country: billing.country,
  };
}

function reasonFields(chargeback: SimChargeback, settings: NotificationSettings): Fields {
  return {
    event: settings.includeEvent ? 'chargeback' : undefined,
    reason_code: chargeback.reasonCode,
    rc_code: chargeback.reasonCode,
    rc_description: sepaReasonDescription(chargeback.reasonCode),
    acquirer_reference_number: chargeback.arn,
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
  if (settings.chargebackShape === 'status_change') {
    return signed(url, original.uniqueId, { ...saleFields(original), ...reasonFields(chargeback, settings) }, terminal, settings);
  }
  const fields: Fields = {
    transaction_id: original.transactionId,
    unique_id: chargeback.uniqueId,
    transaction_type: 'chargeback',
    terminal_token: chargeback.terminalToken,
    status: 'approved',
    amount: String(chargeback.amount),
    currency: chargeback.currency,
    mode: original.mode,
    original_transaction_unique_id: original.uniqueId,
    ...reasonFields(chargeback, settings),
  };
  return signed(url, chargeback.uniqueId, fields, terminal, settings);
}
