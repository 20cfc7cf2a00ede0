/**
 * Claiming an attempt before it is sent: one conditional UPDATE moves it from pending to sending
 * (of two nodes trying at once, the second finds it no longer pending), and reads what the sale
 * needs. Then the blacklist once more, since a chargeback may have listed the IBAN after the
 * upload: a listed attempt is given back and cancelled, never sent. Only the claimer sends.
 */
import { sql } from 'drizzle-orm';
import { findBlacklisted } from '../blacklist/blacklist';
import { moveAttempt, moveEntry } from './attempt-moves';
import type { BillingContext } from './context';
import { requeueAttempt } from './runs';
import type { ClaimedAttempt } from './sale-request';

export type Claim = { kind: 'claimed'; attempt: ClaimedAttempt } | { kind: 'cancelled' } | { kind: 'not_claimable' };

type ClaimRow = {
  id: number;
  transaction_id: string;
  amount_cents: number;
  currency: string;
  iban: string;
  bic: string | null;
  name: string;
  address: Record<string, string> | null;
  mandate_reference: string | null;
  external_reference: string | null;
  collection: 'one_off' | 'recurring' | null;
};

/**
 * `probe`: the run is paused by the circuit breaker and this is the one request that tests
 * whether EMP answers again.
 */
export async function claimAttempt(
  context: BillingContext,
  runId: string,
  attemptId: number,
  options: { probe?: boolean } = {},
): Promise<Claim> {
  const runOpen = options.probe ? sql`r.status = 'paused' and r.paused_by = 'circuit_breaker'` : sql`r.status = 'running'`;
  const entry = moveEntry('pending', 'sending', {
    source: 'billing',
    reason: options.probe ? 'claimed as circuit breaker probe' : 'claimed for sending',
    node: context.nodeId,
  });
  const { rows } = await context.db.execute<ClaimRow>(sql`
    update billing_attempts a set
      status = 'sending', claimed_by = ${context.nodeId}, claimed_at = now(), updated_at = now(),
      history = a.history || jsonb_build_array(${entry}::jsonb)
    from debtors d, billing_runs r
    where a.id = ${attemptId} and a.billing_run_id = ${runId} and a.status = 'pending' and a.hold_reason is null
      and (a.not_before is null or a.not_before <= now()) and d.id = a.debtor_id and r.id = a.billing_run_id and ${runOpen}
    returning a.id, a.transaction_id, a.amount_cents, a.currency, d.iban, d.bic, d.name, d.address,
              d.mandate_reference, d.external_reference,
              (select u.collection from uploads u where u.id = a.upload_id) as collection`);
  const row = rows[0];
  if (!row) return { kind: 'not_claimable' };

  const listed = (await findBlacklisted(context.db, context.events.personalDataKey, [row.iban])).get(row.iban);
  if (listed) {
    const note = { source: 'billing' as const, reason: 'IBAN blacklisted before sending', blacklist_entry: listed.id, reason_code: listed.reasonCode };
    await moveAttempt(context.db, row.id, { from: 'sending', to: 'pending', note, set: { claimedBy: null, claimedAt: null } });
    await moveAttempt(context.db, row.id, {
      from: 'pending',
      to: 'cancelled',
      note,
      set: { errorCode: 'blacklisted', errorMessage: `IBAN blacklisted: ${listed.reason}` },
    });
    return { kind: 'cancelled' };
  }
  return {
    kind: 'claimed',
    attempt: {
      id: row.id,
      transactionId: row.transaction_id,
      amountCents: row.amount_cents,
      currency: row.currency,
      iban: row.iban,
      bic: row.bic,
      name: row.name,
      address: row.address,
      mandateReference: row.mandate_reference,
      externalReference: row.external_reference,
      recurring: row.collection === 'recurring',
    },
  };
}

/**
 * The request provably never left (breaker open, no connection, run stopped): the claim is given
 * back, and the attempt goes out again with its run (or is cancelled with it).
 */
export async function releaseClaim(context: BillingContext, attemptId: number, reason: string): Promise<void> {
  const released = await moveAttempt(context.db, attemptId, {
    from: 'sending',
    to: 'pending',
    note: { source: 'billing', reason },
    set: { claimedBy: null, claimedAt: null },
  });
  if (released) await requeueAttempt(context, attemptId);
}
