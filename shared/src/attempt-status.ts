/**
 * The billing attempt's life, in one place. Every change of an attempt's status — from billing,
 * from an EMP notification or from reconciliation — is decided by `decideTransition`, so a missed
 * notification recovered by reconciliation and a delivered one end in the same state.
 *
 * Statuses only move forward along the edges below. A late "approved" after "chargebacked" is
 * stale (the attempt is already past it); "chargebacked" after "declined" is illegal (no path).
 */

export const ATTEMPT_STATUSES = [
  'pending', // created, waiting to be billed
  'sending', // claimed by one billing worker; the request to EMP may be in flight
  'unknown', // EMP's answer was lost (timeout, 5xx): reconcile before anything is resent
  'submitted', // EMP accepted it; the final outcome will follow (pending, pending_async, …)
  'approved',
  'declined',
  'error',
  'voided',
  'partially_refunded', // an approved debit of which some, not all, was refunded (Tether's refunds table says how much)
  'refunded',
  'chargebacked',
  'chargeback_reversed',
  'cancelled', // never sent: blacklisted, failed Verification of Payee, or cancelled by an operator
] as const;

export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

const EMP_OUTCOMES: AttemptStatus[] = ['submitted', 'approved', 'declined', 'error', 'voided', 'refunded', 'chargebacked'];

const NEXT: Record<AttemptStatus, readonly AttemptStatus[]> = {
  pending: ['sending', 'cancelled'],
  // A notification can overtake the synchronous answer, so every EMP outcome may follow "sending".
  // Back to "pending" only when the request provably never left (e.g. the circuit breaker was open).
  sending: ['pending', 'unknown', ...EMP_OUTCOMES],
  // Reconciliation answers; "pending" when EMP has no such transaction, so it may be sent again.
  unknown: ['pending', ...EMP_OUTCOMES],
  submitted: ['approved', 'declined', 'error', 'voided', 'refunded', 'chargebacked'],
  // SEPA rejects an approved debit before settlement as declined or error; returns become chargebacks.
  approved: ['declined', 'error', 'voided', 'partially_refunded', 'refunded', 'chargebacked'],
  declined: [],
  error: [],
  voided: [],
  // Further partial refunds leave it here; the one that completes the amount refunds it.
  partially_refunded: ['refunded', 'chargebacked'],
  // A debtor's refund (MD06) can arrive after the merchant already refunded.
  refunded: ['chargebacked'],
  chargebacked: ['chargeback_reversed'],
  // Second chargeback or pre-arbitration after a reversal or representment.
  chargeback_reversed: ['chargebacked'],
  cancelled: [],
};

export type TransitionDecision =
  | { kind: 'apply'; from: AttemptStatus; to: AttemptStatus }
  /** Already in that status: nothing moves, but the event's details may still be recorded. */
  | { kind: 'unchanged'; status: AttemptStatus }
  /** The attempt is already past the proposed status (a late or reordered event). */
  | { kind: 'stale'; from: AttemptStatus; to: AttemptStatus }
  /** No path leads there: recorded on the event, never applied. */
  | { kind: 'illegal'; from: AttemptStatus; to: AttemptStatus };

function reachable(from: AttemptStatus, to: AttemptStatus): boolean {
  const seen = new Set<AttemptStatus>([from]);
  const queue: AttemptStatus[] = [from];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const next of NEXT[current]) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}

export function decideTransition(from: AttemptStatus, to: AttemptStatus): TransitionDecision {
  if (from === to) return { kind: 'unchanged', status: from };
  if (NEXT[from].includes(to)) return { kind: 'apply', from, to };
  // chargebacked ⇄ chargeback_reversed is a cycle, so reachability alone cannot call it stale;
  // the direct edge above already handled the legitimate moves between them.
  if (reachable(to, from)) return { kind: 'stale', from, to };
  return { kind: 'illegal', from, to };
}

/** Statuses whose outcome EMP still owes us: reconciliation asks about these. */
export const AWAITING_EMP: readonly AttemptStatus[] = ['sending', 'unknown', 'submitted'];

/** A debit that may still be collected: not sent yet, or its outcome still owed by EMP. */
export const OPEN_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['pending', ...AWAITING_EMP];

export function isAttemptStatus(value: string): value is AttemptStatus {
  return (ATTEMPT_STATUSES as readonly string[]).includes(value);
}
