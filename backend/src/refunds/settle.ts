/**
 * Refunds that still owe a step, looked after by each reconciliation pass (any node): one whose
 * sender died before sending is sent; one whose answer was lost (unknown, or claimed and never
 * answered) is reconciled before anything is resent; one EMP is still deciding is reconciled
 * once its notification is overdue, which is how a lost notification is recovered.
 */
import { sql } from 'drizzle-orm';
import type { BillingContext } from '../billing/context';
import { describeError } from '../events/describe-error';
import { reconcileRefund, sendRefund } from './send';

/** A refund is sent as soon as it is requested; one still pending after this lost its sender. */
const UNSENT_AFTER = '30 seconds';
/** Longer than a request with its rate slot and timeout can take. */
const CLAIM_STALE_AFTER = '2 minutes';
/** EMP settles refunds asynchronously; past this without news, ask (and then at this interval). */
const ASK_SUBMITTED_EVERY = '10 minutes';

const BATCH = 500;

export interface RefundSweep {
  sent: number;
  reconciled: number;
  failed: number;
}

export async function settleOpenRefunds(context: BillingContext): Promise<RefundSweep> {
  const { rows } = await context.db.execute<{ id: number; status: string }>(sql`
    select id, status from refunds
    where (status = 'pending' and updated_at < now() - ${UNSENT_AFTER}::interval)
       or status = 'unknown'
       or (status = 'sending' and claimed_at < now() - ${CLAIM_STALE_AFTER}::interval)
       or (status = 'submitted' and updated_at < now() - ${ASK_SUBMITTED_EVERY}::interval
           and (last_reconciled_at is null or last_reconciled_at < now() - ${ASK_SUBMITTED_EVERY}::interval))
    order by updated_at limit ${BATCH}`);
  const sweep: RefundSweep = { sent: 0, reconciled: 0, failed: 0 };
  for (const refund of rows) {
    try {
      if (refund.status === 'pending') {
        await sendRefund(context, refund.id);
        sweep.sent++;
      } else {
        await reconcileRefund(context, refund.id);
        sweep.reconciled++;
      }
    } catch (error) {
      sweep.failed++;
      context.log.warn({ refundId: refund.id, error: describeError(error) }, 'refund not settled this pass; the next one tries again');
    }
  }
  return sweep;
}
