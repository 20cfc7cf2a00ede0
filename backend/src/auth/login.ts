/**
 * Logging in: the length caps, then the throttle (login-throttle.ts: a refused request is
 * answered without looking at the password, so it costs no argon2 work), then the password, then
 * a new session. Wrong email and wrong password answer alike.
 */
import { eq, sql } from 'drizzle-orm';
import { operatorActor } from '../audit/actor';
import { recordAudit } from '../audit/record';
import { operators } from '../db/schema';
import type { AuthContext } from './context';
import { clearFailures, currentRefusal, recordFailure, type Refusal } from './login-throttle';
import { findOperatorForLogin, MAX_EMAIL_LENGTH, normalizeEmail } from './operators';
import { MAX_PASSWORD_LENGTH, verifyPassword } from './passwords';
import { startSession, type Session } from './sessions';

export interface LoginAttempt {
  email: string;
  password: string;
  /** The client's address (http/client-address.ts). */
  address: string;
}

export type LoginResult =
  | { ok: true; session: Session & { token: string } }
  | { ok: false; reason: 'wrong_credentials' }
  /** Longer than any account's email or password can be: refused before any work. */
  | { ok: false; reason: 'too_long' }
  | ({ ok: false; reason: 'throttled' } & Refusal);

export async function logIn(context: AuthContext, attempt: LoginAttempt): Promise<LoginResult> {
  const { db, settings, log } = context;
  if (attempt.email.length > MAX_EMAIL_LENGTH || attempt.password.length > MAX_PASSWORD_LENGTH) return { ok: false, reason: 'too_long' };
  const client = { email: normalizeEmail(attempt.email), address: attempt.address };
  const policy = settings.loginThrottle;
  const refusal = await currentRefusal(db, client, policy);
  if (refusal) return { ok: false, reason: 'throttled', ...refusal };

  const operator = await findOperatorForLogin(db, client.email);
  if (!(await verifyPassword(operator?.passwordHash, attempt.password)) || !operator) {
    await recordFailure(db, client, policy);
    const reached = await currentRefusal(db, client, policy);
    if (!reached) return { ok: false, reason: 'wrong_credentials' };
    log.warn({ operatorId: operator?.id, scope: reached.scope, until: reached.until }, 'log-ins refused after repeated failures');
    return { ok: false, reason: 'throttled', ...reached };
  }

  await clearFailures(db, client);
  // Failed log-ins are counted in login_failure_events (purged), not audited: an append-only log
  // must not be something anyone on the internet can write to.
  const session = await db.transaction(async (tx) => {
    await tx.update(operators).set({ lastLoginAt: sql`now()` }).where(eq(operators.id, operator.id));
    const started = await startSession(tx, operator, { idleSeconds: settings.sessionIdleSeconds, maxAgeSeconds: settings.sessionMaxAgeSeconds });
    await recordAudit(tx, { actor: operatorActor(operator), action: 'operator.logged_in', target: { kind: 'operator', id: operator.id } });
    return started;
  });
  log.info({ operatorId: operator.id }, 'operator logged in');
  return { ok: true, session };
}
