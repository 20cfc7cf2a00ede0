/**
 * An event's effect on its billing attempt, inside the caller's transaction: find and lock the
 * attempt, let the state machine decide, and apply what it allows. The attempt's row lock
 * (SELECT … FOR UPDATE) serialises events for one attempt across processes; events for
 * different attempts never wait for each other.
 */
import { decideTransition, type AttemptStatus, type TransitionDecision } from '@tether/shared/attempt-status';
import { eq, sql } from 'drizzle-orm';
import { addToBlacklist } from '../blacklist/blacklist';
import type { Executor } from '../db/executor';
import { billingAttempts } from '../db/schema';
import type { EventContext } from './context';
import type { EventMeaning } from './interpret';
import type { EventOutcome } from './outcome';

export interface LockedAttempt {
  id: number;
  status: AttemptStatus;
  empUniqueId: string | null;
  debtorIban: string;
}

export interface Verdict {
  outcome: EventOutcome;
  transition?: TransitionDecision;
  error?: string;
}

/** The event's row as far as the attempt's history needs it. */
export interface EventRef {
  id: number;
  dedupKey: string;
  receivedAt: Date;
}

export interface EffectResult {
  /** The attempt's Genesis unique_id, when this event taught it. */
  learnedUniqueId?: string;
  blacklistedNow: boolean;
}

/** By Genesis unique_id first, Tether's transaction_id second; locked until the transaction ends. */
export async function lockAttempt(tx: Executor, meaning: EventMeaning): Promise<LockedAttempt | undefined> {
  const uniqueId = meaning.attemptUniqueId ?? null;
  const transactionId = meaning.transactionId ?? null;
  if (uniqueId === null && transactionId === null) return undefined;
  const result = await tx.execute<{ id: number; status: AttemptStatus; emp_unique_id: string | null; iban: string }>(sql`
    select a.id, a.status, a.emp_unique_id, d.iban
    from billing_attempts a join debtors d on d.id = a.debtor_id
    where a.emp_unique_id = ${uniqueId} or a.transaction_id = ${transactionId}
    order by a.emp_unique_id is not distinct from ${uniqueId} desc
    limit 1
    for update of a`);
  const row = result.rows[0];
  return row && { id: row.id, status: row.status, empUniqueId: row.emp_unique_id, debtorIban: row.iban };
}

export function decide(attempt: LockedAttempt | undefined, meaning: EventMeaning): Verdict {
  if (!attempt) return { outcome: 'pending_match' };
  if (meaning.ownUniqueId && attempt.empUniqueId && meaning.attemptUniqueId !== attempt.empUniqueId) {
    // Our transaction_id on another Genesis transaction, e.g. EMP refusing a resend as a duplicate.
    return {
      outcome: 'illegal',
      error: `unique_id ${meaning.attemptUniqueId} is not the attempt's (${attempt.empUniqueId})`,
    };
  }
  if (!meaning.target) return { outcome: 'unchanged' };
  const transition = decideTransition(attempt.status, meaning.target);
  switch (transition.kind) {
    case 'apply':
      return { outcome: 'applied', transition };
    case 'unchanged':
      return { outcome: 'unchanged', transition };
    case 'stale':
    case 'illegal':
      return { outcome: transition.kind, transition, error: `${transition.from} → ${transition.to} is ${transition.kind}` };
  }
}

export function changesAttempt(verdict: Verdict): boolean {
  return verdict.outcome === 'applied' || verdict.outcome === 'unchanged';
}

type BlacklistNote =
  | { listed: true; entry_id: number; created: boolean; reason_code: string }
  | { listed: false; why: 'no reason code' | 'reason code not in the blacklist policy'; reason_code?: string };

async function blacklistForChargeback(
  tx: Executor,
  context: EventContext,
  attempt: LockedAttempt,
  event: EventRef,
  reasonCode: string | undefined,
): Promise<BlacklistNote> {
  if (!reasonCode) {
    context.log.warn({ attemptId: attempt.id, eventId: event.id }, 'chargeback without a reason code: IBAN not blacklisted');
    return { listed: false, why: 'no reason code' };
  }
  if (!context.blacklistCodes.has(reasonCode)) {
    return { listed: false, why: 'reason code not in the blacklist policy', reason_code: reasonCode };
  }
  const { entry, created } = await addToBlacklist(tx, {
    iban: attempt.debtorIban,
    reason: `chargeback ${reasonCode} on billing attempt ${attempt.id}`,
    reasonCode,
    source: 'chargeback',
    sourceEventId: event.id,
  });
  if (created) {
    context.log.info({ iban: attempt.debtorIban, reasonCode, attemptId: attempt.id, eventId: event.id }, 'IBAN blacklisted');
  }
  return { listed: true, entry_id: entry.id, created, reason_code: reasonCode };
}

function historyEntry(event: EventRef, meaning: EventMeaning, verdict: Verdict, blacklist?: BlacklistNote) {
  const { chargeback } = meaning;
  return {
    at: new Date().toISOString(),
    source: 'emp_event',
    event_id: event.id,
    dedup_key: event.dedupKey,
    received_at: event.receivedAt.toISOString(),
    outcome: verdict.outcome,
    ...(verdict.transition?.kind === 'apply' ? { from: verdict.transition.from, to: verdict.transition.to } : {}),
    emp_status: meaning.empStatus,
    transaction_type: meaning.transactionType,
    event: meaning.eventName,
    code: meaning.code,
    message: meaning.message,
    ...(chargeback && {
      chargeback: {
        unique_id: chargeback.uniqueId,
        amount: chargeback.amount,
        currency: chargeback.currency,
        reason: chargeback.reason,
        reason_code: chargeback.reasonCode,
        arn: chargeback.arn,
        received_at: event.receivedAt.toISOString(),
      },
    }),
    ...(blacklist && { blacklist }),
  };
}

/**
 * Applies an applied or informative (unchanged) verdict: the new status, what the event teaches
 * about the attempt, a history entry appended (earlier entries are never rewritten), and for a
 * chargeback the blacklist policy.
 */
export async function applyEffect(
  tx: Executor,
  context: EventContext,
  attempt: LockedAttempt,
  meaning: EventMeaning,
  verdict: Verdict,
  event: EventRef,
): Promise<EffectResult> {
  const blacklist =
    meaning.chargeback && meaning.target === 'chargebacked'
      ? await blacklistForChargeback(tx, context, attempt, event, meaning.chargeback.reasonCode)
      : undefined;
  const learnedUniqueId =
    meaning.ownUniqueId && meaning.attemptUniqueId && !attempt.empUniqueId ? meaning.attemptUniqueId : undefined;
  const entry = historyEntry(event, meaning, verdict, blacklist);
  await tx
    .update(billingAttempts)
    .set({
      ...(verdict.transition?.kind === 'apply' && { status: verdict.transition.to }),
      ...(meaning.target && meaning.empStatus && { empStatus: meaning.empStatus }),
      ...(learnedUniqueId && { empUniqueId: learnedUniqueId }),
      ...(meaning.code && { errorCode: meaning.code, errorMessage: meaning.message ?? null }),
      history: sql`${billingAttempts.history} || jsonb_build_array(${JSON.stringify(entry)}::jsonb)`,
      updatedAt: new Date(),
    })
    .where(eq(billingAttempts.id, attempt.id));
  return { learnedUniqueId, blacklistedNow: blacklist?.listed === true && blacklist.created };
}
