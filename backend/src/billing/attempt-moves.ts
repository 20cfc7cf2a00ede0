/**
 * The moves billing and reconciliation make on their own: claiming (pending → sending), giving a
 * claim back (sending → pending), not knowing (sending → unknown), "EMP has no such transaction"
 * (unknown → pending), cancelling (pending → cancelled). Everything EMP says goes through the
 * events apply path instead. Both are decided by the one state machine, `decideTransition`;
 * each move here is a conditional UPDATE on the status it starts from, so of two racing
 * writers exactly one moves the attempt, and a history entry records why.
 */
import { decideTransition, type AttemptStatus } from '@tether/shared/attempt-status';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/executor';
import { billingAttempts } from '../db/schema';

export type MoveSource = 'billing' | 'reconciliation' | 'operator';

export interface MoveNote {
  source: MoveSource;
  reason: string;
  [detail: string]: unknown;
}

type AttemptColumns = PgUpdateSetSource<typeof billingAttempts>;

/**
 * Moves every attempt matching `where` that is in `from` to `to`, with `set` written alongside.
 * Answers the ids moved.
 */
/** The history entry of a move, once the state machine allows it; throws for a move it does not. */
export function moveEntry(from: AttemptStatus, to: AttemptStatus, note: MoveNote): string {
  const decision = decideTransition(from, to);
  if (decision.kind !== 'apply') throw new Error(`${from} → ${to} is not a move the state machine allows (${decision.kind})`);
  return JSON.stringify({ at: new Date().toISOString(), from, to, ...note });
}

export async function moveAttempts(
  db: Executor,
  move: { where: SQL; from: AttemptStatus; to: AttemptStatus; note: MoveNote; set?: AttemptColumns },
): Promise<number[]> {
  const entry = moveEntry(move.from, move.to, move.note);
  const rows = await db
    .update(billingAttempts)
    .set({
      ...move.set,
      status: move.to,
      history: sql`${billingAttempts.history} || jsonb_build_array(${entry}::jsonb)`,
      updatedAt: sql`now()`,
    })
    .where(and(move.where, eq(billingAttempts.status, move.from)))
    .returning({ id: billingAttempts.id });
  return rows.map((row) => row.id);
}

/** One attempt; true when this call moved it. */
export async function moveAttempt(
  db: Executor,
  attemptId: number,
  move: { from: AttemptStatus; to: AttemptStatus; note: MoveNote; set?: AttemptColumns },
): Promise<boolean> {
  return (await moveAttempts(db, { ...move, where: eq(billingAttempts.id, attemptId) })).length > 0;
}
