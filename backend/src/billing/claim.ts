/**
 * Claiming an attempt before it is sent: one transaction locks the pending attempt (skipping it
 * if another node holds the lock), checks the blacklist once more (a chargeback may have listed
 * the IBAN since the upload), and moves it to sending, or to cancelled when listed. Only the
 * claimer sends, so no two nodes send the same attempt.
 */
import { sql } from 'drizzle-orm';
import { findBlacklisted } from '../blacklist/blacklist';
import { moveAttempt } from './attempt-moves';
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
  const runOpen = options.probe
    ? sql`r.status = 'paused' and r.paused_by = 'circuit_breaker'`
    : sql`r.status = 'running'`;
  return context.db.transaction(async (tx) => {
    const { rows } = await tx.execute<ClaimRow>(sql`
      select a.id, a.transaction_id, a.amount_cents, a.currency, d.iban, d.bic, d.name, d.address,
             d.mandate_reference, d.external_reference
      from billing_attempts a
      join debtors d on d.id = a.debtor_id
      join billing_runs r on r.id = a.billing_run_id
      where a.id = ${attemptId} and a.billing_run_id = ${runId} and a.status = 'pending' and a.hold_reason is null
        and (a.not_before is null or a.not_before <= now()) and ${runOpen}
      for update of a skip locked`);
    const row = rows[0];
    if (!row) return { kind: 'not_claimable' };

    const listed = (await findBlacklisted(tx, [row.iban])).get(row.iban);
    if (listed) {
      await moveAttempt(tx, row.id, {
        from: 'pending',
        to: 'cancelled',
        note: { source: 'billing', reason: 'IBAN blacklisted before sending', blacklist_entry: listed.id, reason_code: listed.reasonCode },
        set: { errorCode: 'blacklisted', errorMessage: `IBAN blacklisted: ${listed.reason}` },
      });
      return { kind: 'cancelled' };
    }
    await moveAttempt(tx, row.id, {
      from: 'pending',
      to: 'sending',
      note: { source: 'billing', reason: options.probe ? 'claimed as circuit breaker probe' : 'claimed for sending', node: context.nodeId },
      set: { claimedBy: context.nodeId, claimedAt: sql`now()` },
    });
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
      },
    };
  });
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
