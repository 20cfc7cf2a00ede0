import { desc, eq } from 'drizzle-orm';
import { parseArgs } from 'node:util';
import { webhookEvents } from '../../db/schema';
import { EVENT_OUTCOMES, isEventOutcome } from '../../events/outcome';
import { positiveInteger } from '../arguments';
import { defineCommand, UsageError } from '../command';
import { formatTable } from '../table';

export default defineCommand({
  name: 'events:list',
  permission: 'read',
  summary: 'List EMP events, newest first, optionally only those with one outcome',
  usage: `[--outcome ${EVENT_OUTCOMES.join('|')}] [--limit <n>]`,
  async run(args, { io, services }) {
    const { values } = parseArgs({ args, options: { outcome: { type: 'string' }, limit: { type: 'string' } } });
    if (values.outcome !== undefined && !isEventOutcome(values.outcome)) {
      throw new UsageError(`--outcome must be one of ${EVENT_OUTCOMES.join(', ')}`);
    }
    const limit = positiveInteger(values.limit, '--limit', 50);
    const { db } = services().database;
    const rows = await db
      .select({
        id: webhookEvents.id,
        received_at: webhookEvents.receivedAt,
        outcome: webhookEvents.outcome,
        type: webhookEvents.transactionType,
        status: webhookEvents.empStatus,
        unique_id: webhookEvents.uniqueId,
        transaction_id: webhookEvents.transactionId,
        attempt: webhookEvents.billingAttemptId,
        tries: webhookEvents.attempts,
        error: webhookEvents.error,
      })
      .from(webhookEvents)
      .where(values.outcome ? eq(webhookEvents.outcome, values.outcome) : undefined)
      .orderBy(desc(webhookEvents.receivedAt), desc(webhookEvents.id))
      .limit(limit);
    if (rows.length === 0) {
      io.out(values.outcome ? `no ${values.outcome} events` : 'no events');
      return;
    }
    for (const line of formatTable(rows, Object.keys(rows[0]!))) io.out(line);
  },
});
