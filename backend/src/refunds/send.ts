/**
 * One refund, from pending to EMP's answer, with a sale's guarantees: claimed in the database
 * first (pending → sending: of two nodes, one sends), sent with its own stable transaction_id
 * through the circuit breaker and a slot of the sales' shared rate limit (a refund is a request
 * on the same processing endpoint), and when no answer came (timeout, 5xx) marked unknown and
 * reconciled by transaction_id before it may ever be sent again.
 */
import { GENESIS_ERROR_CODES } from '@tether/shared/genesis-codes';
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import { sql } from 'drizzle-orm';
import type { BillingContext } from '../billing/context';
import { GenesisError } from '../emp/errors';
import { describeError } from '../events/describe-error';
import { recordRefundAnswer } from './outcome';

export type RefundSendOutcome = 'answered' | 'unknown' | 'released' | 'skipped';

type ClaimedRefund = { id: number; transaction_id: string; amount_cents: string; currency: string; reference_id: string };

/** The usage line EMP shows: who the money goes back to is EMP's business, not the text's. */
const refundUsage = (refundId: number) => `Tether refund ${refundId}`;

async function claimRefund(context: BillingContext, refundId: number): Promise<ClaimedRefund | undefined> {
  const { rows } = await context.db.execute<ClaimedRefund>(sql`
    update refunds r set status = 'sending', claimed_by = ${context.nodeId}, claimed_at = now(), updated_at = now()
    from billing_attempts a
    where r.id = ${refundId} and r.status = 'pending' and a.id = r.attempt_id and a.emp_unique_id is not null
    returning r.id, r.transaction_id, r.amount_cents, r.currency, a.emp_unique_id as reference_id`);
  return rows[0];
}

async function setRefund(context: BillingContext, refundId: number, from: string, to: 'pending' | 'unknown', note: string) {
  await context.db.execute(sql`
    update refunds set status = ${to}, error_message = ${note}, claimed_by = null, updated_at = now(),
      sent_at = case when ${to} = 'unknown' then coalesce(sent_at, now()) else sent_at end
    where id = ${refundId} and status = ${from}`);
}

export async function sendRefund(context: BillingContext, refundId: number): Promise<RefundSendOutcome> {
  const refund = await claimRefund(context, refundId);
  if (!refund) return 'skipped';
  let payment: PaymentResponse;
  try {
    payment = await context.breaker.execute(() =>
      context.genesis.sddRefund(
        {
          transactionId: refund.transaction_id,
          usage: refundUsage(refund.id),
          amount: Number(refund.amount_cents),
          currency: refund.currency,
          referenceId: refund.reference_id,
        },
        { beforeWrite: () => context.saleLimiter.acquire() },
      ),
    );
  } catch (error) {
    if (error instanceof GenesisError && error.outcome === 'unknown') {
      await setRefund(context, refund.id, 'sending', 'unknown', `no answer from EMP: ${describeError(error)}`);
      return 'unknown';
    }
    // Never written (no connection, no rate slot, the breaker open, credentials refused): the same
    // transaction_id is sent again later.
    await setRefund(context, refund.id, 'sending', 'pending', `not sent: ${describeError(error)}`);
    return 'released';
  }
  if (payment.status === 'error' && !payment.uniqueId && payment.code === GENESIS_ERROR_CODES.duplicateTransaction) {
    // An earlier send reached EMP after all: its outcome is learnt by reconciling, never by resending.
    await setRefund(context, refund.id, 'sending', 'unknown', 'EMP already has this transaction_id (450): reconciling it');
    await reconcileRefund(context, refund.id);
    return 'answered';
  }
  if (payment.status === 'error' && payment.code === GENESIS_ERROR_CODES.timeout) {
    await setRefund(context, refund.id, 'sending', 'unknown', 'EMP timed out (230): reconcile');
    return 'unknown';
  }
  // A refusal without a unique_id names no transaction: recorded by our transaction_id.
  const recording = await recordRefundAnswer(context.db, { ...payment, transactionId: refund.transaction_id }, 'refund');
  if (!recording.recorded) {
    await setRefund(context, refund.id, 'sending', 'unknown', `EMP answered ${payment.status} but it could not be recorded: ${recording.why}`);
    return 'unknown';
  }
  return 'answered';
}

/**
 * Asks EMP about a refund by its transaction_id: what EMP has is recorded; a refund EMP does not
 * know was never received, so it goes back to pending and may be sent again, with the same id.
 */
export async function reconcileRefund(context: BillingContext, refundId: number): Promise<void> {
  const { rows } = await context.db.execute<{ transaction_id: string; status: string }>(sql`
    select transaction_id, status from refunds where id = ${refundId}`);
  const refund = rows[0];
  if (!refund) return;
  await context.reconcileLimiter.acquire();
  const payment = await context.genesis.reconcileByTransactionId(refund.transaction_id);
  await context.db.execute(sql`update refunds set last_reconciled_at = now() where id = ${refundId}`);
  if (!payment) {
    if (refund.status === 'unknown' || refund.status === 'sending') {
      await setRefund(context, refundId, refund.status, 'pending', 'EMP does not know this refund: it may be sent again');
    }
    return;
  }
  const recording = await recordRefundAnswer(context.db, payment, 'reconcile');
  if (!recording.recorded) context.log.error({ refundId, why: recording.why }, 'EMP\'s answer about a refund could not be recorded');
}
