/**
 * Verification of Payee on its own queue: an upload's attempts can be checked ahead of billing
 * (sepa-domain.md §7: results before any run), in QStash messages to POST /qstash/vop/check,
 * a few in flight across all nodes and the provider asked no faster than VOP_RATE_LIMIT.
 * Billing checks an attempt itself when no result is stored yet; either way it is checked once.
 *
 * The route answers 401/489 as every delivery route, 200 once the checks are stored, 500 when
 * interrupted (QStash retries; checked attempts are skipped).
 */
import type { Receiver } from '@upstash/qstash';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import type { BillingContext } from '../billing/context';
import { billingAttempts } from '../db/schema';
import { describeError } from '../events/describe-error';
import { readDelivery } from '../http/qstash-delivery';
import { checkAttemptPayee } from './attempt-check';

export const VOP_CHECK_PATH = '/qstash/vop/check';

const MESSAGE_SIZE = 50;
const PARALLEL_MESSAGES = 2;
export const VOP_FLOW_CONTROL_KEY = 'tether-vop';

const messageSchema = z.object({ attemptIds: z.array(z.number().int().positive()).min(1).max(MESSAGE_SIZE) });

/** Queues the upload's pending attempts that have no VoP result yet; answers how many. */
export async function queueUploadPayeeChecks(context: BillingContext, uploadId: string): Promise<number> {
  const rows = await context.db
    .select({ id: billingAttempts.id })
    .from(billingAttempts)
    .where(and(eq(billingAttempts.uploadId, uploadId), eq(billingAttempts.status, 'pending'), isNull(billingAttempts.vopResult)))
    .orderBy(asc(billingAttempts.id));
  const ids = rows.map((row) => row.id);
  for (let start = 0; start < ids.length; start += MESSAGE_SIZE) {
    await context.qstash.publishJSON({
      url: `${context.publicUrl}${VOP_CHECK_PATH}`,
      body: { attemptIds: ids.slice(start, start + MESSAGE_SIZE) },
      retries: 5,
      flowControl: { key: VOP_FLOW_CONTROL_KEY, parallelism: PARALLEL_MESSAGES },
    });
  }
  return ids.length;
}

export function vopDeliveryRoutes({ context, receiver }: { context: BillingContext; receiver: Receiver }) {
  const url = `${context.publicUrl}${VOP_CHECK_PATH}`;
  return new Hono().post(VOP_CHECK_PATH, async (c) => {
    const delivery = await readDelivery(c, { receiver, url, schema: messageSchema, log: context.log });
    if (!delivery.ok) return delivery.response;
    const results: Record<string, number> = {};
    try {
      for (const attemptId of delivery.message.attemptIds) {
        const outcome = await checkAttemptPayee(context.db, context.payees, attemptId);
        const key = outcome.kind === 'not_pending' ? 'not_pending' : outcome.result;
        results[key] = (results[key] ?? 0) + 1;
      }
    } catch (error) {
      context.log.error({ error: describeError(error) }, 'VoP checks interrupted; QStash will retry');
      return c.json({ error: 'interrupted, retry' }, 500);
    }
    return c.json({ results });
  });
}
