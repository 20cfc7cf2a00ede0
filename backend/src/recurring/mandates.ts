/**
 * Recurring mandates (issue 18). A debtor of a recurring upload is one mandate, keyed by its
 * mandate reference (the IBAN where the file gave none). Until a first collection is approved,
 * each collection is an sdd_init_recurring_sale (SEPA sequence FRST); once one is, every later
 * one is an sdd_recurring_sale referencing its unique_id (RCUR). A chargeback with a mandate code
 * (shared/src/reason-codes.ts MANDATE_ENDING_CODES) ends the mandate, and nothing more is sent on it.
 * The mandate learns of approvals and chargebacks in the events path's own transaction
 * (events/effect.ts), so a notification and a reconcile teach it the same.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';

/** How a claimed attempt of a recurring debtor is sent. */
export type RecurringDebit =
  | { kind: 'first'; mandateId: number }
  | { kind: 'recurring'; mandateId: number; referenceId: string }
  | { kind: 'ended'; mandateId: number; reasonCode: string | null };

export function mandateKeyOf(debtor: { mandateReference: string | null; iban: string }): string {
  const reference = debtor.mandateReference?.trim();
  return reference ? `ref:${reference}` : `iban:${debtor.iban}`;
}

/**
 * The mandate of a claimed attempt (created on first use), and how to send the attempt on it. An
 * attempt sent as a first collection becomes the mandate's first attempt: the one whose approval
 * activates it. Recorded on the attempt: its mandate and the transaction type it goes out as.
 */
export async function recurringDebitFor(db: Executor, attempt: { id: number; mandateReference: string | null; iban: string }): Promise<RecurringDebit> {
  return db.transaction(async (tx) => {
    const key = mandateKeyOf(attempt);
    await tx.execute(sql`insert into mandates (mandate_key) values (${key}) on conflict (mandate_key) do nothing`);
    const { rows } = await tx.execute<{ id: number; status: string; first_unique_id: string | null; ended_reason_code: string | null }>(sql`
      select id, status, first_unique_id, ended_reason_code from mandates where mandate_key = ${key} for update`);
    const mandate = rows[0]!;
    const mandateId = Number(mandate.id);
    let debit: RecurringDebit;
    if (mandate.status === 'ended') debit = { kind: 'ended', mandateId, reasonCode: mandate.ended_reason_code };
    else if (mandate.status === 'active' && mandate.first_unique_id) debit = { kind: 'recurring', mandateId, referenceId: mandate.first_unique_id };
    else {
      await tx.execute(sql`update mandates set first_attempt_id = ${attempt.id}, updated_at = now() where id = ${mandateId}`);
      debit = { kind: 'first', mandateId };
    }
    const transactionType = debit.kind === 'recurring' ? 'sdd_recurring_sale' : debit.kind === 'first' ? 'sdd_init_recurring_sale' : null;
    await tx.execute(sql`update billing_attempts set mandate_id = ${mandateId}, transaction_type = ${transactionType} where id = ${attempt.id}`);
    return debit;
  });
}

/**
 * What decided events teach the mandates, in their transaction: an approved first collection
 * activates its mandate (its unique_id, just recorded on the attempt, becomes the reference), and a
 * chargeback with a mandate code ends the mandate of the debit charged back.
 */
export async function learnFromDebits(tx: Executor, moves: { approved: number[]; mandateEnding: Array<{ attemptId: number; code: string }> }): Promise<void> {
  if (moves.approved.length > 0) {
    await tx.execute(sql`
      update mandates m set status = 'active', first_unique_id = a.emp_unique_id, updated_at = now()
      from billing_attempts a
      where a.id = any(${sql.param(moves.approved)}::bigint[]) and a.mandate_id is not null and m.id = a.mandate_id
        and m.first_attempt_id = a.id and m.status = 'awaiting_first' and a.emp_unique_id is not null`);
  }
  if (moves.mandateEnding.length > 0) {
    await tx.execute(sql`
      update mandates m set status = 'ended', ended_reason_code = c.code, ended_at = now(), updated_at = now()
      from jsonb_to_recordset(${JSON.stringify(moves.mandateEnding.map((move) => ({ attempt_id: move.attemptId, code: move.code })))}::jsonb) as c(attempt_id bigint, code text),
           billing_attempts a
      where a.id = c.attempt_id and m.id = a.mandate_id and m.status <> 'ended'`);
  }
}
