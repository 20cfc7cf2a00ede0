/** Texts the simulator puts into message/technical_message, after the gateway's own (emp-genesis.md §8). */
import { GENESIS_ERROR_CODES as CODES } from '@tether/shared/genesis-codes';

const TECHNICAL: Record<string, string> = {
  [CODES.authentication]: 'Login failed. Check your API credentials.',
  [CODES.configuration]: 'Config error occurred, e.g. terminal not configured properly.',
  [CODES.invalidTerminal]: 'Invalid Terminal',
  [CODES.invalidTransactionType]: 'Invalid transaction type was passed to API.',
  [CODES.invalidXml]: 'The request could not be parsed as XML.',
  [CODES.invalidContentType]: 'Missing or invalid content type: should be text/xml!',
  [CODES.referenceNotFound]: 'Reference transaction not found!',
  [CODES.referenceWorkflow]: 'Reference transaction is in a state that does not allow this transaction!',
  // Quoted from genesis_php's ReconcileErrorStatus.xml (dev/genesis/fixtures/php-reconcile-error-status.xml).
  [CODES.amountExceedsReference]: 'amount exceeds amount of reference transaction',
  [CODES.duplicateTransaction]: 'Transaction doublet was detected, transaction was blocked.',
  [CODES.chargebackNotFound]: 'Chargeback by the given criteria cannot be found!',
  [CODES.issuerDecline]: 'Transaction declined by issuer.',
  [CODES.riskDecline]: 'Transaction declined by risk management.',
  [CODES.ibanBlacklisted]: 'Transaction declined by risk management, iban blacklisted!',
  [CODES.remoteError]: 'Some error occurred on the issuer.',
};

export function technicalMessage(code: string): string {
  return TECHNICAL[code] ?? `Genesis error ${code}`;
}

export const MESSAGES = {
  approved: 'Transaction successful!',
  approvedTestMode: 'TESTMODE: No real money will be transferred!',
  pending: 'Transaction pending.',
  declined: 'Transaction declined.',
  inputError: 'Please check input data for errors!',
  failure: 'Something went wrong, please contact support!',
  reconcileFailure: 'Reconcile request failed, please contact support!',
} as const;
