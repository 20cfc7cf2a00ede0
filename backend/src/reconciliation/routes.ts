/**
 * Reconciliation over HTTP:
 *
 *   POST /qstash/reconciliation   QStash (schedules, requests after timeouts); 401/489 as every
 *                                 delivery route, 409 while another pass runs (QStash retries
 *                                 later), 200 with the pass's summary, 500 when interrupted.
 *   POST /reconciliation/runs     an operator, on demand: {transactions?, startDate?, endDate?}
 *                                 → 200 summary, 409 while another pass runs.
 */
import type { Receiver } from '@upstash/qstash';
import { Hono } from 'hono';
import { z } from 'zod';
import type { BillingContext } from '../billing/context';
import { describeError } from '../events/describe-error';
import { readDelivery } from '../http/qstash-delivery';
import { runReconciliation } from './pass';
import { RECONCILIATION_PATH, reconciliationMessageSchema } from './schedule';

/** Genesis answers reconcile by date for 7 days at most per terminal (docs/genesis-protocol.md). */
const MAX_RANGE_DAYS = 7;

const genesisDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const onDemandRequest = z.strictObject({ transactions: z.boolean().optional(), startDate: genesisDay.optional(), endDate: genesisDay.optional() });

export function reconciliationDeliveryRoutes({ context, receiver }: { context: BillingContext; receiver: Receiver }) {
  const url = `${context.publicUrl}${RECONCILIATION_PATH}`;
  return new Hono().post(RECONCILIATION_PATH, async (c) => {
    const delivery = await readDelivery(c, { receiver, url, schema: reconciliationMessageSchema, log: context.log });
    if (!delivery.ok) return delivery.response;
    try {
      const outcome = await runReconciliation(context, { transactions: delivery.message.transactions });
      return outcome.kind === 'busy' ? c.json({ outcome: 'busy' }, 409) : c.json(outcome);
    } catch (error) {
      context.log.error({ error: describeError(error) }, 'reconciliation pass interrupted; QStash will retry');
      return c.json({ error: 'interrupted, retry' }, 500);
    }
  });
}

export function reconciliationRoutes({ context }: { context: BillingContext }) {
  return new Hono().post('/reconciliation/runs', async (c) => {
    const parsed = onDemandRequest.safeParse(await c.req.json().catch(() => ({})));
    if (!parsed.success) return c.json({ error: 'invalid request', issues: parsed.error.issues }, 400);
    const { transactions, startDate, endDate = new Date().toISOString().slice(0, 10) } = parsed.data;
    if (startDate && Date.parse(endDate) - Date.parse(startDate) > MAX_RANGE_DAYS * 86_400_000) {
      return c.json({ error: `a range may span ${MAX_RANGE_DAYS} days at most (Genesis' limit for reconcile by date)` }, 400);
    }
    const outcome = await runReconciliation(context, { transactions, range: startDate ? { startDate, endDate } : undefined });
    return outcome.kind === 'busy' ? c.json({ error: 'another reconciliation pass is running' }, 409) : c.json(outcome);
  });
}
