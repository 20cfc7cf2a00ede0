/**
 * One reconciliation pass, cluster-wide one at a time (a lock in Redis): notifications waiting
 * for EMP's confirmation, stale claims and due
 * attempts reconciled singly, chargebacks swept by date, optionally every transaction swept by
 * date, soft declines given their retries (and a run for those due), events still waiting for
 * their attempt matched, refunds still owing a step sent or reconciled, and runs completed whose last attempts were resolved.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { BillingContext } from '../billing/context';
import { scheduleRetries } from '../billing/retries';
import { systemActor } from '../audit/actor';
import { BillingRunError, completeRunIfDone, startRun } from '../billing/runs';
import { billingAttempts, billingRuns } from '../db/schema';
import { confirmAllDue, type ConfirmationSummary } from '../confirmation/confirm';
import type { GenesisDateRange } from '../emp/genesis-client';
import { matchPendingEvents, type MatchSummary } from '../events/match';
import { settleOpenRefunds, type RefundSweep } from '../refunds/settle';
import { reconcileDueAttempts, type DueSummary } from './due-attempts';
import { requestReconciliationWhenDue } from './schedule';
import { recentDays, sweepChargebacks, sweepTransactions, type ChargebackSweep, type TransactionSweep } from './sweeps';

export interface ReconciliationRequest {
  /** Also sweep every transaction by date (heavier; the daily schedule does it). */
  transactions?: boolean;
  /** Days to sweep; RECONCILE_SWEEP_DAYS up to today when absent. */
  range?: GenesisDateRange;
}

export type ReconciliationOutcome =
  | { kind: 'busy' }
  | {
      kind: 'done';
      confirmations: ConfirmationSummary;
      due: DueSummary;
      chargebacks: ChargebackSweep;
      transactions?: TransactionSweep;
      retriesScheduled: number;
      retryRunId?: string;
      matched: MatchSummary;
      runsCompleted: number;
      refunds: RefundSweep;
    };

/** Longer than any pass; a pass whose node died frees the lock when it expires. */
const LOCK_TTL_MS = 15 * 60_000;

const RELEASE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function runReconciliation(context: BillingContext, request: ReconciliationRequest = {}): Promise<ReconciliationOutcome> {
  const lockKey = `${context.keyPrefix}lock:reconciliation`;
  const owner = randomBytes(8).toString('hex');
  if ((await context.redis.set(lockKey, owner, { nx: true, px: LOCK_TTL_MS })) !== 'OK') return { kind: 'busy' };
  try {
    const range = request.range ?? recentDays(context.reconciliation.sweepDays);
    // Notifications a node recorded and could not confirm (it died, EMP was down) are asked about here too.
    const confirmations = await confirmAllDue(context);
    const due = await reconcileDueAttempts(context);
    const chargebacks = await sweepChargebacks(context, range);
    const transactions = request.transactions ? await sweepTransactions(context, range) : undefined;
    const retriesScheduled = await scheduleRetries(context);
    const retryRunId = await startDueRetries(context);
    const matched = await matchPendingEvents(context.events, 'all');
    const refunds = await settleOpenRefunds(context);
    let runsCompleted = 0;
    const running = await context.db.select({ id: billingRuns.id }).from(billingRuns).where(eq(billingRuns.status, 'running'));
    for (const run of running) if (await completeRunIfDone(context.db, run.id)) runsCompleted++;
    // Attempts that became unknown after this pass chose its work get a pass of their own.
    const [unknown] = await context.db.select({ id: billingAttempts.id }).from(billingAttempts).where(eq(billingAttempts.status, 'unknown')).limit(1);
    if (unknown) await requestReconciliationWhenDue(context);
    const outcome = { kind: 'done' as const, confirmations, due, chargebacks, transactions, retriesScheduled, retryRunId, matched, runsCompleted, refunds };
    context.log.info(outcome, 'reconciliation pass done');
    return outcome;
  } finally {
    await context.redis.eval(RELEASE_IF_OWNER, [lockKey], [owner]);
  }
}

async function startDueRetries(context: BillingContext): Promise<string | undefined> {
  try {
    return (await startRun(context, { selection: { dueRetries: true }, actor: systemActor('retry policy') })).id;
  } catch (error) {
    if (error instanceof BillingRunError && error.status === 422) return undefined;
    throw error;
  }
}
