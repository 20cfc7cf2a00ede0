/**
 * Genesis error codes that Tether's client reacts to and the simulator answers with
 * (../shared/emp-genesis.md §8). Codes stay strings, as they arrive in the XML.
 */
export const GENESIS_ERROR_CODES = {
  authentication: '110',
  configuration: '120',
  invalidTerminal: '220',
  /** The issuer timed out: the outcome is unknown until a reconcile says otherwise. */
  timeout: '230',
  invalidTransactionType: '310',
  missingArgument: '320',
  formatError: '330',
  invalidValue: '340',
  invalidXml: '350',
  invalidContentType: '360',
  /** A reference transaction (a refund) names a unique_id Genesis does not know. */
  referenceNotFound: '410',
  /** The reference transaction is in no state to be referenced (a refund of a declined debit). */
  referenceWorkflow: '420',
  /** A refund for more than its reference transaction has left. */
  amountExceedsReference: '440',
  duplicateTransaction: '450',
  transactionNotFound: '460',
  chargebackNotFound: '470',
  issuerDecline: '500',
  riskDecline: '600',
  ibanBlacklisted: '696',
  remoteError: '900',
} as const;

export type GenesisErrorCode = (typeof GENESIS_ERROR_CODES)[keyof typeof GENESIS_ERROR_CODES];
