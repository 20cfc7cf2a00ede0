/**
 * POST /qstash/billing/batch: QStash delivers a run's batches and probes here, to any node.
 * POST /qstash/billing/scheduled-start: a scheduled run's wake-up (scheduled-runs.ts); 200 whether
 * it started the run or found it rescheduled or cancelled, 500 (redelivered) when interrupted.
 *
 * - 401: not signed by QStash for this URL; 489: signed but not a billing message.
 * - 200: the batch was worked through, or stopped because the run is not running (a resume sends
 *   its attempts again), or the breaker opened (the run is paused, a probe scheduled).
 * - 500: interrupted (database or Redis unreachable); QStash delivers it again and the
 *   redelivery takes up what is still pending.
 */
import type { Receiver } from '@upstash/qstash';
import { Hono } from 'hono';
import { describeError } from '../events/describe-error';
import { readDelivery } from '../http/qstash-delivery';
import { probeRun, processBatch } from './batch';
import type { BillingContext } from './context';
import { BILLING_BATCH_PATH, billingMessageSchema } from './dispatch';
import { SCHEDULED_START_PATH, scheduledStartMessageSchema, startScheduledRun } from './scheduled-runs';

export function billingDeliveryRoutes({ context, receiver }: { context: BillingContext; receiver: Receiver }) {
  const url = `${context.publicUrl}${BILLING_BATCH_PATH}`;
  const startUrl = `${context.publicUrl}${SCHEDULED_START_PATH}`;
  return new Hono()
    .post(SCHEDULED_START_PATH, async (c) => {
      const delivery = await readDelivery(c, { receiver, url: startUrl, schema: scheduledStartMessageSchema, log: context.log });
      if (!delivery.ok) return delivery.response;
      try {
        return c.json({ outcome: await startScheduledRun(context, delivery.message) });
      } catch (error) {
        context.log.error({ runId: delivery.message.runId, error: describeError(error) }, 'scheduled run start failed; QStash will retry');
        return c.json({ error: 'interrupted, retry' }, 500);
      }
    })
    .post(BILLING_BATCH_PATH, async (c) => {
    const delivery = await readDelivery(c, { receiver, url, schema: billingMessageSchema, log: context.log });
    if (!delivery.ok) return delivery.response;
    const message = delivery.message;
    try {
      if (message.kind === 'probe') return c.json({ probe: await probeRun(context, message.runId) });
      return c.json(await processBatch(context, message));
    } catch (error) {
      context.log.error({ runId: message.runId, error: describeError(error) }, 'billing delivery failed; QStash will retry');
      return c.json({ error: 'interrupted, retry' }, 500);
    }
  });
}
