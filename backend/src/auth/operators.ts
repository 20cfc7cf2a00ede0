/** Operator accounts: created from the CLI, used to log in to the dashboard. */
import { and, asc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../db/executor';
import { operators, operatorSessions } from '../db/schema';
import type { Role } from '@tether/shared/roles';
import { hashPassword, passwordProblem } from './passwords';

export interface Operator {
  id: number;
  email: string;
  role: Role;
}

/** One account per address, whatever its case or surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The longest email address SMTP allows (RFC 5321 path limit): longer ones are refused before any work. */
export const MAX_EMAIL_LENGTH = 254;

const emailSchema = z.email().max(MAX_EMAIL_LENGTH);

/** The operator's input is not acceptable; the message says why. */
export class OperatorInputError extends Error {
  override name = 'OperatorInputError';
}

function checked(email: string, password: string): string {
  const normalized = normalizeEmail(email);
  if (!emailSchema.safeParse(normalized).success) throw new OperatorInputError(`not an email address: ${email}`);
  const problem = passwordProblem(password);
  if (problem) throw new OperatorInputError(problem);
  return normalized;
}

export async function createOperator(db: Executor, email: string, password: string): Promise<Operator> {
  const normalized = checked(email, password);
  const [created] = await db
    .insert(operators)
    .values({ email: normalized, passwordHash: await hashPassword(password) })
    .onConflictDoNothing({ target: operators.email })
    .returning({ id: operators.id, email: operators.email, role: operators.role });
  if (!created) throw new OperatorInputError(`an operator ${normalized} exists already`);
  return created;
}

/** Sets a new password and ends the operator's sessions: whoever knew the old one is logged out. */
export async function changePassword(db: Executor, email: string, password: string): Promise<Operator> {
  const normalized = checked(email, password);
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const [operator] = await tx
      .update(operators)
      .set({ passwordHash })
      .where(eq(operators.email, normalized))
      .returning({ id: operators.id, email: operators.email, role: operators.role });
    if (!operator) throw new OperatorInputError(`no operator ${normalized}`);
    await tx.delete(operatorSessions).where(eq(operatorSessions.operatorId, operator.id));
    return operator;
  });
}

export async function findOperatorForLogin(db: Executor, email: string) {
  const [operator] = await db
    .select({ id: operators.id, email: operators.email, role: operators.role, passwordHash: operators.passwordHash })
    .from(operators)
    // A disabled account is treated as no account: its password no longer opens anything.
    .where(and(eq(operators.email, normalizeEmail(email)), isNull(operators.disabledAt)));
  return operator;
}

export async function listOperators(db: Executor) {
  return db
    .select({
      id: operators.id,
      email: operators.email,
      role: operators.role,
      disabledAt: operators.disabledAt,
      createdAt: operators.createdAt,
      lastLoginAt: operators.lastLoginAt,
    })
    .from(operators)
    .orderBy(asc(operators.email));
}
