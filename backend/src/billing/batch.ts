/**
 * Working on a delivered batch: its attempts that are still pending go through `sendAttempt`,
 * BILLING_CONCURRENCY at a time, until the batch is done, the run stops (paused, cancelled —
 * seen within a quarter of a second), or this process's circuit breaker refuses a request
 * because it is open. Then the run pauses for the breaker, and the run completes if nothing is
 * left. A breaker that was open elsewhere lets this node's first request test EMP (half-open).
 *
 * A probe is the other delivery: one attempt sent while the breaker holds the run paused; an
 * answer resumes the run, anything else keeps it paused until the next probe.
 */
import { and, asc, between, eq, isNull } from 'drizzle-orm';
import { billingAttempts } from '../db/schema';
import { describeError } from '../events/describe-error';
import { requestReconciliationWhenDue } from '../reconciliation/schedule';
import type { BillingContext } from './context';
import { completeRunIfDone, getRun, pauseForBreaker, pauseForRefusal, resumeAfterProbe, setBreakerState } from './runs';
import { sendAttempt, type SendOutcome } from './send-attempt';

export interface BatchSummary {
  attempts: number;
  outcomes: Partial<Record<SendOutcome, number>>;
  /** Why the batch stopped before its end, if it did. */
  stopped?: 'run_not_running' | 'circuit_breaker' | 'emp_refused';
}

const RUN_STATUS_MAX_AGE_MS = 250;
/** How long a worker waits while the half-open breaker's single test request is under way. */
const HALF_OPEN_WAIT_MS = 100;

/** Whether the run is still running, read at most every 250 ms however many workers ask. */
function runningCheck(context: BillingContext, runId: string) {
  let checkedAt = -Infinity;
  let running = true;
  let reading: Promise<boolean> | undefined;
  return {
    refresh(): Promise<boolean> {
      if (performance.now() - checkedAt < RUN_STATUS_MAX_AGE_MS) return Promise.resolve(running);
      reading ??= getRun(context.db, runId)
        .then((run) => {
          running = run?.status === 'running';
          checkedAt = performance.now();
          return running;
        })
        .finally(() => {
          reading = undefined;
        });
      return reading;
    },
    /** The last status read, at once. */
    latest: () => running,
  };
}

async function pendingInRange(context: BillingContext, runId: string, firstId: number, lastId: number): Promise<number[]> {
  const rows = await context.db
    .select({ id: billingAttempts.id })
    .from(billingAttempts)
    .where(
      and(
        eq(billingAttempts.billingRunId, runId),
        between(billingAttempts.id, firstId, lastId),
        eq(billingAttempts.status, 'pending'),
        isNull(billingAttempts.holdReason),
      ),
    )
    .orderBy(asc(billingAttempts.id));
  return rows.map((row) => row.id);
}

export async function processBatch(
  context: BillingContext,
  batch: { runId: string; firstId: number; lastId: number },
): Promise<BatchSummary> {
  const { runId } = batch;
  const ids = await pendingInRange(context, runId, batch.firstId, batch.lastId);
  const stillRunning = runningCheck(context, runId);
  const summary: BatchSummary = { attempts: ids.length, outcomes: {} };
  let next = 0;
  let failure: unknown;

  const worker = async () => {
    while (next < ids.length && !summary.stopped && failure === undefined) {
      if (!(await stillRunning.refresh())) {
        summary.stopped = 'run_not_running';
        return;
      }
      // Taken only now: other workers may have emptied the list while this one waited.
      const attemptId = ids[next++];
      if (attemptId === undefined) return;
      let outcome: SendOutcome;
      try {
        outcome = await sendAttempt(context, runId, attemptId, { stillWanted: stillRunning.latest });
      } catch (error) {
        failure ??= error;
        return;
      }
      summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
      context.metrics.sends.inc({ outcome });
      if (outcome === 'broken' && !summary.stopped) {
        summary.stopped = 'circuit_breaker';
        // Every node stops within a quarter of a second, not when this batch's other requests end.
        await pauseForBreaker(context, runId, context.breaker.reason);
      }
      if (outcome === 'refused') summary.stopped = 'emp_refused';
      // Its claim was given back and the attempt requeued; wait for the breaker's test request.
      if (outcome === 'deferred') await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_WAIT_MS));
    }
  };
  await Promise.all(Array.from({ length: Math.min(context.settings.concurrency, ids.length) }, worker));
  // Even when the batch failed: its redelivery will not know about these.
  if (summary.outcomes.unknown) await requestReconciliationWhenDue(context);

  if (summary.stopped === 'emp_refused') await pauseForRefusal(context, runId, "EMP refused Tether's API credentials (code 110): fix EMP_API_LOGIN/EMP_API_PASSWORD, then resume");
  if (failure !== undefined) {
    context.log.error({ runId, error: describeError(failure) }, 'billing batch interrupted; QStash will deliver it again');
    throw failure;
  }
  await completeRunIfDone(context.db, runId);
  return summary;
}

export type ProbeResult = 'resumed' | 'still_failing' | 'not_paused_by_breaker';

/** Candidates a probe may try before concluding there is nothing left to probe with. */
const PROBE_CANDIDATES = 20;

export async function probeRun(context: BillingContext, runId: string): Promise<ProbeResult> {
  const run = await getRun(context.db, runId);
  if (run?.status !== 'paused' || run.pausedBy !== 'circuit_breaker') return 'not_paused_by_breaker';
  await setBreakerState(context.db, runId, 'half_open');
  const candidates = await context.db
    .select({ id: billingAttempts.id })
    .from(billingAttempts)
    .where(and(eq(billingAttempts.billingRunId, runId), eq(billingAttempts.status, 'pending'), isNull(billingAttempts.holdReason)))
    .orderBy(asc(billingAttempts.id))
    .limit(PROBE_CANDIDATES);
  for (const { id } of candidates) {
    const outcome = await sendAttempt(context, runId, id, { probe: true });
    context.metrics.sends.inc({ outcome });
    if (outcome === 'answered') break;
    if (outcome === 'refused') {
      await pauseForRefusal(context, runId, "EMP refused Tether's API credentials (code 110): fix them, then resume");
      return 'still_failing';
    }
    if (outcome === 'unknown' || outcome === 'released' || outcome === 'broken' || outcome === 'deferred') {
      context.log.info({ runId, outcome, breaker: context.breaker.state }, 'probe: EMP not answering yet; run stays paused');
      if (outcome === 'unknown') await requestReconciliationWhenDue(context);
      await pauseForBreaker(context, runId, context.breaker.reason, { afterProbe: true });
      return 'still_failing';
    }
    // Cancelled, held or taken: nothing learnt about EMP yet; try the next one.
  }
  await resumeAfterProbe(context, runId);
  return 'resumed';
}
