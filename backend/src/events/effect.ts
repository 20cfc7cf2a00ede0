/**
 * Events' effects on their billing attempts, inside the caller's transaction: find and lock the
 * attempts, let the state machine decide each event in order, and apply what it allows. The
 * attempts' row locks (SELECT … FOR UPDATE, always in id order, so two transactions cannot
 * deadlock on them) serialise events for one attempt across processes; events for different
 * attempts never wait for each other.
 */
import { decideTransition, type AttemptStatus, type TransitionDecision } from '@tether/shared/attempt-status';
import { sql } from 'drizzle-orm';
import { endsMandate } from '@tether/shared/reason-codes';
import { addManyToBlacklist } from '../blacklist/blacklist';
import type { Executor } from '../db/executor';
import { learnFromDebits } from '../recurring/mandates';
import type { EventContext } from './context';
import type { EventMeaning } from './interpret';
import type { EventOutcome } from './outcome';

/** An attempt as the events of one transaction see it: its status moves as they are decided. */
export interface LockedAttempt {
  id: number;
  status: AttemptStatus;
  empUniqueId: string | null;
  debtorIban: string;
}

export interface Verdict {
  outcome: EventOutcome;
  transition?: TransitionDecision;
  error?: string;
}

/** The event's row as far as the attempt's history needs it. */
export interface EventRef {
  id: number;
  dedupKey: string;
  receivedAt: Date;
}

export interface EffectResult {
  /** The attempt's Genesis unique_id, when this event taught it. */
  learnedUniqueId?: string;
  blacklistedNow: boolean;
}

export interface LockedAttempts {
  find(meaning: EventMeaning): LockedAttempt | undefined;
  /**
   * Another attempt that already holds the event's own unique_id, when the event's transaction_id
   * names a different one. Genesis gives each transaction one unique_id, so one of the two records
   * is wrong (a simulator restarted on a kept database hands out ids again): neither is changed.
   */
  uniqueIdHolder(meaning: EventMeaning): LockedAttempt | undefined;
}

/**
 * By Genesis unique_id first, Tether's transaction_id second — but by transaction_id when the two
 * name different attempts: the event is about the transaction Tether sent. Locked until the
 * transaction ends.
 */
export async function lockAttempts(tx: Executor, meanings: readonly EventMeaning[]): Promise<LockedAttempts> {
  const uniqueIds = [...new Set(meanings.flatMap((meaning) => meaning.attemptUniqueId ?? []))];
  const transactionIds = [...new Set(meanings.flatMap((meaning) => meaning.transactionId ?? []))];
  const byUniqueId = new Map<string, LockedAttempt>();
  const byTransactionId = new Map<string, LockedAttempt>();
  if (uniqueIds.length > 0 || transactionIds.length > 0) {
    const result = await tx.execute<{ id: number; status: AttemptStatus; emp_unique_id: string | null; transaction_id: string; iban: string }>(sql`
      select a.id, a.status, a.emp_unique_id, a.transaction_id, d.iban
      from billing_attempts a join debtors d on d.id = a.debtor_id
      -- Ids first, each through its unique index: an OR of the two lookups, or a join with the
      -- union, makes the planner scan both tables whole.
      where a.id = any(array(
        select id from billing_attempts where emp_unique_id = any(${sql.param(uniqueIds)}::text[])
        union
        select id from billing_attempts where transaction_id = any(${sql.param(transactionIds)}::text[])))
      order by a.id
      for update of a`);
    for (const row of result.rows) {
      const attempt = { id: row.id, status: row.status, empUniqueId: row.emp_unique_id, debtorIban: row.iban };
      if (row.emp_unique_id) byUniqueId.set(row.emp_unique_id, attempt);
      byTransactionId.set(row.transaction_id, attempt);
    }
  }
  const lookUp = (meaning: EventMeaning) => {
    const holder = meaning.attemptUniqueId ? byUniqueId.get(meaning.attemptUniqueId) : undefined;
    const named = meaning.transactionId ? byTransactionId.get(meaning.transactionId) : undefined;
    return { holder, named, conflict: holder !== undefined && named !== undefined && holder.id !== named.id };
  };
  return {
    find: (meaning) => {
      const { holder, named, conflict } = lookUp(meaning);
      return conflict ? named : (holder ?? named);
    },
    uniqueIdHolder: (meaning) => {
      const { holder, conflict } = lookUp(meaning);
      return conflict ? holder : undefined;
    },
  };
}

/** `uniqueIdHolder`: see LockedAttempts. */
export function decide(attempt: LockedAttempt | undefined, meaning: EventMeaning, uniqueIdHolder?: LockedAttempt): Verdict {
  if (!attempt) return { outcome: 'pending_match' };
  if (uniqueIdHolder) {
    return {
      outcome: 'illegal',
      error: `unique_id ${meaning.attemptUniqueId} is already attempt ${uniqueIdHolder.id}'s, yet Genesis gives it for this attempt's transaction_id`,
    };
  }
  if (meaning.ownUniqueId && attempt.empUniqueId && meaning.attemptUniqueId !== attempt.empUniqueId) {
    // Our transaction_id on another Genesis transaction, e.g. EMP refusing a resend as a duplicate.
    return {
      outcome: 'illegal',
      error: `unique_id ${meaning.attemptUniqueId} is not the attempt's (${attempt.empUniqueId})`,
    };
  }
  if (meaning.review) return { outcome: 'review', error: meaning.review };
  if (!meaning.target) return { outcome: 'unchanged' };
  const transition = decideTransition(attempt.status, meaning.target);
  switch (transition.kind) {
    case 'apply':
      return { outcome: 'applied', transition };
    case 'unchanged':
      return { outcome: 'unchanged', transition };
    case 'stale':
    case 'illegal':
      return { outcome: transition.kind, transition, error: `${transition.from} → ${transition.to} is ${transition.kind}` };
  }
}

/**
 * Decides the event against the attempt as earlier events of the same transaction left it, and
 * moves the in-memory attempt along, so the next event of the batch sees its effect.
 */
export function decideAndAdvance(attempt: LockedAttempt | undefined, meaning: EventMeaning, uniqueIdHolder?: LockedAttempt): Verdict {
  const verdict = decide(attempt, meaning, uniqueIdHolder);
  if (attempt && changesAttempt(verdict)) {
    if (verdict.transition?.kind === 'apply') attempt.status = verdict.transition.to;
    if (meaning.ownUniqueId && meaning.attemptUniqueId && !attempt.empUniqueId) attempt.empUniqueId = meaning.attemptUniqueId;
  }
  return verdict;
}

export function changesAttempt(verdict: Verdict): boolean {
  return verdict.outcome === 'applied' || verdict.outcome === 'unchanged';
}

/** One decided event that changes its attempt (an applied or informative verdict). */
export interface Application {
  attempt: LockedAttempt;
  meaning: EventMeaning;
  verdict: Verdict;
  event: EventRef;
  /** The attempt's unique_id before this event, to tell whether the event taught it. */
  knownUniqueId: string | null;
}

/** What the blacklist policy did for one application, as its history entry records it. */
export type BlacklistNote =
  | { listed: true; entry_id: number; created: boolean; reason_code: string }
  | { listed: false; why: 'no reason code' | 'reason code not in the blacklist policy'; reason_code?: string };

/** Outcomes whose code the blacklist policy reads: a chargeback's reason, a decline's or an error's code (e.g. 696, IBAN blacklisted at EMP). */
const LISTABLE_TARGETS: ReadonlySet<AttemptStatus> = new Set(['chargebacked', 'declined', 'error']);

function listingCode({ meaning }: Application): string | undefined {
  return meaning.target === 'chargebacked' ? meaning.chargeback?.reasonCode : meaning.code;
}

/** A chargeback always (its missing reason code is warned about); a decline or an error only with a code. */
function asksBlacklistPolicy(application: Application): boolean {
  const { target, chargeback } = application.meaning;
  if (!target || !LISTABLE_TARGETS.has(target)) return false;
  return target === 'chargebacked' ? chargeback !== undefined : listingCode(application) !== undefined;
}

/**
 * The blacklist policy for a batch's listable applications, in the order given: the IBANs to list
 * in one INSERT (addManyToBlacklist), a note for each application.
 */
async function blacklistForOutcomes(
  tx: Executor,
  context: EventContext,
  applications: readonly Application[],
): Promise<Map<Application, BlacklistNote>> {
  const notes = new Map<Application, BlacklistNote>();
  const toList: Array<{ application: Application; reasonCode: string; what: string }> = [];
  for (const application of applications) {
    const { attempt, event } = application;
    const reasonCode = listingCode(application);
    const what = application.meaning.target === 'chargebacked' ? 'chargeback' : application.meaning.target!;
    if (!reasonCode) {
      if (what === 'chargeback') context.log.warn({ attemptId: attempt.id, eventId: event.id }, 'chargeback without a reason code: IBAN not blacklisted');
      notes.set(application, { listed: false, why: 'no reason code' });
    } else if (!context.blacklistCodes.has(reasonCode)) {
      notes.set(application, { listed: false, why: 'reason code not in the blacklist policy', reason_code: reasonCode });
    } else {
      toList.push({ application, reasonCode, what });
    }
  }
  if (toList.length === 0) return notes;
  const listed = await addManyToBlacklist(
    tx,
    context.personalDataKey,
    toList.map(({ application: { attempt, event }, reasonCode, what }) => ({
      iban: attempt.debtorIban,
      reason: `${what} ${reasonCode} on billing attempt ${attempt.id}`,
      reasonCode,
      source: what === 'chargeback' ? ('chargeback' as const) : ('emp_code' as const),
      sourceEventId: event.id,
    })),
  );
  toList.forEach(({ application, reasonCode }, index) => {
    const { entry, created } = listed[index]!;
    const { attempt, event } = application;
    if (created) context.log.info({ iban: attempt.debtorIban, reasonCode, attemptId: attempt.id, eventId: event.id }, 'IBAN blacklisted');
    notes.set(application, { listed: true, entry_id: entry.id, created, reason_code: reasonCode });
  });
  return notes;
}

/** The entry an application appends to its attempt's history (the events benchmark's floor writes the same). */
export function historyEntry({ event, meaning, verdict }: Application, blacklist?: BlacklistNote) {
  const { chargeback } = meaning;
  return {
    at: new Date().toISOString(),
    source: 'emp_event',
    event_id: event.id,
    dedup_key: event.dedupKey,
    received_at: event.receivedAt.toISOString(),
    outcome: verdict.outcome,
    ...(verdict.transition?.kind === 'apply' ? { from: verdict.transition.from, to: verdict.transition.to } : {}),
    emp_status: meaning.empStatus,
    transaction_type: meaning.transactionType,
    event: meaning.eventName,
    code: meaning.code,
    message: meaning.message,
    ...(chargeback && {
      chargeback: {
        unique_id: chargeback.uniqueId,
        amount: chargeback.amount,
        currency: chargeback.currency,
        reason: chargeback.reason,
        reason_code: chargeback.reasonCode,
        arn: chargeback.arn,
        received_at: event.receivedAt.toISOString(),
      },
    }),
    ...(blacklist && { blacklist }),
  };
}

/** What one attempt's row becomes after all of its events in this transaction. */
interface AttemptChange {
  id: number;
  status: AttemptStatus | null;
  emp_status: string | null;
  emp_unique_id: string | null;
  set_error: boolean;
  error_code: string | null;
  error_message: string | null;
  entries: Array<ReturnType<typeof historyEntry>>;
}

/**
 * Applies decided events (in the order given) to their attempts: the final status, what the
 * events teach (Genesis status, unique_id, error code), their history entries appended (earlier
 * entries are never rewritten), and for chargebacks the blacklist policy. One UPDATE for all.
 */
export async function applyToAttempts(
  tx: Executor,
  context: EventContext,
  applications: readonly Application[],
): Promise<Map<number, EffectResult>> {
  const effects = new Map<number, EffectResult>();
  const changes = new Map<number, AttemptChange>();
  // Blacklist inserts in IBAN order, so two transactions listing the same IBANs cannot deadlock.
  const listable = applications
    .filter(asksBlacklistPolicy)
    .sort((a, b) => a.attempt.debtorIban.localeCompare(b.attempt.debtorIban));
  const notes = await blacklistForOutcomes(tx, context, listable);

  for (const application of applications) {
    const { attempt, meaning, verdict, event } = application;
    const change = changes.get(attempt.id) ?? {
      id: attempt.id,
      status: null,
      emp_status: null,
      emp_unique_id: null,
      set_error: false,
      error_code: null,
      error_message: null,
      entries: [],
    };
    if (verdict.transition?.kind === 'apply') change.status = verdict.transition.to;
    if (meaning.target && meaning.empStatus) change.emp_status = meaning.empStatus;
    const learnedUniqueId =
      meaning.ownUniqueId && meaning.attemptUniqueId && !application.knownUniqueId ? meaning.attemptUniqueId : undefined;
    if (learnedUniqueId) change.emp_unique_id = learnedUniqueId;
    if (meaning.code) Object.assign(change, { set_error: true, error_code: meaning.code, error_message: meaning.message ?? null });
    const note = notes.get(application);
    change.entries.push(historyEntry(application, note));
    changes.set(attempt.id, change);
    effects.set(event.id, { learnedUniqueId, blacklistedNow: note?.listed === true && note.created });
  }

  if (changes.size > 0) {
    // A typed array per column, as the event rows are inserted (process.ts, insertEventRows).
    const rows = [...changes.values()];
    const column = <T>(pick: (change: AttemptChange) => T) => sql.param(rows.map(pick));
    await tx.execute(sql`
      update billing_attempts a set
        status = coalesce(c.status, a.status),
        emp_status = coalesce(c.emp_status, a.emp_status),
        emp_unique_id = coalesce(a.emp_unique_id, c.emp_unique_id),
        error_code = case when c.set_error then c.error_code else a.error_code end,
        error_message = case when c.set_error then c.error_message else a.error_message end,
        history = a.history || c.entries,
        updated_at = now()
      from unnest(${column((change) => change.id)}::bigint[], ${column((change) => change.status)}::text[],
                  ${column((change) => change.emp_status)}::text[], ${column((change) => change.emp_unique_id)}::text[],
                  ${column((change) => change.set_error)}::boolean[], ${column((change) => change.error_code)}::text[],
                  ${column((change) => change.error_message)}::text[], ${column((change) => JSON.stringify(change.entries))}::jsonb[])
           as c(id, status, emp_status, emp_unique_id, set_error, error_code, error_message, entries)
      where a.id = c.id`);
    // A chargeback's reason code may come with the record after the status moved (its verdict then "unchanged").
    await learnFromDebits(tx, {
      approved: applications.filter(({ verdict }) => verdict.transition?.kind === 'apply' && verdict.transition.to === 'approved').map(({ attempt }) => attempt.id),
      mandateEnding: applications
        .filter(({ meaning }) => meaning.target === 'chargebacked' && endsMandate(meaning.chargeback?.reasonCode))
        .map(({ attempt, meaning }) => ({ attemptId: attempt.id, code: meaning.chargeback!.reasonCode! })),
    });
  }
  return effects;
}
