/**
 * Sweeps by date (emp-genesis.md §4.2, §6.2), page by page at the reconciliation rate:
 *
 * - chargebacks posted in the range, each applied through the events module's chargeback path
 *   (recorded once per record, however often the range is swept);
 * - every transaction of the terminal in the range, applied where it tells Tether something new
 *   about one of its attempts (an unknown unique_id, a different status).
 */
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { attemptStatusFromGenesis } from '@tether/shared/genesis-meaning';
import type { PaymentResponse, UnusableRecord } from '@tether/shared/genesis-xml';
import { inArray } from 'drizzle-orm';
import type { BillingContext } from '../billing/context';
import { genesisAnswerEvent } from '../billing/genesis-answer-event';
import { billingAttempts } from '../db/schema';
import type { GenesisDateRange } from '../emp/genesis-client';
import { applyChargebackRecord, recordUnusableChargeback } from '../events/chargeback-records';
import { chargebackRecordFromGenesis } from './chargeback-record';

const day = (date: Date) => date.toISOString().slice(0, 10);

/** The last `days` days up to today, UTC. */
export function recentDays(days: number, now = new Date()): GenesisDateRange {
  return { startDate: day(new Date(now.getTime() - days * 24 * 60 * 60 * 1000)), endDate: day(now) };
}

export interface ChargebackSweep {
  records: number;
  /** Records seen for the first time and applied (or waiting for their attempt). */
  recorded: number;
  unusable: number;
}

export async function sweepChargebacks(context: BillingContext, range: GenesisDateRange): Promise<ChargebackSweep> {
  const summary: ChargebackSweep = { records: 0, recorded: 0, unusable: 0 };
  const pace = {
    beforePage: () => context.reconcileLimiter.acquire(),
    // One record Tether cannot read must never hide the others: it is reported, and the page goes on.
    onUnusable: (record: UnusableRecord, page: number) => {
      summary.unusable++;
      unusable.push(record);
      context.metrics.unusableChargebacks.inc();
      context.log.error({ page, ...record }, 'chargeback record unusable: left out, the rest of its page applied');
    },
  };
  const unusable: UnusableRecord[] = [];
  for await (const genesisRecord of context.genesis.chargebacksByDateRange(range, pace)) {
    summary.records++;
    const record = chargebackRecordFromGenesis(genesisRecord);
    if (!record) {
      summary.unusable++;
      context.metrics.unusableChargebacks.inc();
      context.log.error({ arn: genesisRecord.arn, type: genesisRecord.type }, 'chargeback record names no original transaction: left out');
      continue;
    }
    const result = await applyChargebackRecord(context.events, record);
    if (!result.duplicate) summary.recorded++;
  }
  for (const record of unusable) await recordUnusableChargeback(context.events, record);
  return summary;
}

export interface TransactionSweep {
  transactions: number;
  /** Transactions that told Tether something new, applied through the events path. */
  applied: number;
  /** Transactions of the terminal that are not Tether's attempts. */
  foreign: number;
}

const PAGE = 100;

export async function sweepTransactions(context: BillingContext, range: GenesisDateRange): Promise<TransactionSweep> {
  const summary: TransactionSweep = { transactions: 0, applied: 0, foreign: 0 };
  const pace = { beforePage: () => context.reconcileLimiter.acquire() };
  let buffer: PaymentResponse[] = [];
  const flush = async () => {
    const page = buffer;
    buffer = [];
    const ids = page.flatMap((payment) => payment.transactionId ?? []);
    const known = new Map<string, { status: AttemptStatus; empUniqueId: string | null }>();
    if (ids.length > 0) {
      const attempts = await context.db
        .select({ transactionId: billingAttempts.transactionId, status: billingAttempts.status, empUniqueId: billingAttempts.empUniqueId })
        .from(billingAttempts)
        .where(inArray(billingAttempts.transactionId, ids));
      for (const attempt of attempts) known.set(attempt.transactionId, attempt);
    }
    for (const payment of page) {
      const attempt = payment.transactionId ? known.get(payment.transactionId) : undefined;
      if (!attempt) {
        summary.foreign++;
        continue;
      }
      const newsworthy = !attempt.empUniqueId || attemptStatusFromGenesis(payment.status) !== attempt.status;
      if (!newsworthy) continue;
      await context.answers.submit(genesisAnswerEvent(payment, 'reconcile', payment.transactionId!));
      summary.applied++;
    }
  };
  for await (const payment of context.genesis.reconcileByDateRange(range, pace)) {
    summary.transactions++;
    buffer.push(payment);
    if (buffer.length >= PAGE) await flush();
  }
  await flush();
  return summary;
}
