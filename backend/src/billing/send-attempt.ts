/**
 * One attempt, from pending to EMP's answer: Verification of Payee (when enabled), the claim
 * (with the blacklist check), the sale through the circuit breaker (a connection to EMP, then a
 * slot of the shared rate limit, then the request), and the answer recorded through the events
 * apply path. What the sale's failure says decides what happens next:
 *
 *   no answer (timeout, 5xx, broken connection)  → unknown: reconcile before anything is resent
 *   never left (breaker open, no connection)     → pending again, the same transaction_id
 *   code 450, "duplicate transaction_id"         → EMP has it already: reconcile it now
 *   code 230, "timeout, please reconcile"        → unknown
 *   any other answer                             → applied like a notification would be, or, when it
 *                                                  cannot be recorded on the attempt, unknown (with
 *                                                  the cause: see answer-recording.ts)
 */
import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { billingAttempts } from '../db/schema';
import { GenesisAuthError, GenesisError } from '../emp/errors';
import { describeError } from '../events/describe-error';
import { reconcileAttempt } from '../reconciliation/reconcile-attempt';
import { recurringDebitFor, type RecurringDebit } from '../recurring/mandates';
import { checkAttemptPayee } from '../vop/attempt-check';
import { moveAttempt } from './attempt-moves';
import { claimAttempt, releaseClaim } from './claim';
import type { BillingContext } from './context';
import { BrokenCircuitError } from './emp-breaker';
import { recordGenesisAnswer } from './answer-recording';
import { saleRequestFor, type ClaimedAttempt } from './sale-request';

export type SendOutcome =
  /** EMP answered; recorded. */
  | 'answered'
  /** No answer: the attempt waits for reconciliation. */
  | 'unknown'
  /** Claimed but never sent (no connection, run stopped meanwhile): pending again. */
  | 'released'
  /** The circuit breaker is open: pending again. */
  | 'broken'
  /** The breaker is half-open and another request is testing EMP: pending again, try later. */
  | 'deferred'
  /** EMP refused Tether's credentials: pending again, and the run must pause. */
  | 'refused'
  /** Blacklisted since the upload, or its recurring mandate ended. */
  | 'cancelled'
  /** Held by the Verification of Payee policy. */
  | 'held'
  /** Not claimable: taken by another node, no longer pending, or the run is not running. */
  | 'skipped';

export interface SendOptions {
  probe?: boolean;
  /**
   * Asked once the rate slot is ours, without waiting (nothing may delay a request between its
   * slot and EMP): false when the run was seen paused or cancelled meanwhile.
   */
  stillWanted?: () => boolean;
}

export async function sendAttempt(context: BillingContext, runId: string, attemptId: number, options: SendOptions = {}): Promise<SendOutcome> {
  if (context.payees.enabled) {
    const payee = await checkAttemptPayee(context.db, context.payees, attemptId);
    if (payee.kind === 'held') return 'held';
    if (payee.kind === 'not_pending') return 'skipped';
  }
  const phases = context.metrics.phaseSeconds;
  const claimed = phases.startTimer({ phase: 'claim' });
  const claim = await claimAttempt(context, runId, attemptId, { probe: options.probe });
  claimed();
  if (claim.kind === 'cancelled') return 'cancelled';
  if (claim.kind === 'not_claimable') return 'skipped';
  const attempt = claim.attempt;
  const recurring = attempt.recurring ? await recurringDebitFor(context.db, attempt) : undefined;
  if (recurring?.kind === 'ended') return cancelOnEndedMandate(context, attempt.id, recurring);

  // The slot is taken once the connection to EMP is ready, and nothing but the request's bytes
  // comes after it: opening a connection (a TLS handshake) after the slot would make the
  // request reach EMP late, bunched with the ones after it.
  const slotted = phases.startTimer({ phase: 'rate_slot' });
  let answered: (() => void) | undefined;
  const whenSlotDue = async () => {
    try {
      await context.saleLimiter.acquire();
    } catch (error) {
      throw new NotSent(`no rate slot (${describeError(error)})`, error);
    }
    slotted();
    if (options.stillWanted && !options.stillWanted()) throw new NotSent('billing run stopped before sending');
    // The moment each sale leaves, to compare with when EMP (or the simulator) counted it.
    context.log.debug({ attemptId: attempt.id, transactionId: attempt.transactionId }, 'sale sending');
    answered = phases.startTimer({ phase: 'emp' });
  };
  const request = saleRequestFor(attempt);
  // A one-off debit is an sdd_sale; a recurring debtor's first an sdd_init_recurring_sale (FRST), later ones reference it (RCUR).
  const send = () => {
    const options = { beforeWrite: whenSlotDue };
    if (recurring?.kind === 'first') return context.genesis.sddInitRecurringSale(request, options);
    if (recurring?.kind === 'recurring') {
      const { transactionId, usage, amount, currency } = request;
      return context.genesis.sddRecurringSale({ transactionId, usage, amount, currency, referenceId: recurring.referenceId }, options);
    }
    return context.genesis.sddSale(request, options);
  };
  let payment: PaymentResponse;
  try {
    payment = await context.breaker.execute(send);
  } catch (error) {
    return recordFailure(context, attempt, error);
  } finally {
    answered?.();
  }
  const recorded = phases.startTimer({ phase: 'record' });
  const [outcome] = await Promise.all([recordAnswer(context, attempt, payment), markSent(context, attempt.id)]);
  recorded();
  return outcome;
}

/** The mandate was ended by a chargeback: never sent, cancelled with the reason, as a blacklisted IBAN is. */
async function cancelOnEndedMandate(context: BillingContext, attemptId: number, mandate: Extract<RecurringDebit, { kind: 'ended' }>): Promise<SendOutcome> {
  const note = { source: 'billing' as const, reason: 'recurring mandate ended before sending', mandate_id: mandate.mandateId, reason_code: mandate.reasonCode };
  await moveAttempt(context.db, attemptId, { from: 'sending', to: 'pending', note, set: { claimedBy: null, claimedAt: null } });
  await moveAttempt(context.db, attemptId, {
    from: 'pending',
    to: 'cancelled',
    note,
    set: { errorCode: 'mandate_ended', errorMessage: `recurring mandate ended${mandate.reasonCode ? ` by a ${mandate.reasonCode} chargeback` : ''}` },
  });
  return 'cancelled';
}

async function markSent(context: BillingContext, attemptId: number): Promise<void> {
  await context.db
    .update(billingAttempts)
    .set({ sentAt: new Date() })
    .where(and(eq(billingAttempts.id, attemptId), isNull(billingAttempts.sentAt)));
}

/** The sale was never written: no rate slot (Redis unreachable, `cause`), or the run stopped while it waited for one. */
class NotSent extends Error {
  constructor(
    reason: string,
    override readonly cause?: unknown,
  ) {
    super(reason);
  }
}

async function recordFailure(context: BillingContext, attempt: ClaimedAttempt, error: unknown): Promise<SendOutcome> {
  if (error instanceof NotSent) {
    await releaseClaim(context, attempt.id, `${error.message}: not sent`);
    if (error.cause !== undefined) throw error.cause;
    return 'released';
  }
  if (error instanceof BrokenCircuitError) {
    const testing = context.breaker.state === 'half_open';
    await releaseClaim(context, attempt.id, testing ? 'circuit breaker testing EMP: not sent' : 'circuit breaker open: not sent');
    return testing ? 'deferred' : 'broken';
  }
  if (!(error instanceof GenesisError)) {
    // Thrown before any request (the client throws only GenesisErrors once it sends): a fault of
    // ours that a resend would repeat. The attempt waits, pending, for a fix; the batch fails loudly.
    await moveAttempt(context.db, attempt.id, {
      from: 'sending',
      to: 'pending',
      note: { source: 'billing', reason: `not sent: ${describeError(error)}` },
      set: { claimedBy: null, claimedAt: null },
    });
    throw error;
  }
  if (error.outcome !== 'unknown') {
    await releaseClaim(context, attempt.id, `not sent: ${error.message}`);
    return error instanceof GenesisAuthError ? 'refused' : 'released';
  }
  await moveAttempt(context.db, attempt.id, {
    from: 'sending',
    to: 'unknown',
    note: { source: 'billing', reason: `no answer from EMP: ${describeError(error)}` },
    set: { sentAt: sql`coalesce(${billingAttempts.sentAt}, now())` },
  });
  return 'unknown';
}

async function recordAnswer(context: BillingContext, attempt: ClaimedAttempt, payment: PaymentResponse): Promise<SendOutcome> {
  const refusedWithoutTransaction = payment.status === 'error' && !payment.uniqueId;
  if (refusedWithoutTransaction && payment.code === GENESIS_ERROR_CODES.duplicateTransaction) {
    // An earlier send of this transaction_id reached EMP after all: learn its outcome instead.
    const unknown = await moveAttempt(context.db, attempt.id, {
      from: 'sending',
      to: 'unknown',
      note: { source: 'billing', reason: 'EMP already has this transaction_id (450): reconciling it' },
    });
    // Unless a notification about that transaction told us first.
    if (unknown) await reconcileAttempt(context, { id: attempt.id, transactionId: attempt.transactionId, empUniqueId: null, status: 'unknown' });
    return 'answered';
  }
  if (payment.status === 'error' && payment.code === GENESIS_ERROR_CODES.timeout) {
    await moveAttempt(context.db, attempt.id, {
      from: 'sending',
      to: 'unknown',
      note: { source: 'billing', reason: 'EMP timed out (230): reconcile', unique_id: payment.uniqueId },
    });
    return 'unknown';
  }
  const recording = await recordGenesisAnswer(context, attempt, payment, 'sale');
  if (recording.recorded) return 'answered';
  // Not left in sending, which nothing but a stale-claim sweep would ever look at: reconciliation asks EMP again.
  await moveAttempt(context.db, attempt.id, {
    from: 'sending',
    to: 'unknown',
    note: { source: 'billing', reason: `EMP answered ${payment.status} but it could not be recorded: ${recording.cause}`, unique_id: payment.uniqueId },
    set: { sentAt: sql`coalesce(${billingAttempts.sentAt}, now())` },
  });
  return 'unknown';
}
