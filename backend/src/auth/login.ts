/**
 * Logging in: the lock-out first (a locked email is refused without looking at the password),
 * then the password, then a new session. Wrong email and wrong password answer alike.
 */
import { eq, sql } from 'drizzle-orm';
import { operators } from '../db/schema';
import type { AuthContext } from './context';
import { clearFailures, lockedUntil, recordFailure } from './login-throttle';
import { findOperatorForLogin, normalizeEmail } from './operators';
import { verifyPassword } from './passwords';
import { startSession, type Session } from './sessions';

export type LoginResult =
  | { ok: true; session: Session & { token: string } }
  | { ok: false; reason: 'wrong_credentials' }
  | { ok: false; reason: 'locked'; until: Date };

export async function logIn(context: AuthContext, email: string, password: string): Promise<LoginResult> {
  const { db, settings, log } = context;
  const key = normalizeEmail(email);
  const locked = await lockedUntil(db, key);
  if (locked) return { ok: false, reason: 'locked', until: locked };

  const operator = await findOperatorForLogin(db, key);
  if (!(await verifyPassword(operator?.passwordHash, password)) || !operator) {
    const until = await recordFailure(db, key, { maxFailures: settings.maxLoginFailures, lockoutSeconds: settings.lockoutSeconds });
    if (!until) return { ok: false, reason: 'wrong_credentials' };
    log.warn({ operatorId: operator?.id, lockedUntil: until }, 'log-in locked after repeated failures');
    return { ok: false, reason: 'locked', until };
  }

  await clearFailures(db, key);
  await db.update(operators).set({ lastLoginAt: sql`now()` }).where(eq(operators.id, operator.id));
  const session = await startSession(db, operator, { idleSeconds: settings.sessionIdleSeconds, maxAgeSeconds: settings.sessionMaxAgeSeconds });
  log.info({ operatorId: operator.id }, 'operator logged in');
  return { ok: true, session };
}
