/**
 * Events for transactions the database does not know yet wait as pending_match and are applied,
 * once, when their attempt appears: nothing is dropped.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingAttempts } from '../src/db/schema';
import { applyChargebackRecord } from '../src/events/chargeback-records';
import { matchPendingEvents } from '../src/events/match';
import { processEvent } from '../src/events/process';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import {
  createAttempt,
  forwarded,
  hex,
  readAttempt,
  readEvent,
  saleNotification,
  testEventContext,
  type TestEventContext,
} from './support/events';

let database: MigratedTestDatabase;
let context: TestEventContext;

beforeAll(async () => {
  database = await createMigratedDatabase();
  context = testEventContext(database.db);
});
afterAll(() => database.destroy());

describe('an event for an unknown transaction', () => {
  it('waits as pending_match and is applied once when billing creates the attempt', async () => {
    const transactionId = `tth_${hex(8)}`;
    const uniqueId = hex(16);
    const early = saleNotification({ transactionId }, uniqueId, 'approved');
    const pending = await processEvent(context, early);
    expect(pending.outcome).toBe('pending_match');
    expect(await readEvent(database.db, pending.eventId)).toMatchObject({
      outcome: 'pending_match',
      billingAttemptId: null,
      attemptUniqueId: uniqueId,
      transactionId,
    });

    const attempt = await createAttempt(database.db, { status: 'sending' });
    await database.db.update(billingAttempts).set({ transactionId }).where(eq(billingAttempts.id, attempt.id));
    const summary = await matchPendingEvents(context, { transactionIds: [transactionId] });
    expect(summary).toEqual({ examined: 1, matched: { applied: 1 }, stillPending: 0 });

    const row = await readAttempt(database.db, attempt.id);
    expect(row).toMatchObject({ status: 'approved', empUniqueId: uniqueId });
    expect(row.history).toHaveLength(1);
    expect(await readEvent(database.db, pending.eventId)).toMatchObject({ outcome: 'applied', billingAttemptId: attempt.id, attempts: 2 });

    // Matching again, or the event delivered again, changes nothing.
    expect(await matchPendingEvents(context, { transactionIds: [transactionId] })).toMatchObject({ examined: 0 });
    expect(await processEvent(context, early)).toMatchObject({ outcome: 'applied', duplicate: true });
    expect((await readAttempt(database.db, attempt.id)).history).toHaveLength(1);
  });

  it('is matched when a notification teaches the attempt its unique_id', async () => {
    const uniqueId = hex(16);
    // The synchronous answer was lost: the attempt has no unique_id when the chargeback arrives.
    const attempt = await createAttempt(database.db, { status: 'unknown' });
    const chargeback = await processEvent(
      context,
      forwarded({ transaction_type: 'chargeback', unique_id: hex(16), original_transaction_unique_id: uniqueId, reason_code: 'MD06' }),
    );
    expect(chargeback.outcome).toBe('pending_match');

    const approval = await processEvent(context, saleNotification(attempt, uniqueId, 'approved'));
    expect(approval.outcome).toBe('applied');

    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history.map((entry) => entry.to)).toEqual(['approved', 'chargebacked']);
    expect(await readEvent(database.db, chargeback.eventId)).toMatchObject({ outcome: 'applied', billingAttemptId: attempt.id });
  });

  it('still respects the state machine when matched late and out of order', async () => {
    const transactionId = `tth_${hex(8)}`;
    const uniqueId = hex(16);
    const chargebacked = await processEvent(context, saleNotification({ transactionId }, uniqueId, 'chargebacked'));
    const approved = await processEvent(context, saleNotification({ transactionId }, uniqueId, 'approved'));
    const attempt = await createAttempt(database.db, { status: 'submitted' });
    await database.db.update(billingAttempts).set({ transactionId }).where(eq(billingAttempts.id, attempt.id));

    // Two callers learning the same attempt at once still match each event once.
    const [first, second] = await Promise.all([
      matchPendingEvents(context, { transactionIds: [transactionId] }),
      matchPendingEvents(testEventContext(database.db), { uniqueIds: [uniqueId], transactionIds: [transactionId] }),
    ]);
    expect((first.matched.applied ?? 0) + (second.matched.applied ?? 0)).toBe(1);

    expect((await readEvent(database.db, chargebacked.eventId)).outcome).toBe('applied');
    expect((await readEvent(database.db, approved.eventId)).outcome).toBe('stale');
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history).toHaveLength(1);
  });

  it('stays pending while no attempt has its ids, and a sweep finds nothing to do', async () => {
    const orphan = await processEvent(context, saleNotification({ transactionId: `tth_${hex(8)}` }, hex(16), 'approved'));
    const summary = await matchPendingEvents(context, 'all');
    expect(summary.stillPending).toBeGreaterThanOrEqual(1);
    expect(await readEvent(database.db, orphan.eventId)).toMatchObject({ outcome: 'pending_match', attempts: 1 });
  });
});

describe('a chargeback record from reconciliation', () => {
  it('goes through the same path: status, details, blacklist, once', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'approved', empUniqueId: uniqueId });
    const record = {
      originalTransactionUniqueId: uniqueId,
      type: '1st chargeback',
      arn: '74537604221431003881865',
      postDate: '2026-03-02',
      reasonCode: 'MD01',
      reasonDescription: 'No valid mandate',
      amount: 1990,
      currency: 'EUR',
    };
    const first = await applyChargebackRecord(context, record);
    const again = await applyChargebackRecord(context, record);
    expect(first).toMatchObject({ outcome: 'applied', duplicate: false });
    expect(again).toMatchObject({ eventId: first.eventId, duplicate: true });
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history).toHaveLength(1);
    expect(row.history[0]).toMatchObject({
      chargeback: { reason_code: 'MD01', reason: 'No valid mandate', amount: 1990, currency: 'EUR' },
      blacklist: { listed: true, created: true },
    });

    const reversal = await applyChargebackRecord(context, { ...record, type: '1st chargeback reversal', postDate: '2026-03-20' });
    expect(reversal.outcome).toBe('applied');
    expect((await readAttempt(database.db, attempt.id)).status).toBe('chargeback_reversed');
  });
});
