/**
 * Reconciliation runs on QStash schedules (RECONCILIATION_CRON, and RECONCILIATION_SWEEP_CRON
 * with the by-date transaction sweep), created under fixed ids so that every start-up and every
 * `reconcile:schedule` updates the same two schedules instead of adding more. A billing batch that
 * left attempts unknown asks for a pass of its own once they are due.
 */
import { z } from 'zod';
import type { BillingContext } from '../billing/context';

export const RECONCILIATION_PATH = '/qstash/reconciliation';

export const reconciliationMessageSchema = z.object({ transactions: z.boolean().optional() });

export type ReconciliationMessage = z.infer<typeof reconciliationMessageSchema>;

type ScheduleContext = Pick<BillingContext, 'qstash' | 'publicUrl' | 'reconciliation'>;

const SCHEDULES = [
  { scheduleId: 'tether-reconciliation', cron: (context: ScheduleContext) => context.reconciliation.cron, body: {} },
  {
    scheduleId: 'tether-reconciliation-sweep',
    cron: (context: ScheduleContext) => context.reconciliation.sweepCron,
    body: { transactions: true },
  },
] as const;

export async function ensureReconciliationSchedules(context: ScheduleContext): Promise<string[]> {
  const ids: string[] = [];
  for (const schedule of SCHEDULES) {
    const body: ReconciliationMessage = schedule.body;
    const { scheduleId } = await context.qstash.schedules.create({
      scheduleId: schedule.scheduleId,
      destination: `${context.publicUrl}${RECONCILIATION_PATH}`,
      cron: schedule.cron(context),
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      retries: 3,
    });
    ids.push(scheduleId);
  }
  return ids;
}

/** A pass once attempts left unknown now are due; requests within one due period share one message. */
export async function requestReconciliationWhenDue(context: BillingContext): Promise<void> {
  const afterMs = context.reconciliation.unknownAfterMs;
  const body: ReconciliationMessage = {};
  await context.qstash.publishJSON({
    url: `${context.publicUrl}${RECONCILIATION_PATH}`,
    body,
    delay: Math.ceil(afterMs / 1000) + 1,
    retries: 5,
    deduplicationId: `reconcile-due-${Math.floor(Date.now() / afterMs)}`,
  });
}
