/**
 * Lock-out after repeated failed log-ins, counted per email typed in the database (so every node
 * counts the same failures, and a restart forgets none). After `maxFailures` failures in a row an
 * email is locked for `lockoutSeconds`; a failure older than that no longer counts, and a
 * successful log-in clears the count.
 *
 * Attempts already in flight when the limit is reached may still be checked: the count is
 * exact, the lock-out can only be late by as many requests as arrive at the same moment.
 */
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { loginFailures } from '../db/schema';

export interface ThrottlePolicy {
  maxFailures: number;
  lockoutSeconds: number;
}

/** When the email's lock-out ends, if it is locked now. */
export async function lockedUntil(db: Executor, email: string): Promise<Date | undefined> {
  const [row] = await db
    .select({ lockedUntil: loginFailures.lockedUntil })
    .from(loginFailures)
    .where(sql`${loginFailures.email} = ${email} and ${loginFailures.lockedUntil} > now()`);
  return row?.lockedUntil ?? undefined;
}

/** Counts one failure; answers when the lock-out ends if this failure locked the email. */
export async function recordFailure(db: Executor, email: string, policy: ThrottlePolicy): Promise<Date | undefined> {
  const lockout = sql`make_interval(secs => ${policy.lockoutSeconds})`;
  // A lock-out that ended, or a last failure older than a lock-out, starts the count again.
  const failures = sql`case when ${loginFailures.lastFailureAt} < now() - ${lockout} or ${loginFailures.lockedUntil} <= now()
    then 1 else ${loginFailures.failures} + 1 end`;
  const [row] = await db
    .insert(loginFailures)
    .values({
      email,
      failures: 1,
      lastFailureAt: sql`now()`,
      lockedUntil: policy.maxFailures <= 1 ? sql`now() + ${lockout}` : null,
    })
    .onConflictDoUpdate({
      target: loginFailures.email,
      set: {
        failures,
        lastFailureAt: sql`now()`,
        lockedUntil: sql`case when ${failures} >= ${policy.maxFailures} then now() + ${lockout} end`,
      },
    })
    .returning({ lockedUntil: loginFailures.lockedUntil });
  return row?.lockedUntil ?? undefined;
}

export async function clearFailures(db: Executor, email: string): Promise<void> {
  await db.delete(loginFailures).where(eq(loginFailures.email, email));
}
