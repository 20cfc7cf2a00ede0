/**
 * Scheduled billing runs (issue 18): an operator orders a run for a collection date; it starts by
 * itself then, on whichever node QStash wakes. The wake-up is a QStash message with
 * `Upstash-Not-Before`, published inside the transaction that schedules the run (a failed publish
 * schedules nothing; a commit that fails after it leaves a wake-up that finds no run). QStash keeps
 * it durably, so restarts of any node lose nothing. Until the run starts it can be rescheduled,
 * which raises its schedule_version and publishes a new wake-up; a wake-up whose version is not
 * the run's (rescheduled since) or whose run is no longer scheduled (cancelled) does nothing.
 * Scheduling, rescheduling, cancelling and the start itself each write one audit entry in the
 * action's transaction.
 */
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { recordAudit, type AuditActor } from '../audit/record';
import { billingRuns } from '../db/schema';
import type { Executor } from '../db/executor';
import type { BillingContext } from './context';
import { dispatchRun } from './dispatch';
import { BillingRunError, completeRunIfDone, takeAttempts, type BillingRun, type RunSelection } from './runs';

export const SCHEDULED_START_PATH = '/qstash/billing/scheduled-start';

export const scheduledStartMessageSchema = z.object({ runId: z.uuid(), version: z.number().int().positive() });

/** A wake-up this close to now is as good as now: the run starts at once. */
const LATEST_PAST_MS = 60_000;

function checkStart(startsAt: Date): void {
  if (Number.isNaN(startsAt.getTime())) throw new BillingRunError(422, 'the collection date is not a date');
  if (startsAt.getTime() < Date.now() - LATEST_PAST_MS) throw new BillingRunError(422, 'the collection date is in the past: start the run now instead');
}

async function publishWakeUp(context: BillingContext, run: { id: string; scheduleVersion: number; scheduledFor: Date | null }) {
  await context.qstash.publishJSON({
    url: `${context.publicUrl}${SCHEDULED_START_PATH}`,
    body: { runId: run.id, version: run.scheduleVersion },
    notBefore: Math.floor(run.scheduledFor!.getTime() / 1000),
    retries: 5,
  });
}

const scheduleView = (run: BillingRun) => ({ scheduled_for: run.scheduledFor?.toISOString() ?? null, schedule_version: run.scheduleVersion });

export async function scheduleRun(
  context: BillingContext,
  request: { selection: RunSelection; startsAt: Date; actor: AuditActor; createdBy: string },
): Promise<BillingRun> {
  checkStart(request.startsAt);
  return context.db.transaction(async (tx) => {
    const [run] = await tx
      .insert(billingRuns)
      .values({
        status: 'scheduled',
        selection: request.selection,
        uploadId: 'uploadId' in request.selection ? request.selection.uploadId : null,
        scheduledFor: request.startsAt,
        scheduleVersion: 1,
        createdBy: request.createdBy,
      })
      .returning();
    await recordAudit(tx, { actor: request.actor, action: 'run.scheduled', target: { kind: 'billing_run', id: run!.id }, after: { ...scheduleView(run!), selection: request.selection } });
    await publishWakeUp(context, run!);
    context.log.info({ runId: run!.id, scheduledFor: run!.scheduledFor }, 'billing run scheduled');
    return run!;
  });
}

export async function rescheduleRun(context: BillingContext, runId: string, request: { startsAt: Date; actor: AuditActor; reason?: string }): Promise<BillingRun> {
  checkStart(request.startsAt);
  return context.db.transaction(async (tx) => {
    const before = await lockScheduled(tx, runId);
    const [run] = await tx
      .update(billingRuns)
      .set({ scheduledFor: request.startsAt, scheduleVersion: sql`${billingRuns.scheduleVersion} + 1`, updatedAt: sql`now()` })
      .where(eq(billingRuns.id, runId))
      .returning();
    await recordAudit(tx, { actor: request.actor, action: 'run.rescheduled', target: { kind: 'billing_run', id: runId }, before: scheduleView(before), after: scheduleView(run!), reason: request.reason });
    await publishWakeUp(context, run!);
    return run!;
  });
}

/** A scheduled run, cancelled before it started: it holds no attempts, so nothing else changes. */
export async function cancelScheduledRun(context: BillingContext, runId: string, request: { actor: AuditActor; reason?: string }): Promise<BillingRun> {
  return context.db.transaction(async (tx) => {
    const before = await lockScheduled(tx, runId);
    const [run] = await tx
      .update(billingRuns)
      .set({ status: 'cancelled', cancelledAt: sql`now()`, updatedAt: sql`now()` })
      .where(eq(billingRuns.id, runId))
      .returning();
    await recordAudit(tx, { actor: request.actor, action: 'run.cancelled', target: { kind: 'billing_run', id: runId }, before: { status: before.status, ...scheduleView(before) }, after: { status: 'cancelled' }, reason: request.reason });
    return run!;
  });
}

async function lockScheduled(tx: Executor, runId: string): Promise<BillingRun> {
  const [run] = await tx.select().from(billingRuns).where(eq(billingRuns.id, runId)).for('update');
  if (!run) throw new BillingRunError(404, `no billing run ${runId}`);
  if (run.status !== 'scheduled') throw new BillingRunError(409, `run ${runId} is ${run.status}: only a scheduled run can be rescheduled or cancelled this way`);
  return run;
}

export type ScheduledStart = 'started' | 'nothing_to_bill' | 'stale';

/**
 * The wake-up: starts the run if it is still scheduled at this version. Its attempts are taken as
 * a run started by hand takes them (pending, in no open run); a run that finds none ends cancelled,
 * saying so. Redelivered or stale wake-ups find the run no longer scheduled at that version.
 */
export async function startScheduledRun(context: BillingContext, message: z.infer<typeof scheduledStartMessageSchema>): Promise<ScheduledStart> {
  const outcome = await context.db.transaction(async (tx) => {
    const [run] = await tx
      .select()
      .from(billingRuns)
      .where(and(eq(billingRuns.id, message.runId), eq(billingRuns.status, 'scheduled'), eq(billingRuns.scheduleVersion, message.version)))
      .for('update');
    if (!run) return 'stale' as const;
    const taken = await takeAttempts(tx, run.id, run.selection as RunSelection);
    const actor: AuditActor = { kind: 'system', name: 'scheduled run start' };
    if (taken === 0) {
      await tx
        .update(billingRuns)
        .set({ status: 'cancelled', pauseReason: 'nothing to bill when the scheduled run started', cancelledAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(billingRuns.id, run.id));
      await recordAudit(tx, { actor, action: 'run.cancelled', target: { kind: 'billing_run', id: run.id }, reason: 'nothing to bill when the scheduled run started' });
      return 'nothing_to_bill' as const;
    }
    await tx.update(billingRuns).set({ status: 'running', attemptCount: taken, updatedAt: sql`now()` }).where(eq(billingRuns.id, run.id));
    await recordAudit(tx, { actor, action: 'run.started', target: { kind: 'billing_run', id: run.id }, after: { attempt_count: taken, ...scheduleView(run) } });
    return 'started' as const;
  });
  if (outcome !== 'started') {
    context.log.info({ runId: message.runId, version: message.version, outcome }, 'scheduled run wake-up: not started');
    return outcome;
  }
  context.log.info({ runId: message.runId }, 'scheduled billing run started');
  await dispatchRun(context, message.runId);
  await completeRunIfDone(context.db, message.runId);
  return outcome;
}
