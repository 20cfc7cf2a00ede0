/**
 * POST /qstash/retention-sweep: QStash's daily delivery (personal-data/schedule.ts). 401/489 as
 * every delivery route, 200 with the sweep's totals, 500 when interrupted (QStash retries; a
 * sweep repeated is harmless). The sweep acts as Tether itself on the rule an admin set.
 */
import type { Receiver } from '@upstash/qstash';
import { Hono } from 'hono';
import { describeError } from '../events/describe-error';
import { readDelivery } from '../http/qstash-delivery';
import type { PersonalDataContext } from './context';
import { sweepRetention } from './retention';
import { RETENTION_SWEEP_PATH, retentionSweepMessageSchema } from './schedule';

export const RETENTION_SWEEP_ACTOR = { kind: 'system', name: 'retention sweep' } as const;

export function retentionDeliveryRoutes({ context, receiver, publicUrl }: { context: PersonalDataContext; receiver: Receiver; publicUrl: string }) {
  const url = `${publicUrl}${RETENTION_SWEEP_PATH}`;
  return new Hono().post(RETENTION_SWEEP_PATH, async (c) => {
    const delivery = await readDelivery(c, { receiver, url, schema: retentionSweepMessageSchema, log: context.log });
    if (!delivery.ok) return delivery.response;
    try {
      return c.json(await sweepRetention(context, RETENTION_SWEEP_ACTOR));
    } catch (error) {
      context.log.error({ error: describeError(error) }, 'retention sweep interrupted; QStash will retry');
      return c.json({ error: 'interrupted, retry' }, 500);
    }
  });
}
