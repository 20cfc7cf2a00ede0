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
import { maskIban } from '@tether/shared/mask';
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { actorName, recordAudit, type AuditActor } from '../audit/record';
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

/**
 * Entries only compliance may lift (../shared/sepa-domain.md §5.2): debtor deceased, regulatory.
 * An admin lifts them, with a reason (issue 17); operators remove the others.
 */
const COMPLIANCE_CODES = new Set(['MD07', 'RR04']);

export function needsComplianceToLift(entry: Pick<BlacklistEntry, 'reasonCode'>): boolean {
  return entry.reasonCode !== null && COMPLIANCE_CODES.has(entry.reasonCode);
}

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

/** An operator lists an IBAN by hand: audited when it was not listed yet (listing it again changes nothing). */
export async function blacklistByHand(db: Executor, key: string, request: { iban: string; reason: string }, actor: AuditActor) {
  return db.transaction(async (tx) => {
    const added = await addToBlacklist(tx, key, { iban: request.iban, reason: request.reason, source: 'operator', createdBy: actorName(actor) });
    if (added.created) {
      await recordAudit(tx, {
        actor,
        action: 'blacklist.added',
        target: { kind: 'blacklist_entry', id: added.entry.id },
        after: { iban: maskIban(added.entry.iban), active: true },
        reason: request.reason,
      });
    }
    return added;
  });
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
 * Lifts the active entry, keeping it (with who and why) as the audit trail, and audits it in the
 * same transaction. Entries for a deceased debtor or a regulatory reason need `byCompliance` (an
 * admin's lift). Answers the removed entry, or undefined when the IBAN was not listed.
 */
export async function removeFromBlacklist(
  db: Executor,
  key: string,
  request: { iban: string; reason: string; byCompliance?: boolean },
  actor: AuditActor,
): Promise<BlacklistEntry | undefined> {
  const iban = normaliseIban(request.iban);
  return db.transaction(async (tx) => {
    const active = await findActive(tx, key, iban);
    if (!active) return undefined;
    const compliance = needsComplianceToLift(active);
    if (compliance && !request.byCompliance) throw new BlacklistRemovalRefused(`only compliance (an admin) can lift a ${active.reasonCode} entry`);
    const [removed] = await tx
      .update(blacklist)
      .set({ removedAt: new Date(), removedBy: actorName(actor), removalReason: request.reason })
      .where(and(eq(blacklist.id, active.id), isNull(blacklist.removedAt)))
      .returning();
    if (removed) {
      await recordAudit(tx, {
        actor,
        action: compliance ? 'blacklist.lifted' : 'blacklist.removed',
        target: { kind: 'blacklist_entry', id: removed.id },
        before: { iban: maskIban(removed.iban), active: true, reasonCode: removed.reasonCode },
        after: { active: false },
        reason: request.reason,
      });
    }
    return removed;
  });
}
