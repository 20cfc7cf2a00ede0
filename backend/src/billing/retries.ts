/**
 * Retries of soft declines (sepa-domain.md §5.3): an attempt that ended declined, in error or
 * charged back with a code the reason-code policy retries (AM04, MS03) gets one follow-up
 * attempt — a new attempt with its own transaction_id and retry_of pointing back — due
 * RETRY_SPACING after the outcome, up to RETRY_MAX retries in a row. Never for a blacklisted
 * IBAN, never for any other code. Idempotent: one retry per attempt (a unique index).
 */
import { reasonCodePolicy } from '@tether/shared/reason-codes';
import { sql } from 'drizzle-orm';
import { findBlacklisted } from '../blacklist/blacklist';
import { matchPendingEvents } from '../events/match';
import type { BillingContext } from './context';

type Candidate = {
  id: number;
  transaction_id: string;
  error_code: string;
  attempt_number: number;
  iban: string;
};

/** The first attempt's transaction_id with the retry's number: 7c…-12 → 7c…-12-r2 → 7c…-12-r3. */
function retryTransactionId(transactionId: string, attemptNumber: number): string {
  return `${transactionId.replace(/-r\d+$/, '')}-r${attemptNumber}`;
}

export async function scheduleRetries(context: BillingContext): Promise<number> {
  const { max, spacingMs } = context.settings.retry;
  const { rows } = await context.db.execute<Candidate>(sql`
    select a.id, a.transaction_id, a.error_code, a.attempt_number, d.iban
    from billing_attempts a join debtors d on d.id = a.debtor_id
    where a.status in ('declined', 'error', 'chargebacked') and a.error_code is not null and a.attempt_number <= ${max}
      and not exists (select 1 from billing_attempts r where r.retry_of = a.id)`);
  const retryable = rows.filter((candidate) => reasonCodePolicy(candidate.error_code).action === 'retry');
  if (retryable.length === 0) return 0;
  const blacklisted = await findBlacklisted(context.db, context.events.personalDataKey, retryable.map((candidate) => candidate.iban));
  const due = retryable.filter((candidate) => !blacklisted.has(candidate.iban));
  if (due.length === 0) return 0;

  const { rows: created } = await context.db.execute<{ transaction_id: string }>(sql`
    insert into billing_attempts (transaction_id, debtor_id, upload_id, amount_cents, currency, attempt_number, retry_of, not_before, history)
    select r.transaction_id, a.debtor_id, a.upload_id, a.amount_cents, a.currency, a.attempt_number + 1, a.id,
           a.updated_at + ${spacingMs} * interval '1 millisecond',
           jsonb_build_array(jsonb_build_object('at', now(), 'source', 'billing', 'reason', 'retry of a soft decline', 'retry_of', a.id, 'code', a.error_code))
    from unnest(${sql.param(due.map((candidate) => candidate.id))}::bigint[],
                ${sql.param(due.map((candidate) => retryTransactionId(candidate.transaction_id, candidate.attempt_number + 1)))}::text[])
      as r(id, transaction_id)
    join billing_attempts a on a.id = r.id
    on conflict do nothing
    returning transaction_id`);
  if (created.length > 0) {
    context.log.info({ retries: created.length }, 'retries of soft declines scheduled');
    // Notifications about a new transaction_id may have arrived first (match.ts).
    await matchPendingEvents(context.events, { transactionIds: created.map((row) => row.transaction_id) });
  }
  return created.length;
}
