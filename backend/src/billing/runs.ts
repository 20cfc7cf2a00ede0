/**
 * Billing runs: started for an upload or a selection of attempts, paused and resumed by an
 * operator or by the circuit breaker, cancelled, completed once nothing is left to send. The
 * run's status lives in the database, so every node sees a pause at its next attempt.
 *
 * An attempt belongs to one open run at a time: a run takes only pending attempts that no
 * running or paused run holds, in one UPDATE, so two runs started at once cannot share one.
 */
import { and, desc, eq, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import { actorName, recordAudit, type AuditActor } from '../audit/record';
import { billingAttempts, billingRuns } from '../db/schema';
import type { Executor } from '../db/executor';
import { moveAttempts } from './attempt-moves';
import type { BillingContext } from './context';
import { dispatchRun, publishBatches, scheduleProbe } from './dispatch';

export type BillingRun = typeof billingRuns.$inferSelect;

/** An upload's attempts, chosen attempts, or the retries of soft declines that are due. */
export type RunSelection = { uploadId: string } | { attemptIds: number[] } | { dueRetries: true };

export class BillingRunError extends Error {
  override name = 'BillingRunError';
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** Attempts still to be sent by the run, or whose sending outcome is not yet known. */
const UNFINISHED = sql`(a.status in ('sending', 'unknown') or (a.status = 'pending' and a.hold_reason is null))`;

function selectionCondition(selection: RunSelection): SQL {
  if ('uploadId' in selection) return eq(billingAttempts.uploadId, selection.uploadId);
  if ('attemptIds' in selection) return inArray(billingAttempts.id, selection.attemptIds);
  return isNotNull(billingAttempts.retryOf);
}

/** Gives the run the selection's pending attempts that no open run holds; answers how many. */
export async function takeAttempts(tx: Executor, runId: string, selection: RunSelection): Promise<number> {
  const taken = await tx
    .update(billingAttempts)
    .set({ billingRunId: runId, updatedAt: sql`now()` })
    .where(
      and(
        selectionCondition(selection),
        eq(billingAttempts.status, 'pending'),
        sql`(${billingAttempts.notBefore} is null or ${billingAttempts.notBefore} <= now())`,
        sql`(${billingAttempts.billingRunId} is null or ${billingAttempts.billingRunId} in
              (select id from billing_runs where status in ('completed', 'cancelled')))`,
      ),
    )
    .returning({ id: billingAttempts.id });
  return taken.length;
}

/** The selection as the audit log keeps it: a long list of attempt ids is summarised. */
function selectionSummary(selection: RunSelection) {
  return 'attemptIds' in selection && selection.attemptIds.length > 20 ? { attemptIds: `${selection.attemptIds.length} attempts` } : selection;
}

/** `actor` is recorded as the run's creator and in the audit log, in the run's own transaction. */
export async function startRun(context: BillingContext, request: { selection: RunSelection; actor: AuditActor }): Promise<BillingRun> {
  const run = await context.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(billingRuns)
      .values({
        selection: request.selection,
        uploadId: 'uploadId' in request.selection ? request.selection.uploadId : null,
        createdBy: actorName(request.actor),
      })
      .returning();
    const taken = await takeAttempts(tx, created!.id, request.selection);
    if (taken === 0) throw new BillingRunError(422, 'nothing to bill: no pending attempt matches that is not in another run');
    const [counted] = await tx
      .update(billingRuns)
      .set({ attemptCount: taken })
      .where(eq(billingRuns.id, created!.id))
      .returning();
    await recordAudit(tx, {
      actor: request.actor,
      action: 'run.started',
      target: { kind: 'billing_run', id: counted!.id },
      after: { status: counted!.status, selection: selectionSummary(request.selection), attemptCount: counted!.attemptCount },
    });
    return counted!;
  });
  context.log.info({ runId: run.id, attempts: run.attemptCount, createdBy: run.createdBy }, 'billing run started');
  await dispatchRun(context, run.id);
  await completeRunIfDone(context.db, run.id);
  return run;
}

export async function getRun(db: Executor, runId: string): Promise<BillingRun | undefined> {
  const [run] = await db.select().from(billingRuns).where(eq(billingRuns.id, runId));
  return run;
}

export async function listRuns(db: Executor, limit: number): Promise<BillingRun[]> {
  return db.select().from(billingRuns).orderBy(desc(billingRuns.createdAt)).limit(limit);
}

export interface RunProgress {
  /** Attempts by status; pending attempts held (e.g. by VoP) count as `held`, not `pending`. */
  byStatus: Record<string, number>;
  /** Attempts whose request reached EMP or may have. */
  sent: number;
}

export async function runProgress(db: Executor, runId: string): Promise<RunProgress> {
  const { rows } = await db.execute<{ status: string; held: boolean; count: number }>(sql`
    select status, hold_reason is not null as held, count(*)::int as count
    from billing_attempts where billing_run_id = ${runId} group by 1, 2`);
  const byStatus: Record<string, number> = {};
  let sent = 0;
  for (const row of rows) {
    const key = row.status === 'pending' && row.held ? 'held' : row.status;
    byStatus[key] = (byStatus[key] ?? 0) + row.count;
    if (!['pending', 'sending', 'cancelled'].includes(row.status)) sent += row.count;
  }
  return { byStatus, sent };
}

const countsSnapshot = sql`(select coalesce(jsonb_object_agg(status, n), '{}'::jsonb)
  from (select status, count(*) as n from billing_attempts where billing_run_id = billing_runs.id group by status) c)`;

/** Marks the run completed once none of its attempts is left to send or awaiting EMP's outcome. */
export async function completeRunIfDone(db: Executor, runId: string): Promise<boolean> {
  const rows = await db
    .update(billingRuns)
    .set({ status: 'completed', completedAt: sql`now()`, updatedAt: sql`now()`, counts: countsSnapshot })
    .where(
      and(
        eq(billingRuns.id, runId),
        eq(billingRuns.status, 'running'),
        sql`not exists (select 1 from billing_attempts a where a.billing_run_id = ${runId} and ${UNFINISHED})`,
      ),
    )
    .returning({ id: billingRuns.id });
  return rows.length > 0;
}

export async function pauseRun(context: BillingContext, runId: string, actor: AuditActor): Promise<BillingRun> {
  const by = actorName(actor);
  const run = await context.db.transaction(async (tx) => {
    const [paused] = await tx
      .update(billingRuns)
      .set({ status: 'paused', pausedBy: 'operator', pauseReason: `paused by ${by}`, pausedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(billingRuns.id, runId), eq(billingRuns.status, 'running')))
      .returning();
    if (paused) await recordAudit(tx, { actor, action: 'run.paused', target: { kind: 'billing_run', id: runId }, before: { status: 'running' }, after: { status: 'paused' } });
    return paused;
  });
  if (!run) throw await refusal(context.db, runId, 'only a running run can be paused');
  context.log.info({ runId, by }, 'billing run paused');
  return run;
}

export async function resumeRun(context: BillingContext, runId: string, actor: AuditActor): Promise<BillingRun> {
  const by = actorName(actor);
  const run = await context.db.transaction(async (tx) => {
    const [before] = await tx.select({ pausedBy: billingRuns.pausedBy }).from(billingRuns).where(eq(billingRuns.id, runId)).for('update');
    const [resumed] = await tx
      .update(billingRuns)
      .set({ status: 'running', pausedBy: null, pauseReason: null, pausedAt: null, updatedAt: sql`now()` })
      .where(and(eq(billingRuns.id, runId), eq(billingRuns.status, 'paused')))
      .returning();
    if (resumed) {
      await recordAudit(tx, {
        actor,
        action: 'run.resumed',
        target: { kind: 'billing_run', id: runId },
        before: { status: 'paused', pausedBy: before?.pausedBy ?? null },
        after: { status: 'running' },
      });
    }
    return resumed;
  });
  if (!run) throw await refusal(context.db, runId, 'only a paused run can be resumed');
  context.log.info({ runId, by }, 'billing run resumed');
  await dispatchRun(context, runId);
  await completeRunIfDone(context.db, runId);
  return run;
}

/** Stops the run: its attempts not yet claimed are cancelled; requests in flight finish and are recorded. */
export async function cancelRun(context: BillingContext, runId: string, actor: AuditActor): Promise<BillingRun> {
  const by = actorName(actor);
  const run = await context.db.transaction(async (tx) => {
    const [before] = await tx.select({ status: billingRuns.status }).from(billingRuns).where(eq(billingRuns.id, runId)).for('update');
    const [cancelled] = await tx
      .update(billingRuns)
      .set({ status: 'cancelled', cancelledAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(billingRuns.id, runId), inArray(billingRuns.status, ['running', 'paused'])))
      .returning();
    if (!cancelled) return undefined;
    await moveAttempts(tx, {
      where: eq(billingAttempts.billingRunId, runId),
      from: 'pending',
      to: 'cancelled',
      note: { source: 'operator', reason: `billing run cancelled by ${by}` },
    });
    const [withCounts] = await tx.update(billingRuns).set({ counts: countsSnapshot }).where(eq(billingRuns.id, runId)).returning();
    await recordAudit(tx, {
      actor,
      action: 'run.cancelled',
      target: { kind: 'billing_run', id: runId },
      before: { status: before!.status },
      after: { status: 'cancelled', counts: withCounts!.counts },
    });
    return withCounts;
  });
  if (!run) throw await refusal(context.db, runId, 'only a running or paused run can be cancelled');
  context.log.info({ runId, by }, 'billing run cancelled');
  return run;
}

async function refusal(db: Executor, runId: string, rule: string): Promise<BillingRunError> {
  const run = await getRun(db, runId);
  return run ? new BillingRunError(409, `run ${runId} is ${run.status}: ${rule}`) : new BillingRunError(404, `no billing run ${runId}`);
}

/**
 * The breaker opened while this node worked on the run: the run pauses with the reason, for
 * every node, and a probe is scheduled. After a failed probe (`afterProbe`) the run is paused
 * already; the breaker is open again and the next probe is scheduled.
 */
export async function pauseForBreaker(
  context: BillingContext,
  runId: string,
  reason: string,
  options: { afterProbe?: boolean } = {},
): Promise<void> {
  const [paused] = await context.db
    .update(billingRuns)
    .set({
      status: 'paused',
      pausedBy: 'circuit_breaker',
      pauseReason: reason,
      breakerState: 'open',
      pausedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(billingRuns.id, runId),
        options.afterProbe
          ? and(eq(billingRuns.status, 'paused'), eq(billingRuns.pausedBy, 'circuit_breaker'))
          : eq(billingRuns.status, 'running'),
      ),
    )
    .returning({ pausedAt: billingRuns.pausedAt });
  if (!paused) return;
  if (!options.afterProbe) context.log.warn({ runId, reason }, 'billing run paused by the circuit breaker');
  await scheduleProbe(context, runId, paused.pausedAt!);
}

/** EMP refused Tether's credentials: nothing can be sent until an operator fixes them and resumes. */
export async function pauseForRefusal(context: BillingContext, runId: string, reason: string): Promise<void> {
  const [paused] = await context.db
    .update(billingRuns)
    .set({ status: 'paused', pausedBy: 'emp_refused', pauseReason: reason, pausedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(billingRuns.id, runId), inArray(billingRuns.status, ['running', 'paused'])))
    .returning({ id: billingRuns.id });
  if (paused) context.log.error({ runId, reason }, 'billing run paused: EMP refused the request');
}

/** EMP answered a probe: the breaker closed, the run goes on. */
export async function resumeAfterProbe(context: BillingContext, runId: string): Promise<void> {
  const [resumed] = await context.db
    .update(billingRuns)
    .set({ status: 'running', pausedBy: null, pauseReason: null, pausedAt: null, breakerState: 'closed', updatedAt: sql`now()` })
    .where(and(eq(billingRuns.id, runId), eq(billingRuns.status, 'paused'), eq(billingRuns.pausedBy, 'circuit_breaker')))
    .returning({ id: billingRuns.id });
  if (!resumed) return;
  context.log.info({ runId }, 'EMP answered the probe: billing run resumed');
  await dispatchRun(context, runId);
  await completeRunIfDone(context.db, runId);
}

export async function setBreakerState(db: Executor, runId: string, state: BillingRun['breakerState']): Promise<void> {
  await db.update(billingRuns).set({ breakerState: state, updatedAt: sql`now()` }).where(eq(billingRuns.id, runId));
}

/**
 * An attempt of the run is pending again (EMP never got it, or an operator released a hold):
 * a running run sends it now, a completed one reopens for it, a paused one sends it on resume,
 * a cancelled one cancels it.
 */
export async function requeueAttempt(context: BillingContext, attemptId: number): Promise<void> {
  const [attempt] = await context.db
    .select({ runId: billingAttempts.billingRunId })
    .from(billingAttempts)
    .where(eq(billingAttempts.id, attemptId));
  if (!attempt?.runId) return;
  const runId = attempt.runId;
  const [run] = await context.db
    .update(billingRuns)
    .set({ status: 'running', completedAt: null, counts: null, updatedAt: sql`now()` })
    .where(and(eq(billingRuns.id, runId), eq(billingRuns.status, 'completed')))
    .returning();
  const status = run?.status ?? (await getRun(context.db, runId))?.status;
  if (status === 'running') await publishBatches(context, runId, [attemptId]);
  else if (status === 'cancelled') {
    await moveAttempts(context.db, {
      where: eq(billingAttempts.id, attemptId),
      from: 'pending',
      to: 'cancelled',
      note: { source: 'billing', reason: 'its billing run was cancelled' },
    });
  }
}
