/**
 * What an operator does with a review item, each leaving one audit entry. Blacklisting and
 * dismissing record their decision (the item leaves its queue) in the same transaction as the
 * entry. Reconciling and replaying reuse the existing paths (reconciliation/reconcile-attempt.ts,
 * events/process.ts), which commit EMP's answer in transactions of their own; their audit entry
 * follows with what the attempt or event became. An item that moved on by itself (reconciled
 * meanwhile, dismissed in another tab) is refused rather than acted on twice.
 */
import { maskIban } from '@tether/shared/mask';
import { reasonCodePolicy } from '@tether/shared/reason-codes';
import { eq } from 'drizzle-orm';
import { recordAudit, type AuditActor } from '../audit/record';
import type { BillingContext } from '../billing/context';
import { addToBlacklist } from '../blacklist/blacklist';
import type { Executor } from '../db/executor';
import { billingAttempts, debtors, reviewDecisions } from '../db/schema';
import { reprocessEvent } from '../events/process';
import { reconcileAttempt } from '../reconciliation/reconcile-attempt';
import { findReviewItem, QUEUE_ACTIONS, type ReviewItem, type ReviewQueue } from './queues';

export class ReviewActionRefused extends Error {
  override name = 'ReviewActionRefused';
}

export interface ReviewRequest {
  queue: ReviewQueue;
  id: number;
  actor: AuditActor;
}

const reviewTarget = (queue: ReviewQueue, id: number) => ({ kind: 'review_item', id: `${queue}/${id}` });

async function itemInQueue(db: Executor, context: BillingContext, request: ReviewRequest, action?: 'blacklist' | 'reconcile' | 'replay'): Promise<ReviewItem> {
  if (action && !QUEUE_ACTIONS[request.queue].includes(action)) throw new ReviewActionRefused(`items of the ${request.queue} queue cannot be asked to ${action}`);
  const item = await findReviewItem(db, request.queue, request.id, { unknownAfterMs: context.reconciliation.unknownAfterMs });
  if (!item) throw new ReviewActionRefused(`item ${request.id} is not in the ${request.queue} queue any more`);
  return item;
}

async function recordDecision(tx: Executor, request: ReviewRequest, decision: 'dismissed' | 'blacklisted', reason: string): Promise<void> {
  const inserted = await tx
    .insert(reviewDecisions)
    .values({ queue: request.queue, itemId: String(request.id), decision, reason, decidedBy: actorName(request.actor) })
    .onConflictDoNothing()
    .returning({ id: reviewDecisions.id });
  if (inserted.length === 0) throw new ReviewActionRefused(`item ${request.id} was decided on already`);
}

function actorName(actor: AuditActor): string {
  if (actor.kind === 'system') return actor.name;
  return actor.email ?? (actor.kind === 'cli' ? actor.osUser : 'operator');
}

export async function dismissItem(context: BillingContext, request: ReviewRequest & { reason: string }): Promise<void> {
  await context.db.transaction(async (tx) => {
    const item = await itemInQueue(tx, context, request);
    await recordDecision(tx, request, 'dismissed', request.reason);
    await recordAudit(tx, {
      actor: request.actor,
      action: 'review.dismissed',
      target: reviewTarget(request.queue, request.id),
      before: { label: item.label, attempt_id: item.attemptId },
      reason: request.reason,
    });
  });
}

/** The charged-back debtor's IBAN onto the blacklist, by the operator, with the chargeback's code. */
export async function blacklistFromReview(context: BillingContext, request: ReviewRequest & { reason: string }): Promise<{ maskedIban: string; created: boolean }> {
  return context.db.transaction(async (tx) => {
    const item = await itemInQueue(tx, context, request, 'blacklist');
    const [debtor] = await tx
      .select({ iban: debtors.iban })
      .from(billingAttempts)
      .innerJoin(debtors, eq(debtors.id, billingAttempts.debtorId))
      .where(eq(billingAttempts.id, item.attemptId ?? 0));
    if (!debtor) throw new ReviewActionRefused(`item ${request.id} names no attempt`);
    const knownCode = reasonCodePolicy(item.label).class !== 'unknown' ? item.label : undefined;
    const { entry, created } = await addToBlacklist(tx, context.events.personalDataKey, {
      iban: debtor.iban,
      reason: request.reason,
      reasonCode: knownCode,
      source: 'operator',
      createdBy: actorName(request.actor),
    });
    await recordDecision(tx, request, 'blacklisted', request.reason);
    const maskedIban = maskIban(debtor.iban);
    await recordAudit(tx, {
      actor: request.actor,
      action: 'blacklist.added',
      target: { kind: 'blacklist', id: entry.id },
      after: { iban: maskedIban, reason_code: knownCode ?? null, created, review_item: `${request.queue}/${request.id}` },
      reason: request.reason,
    });
    return { maskedIban, created };
  });
}

/** Asks EMP about the item's attempt now, at the reconciliation rate, and applies the answer. */
export async function reconcileFromReview(context: BillingContext, request: ReviewRequest): Promise<{ result: string; status: string }> {
  const item = await itemInQueue(context.db, context, request, 'reconcile');
  const [attempt] = await context.db.select().from(billingAttempts).where(eq(billingAttempts.id, item.attemptId ?? 0));
  if (!attempt) throw new ReviewActionRefused(`item ${request.id} names no attempt to reconcile`);
  const result = await reconcileAttempt(context, { id: attempt.id, transactionId: attempt.transactionId, empUniqueId: attempt.empUniqueId, status: attempt.status });
  const [after] = await context.db.select({ status: billingAttempts.status }).from(billingAttempts).where(eq(billingAttempts.id, attempt.id));
  await recordAudit(context.db, {
    actor: request.actor,
    action: 'attempt.reconciled',
    target: { kind: 'attempt', id: attempt.id },
    before: { status: attempt.status },
    after: { status: after?.status ?? attempt.status, result, review_item: `${request.queue}/${request.id}` },
  });
  return { result, status: after?.status ?? attempt.status };
}

/** Runs the pending event again through the apply path: it applies if its attempt is known now. */
export async function replayFromReview(context: BillingContext, request: ReviewRequest): Promise<{ outcome: string }> {
  const item = await itemInQueue(context.db, context, request, 'replay');
  const result = await reprocessEvent(context.events, item.id);
  await recordAudit(context.db, {
    actor: request.actor,
    action: 'event.replayed',
    target: { kind: 'event', id: item.id },
    before: { outcome: 'pending_match' },
    after: { outcome: result.outcome, review_item: `${request.queue}/${request.id}` },
  });
  return { outcome: result.outcome };
}
