/**
 * Judges a notification by EMP's own answer (pure, no I/O). The notification's signature proves
 * only that EMP once sent something about the signed id; everything else in it is a claim. EMP's
 * answer to an authenticated request about that id is the truth, and only the attempt that answer
 * identifies may change:
 *
 * - rejected: EMP does not know the id or it is another terminal's; the answer is not a debit of
 *   Tether's (or its transaction_id, unique_id, amount or currency differ from the attempt's); or
 *   the notification names another transaction than the one it is signed for. Nothing changes.
 * - contradicted: the transaction is the attempt's, but the claim differs from EMP's answer (status,
 *   event, amount). EMP's state is applied; the claim stays on the event for the record.
 * - confirmed: the claim agrees with EMP's answer, which is applied.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { attemptStatusFromGenesis, isDebitTransactionType, referenceTarget } from '@tether/shared/genesis-meaning';
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import { interpretEvent } from '../events/interpret';

/** What EMP said about a notification's signed id. */
export type SignedAnswer =
  | { found: false; reason: 'unknown_transaction' | 'other_terminal' }
  | {
      found: true;
      /** The signed transaction itself (for WPF: the payment transaction of the form). */
      transaction: PaymentResponse;
      /** When the signed transaction is a reference (a chargeback record, a refund): the debit it refers to. */
      original?: PaymentResponse;
      /** For a WPF notification: the form's own transaction_id. */
      wpfTransactionId?: string;
    };

/** The attempt EMP's answer identifies, as far as the checks need it. */
export interface AttemptFacts {
  id: number;
  transactionId: string;
  empUniqueId: string | null;
  amountCents: number;
  currency: string;
  status: AttemptStatus;
}

export const REJECTION_REASONS = [
  'unknown_transaction',
  'other_terminal',
  'not_a_debit',
  'not_an_attempt',
  'transaction_id_mismatch',
  'unique_id_mismatch',
  'amount_mismatch',
  'currency_mismatch',
  'names_another_transaction',
  'unreadable_claim',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type ContradictionReason = 'status' | 'amount' | 'undocumented_event';

export type Judgement =
  | { verdict: 'rejected'; reason: RejectionReason; detail: string }
  | {
      verdict: 'confirmed' | 'contradicted';
      reason: 'agrees' | ContradictionReason;
      detail: string;
      /** EMP's current state of the debit: what is applied. */
      debit: PaymentResponse;
      attempt: AttemptFacts;
      /** The debit is (or the claim says it is) charged back or reversed: its chargeback records carry the reason codes. */
      readChargebacks: boolean;
    };

const CHARGEBACK_STATES: ReadonlySet<AttemptStatus> = new Set(['chargebacked', 'chargeback_reversed']);

const reject = (reason: RejectionReason, detail: string): Judgement => ({ verdict: 'rejected', reason, detail });

/** The debit the signed transaction is, or refers to; undefined when EMP's answer is about something else. */
export function debitOf(answer: Extract<SignedAnswer, { found: true }>): PaymentResponse | undefined {
  if (isDebitTransactionType(answer.transaction.transactionType)) return answer.transaction;
  return answer.original && isDebitTransactionType(answer.original.transactionType) ? answer.original : undefined;
}

export function judgeNotification(
  claim: Record<string, string>,
  answer: SignedAnswer,
  attempt: AttemptFacts | undefined,
  terminalToken: string,
): Judgement {
  if (!answer.found) {
    return reject(answer.reason, answer.reason === 'other_terminal' ? 'EMP says the transaction is not this terminal\'s' : 'EMP does not know the signed transaction');
  }
  const terminals = [answer.transaction.terminalToken, answer.original?.terminalToken].filter(Boolean);
  if (terminals.some((token) => token !== terminalToken)) return reject('other_terminal', 'EMP reports the transaction on another terminal');
  const debit = debitOf(answer);
  if (!debit) return reject('not_a_debit', `EMP reports a ${answer.transaction.transactionType ?? 'transaction'} that is no direct debit`);
  if (!attempt) return reject('not_an_attempt', `no attempt of Tether's has EMP's transaction_id or unique_id`);
  if (debit.transactionId !== attempt.transactionId) return reject('transaction_id_mismatch', 'EMP\'s transaction_id is not the attempt\'s');
  if (attempt.empUniqueId && debit.uniqueId !== attempt.empUniqueId) return reject('unique_id_mismatch', 'EMP\'s unique_id is not the attempt\'s');
  if (debit.amount !== attempt.amountCents) return reject('amount_mismatch', `EMP's amount ${debit.amount ?? 'missing'} is not the attempt's ${attempt.amountCents}`);
  if ((debit.currency ?? '').toUpperCase() !== attempt.currency.toUpperCase()) {
    return reject('currency_mismatch', `EMP's currency ${debit.currency ?? 'missing'} is not the attempt's ${attempt.currency}`);
  }

  const interpretation = interpretEvent(claim);
  if (!interpretation.ok) return reject('unreadable_claim', interpretation.error);
  const claimed = interpretation.meaning;
  // A notification may name its own transaction or the debit it refers to; anything else is
  // a target it was not signed for.
  const ids = new Set([answer.transaction.uniqueId, debit.uniqueId].filter(Boolean));
  const transactionIds = new Set([answer.transaction.transactionId, debit.transactionId, answer.wpfTransactionId].filter(Boolean));
  if (claimed.attemptUniqueId && !ids.has(claimed.attemptUniqueId)) {
    return reject('names_another_transaction', 'the notification names a unique_id it is not signed for');
  }
  if (claimed.transactionId && !transactionIds.has(claimed.transactionId)) {
    return reject('names_another_transaction', 'the notification names a transaction_id it is not signed for');
  }

  const truth = attemptStatusFromGenesis(debit.status);
  const readChargebacks = (truth !== undefined && CHARGEBACK_STATES.has(truth)) || (claimed.target !== undefined && CHARGEBACK_STATES.has(claimed.target));
  const holds = (reason: Extract<Judgement, { debit: PaymentResponse }>['reason'], detail: string): Judgement => ({
    verdict: reason === 'agrees' ? 'confirmed' : 'contradicted',
    reason,
    detail,
    debit,
    attempt,
    readChargebacks,
  });
  if (claimed.review) return holds('undocumented_event', claimed.review);
  // A refund's (or void's) notification claims the state of that transaction, not of the debit: a
  // partial refund leaves the debit approved.
  const reference = answer.transaction !== debit && referenceTarget(answer.transaction.transactionType ?? '') !== undefined;
  const claimedStatus = (claim.status ?? '').trim().toLowerCase();
  if (reference && claimedStatus && claimedStatus !== answer.transaction.status.trim().toLowerCase()) {
    return holds('status', `the notification says the ${answer.transaction.transactionType} is ${claimedStatus}, EMP says ${answer.transaction.status}`);
  }
  if (!reference && claimed.target !== undefined && claimed.target !== truth) {
    return holds('status', `the notification says ${claimed.target}, EMP says ${debit.status}`);
  }
  const claimedAmount = claim.amount ?? claim.payment_transaction_amount;
  const signedAmount = answer.transaction.amount;
  if (claimedAmount !== undefined && signedAmount !== undefined && Number(claimedAmount.trim()) !== signedAmount) {
    return holds('amount', `the notification says amount ${claimedAmount}, EMP says ${signedAmount}`);
  }
  return holds('agrees', `EMP says ${debit.status}`);
}
