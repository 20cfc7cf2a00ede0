/**
 * Verification of Payee for one pending attempt, once: the result is stored on the attempt,
 * and a result the policy holds (by default no_match) sets hold_reason, so billing leaves the
 * attempt alone until an operator releases it (`billing:release`).
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import type { PayeeChecker } from './payee-check';
import type { VopResult } from './result';

export type PayeeCheckOutcome = { kind: 'clear' | 'held'; result: VopResult } | { kind: 'not_pending' };

export async function checkAttemptPayee(db: Database, checker: PayeeChecker, attemptId: number): Promise<PayeeCheckOutcome> {
  const { rows } = await db.execute<{ status: string; vop_result: VopResult | null; hold_reason: string | null; iban: string; name: string }>(sql`
    select a.status, a.vop_result, a.hold_reason, d.iban, d.name
    from billing_attempts a join debtors d on d.id = a.debtor_id
    where a.id = ${attemptId}`);
  const attempt = rows[0];
  if (!attempt || attempt.status !== 'pending') return { kind: 'not_pending' };
  if (attempt.vop_result) return { kind: attempt.hold_reason ? 'held' : 'clear', result: attempt.vop_result };

  const answer = await checker.verify({ iban: attempt.iban, name: attempt.name });
  const hold = checker.holds(answer.result);
  const entry = {
    at: new Date().toISOString(),
    source: 'vop',
    result: answer.result,
    matched_name: answer.matchedName,
    cached: answer.cached,
    ...(hold && { held: true }),
  };
  await db.execute(sql`
    update billing_attempts set
      vop_result = ${answer.result},
      vop_checked_at = now(),
      hold_reason = ${hold ? `vop_${answer.result}` : sql`hold_reason`},
      history = history || jsonb_build_array(${JSON.stringify(entry)}::jsonb),
      updated_at = now()
    where id = ${attemptId} and status = 'pending' and vop_result is null`);
  return { kind: hold ? 'held' : 'clear', result: answer.result };
}
