import { and, desc, eq, isNotNull, isNull, lt, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { blacklist } from '../../db/schema';
import { PAGE_SIZE } from './paging';

export const BLACKLIST_VIEWS = ['active', 'removed', 'all'] as const;
export type BlacklistView = (typeof BLACKLIST_VIEWS)[number];

/** Entries newest first; removed ones stay as the audit trail of who lifted what, when and why. */
export async function listBlacklist(db: Database, options: { view: BlacklistView; iban?: string; before?: number }) {
  const conditions: SQL[] = [];
  if (options.view === 'active') conditions.push(isNull(blacklist.removedAt));
  if (options.view === 'removed') conditions.push(isNotNull(blacklist.removedAt));
  if (options.iban) conditions.push(eq(blacklist.iban, options.iban));
  if (options.before !== undefined) conditions.push(lt(blacklist.id, options.before));
  return db
    .select()
    .from(blacklist)
    .where(and(...conditions))
    .orderBy(desc(blacklist.id))
    .limit(PAGE_SIZE);
}

export async function findBlacklistEntry(db: Database, id: number) {
  const [entry] = await db.select().from(blacklist).where(eq(blacklist.id, id));
  return entry;
}
