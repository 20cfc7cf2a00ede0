/**
 * An operator's refund of an approved debit, whole or in part. The attempt's row is locked while
 * its refunds are added up, so two operators (or nodes) refunding the same debit at once cannot
 * together refund more than was collected: the second waits for the first to commit and then
 * sees its refund. The refund, claimable for sending, and its audit entry commit together.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { recordAudit, type AuditActor } from '../audit/record';
import type { Database } from '../db/client';
import { refunds, type RefundStatus } from '../db/schema';

/** A debit that has collected money and has some of it left to refund. */
export const REFUNDABLE_STATUSES: readonly AttemptStatus[] = ['approved', 'partially_refunded'];

/** Refunds that take from what is left: every one not known to have failed. */
export const COMMITTED_REFUND_STATUSES: readonly RefundStatus[] = ['pending', 'sending', 'unknown', 'submitted', 'approved'];

export const MAX_REFUND_REASON = 500;

/** A refund that must not be made; nothing was written. */
export class RefundRefused extends Error {
  override name = 'RefundRefused';
}

export interface RefundRequest {
  attemptId: number;
  /** Minor units; the whole amount left when absent. */
  amountCents?: number;
  reason: string;
  actor: AuditActor;
  /** Shown as who asked: the operator's email, or the CLI user. */
  requestedBy: string;
}

export type Refund = typeof refunds.$inferSelect;

export function newRefundTransactionId(): string {
  return `tth_rf_${randomBytes(12).toString('hex')}`;
}

export async function requestRefund(db: Database, request: RefundRequest): Promise<Refund> {
  const reason = request.reason.trim();
  if (reason.length < 3 || reason.length > MAX_REFUND_REASON) throw new RefundRefused(`give a reason of 3 to ${MAX_REFUND_REASON} characters`);
  if (request.amountCents !== undefined && (!Number.isSafeInteger(request.amountCents) || request.amountCents <= 0)) {
    throw new RefundRefused('the amount must be a positive amount in cents');
  }
  return db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ status: AttemptStatus; amount_cents: string; currency: string; emp_unique_id: string | null; committed: string }>(sql`
      select a.status, a.amount_cents, a.currency, a.emp_unique_id,
             (select coalesce(sum(r.amount_cents), 0) from refunds r
              where r.attempt_id = a.id and r.status = any(${sql.param(COMMITTED_REFUND_STATUSES)}::text[])) as committed
      from billing_attempts a where a.id = ${request.attemptId}
      for update of a`);
    const attempt = rows[0];
    if (!attempt) throw new RefundRefused(`no billing attempt ${request.attemptId}`);
    if (!REFUNDABLE_STATUSES.includes(attempt.status)) throw new RefundRefused(`attempt ${request.attemptId} is ${attempt.status}: only an approved debit can be refunded`);
    if (!attempt.emp_unique_id) throw new RefundRefused(`attempt ${request.attemptId} has no Genesis unique_id to refund`);
    const left = Number(attempt.amount_cents) - Number(attempt.committed);
    const amount = request.amountCents ?? left;
    if (left <= 0) throw new RefundRefused(`attempt ${request.attemptId} is refunded in full already (counting refunds still under way)`);
    if (amount > left) throw new RefundRefused(`only ${left} cents of attempt ${request.attemptId} are left to refund (counting refunds still under way), not ${amount}`);
    const [refund] = await tx
      .insert(refunds)
      .values({
        attemptId: request.attemptId,
        transactionId: newRefundTransactionId(),
        amountCents: amount,
        currency: attempt.currency,
        reason,
        requestedBy: request.requestedBy,
      })
      .returning();
    await recordAudit(tx, {
      actor: request.actor,
      action: 'refund.requested',
      target: { kind: 'attempt', id: request.attemptId },
      before: { refundable_cents: left },
      after: { refund_id: refund!.id, transaction_id: refund!.transactionId, amount_cents: amount, currency: attempt.currency },
      reason,
    });
    return refund!;
  });
}
