/**
 * Asks Genesis for one attempt's transaction (by unique_id when known, else by Tether's
 * transaction_id) at the reconciliation rate, and applies the answer through the events path,
 * exactly as if it had come as a notification. When Genesis has no such transaction (460), an
 * attempt whose outcome was unknown provably never reached EMP: it is pending again and may be
 * sent again, with the same transaction_id, so Genesis' duplicate check (450) still guards it.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { eq, sql } from 'drizzle-orm';
import { moveAttempt } from '../billing/attempt-moves';
import type { BillingContext } from '../billing/context';
import { recordGenesisAnswer } from '../billing/answer-recording';
import { requeueAttempt } from '../billing/runs';
import { billingAttempts } from '../db/schema';
import { describeError } from '../events/describe-error';

export interface AttemptToReconcile {
  id: number;
  transactionId: string;
  empUniqueId: string | null;
  status: AttemptStatus;
}

/** unrecorded: EMP answered, but the answer could not be recorded on the attempt (answer-recording.ts). */
export type ReconcileResult = 'found' | 'not_found' | 'failed' | 'unrecorded';

export async function reconcileAttempt(context: BillingContext, attempt: AttemptToReconcile): Promise<ReconcileResult> {
  const { genesis, log, metrics } = context;
  let payment;
  try {
    await context.reconcileLimiter.acquire();
    payment = attempt.empUniqueId
      ? await genesis.reconcileByUniqueId(attempt.empUniqueId)
      : await genesis.reconcileByTransactionId(attempt.transactionId);
  } catch (error) {
    log.warn({ attemptId: attempt.id, error: describeError(error) }, 'reconcile failed; the next pass asks again');
    metrics.reconciled.inc({ result: 'failed' });
    return 'failed';
  }
  await context.db.update(billingAttempts).set({ lastReconciledAt: sql`now()` }).where(eq(billingAttempts.id, attempt.id));

  if (payment) {
    const result = (await recordGenesisAnswer(context, attempt, payment, 'reconcile')).recorded ? 'found' : 'unrecorded';
    metrics.reconciled.inc({ result });
    return result;
  }
  metrics.reconciled.inc({ result: 'not_found' });
  if (attempt.status !== 'unknown') {
    log.warn({ attemptId: attempt.id, status: attempt.status }, 'EMP does not know this attempt although it answered for it before');
    return 'not_found';
  }
  const moved = await moveAttempt(context.db, attempt.id, {
    from: 'unknown',
    to: 'pending',
    note: { source: 'reconciliation', reason: 'EMP has no transaction with this transaction_id (460): it may be sent again' },
    set: { claimedBy: null, claimedAt: null },
  });
  if (moved) await requeueAttempt(context, attempt.id);
  return 'not_found';
}
