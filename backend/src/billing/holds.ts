/**
 * An operator lifts a hold (e.g. after checking a VoP no-match with the debtor): the attempt is
 * billable again and goes out with its run, which reopens if it had completed.
 */
import { sql } from 'drizzle-orm';
import { actorName, recordAudit, type AuditActor } from '../audit/record';
import type { BillingContext } from './context';
import { requeueAttempt } from './runs';

export async function releaseHold(context: BillingContext, attemptId: number, actor: AuditActor): Promise<{ released: boolean; reason?: string }> {
  const by = actorName(actor);
  const released = await context.db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ hold_reason: string }>(sql`
      with held as (select id, hold_reason from billing_attempts where id = ${attemptId} and status = 'pending' and hold_reason is not null for update)
      update billing_attempts a set
        hold_reason = null,
        history = a.history || jsonb_build_array(jsonb_build_object('at', now(), 'source', 'operator', 'reason', 'hold released', 'by', ${by}::text, 'hold', held.hold_reason)),
        updated_at = now()
      from held where a.id = held.id
      returning held.hold_reason`);
    const row = rows[0];
    if (row) {
      await recordAudit(tx, { actor, action: 'attempt.released', target: { kind: 'attempt', id: attemptId }, before: { holdReason: row.hold_reason }, after: { holdReason: null } });
    }
    return row;
  });
  if (!released) return { released: false };
  context.log.info({ attemptId, by, hold: released.hold_reason }, 'hold released');
  await requeueAttempt(context, attemptId);
  return { released: true, reason: released.hold_reason };
}
