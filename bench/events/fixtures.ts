/**
 * Data for the event benchmarks: billing attempts as billing leaves them (submitted, unique_id
 * known) and the notifications EMP sends about them, in the mix a collection day produces.
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { identifyNotification } from '@tether/shared/notification';
import { randomBytes } from 'node:crypto';
import type { Executor } from '../../backend/src/db/executor';
import { billingAttempts, debtors } from '../../backend/src/db/schema';
import type { IncomingEvent } from '../../backend/src/events/process';

export interface BenchAttempt {
  transactionId: string;
  uniqueId: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export async function seedAttempts(db: Executor, count: number): Promise<BenchAttempt[]> {
  const attempts: BenchAttempt[] = [];
  for (let offset = 0; offset < count; offset += 1_000) {
    const size = Math.min(1_000, count - offset);
    const ids = await db
      .insert(debtors)
      .values(
        Array.from({ length: size }, (_, i) => ({
          iban: `DE89${String(370400440532013000n + BigInt(offset + i)).padStart(18, '0')}`,
          name: 'Bench Debtor',
          nameOriginal: 'Bench Debtor',
        })),
      )
      .returning({ id: debtors.id });
    const batch = ids.map(({ id }) => ({ debtorId: id, transactionId: `tth_${hex(8)}`, uniqueId: hex(16) }));
    await db.insert(billingAttempts).values(
      batch.map((attempt) => ({
        transactionId: attempt.transactionId,
        debtorId: attempt.debtorId,
        amountCents: 1990,
        status: 'submitted' as const,
        empUniqueId: attempt.uniqueId,
      })),
    );
    attempts.push(...batch.map(({ transactionId, uniqueId }) => ({ transactionId, uniqueId })));
  }
  return attempts;
}

/** A sale EMP holds (bench/e2e/sales.ts), as its attempt must carry it. */
export interface SaleAttempt {
  transactionId: string;
  uniqueId: string;
  iban: string;
  /** Minor units. */
  amount: number;
  currency: string;
  sentAt: Date;
}

/**
 * Attempts for sales EMP really holds, as billing leaves them once EMP has taken the sale
 * (submitted; its transaction_id, unique_id, amount, currency and send time), each with a debtor
 * of the sale's IBAN; `status` seeds them in a later state instead (one EMP already reported).
 */
export async function seedSaleAttempts(db: Executor, sales: readonly SaleAttempt[], status: AttemptStatus = 'submitted'): Promise<void> {
  for (let offset = 0; offset < sales.length; offset += 1_000) {
    const batch = sales.slice(offset, offset + 1_000);
    const ids = await db
      .insert(debtors)
      .values(batch.map((sale) => ({ iban: sale.iban, name: 'Erika Mustermann', nameOriginal: 'Erika Mustermann' })))
      .returning({ id: debtors.id });
    await db.insert(billingAttempts).values(
      batch.map((sale, index) => ({
        transactionId: sale.transactionId,
        debtorId: ids[index]!.id,
        amountCents: sale.amount,
        currency: sale.currency,
        status,
        empUniqueId: sale.uniqueId,
        empStatus: status === 'submitted' ? null : status,
        sentAt: sale.sentAt,
      })),
    );
  }
}

function notification(fields: Record<string, string>): IncomingEvent {
  return {
    dedupKey: identifyNotification(fields).dedupKey,
    receivedAt: new Date(),
    traceId: hex(8),
    fields: { signature: hex(20), amount: '1990', bank_account_number: 'DE89370400440532013000', ...fields },
  };
}

/**
 * Per attempt: pending_async then approved; every 10th also a chargeback record (alternately
 * MD06, which blacklists, and AM04, which does not); every 20th event delivered twice.
 * Attempts are interleaved, so consecutive events rarely share an attempt.
 */
export function eventMix(attempts: readonly BenchAttempt[]): IncomingEvent[] {
  const sale = (attempt: BenchAttempt, status: string) =>
    notification({ transaction_id: attempt.transactionId, unique_id: attempt.uniqueId, transaction_type: 'sdd_sale', status });
  const rounds: IncomingEvent[][] = [
    attempts.map((attempt) => sale(attempt, 'pending_async')),
    attempts.map((attempt) => sale(attempt, 'approved')),
    attempts
      .filter((_, index) => index % 10 === 0)
      .map((attempt, index) =>
        notification({
          transaction_type: 'chargeback',
          unique_id: hex(16),
          original_transaction_unique_id: attempt.uniqueId,
          reason_code: index % 2 === 0 ? 'MD06' : 'AM04',
          currency: 'EUR',
        }),
      ),
  ];
  const events = rounds.flat();
  return events.flatMap((event, index) => (index % 20 === 19 ? [event, event] : [event]));
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
