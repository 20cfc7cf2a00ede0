/**
 * The IBAN blacklist: debtors Tether must not collect from again. Uploads check it when rows are
 * read, billing right before sending (a chargeback may land in between), the event pipeline adds
 * to it automatically, operators through the dashboard. One active entry per IBAN; a removed
 * entry stays as the audit trail, and adding an IBAN that is already listed changes nothing.
 *
 * Every entry carries the keyed hash of its IBAN (personal-data/keyed-hash.ts) and every lookup
 * matches by IBAN or by that hash: erasing a debtor replaces the entry's IBAN by a pseudonym, and
 * the hash alone keeps the IBAN blocked. `key` is PERSONAL_DATA_KEY.
 */
import { normaliseIban } from '@tether/shared/iban';
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { blacklist } from '../db/schema';
import { ibanKeyedHash } from '../personal-data/keyed-hash';

/** chargeback: a reason code; emp_code: a decline's or error's code (e.g. 696); operator: by hand. */
export type BlacklistSource = 'chargeback' | 'emp_code' | 'operator';

export type BlacklistEntry = typeof blacklist.$inferSelect;

export interface BlacklistRequest {
  iban: string;
  reason: string;
  /** SEPA reason code (e.g. MD06) when a chargeback or return is the cause. */
  reasonCode?: string;
  source: BlacklistSource;
  /** The webhook_events row that caused an automatic entry. */
  sourceEventId?: number;
  createdBy?: string;
}

/** Entries only compliance may lift (../shared/sepa-domain.md §5.2): debtor deceased, regulatory. */
const COMPLIANCE_CODES = new Set(['MD07', 'RR04']);

export class BlacklistRemovalRefused extends Error {
  override name = 'BlacklistRemovalRefused';
}

async function findActive(db: Executor, key: string, iban: string): Promise<BlacklistEntry | undefined> {
  const [entry] = await db
    .select()
    .from(blacklist)
    .where(and(or(eq(blacklist.iban, iban), eq(blacklist.ibanHash, ibanKeyedHash(key, iban))), isNull(blacklist.removedAt)))
    .orderBy(blacklist.id)
    .limit(1);
  return entry;
}

/**
 * Lists the IBAN unless it is listed already; either way answers with the active entry, and
 * `created` says whether this call made it (the cause recorded is the first one's).
 */
export async function addToBlacklist(
  db: Executor,
  key: string,
  request: BlacklistRequest,
): Promise<{ entry: BlacklistEntry; created: boolean }> {
  return (await addManyToBlacklist(db, key, [request]))[0]!;
}

/**
 * addToBlacklist for many requests in one INSERT (the events path lists a batch's chargebacks at
 * once), answering in the order given. Of several requests for one IBAN, the first is the cause.
 * Callers in concurrent transactions should pass them in IBAN order, so that they cannot deadlock.
 */
export async function addManyToBlacklist(
  db: Executor,
  key: string,
  requests: readonly BlacklistRequest[],
): Promise<Array<{ entry: BlacklistEntry; created: boolean }>> {
  const results: Array<{ entry: BlacklistEntry; created: boolean }> = [];
  const alreadyListed = <T extends { index: number; iban: string }>(candidates: T[], active: Map<string, BlacklistEntry>) =>
    candidates.filter(({ index, iban }) => {
      const entry = active.get(iban);
      if (entry) results[index] = { entry, created: false };
      return !entry;
    });
  const all = requests.map((request, index) => ({ index, request, iban: normaliseIban(request.iban) }));
  // An erased debtor's entry no longer has the IBAN, only its hash: it is the active entry.
  let waiting = alreadyListed(all, await findBlacklisted(db, key, all.map(({ iban }) => iban)));
  // Two rounds at most: the active entry seen conflicting may be removed before it is read.
  for (let round = 0; round < 2 && waiting.length > 0; round++) {
    const inserted = await db
      .insert(blacklist)
      .values(
        waiting.map(({ request, iban }) => ({
          iban,
          ibanHash: ibanKeyedHash(key, iban),
          reason: request.reason,
          reasonCode: request.reasonCode,
          source: request.source,
          sourceEventId: request.sourceEventId,
          createdBy: request.createdBy,
        })),
      )
      .onConflictDoNothing({ target: blacklist.iban, where: isNull(blacklist.removedAt) })
      .returning();
    const created = new Map(inserted.map((entry) => [entry.iban, entry]));
    const conflicting = waiting.filter(({ index, iban }) => {
      const entry = created.get(iban);
      if (!entry) return true;
      results[index] = { entry, created: true };
      created.delete(iban);
      return false;
    });
    if (conflicting.length === 0) break;
    waiting = alreadyListed(conflicting, await findBlacklisted(db, key, conflicting.map(({ iban }) => iban)));
  }
  if (results.filter(Boolean).length < requests.length) throw new Error('the blacklist entry changed twice while it was being added');
  return results;
}

/** The active entries among `ibans`, by normalised IBAN, found by IBAN or keyed hash; for checking a batch of rows at once. */
export async function findBlacklisted(db: Executor, key: string, ibans: readonly string[]): Promise<Map<string, BlacklistEntry>> {
  const normalized = [...new Set(ibans.map(normaliseIban))];
  if (normalized.length === 0) return new Map();
  const ibanByHash = new Map(normalized.map((iban) => [ibanKeyedHash(key, iban), iban]));
  const entries = await db
    .select()
    .from(blacklist)
    // One array parameter, not one parameter per IBAN: an upload batch checks thousands at once.
    .where(
      and(
        or(sql`${blacklist.iban} = any(${sql.param(normalized)}::text[])`, sql`${blacklist.ibanHash} = any(${sql.param([...ibanByHash.keys()])}::text[])`),
        isNull(blacklist.removedAt),
      ),
    );
  const found = new Map<string, BlacklistEntry>();
  for (const entry of entries) {
    const iban = (entry.ibanHash && ibanByHash.get(entry.ibanHash)) ?? entry.iban;
    if (!found.has(iban)) found.set(iban, entry);
  }
  return found;
}

export async function isBlacklisted(db: Executor, key: string, iban: string): Promise<boolean> {
  return (await findActive(db, key, normaliseIban(iban))) !== undefined;
}

/**
 * Lifts the active entry, keeping it (with who and why) as the audit trail. Entries for a
 * deceased debtor or a regulatory reason need `byCompliance`. Answers the removed entry, or
 * undefined when the IBAN was not listed.
 */
export async function removeFromBlacklist(
  db: Executor,
  key: string,
  request: { iban: string; removedBy: string; reason: string; byCompliance?: boolean },
): Promise<BlacklistEntry | undefined> {
  const iban = normaliseIban(request.iban);
  const active = await findActive(db, key, iban);
  if (!active) return undefined;
  if (active.reasonCode && COMPLIANCE_CODES.has(active.reasonCode) && !request.byCompliance) {
    throw new BlacklistRemovalRefused(`only compliance can lift a ${active.reasonCode} entry`);
  }
  const [removed] = await db
    .update(blacklist)
    .set({ removedAt: new Date(), removedBy: request.removedBy, removalReason: request.reason })
    .where(and(eq(blacklist.id, active.id), isNull(blacklist.removedAt)))
    .returning();
  return removed;
}
