/**
 * The floor of applying events (issue 19): the same effect as Tether's events path with the
 * least SQL, measured in the same run, the same pool, concurrency and event mix. Per batch, one
 * transaction of five prepared statements on plain pg:
 *
 *   1. lock the batch's attempts (by Genesis unique_id or transaction_id, in id order);
 *   2. insert the webhook_events rows from unnest arrays, ON CONFLICT DO NOTHING … RETURNING,
 *      which tells which events are new without a separate lookup;
 *   3. list the IBANs whose chargeback reason code blacklists them, from unnest arrays;
 *   4. update the attempts' status, Genesis status and history from unnest arrays;
 *   5. commit.
 *
 * Events are read with the backend's own interpretation and decided by the shared state machine,
 * so both write the same rows. Batching is the simplest group commit: whatever waits when a
 * transaction slot is free goes in one batch (up to `maxBatch`).
 *
 * What the floor leaves out, because the mix never needs it: pending_match events (every
 * attempt exists), attempts learning their unique_id (seeded with it), a second round after a
 * concurrent delivery (one process), and events recorded before with a reopenable outcome.
 */
import { decideTransition, type AttemptStatus, type TransitionDecision } from '@tether/shared/attempt-status';
import type pg from 'pg';
import { historyEntry, type BlacklistNote, type LockedAttempt } from '../../backend/src/events/effect';
import { interpretEvent, type EventMeaning } from '../../backend/src/events/interpret';
import type { EventOutcome } from '../../backend/src/events/outcome';
import type { IncomingEvent } from '../../backend/src/events/process';

export interface FloorResult {
  outcome: string;
  duplicate: boolean;
}

interface Waiting {
  event: IncomingEvent;
  resolve(result: FloorResult): void;
  reject(error: unknown): void;
}


const LOCK = {
  name: 'floor_lock_attempts',
  text: `select a.id, a.status, a.emp_unique_id, a.transaction_id, d.iban
         from billing_attempts a join debtors d on d.id = a.debtor_id
         where a.id = any(array(
           select id from billing_attempts where emp_unique_id = any($1::text[])
           union
           select id from billing_attempts where transaction_id = any($2::text[])))
         order by a.id
         for update of a`,
};

const INSERT_EVENTS = {
  name: 'floor_insert_events',
  text: `insert into webhook_events (dedup_key, unique_id, transaction_id, transaction_type, emp_status, payload, trace_id,
                                     received_at, attempt_unique_id, outcome, error, billing_attempt_id, source, processed_at)
         select r.*, 'emp_api', clock_timestamp()
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::timestamptz[],
                     $9::text[], $10::text[], $11::text[], $12::bigint[]) as r
         on conflict (dedup_key) do nothing
         returning id, dedup_key`,
};

const BLACKLIST = {
  name: 'floor_blacklist',
  text: `insert into blacklist (iban, reason, reason_code, source, source_event_id)
         select iban, reason, reason_code, 'chargeback', source_event_id
         from unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) as b(iban, reason, reason_code, source_event_id)
         on conflict (iban) where removed_at is null do nothing
         returning id, iban`,
};

const UPDATE_ATTEMPTS = {
  name: 'floor_update_attempts',
  text: `update billing_attempts a set status = c.status, emp_status = coalesce(c.emp_status, a.emp_status),
                history = a.history || c.entries, updated_at = now()
         from unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[]) as c(id, status, emp_status, entries)
         where a.id = c.id`,
};

interface Decided {
  event: IncomingEvent;
  meaning?: EventMeaning;
  attempt?: LockedAttempt;
  outcome: EventOutcome;
  error: string | null;
  transition?: TransitionDecision;
}

function decide(event: IncomingEvent, attemptsByKey: Map<string, LockedAttempt>): Decided {
  const interpretation = interpretEvent(event.fields);
  if (!interpretation.ok) return { event, outcome: 'failed', error: interpretation.error };
  const meaning = interpretation.meaning;
  const attempt =
    (meaning.attemptUniqueId && attemptsByKey.get(`u:${meaning.attemptUniqueId}`)) ||
    (meaning.transactionId && attemptsByKey.get(`t:${meaning.transactionId}`)) ||
    undefined;
  if (!attempt) return { event, meaning, outcome: 'pending_match', error: null };
  if (!meaning.target) return { event, meaning, attempt, outcome: 'unchanged', error: null };
  const transition = decideTransition(attempt.status, meaning.target);
  if (transition.kind === 'apply') attempt.status = transition.to;
  if (transition.kind === 'apply' || transition.kind === 'unchanged') {
    return { event, meaning, attempt, outcome: transition.kind === 'apply' ? 'applied' : 'unchanged', error: null, transition };
  }
  return { event, meaning, attempt, outcome: transition.kind, error: `${transition.from} → ${transition.to} is ${transition.kind}`, transition };
}

async function commitBatch(pool: pg.Pool, blacklistCodes: ReadonlySet<string>, events: readonly IncomingEvent[]): Promise<FloorResult[]> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const meanings = events.map((event) => interpretEvent(event.fields));
    const uniqueIds = new Set<string>();
    const transactionIds = new Set<string>();
    for (const interpretation of meanings) {
      if (!interpretation.ok) continue;
      if (interpretation.meaning.attemptUniqueId) uniqueIds.add(interpretation.meaning.attemptUniqueId);
      if (interpretation.meaning.transactionId) transactionIds.add(interpretation.meaning.transactionId);
    }
    const locked = await client.query<{ id: number; status: AttemptStatus; emp_unique_id: string | null; transaction_id: string; iban: string }>({
      ...LOCK,
      values: [[...uniqueIds], [...transactionIds]],
    });
    const attemptsByKey = new Map<string, LockedAttempt>();
    for (const row of locked.rows) {
      const attempt = { id: row.id, status: row.status, empUniqueId: row.emp_unique_id, debtorIban: row.iban };
      if (row.emp_unique_id) attemptsByKey.set(`u:${row.emp_unique_id}`, attempt);
      attemptsByKey.set(`t:${row.transaction_id}`, attempt);
    }

    // The same event twice in one batch is decided once.
    const firstByKey = new Map<string, Decided>();
    for (const event of events) if (!firstByKey.has(event.dedupKey)) firstByKey.set(event.dedupKey, decide(event, attemptsByKey));
    const decided = [...firstByKey.values()].sort((a, b) => (a.event.dedupKey < b.event.dedupKey ? -1 : 1));
    const column = <T>(pick: (item: Decided) => T) => decided.map(pick);
    const inserted = await client.query<{ id: number; dedup_key: string }>({
      ...INSERT_EVENTS,
      values: [
        column((d) => d.event.dedupKey),
        column((d) => d.event.fields.unique_id || null),
        column((d) => d.event.fields.transaction_id || null),
        column((d) => d.event.fields.transaction_type || null),
        column((d) => d.event.fields.status || null),
        column((d) => JSON.stringify(d.event.fields)),
        column((d) => d.event.traceId ?? null),
        column((d) => d.event.receivedAt.toISOString()),
        column((d) => d.meaning?.attemptUniqueId ?? null),
        column((d) => d.outcome),
        column((d) => d.error),
        column((d) => d.attempt?.id ?? null),
      ],
    });
    const newIds = new Map(inserted.rows.map((row) => [row.dedup_key, row.id]));

    // Effects of the new events only, in the order they came.
    const fresh = [...firstByKey.values()].filter((d) => newIds.has(d.event.dedupKey) && d.attempt && (d.outcome === 'applied' || d.outcome === 'unchanged'));
    const application = (d: Decided) => ({
      attempt: d.attempt!,
      meaning: d.meaning!,
      verdict: { outcome: d.outcome, transition: d.transition, error: d.error ?? undefined },
      event: { id: newIds.get(d.event.dedupKey)!, dedupKey: d.event.dedupKey, receivedAt: d.event.receivedAt },
      knownUniqueId: d.attempt!.empUniqueId,
    });
    const notes = new Map<Decided, BlacklistNote>();
    for (const d of fresh) {
      if (d.meaning?.target !== 'chargebacked') continue;
      const code = d.meaning.code;
      if (!code) notes.set(d, { listed: false, why: 'no reason code' });
      else if (!blacklistCodes.has(code)) notes.set(d, { listed: false, why: 'reason code not in the blacklist policy', reason_code: code });
    }
    const listed = fresh
      .filter((d) => d.meaning?.target === 'chargebacked' && d.meaning.code && blacklistCodes.has(d.meaning.code))
      .sort((a, b) => a.attempt!.debtorIban.localeCompare(b.attempt!.debtorIban));
    if (listed.length > 0) {
      const entries = await client.query<{ id: number; iban: string }>({
        ...BLACKLIST,
        values: [
          listed.map((d) => d.attempt!.debtorIban),
          listed.map((d) => `chargeback ${d.meaning!.code} on billing attempt ${d.attempt!.id}`),
          listed.map((d) => d.meaning!.code),
          listed.map((d) => newIds.get(d.event.dedupKey)),
        ],
      });
      // Every IBAN in the mix is listed once, by its first MD06: no second look-up needed.
      const entryIds = new Map(entries.rows.map((row) => [row.iban, row.id]));
      for (const d of listed) notes.set(d, { listed: true, entry_id: entryIds.get(d.attempt!.debtorIban)!, created: true, reason_code: d.meaning!.code! });
    }
    const changes = new Map<number, { status: AttemptStatus; empStatus: string | null; entries: unknown[] }>();
    for (const d of fresh) {
      const attempt = d.attempt!;
      const change = changes.get(attempt.id) ?? { status: attempt.status, empStatus: null, entries: [] };
      change.status = attempt.status;
      if (d.meaning?.target && d.meaning.empStatus) change.empStatus = d.meaning.empStatus;
      change.entries.push(historyEntry(application(d), notes.get(d)));
      changes.set(attempt.id, change);
    }
    if (changes.size > 0) {
      const ids = [...changes.keys()];
      await client.query({
        ...UPDATE_ATTEMPTS,
        values: [
          ids,
          ids.map((id) => changes.get(id)!.status),
          ids.map((id) => changes.get(id)!.empStatus),
          ids.map((id) => JSON.stringify(changes.get(id)!.entries)),
        ],
      });
    }
    await client.query('commit');

    const seenInBatch = new Set<string>();
    return events.map((event) => {
      const first = !seenInBatch.has(event.dedupKey);
      seenInBatch.add(event.dedupKey);
      const isNew = first && newIds.has(event.dedupKey);
      return { outcome: isNew ? firstByKey.get(event.dedupKey)!.outcome : 'duplicate', duplicate: !isNew };
    });
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Group commit on plain pg: `submit` resolves once the event's batch has committed. A batch is
 * gathered once per turn of the event loop (setImmediate), so the deliveries a committed batch
 * releases are back in the queue before a freed slot takes the next batch.
 */
export function floorSubmitter(
  pool: pg.Pool,
  blacklistCodes: ReadonlySet<string>,
  options: { maxBatch: number; maxConcurrentBatches: number },
  onBatch: (size: number) => void = () => undefined,
) {
  const waiting: Waiting[] = [];
  let running = 0;
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  };
  function pump() {
    scheduled = false;
    while (running < options.maxConcurrentBatches && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      running++;
      onBatch(batch.length);
      void commitBatch(
        pool,
        blacklistCodes,
        batch.map((item) => item.event),
      )
        .then(
          (results) => batch.forEach((item, index) => item.resolve(results[index]!)),
          (error: unknown) => batch.forEach((item) => item.reject(error)),
        )
        .finally(() => {
          running--;
          schedule();
        });
    }
  }
  return {
    submit: (event: IncomingEvent) =>
      new Promise<FloorResult>((resolve, reject) => {
        waiting.push({ event, resolve, reject });
        schedule();
      }),
  };
}
