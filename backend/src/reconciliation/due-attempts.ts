/**
 * The attempts whose outcome EMP still owes: claims left in sending by a node that died (they
 * become unknown — the request may have left), attempts unknown for longer than
 * RECONCILE_UNKNOWN_AFTER, and attempts submitted for longer than RECONCILE_SUBMITTED_AFTER
 * without news. Each is reconciled singly, a few at a time, at the reconciliation rate.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { and, eq, lt, sql } from 'drizzle-orm';
import { moveAttempts } from '../billing/attempt-moves';
import type { BillingContext } from '../billing/context';
import { billingAttempts } from '../db/schema';
import { reconcileAttempt, type AttemptToReconcile, type ReconcileResult } from './reconcile-attempt';

/** Reconcile requests in flight at once; the shared limiter spaces them anyway. */
const CONCURRENCY = 4;
/** Attempts per pass; the next pass takes the rest. */
const MAX_PER_PASS = 5_000;

export interface DueSummary {
  staleClaims: number;
  reconciled: Partial<Record<ReconcileResult, number>>;
}

export async function reconcileDueAttempts(context: BillingContext): Promise<DueSummary> {
  const settings = context.reconciliation;
  const stale = await moveAttempts(context.db, {
    where: and(eq(billingAttempts.status, 'sending'), lt(billingAttempts.claimedAt, sql`now() - ${settings.staleClaimAfterMs} * interval '1 millisecond'`))!,
    from: 'sending',
    to: 'unknown',
    note: { source: 'reconciliation', reason: 'claim went stale: its node may have sent it before dying' },
  });
  const { rows } = await context.db.execute<{ id: number; transaction_id: string; emp_unique_id: string | null; status: AttemptStatus }>(sql`
    select id, transaction_id, emp_unique_id, status from billing_attempts
    where id = any(${sql.param(stale)}::bigint[])
       or (status = 'unknown' and updated_at < now() - ${settings.unknownAfterMs} * interval '1 millisecond')
       or (status = 'submitted' and greatest(updated_at, coalesce(last_reconciled_at, updated_at))
                                     < now() - ${settings.submittedAfterMs} * interval '1 millisecond')
    order by updated_at
    limit ${MAX_PER_PASS}`);
  const due: AttemptToReconcile[] = rows.map((row) => ({
    id: row.id,
    transactionId: row.transaction_id,
    empUniqueId: row.emp_unique_id,
    status: row.status,
  }));

  const summary: DueSummary = { staleClaims: stale.length, reconciled: {} };
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const result = await reconcileAttempt(context, due[next++]!);
      summary.reconciled[result] = (summary.reconciled[result] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
  return summary;
}
