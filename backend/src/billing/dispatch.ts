/**
 * A run's work travels as QStash messages to POST /qstash/billing/batch on whichever node the
 * load balancer picks: batches of attempt ids, and probes while the circuit breaker holds the
 * run. QStash redelivers a batch whose node died; the attempts it had claimed are recovered by
 * reconciliation, the rest are claimed by the redelivery. Publishing a range twice is harmless:
 * every attempt is claimed atomically, once.
 */
import { and, asc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { billingAttempts } from '../db/schema';
import type { BillingContext } from './context';

export const BILLING_BATCH_PATH = '/qstash/billing/batch';

/** Enough for a node replacement; a redelivery only takes what is still pending. */
const DELIVERY_RETRIES = 5;

export const billingMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('batch'), runId: z.uuid(), firstId: z.number().int().positive(), lastId: z.number().int().positive() }),
  z.object({ kind: z.literal('probe'), runId: z.uuid() }),
]);

export type BillingMessage = z.infer<typeof billingMessageSchema>;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** One message per batch of the run's attempts that are still to be sent. Answers how many attempts. */
export async function dispatchRun(context: BillingContext, runId: string): Promise<number> {
  const pending = await context.db
    .select({ id: billingAttempts.id })
    .from(billingAttempts)
    .where(and(eq(billingAttempts.billingRunId, runId), eq(billingAttempts.status, 'pending'), isNull(billingAttempts.holdReason)))
    .orderBy(asc(billingAttempts.id));
  await publishBatches(
    context,
    runId,
    pending.map((row) => row.id),
  );
  return pending.length;
}

/** Billing batches share one QStash flow-control key: its parallelism bounds the batches in flight. */
export const BILLING_FLOW_CONTROL_KEY = 'tether-billing';

export async function publishBatches(context: BillingContext, runId: string, attemptIds: readonly number[]): Promise<void> {
  const messages = chunks(attemptIds, context.settings.batchSize).map(
    (batch): BillingMessage => ({ kind: 'batch', runId, firstId: batch[0]!, lastId: batch.at(-1)! }),
  );
  // A few kilobytes per request, however large the run.
  for (const group of chunks(messages, 100)) {
    await context.qstash.batchJSON(
      group.map((body) => ({
        url: `${context.publicUrl}${BILLING_BATCH_PATH}`,
        body,
        retries: DELIVERY_RETRIES,
        // Batches in flight across all nodes; the rate itself is the shared limiter's.
        flowControl: { key: BILLING_FLOW_CONTROL_KEY, parallelism: context.settings.parallelBatches },
      })),
    );
  }
}

/**
 * A probe for a run the breaker paused, once `halfOpenAfterMs` has passed. Deduplicated per
 * pause, so the batches that all noticed the open breaker schedule one probe between them.
 */
export async function scheduleProbe(context: BillingContext, runId: string, pausedAt: Date): Promise<void> {
  const body: BillingMessage = { kind: 'probe', runId };
  await context.qstash.publishJSON({
    url: `${context.publicUrl}${BILLING_BATCH_PATH}`,
    body,
    retries: DELIVERY_RETRIES,
    delay: Math.ceil(context.settings.breaker.halfOpenAfterMs / 1000) + 1,
    deduplicationId: `billing-probe-${runId}-${pausedAt.getTime()}`,
  });
}
