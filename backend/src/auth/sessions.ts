/**
 * Operator sessions in PostgreSQL. The browser holds a random token; the table holds its
 * SHA-256, the operator, the session's CSRF token and when it ends. A session ends after
 * `idleSeconds` without a request, and `maxAgeSeconds` after log-in whatever happens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { operators, operatorSessions } from '../db/schema';
import { operatorActor } from '../audit/actor';
import { recordAudit } from '../audit/record';
import type { Operator } from './operators';

export interface SessionPolicy {
  idleSeconds: number;
  maxAgeSeconds: number;
}

export interface Session {
  operator: Operator;
  csrfToken: string;
  expiresAt: Date;
}

/** Extending the session on every request would write on every poll; once a minute is enough. */
const REFRESH_AFTER_SECONDS = 60;

const randomToken = () => randomBytes(32).toString('base64url');

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The expiry a session used now gets: idle time from now, capped by its maximum age. */
function nextExpiry(policy: SessionPolicy) {
  return sql`least(now() + make_interval(secs => ${policy.idleSeconds}), ${operatorSessions.createdAt} + make_interval(secs => ${policy.maxAgeSeconds}))`;
}

export async function startSession(db: Executor, operator: Operator, policy: SessionPolicy): Promise<Session & { token: string }> {
  const token = randomToken();
  const csrfToken = randomToken();
  // Expired sessions are deleted here rather than by a timer: log-ins are rare, and no node keeps a timer.
  await db.delete(operatorSessions).where(lt(operatorSessions.expiresAt, sql`now()`));
  const [session] = await db
    .insert(operatorSessions)
    .values({
      tokenHash: hashToken(token),
      operatorId: operator.id,
      csrfToken,
      expiresAt: sql`now() + make_interval(secs => ${Math.min(policy.idleSeconds, policy.maxAgeSeconds)})`,
    })
    .returning({ expiresAt: operatorSessions.expiresAt });
  return { token, operator, csrfToken, expiresAt: session!.expiresAt };
}

/** The live session the token belongs to, its expiry moved forward; undefined when there is none. */
export async function resumeSession(db: Executor, token: string, policy: SessionPolicy): Promise<Session | undefined> {
  const tokenHash = hashToken(token);
  const [row] = await db
    .select({
      operatorId: operators.id,
      email: operators.email,
      role: operators.role,
      csrfToken: operatorSessions.csrfToken,
      expiresAt: operatorSessions.expiresAt,
      refresh: sql<boolean>`${operatorSessions.expiresAt} < ${nextExpiry(policy)} - make_interval(secs => ${REFRESH_AFTER_SECONDS})`,
    })
    .from(operatorSessions)
    .innerJoin(operators, eq(operators.id, operatorSessions.operatorId))
    .where(and(eq(operatorSessions.tokenHash, tokenHash), gt(operatorSessions.expiresAt, sql`now()`), isNull(operators.disabledAt)));
  if (!row) return undefined;
  let expiresAt = row.expiresAt;
  if (row.refresh) {
    const [updated] = await db
      .update(operatorSessions)
      .set({ expiresAt: nextExpiry(policy) })
      .where(eq(operatorSessions.tokenHash, tokenHash))
      .returning({ expiresAt: operatorSessions.expiresAt });
    expiresAt = updated?.expiresAt ?? expiresAt;
  }
  return { operator: { id: row.operatorId, email: row.email, role: row.role }, csrfToken: row.csrfToken, expiresAt };
}

/** Logs out: the session ends, and the audit log says so in the same transaction. */
export async function endSession(db: Executor, token: string, operator: Operator): Promise<void> {
  await db.transaction(async (tx) => {
    const ended = await tx.delete(operatorSessions).where(eq(operatorSessions.tokenHash, hashToken(token))).returning({ tokenHash: operatorSessions.tokenHash });
    if (ended.length > 0) await recordAudit(tx, { actor: operatorActor(operator), action: 'operator.logged_out', target: { kind: 'operator', id: operator.id } });
  });
}
