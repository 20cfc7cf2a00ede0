/**
 * The audit log (issue 17): one append-only row per state-changing action by a person, written
 * with the caller's Executor so it commits in the same transaction as the action itself; an
 * action whose transaction rolls back leaves no entry, and no entry exists without its action.
 */
import { auditLog } from '../db/schema';
import type { Executor } from '../db/executor';

/**
 * Who acted. A dashboard operator; the CLI, as the operating-system user running it and the
 * operator it names, if any; or Tether itself acting on a rule an operator set (a retention
 * sweep, a scheduled run starting).
 */
export type AuditActor =
  | { kind: 'operator'; operatorId: number; email: string }
  | { kind: 'cli'; osUser: string; operatorId?: number; email?: string }
  | { kind: 'system'; name: string };

export interface AuditEntry {
  actor: AuditActor;
  /** What was done: the kind of target, dotted with a past-tense verb ('run.paused', 'blacklist.lifted'). */
  action: string;
  /** What was acted on: its kind ('upload', 'billing_run', 'attempt', 'blacklist', 'operator', ...) and id. */
  target?: { kind: string; id: string | number };
  /** The changed fields before and after; never whole IBANs or names (mask them or leave them out). */
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** The operator's stated reason, where the action asks for one. */
  reason?: string;
}

function actorColumns(actor: AuditActor) {
  switch (actor.kind) {
    case 'operator':
      return { actorKind: actor.kind, actorOperatorId: actor.operatorId, actorName: actor.email };
    case 'cli':
      return { actorKind: actor.kind, actorOperatorId: actor.operatorId ?? null, actorName: actor.email ? `${actor.osUser} as ${actor.email}` : actor.osUser };
    case 'system':
      return { actorKind: actor.kind, actorOperatorId: null, actorName: actor.name };
  }
}

/** How the actor is named on what they changed (a run's created_by, a blacklist entry's removed_by) and in the log. */
export function actorName(actor: AuditActor): string {
  return actorColumns(actor).actorName;
}

export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    ...actorColumns(entry.actor),
    action: entry.action,
    targetKind: entry.target?.kind ?? null,
    targetId: entry.target === undefined ? null : String(entry.target.id),
    before: entry.before ?? null,
    after: entry.after ?? null,
    reason: entry.reason ?? null,
  });
}
