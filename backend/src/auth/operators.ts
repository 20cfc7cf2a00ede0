/** Operator accounts: created from the CLI or by an admin, used to log in to the dashboard. */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../db/executor';
import { operators, operatorSessions } from '../db/schema';
import type { Role } from '@tether/shared/roles';
import { recordAudit, type AuditActor } from '../audit/record';
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

/**
 * Operator management (issue 17): each change is audited in its own transaction, a disabled
 * account's sessions end in the same transaction, and the last enabled admin can be neither
 * disabled nor demoted, so someone can always manage operators.
 */
export type OperatorRef = { id: number } | { email: string };

const returned = { id: operators.id, email: operators.email, role: operators.role, disabledAt: operators.disabledAt };

function whereRef(ref: OperatorRef) {
  return 'id' in ref ? eq(operators.id, ref.id) : eq(operators.email, normalizeEmail(ref.email));
}

const describeRef = (ref: OperatorRef) => ('id' in ref ? `no operator ${ref.id}` : `no operator ${normalizeEmail(ref.email)}`);

export async function createOperator(db: Executor, request: { email: string; password: string; role: Role }, actor: AuditActor): Promise<Operator> {
  const normalized = checked(request.email, request.password);
  const passwordHash = await hashPassword(request.password);
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(operators)
      .values({ email: normalized, passwordHash, role: request.role })
      .onConflictDoNothing({ target: operators.email })
      .returning({ id: operators.id, email: operators.email, role: operators.role });
    if (!created) throw new OperatorInputError(`an operator ${normalized} exists already`);
    await recordAudit(tx, { actor, action: 'operator.created', target: { kind: 'operator', id: created.id }, after: { email: created.email, role: created.role } });
    return created;
  });
}

/** Sets a new password and ends the operator's sessions: whoever knew the old one is logged out. */
export async function changePassword(db: Executor, email: string, password: string, actor: AuditActor): Promise<Operator> {
  const normalized = checked(email, password);
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const [operator] = await tx
      .update(operators)
      .set({ passwordHash })
      .where(eq(operators.email, normalized))
      .returning({ id: operators.id, email: operators.email, role: operators.role });
    if (!operator) throw new OperatorInputError(`no operator ${normalized}`);
    const ended = await tx.delete(operatorSessions).where(eq(operatorSessions.operatorId, operator.id)).returning({ tokenHash: operatorSessions.tokenHash });
    await recordAudit(tx, { actor, action: 'operator.password_changed', target: { kind: 'operator', id: operator.id }, after: { sessionsEnded: ended.length } });
    return operator;
  });
}

/**
 * Refuses a change that would leave no enabled admin. Locks every enabled admin's row first, so
 * two admins disabling each other at once are serialised and the second is refused.
 */
async function keepAnAdmin(tx: Executor, target: { id: number; role: Role; disabledAt: Date | null }, what: string) {
  if (target.role !== 'admin' || target.disabledAt) return;
  const admins = await tx
    .select({ id: operators.id })
    .from(operators)
    .where(and(eq(operators.role, 'admin'), isNull(operators.disabledAt)))
    .for('update');
  if (admins.every((admin) => admin.id === target.id)) throw new OperatorInputError(`${what}: it is the last enabled admin`);
}

async function lockedOperator(tx: Executor, ref: OperatorRef) {
  const [operator] = await tx.select(returned).from(operators).where(whereRef(ref)).for('update');
  if (!operator) throw new OperatorInputError(describeRef(ref));
  return operator;
}

/** Disables the account and ends its sessions in the same transaction: its next request is refused. */
export async function disableOperator(db: Executor, ref: OperatorRef, actor: AuditActor): Promise<Operator> {
  return db.transaction(async (tx) => {
    const operator = await lockedOperator(tx, ref);
    if (operator.disabledAt) return operator;
    await keepAnAdmin(tx, operator, `${operator.email} cannot be disabled`);
    const [disabled] = await tx.update(operators).set({ disabledAt: sql`now()` }).where(eq(operators.id, operator.id)).returning(returned);
    const ended = await tx.delete(operatorSessions).where(eq(operatorSessions.operatorId, operator.id)).returning({ tokenHash: operatorSessions.tokenHash });
    await recordAudit(tx, {
      actor,
      action: 'operator.disabled',
      target: { kind: 'operator', id: operator.id },
      before: { disabled: false },
      after: { disabled: true, sessionsEnded: ended.length },
    });
    return disabled!;
  });
}

export async function enableOperator(db: Executor, ref: OperatorRef, actor: AuditActor): Promise<Operator> {
  return db.transaction(async (tx) => {
    const operator = await lockedOperator(tx, ref);
    if (!operator.disabledAt) return operator;
    const [enabled] = await tx.update(operators).set({ disabledAt: null }).where(eq(operators.id, operator.id)).returning(returned);
    await recordAudit(tx, { actor, action: 'operator.enabled', target: { kind: 'operator', id: operator.id }, before: { disabled: true }, after: { disabled: false } });
    return enabled!;
  });
}

/** A new role applies from the operator's next request: sessions read the role each time. */
export async function changeRole(db: Executor, ref: OperatorRef, role: Role, actor: AuditActor): Promise<Operator> {
  return db.transaction(async (tx) => {
    const operator = await lockedOperator(tx, ref);
    if (operator.role === role) return operator;
    if (role !== 'admin') await keepAnAdmin(tx, operator, `${operator.email} cannot become ${role}`);
    const [changed] = await tx.update(operators).set({ role }).where(eq(operators.id, operator.id)).returning(returned);
    await recordAudit(tx, { actor, action: 'operator.role_changed', target: { kind: 'operator', id: operator.id }, before: { role: operator.role }, after: { role } });
    return changed!;
  });
}

/** Whether any enabled admin exists: the CLI makes the first account an admin when none does. */
export async function hasEnabledAdmin(db: Executor): Promise<boolean> {
  const [admin] = await db.select({ id: operators.id }).from(operators).where(and(eq(operators.role, 'admin'), isNull(operators.disabledAt))).limit(1);
  return admin !== undefined;
}

export async function findEnabledOperator(db: Executor, email: string): Promise<Operator | undefined> {
  const [operator] = await db
    .select({ id: operators.id, email: operators.email, role: operators.role })
    .from(operators)
    .where(and(eq(operators.email, normalizeEmail(email)), isNull(operators.disabledAt)));
  return operator;
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
