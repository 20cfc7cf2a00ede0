import { and, desc, eq, ilike, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditLog } from '../../db/schema';
import { PAGE_SIZE, windowConditions, type ListWindow } from './paging';

/** The window's times are the entries' times. */
export interface AuditFilter extends ListWindow {
  /** Part of the actor's name: an operator's email, the CLI's OS user, a system job. */
  actor?: string;
  action?: string;
  targetKind?: string;
  targetId?: string;
}

export type AuditRow = typeof auditLog.$inferSelect;

/** `%` and `_` typed by the operator are searched for, not wildcards. */
const likeTerm = (value: string) => `%${value.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;

function conditions(filter: AuditFilter) {
  const where = windowConditions(filter, auditLog.at, auditLog.id);
  if (filter.actor) where.push(ilike(auditLog.actorName, likeTerm(filter.actor)));
  if (filter.action) where.push(eq(auditLog.action, filter.action));
  if (filter.targetKind) where.push(eq(auditLog.targetKind, filter.targetKind));
  if (filter.targetId) where.push(eq(auditLog.targetId, filter.targetId));
  return and(...where);
}

/** Newest first, `limit` at a time (keyset paging on the id through `before`). */
export async function listAudit(db: Database, filter: AuditFilter, limit = PAGE_SIZE): Promise<AuditRow[]> {
  return db.select().from(auditLog).where(conditions(filter)).orderBy(desc(auditLog.id)).limit(limit);
}

/** The actions and target kinds the log holds, for the filters' choices. */
export async function auditVocabulary(db: Database): Promise<{ actions: string[]; targetKinds: string[] }> {
  const { rows } = await db.execute<{ actions: string[] | null; target_kinds: string[] | null }>(sql`
    select (select array_agg(distinct action order by action) from audit_log) as actions,
           (select array_agg(distinct target_kind order by target_kind) from audit_log where target_kind is not null) as target_kinds`);
  return { actions: rows[0]?.actions ?? [], targetKinds: rows[0]?.target_kinds ?? [] };
}
