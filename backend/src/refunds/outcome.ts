/**
 * What EMP says about a refund, recorded on it; and what the refunds of a debit make of it: once
 * approved refunds add up to the whole amount the attempt is refunded, before that partially
 * refunded (the state machine decides the move, shared/src/attempt-status.ts). Refund and attempt
 * change in one transaction, the attempt's row locked first, as the events path locks it.
 */
import { decideTransition, type AttemptStatus } from '@tether/shared/attempt-status';
import type { PaymentResponse } from '@tether/shared/genesis-xml';
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import type { RefundStatus } from '../db/schema';

/** Genesis states of an sdd_refund as refund statuses; a pending state is EMP still deciding. */
const FROM_GENESIS: Record<string, RefundStatus> = {
  approved: 'approved',
  declined: 'declined',
  error: 'error',
  unsuccessful: 'error',
  pending: 'submitted',
  pending_async: 'submitted',
  pending_hold: 'submitted',
  pending_review: 'submitted',
  in_progress: 'submitted',
};

/** EMP's verdict on a refund stands: a late pending answer does not undo it. */
const SETTLED: ReadonlySet<RefundStatus> = new Set(['approved', 'declined', 'error']);

export function refundStatusFromGenesis(status: string): RefundStatus | undefined {
  const key = status.trim().toLowerCase();
  return Object.hasOwn(FROM_GENESIS, key) ? FROM_GENESIS[key] : undefined;
}

export type RefundRecording =
  | { recorded: false; why: string }
  | { recorded: true; refundId: number; status: RefundStatus; attempt?: { from: AttemptStatus; to: AttemptStatus } };

/**
 * Records EMP's answer about one of Tether's refunds, found by its transaction_id (or unique_id);
 * `origin` says where the answer came from, for the attempt's history.
 */
export async function recordRefundAnswer(db: Executor, payment: PaymentResponse, origin: 'refund' | 'reconcile' | 'notification'): Promise<RefundRecording> {
  const status = refundStatusFromGenesis(payment.status);
  if (!status) return { recorded: false, why: `Genesis state ${payment.status} says nothing about a refund` };
  return db.transaction(async (tx) => {
    const { rows: attempts } = await tx.execute<{ id: number; attempt_id: number }>(sql`
      select r.id, r.attempt_id from refunds r
      where r.transaction_id = ${payment.transactionId ?? ''} or r.emp_unique_id = ${payment.uniqueId ?? ''}
      limit 1`);
    const found = attempts[0];
    if (!found) return { recorded: false, why: 'no refund of Tether\'s has this transaction_id or unique_id' };
    // Attempt first, refund second: the events path locks attempts first too.
    const { rows: locked } = await tx.execute<{ status: AttemptStatus; amount_cents: string }>(sql`
      select status, amount_cents from billing_attempts where id = ${found.attempt_id} for update`);
    const { rows: current } = await tx.execute<{ status: RefundStatus; emp_unique_id: string | null }>(sql`
      select status, emp_unique_id from refunds where id = ${found.id} for update`);
    const refund = current[0]!;
    if (refund.emp_unique_id && payment.uniqueId && refund.emp_unique_id !== payment.uniqueId) {
      return { recorded: false, why: `unique_id ${payment.uniqueId} is not the refund's (${refund.emp_unique_id})` };
    }
    const next = SETTLED.has(refund.status) ? refund.status : status;
    await tx.execute(sql`
      update refunds set status = ${next}, emp_status = ${payment.status},
        emp_unique_id = coalesce(emp_unique_id, ${payment.uniqueId ?? null}),
        error_code = ${payment.code ?? null}, error_message = ${payment.code ? (payment.technicalMessage ?? payment.message ?? null) : null},
        sent_at = coalesce(sent_at, now()), claimed_by = null, updated_at = now()
      where id = ${found.id}`);
    if (next !== 'approved') return { recorded: true, refundId: found.id, status: next };
    const { rows: sums } = await tx.execute<{ approved: string }>(sql`
      select coalesce(sum(amount_cents), 0) as approved from refunds where attempt_id = ${found.attempt_id} and status = 'approved'`);
    const attempt = locked[0]!;
    const target: AttemptStatus = Number(sums[0]!.approved) >= Number(attempt.amount_cents) ? 'refunded' : 'partially_refunded';
    const decision = decideTransition(attempt.status, target);
    if (decision.kind !== 'apply') return { recorded: true, refundId: found.id, status: next };
    const entry = { at: new Date().toISOString(), source: 'refund', from: attempt.status, to: target, refund_id: found.id, refunded_cents: Number(sums[0]!.approved), origin };
    await tx.execute(sql`
      update billing_attempts set status = ${target}, history = history || jsonb_build_array(${JSON.stringify(entry)}::jsonb), updated_at = now()
      where id = ${found.attempt_id}`);
    return { recorded: true, refundId: found.id, status: next, attempt: { from: attempt.status, to: target } };
  });
}
