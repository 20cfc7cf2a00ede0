/**
 * What Genesis' words mean for a billing attempt, in one place: transaction states, the `event`
 * values of notifications, the Chargeback API's record types and the reference transaction
 * types. Every reader (events, reconciliation, the confirmation of notifications, the
 * simulator's tests) asks here, so no two modules can disagree about one fact.
 * Sources: docs/genesis-protocol.md.
 */
import type { AttemptStatus } from './attempt-status';

/** Genesis transaction states as attempt statuses; undefined for states that say nothing about a debit. */
const FROM_STATUS: Record<string, AttemptStatus> = {
  approved: 'approved',
  declined: 'declined',
  error: 'error',
  unsuccessful: 'error',
  voided: 'voided',
  refunded: 'refunded',
  pending: 'submitted',
  pending_async: 'submitted',
  pending_hold: 'submitted',
  pending_review: 'submitted',
  in_progress: 'submitted',
  chargebacked: 'chargebacked',
  second_chargebacked: 'chargebacked',
  pre_arbitrated: 'chargebacked',
  // The representment was reversed: the funds went back to the issuer, the debit is charged back again.
  representment_reversed: 'chargebacked',
  chargeback_reversed: 'chargeback_reversed',
  chargeback_reversal: 'chargeback_reversed',
  represented: 'chargeback_reversed',
};

const normalize = (value: string) => value.trim().toLowerCase();

/** The table's entry for a Genesis word, compared trimmed and lower-cased; undefined for a word it does not hold. */
function lookUp<T>(table: Record<string, T>, word: string): T | undefined {
  const key = normalize(word);
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function attemptStatusFromGenesis(genesisStatus: string): AttemptStatus | undefined {
  return lookUp(FROM_STATUS, genesisStatus);
}

/**
 * The documented `event` values of notifications and what each does to the original debit:
 * `moves` is the attempt status it leads to; a retrieval request (the issuer asks for a copy of
 * the mandate) moves no money. The reference also names rapid_dispute_resolution(_reversal), a
 * card-scheme procedure with no documented meaning for a direct debit: recorded for review.
 */
export const GENESIS_EVENTS = {
  chargeback: { moves: 'chargebacked' },
  chargeback_reversal: { moves: 'chargeback_reversed' },
  representment: { moves: 'chargeback_reversed' },
  // The merchant's representment is cancelled and the funds return to the issuer: charged back again.
  representment_reversal: { moves: 'chargebacked' },
  second_chargeback: { moves: 'chargebacked' },
  retrieval_request: { moves: undefined },
} as const satisfies Record<string, { moves: AttemptStatus | undefined }>;

export type GenesisEvent = keyof typeof GENESIS_EVENTS;

export type EventReading =
  | { known: true; event: GenesisEvent; moves: AttemptStatus | undefined }
  /** Not documented: recorded for a person to review, never guessed. */
  | { known: false; value: string };

export function readGenesisEvent(value: string): EventReading {
  const event = normalize(value);
  if (Object.hasOwn(GENESIS_EVENTS, event)) {
    const known = event as GenesisEvent;
    return { known: true, event: known, moves: GENESIS_EVENTS[known].moves };
  }
  return { known: false, value: value.trim() };
}

/**
 * Chargeback API record types, as the reference documents them ("1st Chargeback", "2nd Chargeback",
 * "1st Chargeback Reversal", "2nd Chargeback Reversal", "Re-presentment", "Representment
 * Reversal"), mapped to the event they report. Spelling varies between the reference and the SDK
 * fixtures ("1st chargeback", "re-presentment", trailing spaces), so types are compared
 * lower-cased with spaces, hyphens and underscores removed. "Transfer Reversal" and the
 * "Chargeback Transfer to …" types are the acquirer's bookkeeping, whose effect on a debit is not
 * documented: they are left out, so such records are recorded for review.
 */
const RECORD_TYPES: Record<string, GenesisEvent> = {
  '1stchargeback': 'chargeback',
  '2ndchargeback': 'second_chargeback',
  '1stchargebackreversal': 'chargeback_reversal',
  '2ndchargebackreversal': 'chargeback_reversal',
  representment: 'representment',
  representmentreversal: 'representment_reversal',
};

const squash = (value: string) => value.toLowerCase().replace(/[\s\-_]+/g, '');

/** The event a Chargeback API record reports; undefined for a type not documented (review it). */
export function eventOfChargebackType(type: string): GenesisEvent | undefined {
  return RECORD_TYPES[squash(type)];
}

/** Transaction types of a chargeback's own record, when Genesis reports it as a transaction. */
const CHARGEBACK_TRANSACTION_TYPES: Record<string, GenesisEvent> = {
  chargeback: 'chargeback',
  chargeback_reversal: 'chargeback_reversal',
  representment: 'representment',
  representment_reversal: 'representment_reversal',
  second_chargeback: 'second_chargeback',
  retrieval_request: 'retrieval_request',
};

export function eventOfTransactionType(transactionType: string): GenesisEvent | undefined {
  return lookUp(CHARGEBACK_TRANSACTION_TYPES, transactionType);
}

/** Reference transactions that change the original debit once approved. */
const REFERENCE_TARGETS: Record<string, AttemptStatus> = {
  sdd_refund: 'refunded',
  refund: 'refunded',
  void: 'voided',
};

export function referenceTarget(transactionType: string): AttemptStatus | undefined {
  return lookUp(REFERENCE_TARGETS, transactionType);
}

/** Transaction types that are a direct debit of their own: what Tether sends, and what attempts are. */
export const DEBIT_TRANSACTION_TYPES = ['sdd_sale', 'sdd_init_recurring_sale', 'sdd_recurring_sale'] as const;

export function isDebitTransactionType(transactionType: string | undefined): boolean {
  return transactionType !== undefined && (DEBIT_TRANSACTION_TYPES as readonly string[]).includes(normalize(transactionType));
}
