/**
 * Applying EMP events to billing attempts against real PostgreSQL: exactly once, in any order,
 * through the state machine, with the attempt's history and the blacklist policy.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blacklist } from '../src/db/schema';
import { openDatabase, type DatabaseHandle } from '../src/db/client';
import { EventBatcher } from '../src/events/batcher';
import { describeError } from '../src/events/describe-error';
import { processEvent, processEvents, reprocessEvent } from '../src/events/process';
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

/** Holds a row lock on the attempt from another connection until released. */
async function holdAttemptLock(attemptId: number) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('begin');
  await client.query('select id from billing_attempts where id = $1 for update', [attemptId]);
  return {
    release: async () => {
      await client.query('commit');
      await client.end();
    },
  };
}

/** Waits until `count` sessions wait for a lock, so the race under test really happens. */
async function waitForLockWaiters(count: number) {
  for (let i = 0; i < 200; i++) {
    const result = await database.pool.query<{ waiting: number }>(
      `select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if ((result.rows[0]?.waiting ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} sessions ever waited for a lock`);
}

describe('a delivery', () => {
  it('is applied once however often it arrives', async () => {
    const attempt = await createAttempt(database.db, { status: 'submitted' });
    const approved = saleNotification(attempt, hex(16), 'approved');

    const first = await processEvent(context, approved);
    const second = await processEvent(context, approved);
    const third = await processEvent(context, { ...approved, receivedAt: new Date() });

    expect(first).toMatchObject({ outcome: 'applied', duplicate: false });
    expect(second).toEqual({ eventId: first.eventId, outcome: 'applied', attemptId: attempt.id, duplicate: true });
    expect(third.duplicate).toBe(true);
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('approved');
    expect(row.empStatus).toBe('approved');
    expect(row.history).toHaveLength(1);
    expect(row.history[0]).toMatchObject({ event_id: first.eventId, outcome: 'applied', from: 'submitted', to: 'approved' });
    const event = await readEvent(database.db, first.eventId);
    expect(event).toMatchObject({ outcome: 'applied', billingAttemptId: attempt.id, attempts: 1 });
    expect(event.processedAt).toBeInstanceOf(Date);
  });

  it('records the unique_id an attempt learns from its notification', async () => {
    const attempt = await createAttempt(database.db, { status: 'unknown' });
    const uniqueId = hex(16);
    await processEvent(context, saleNotification(attempt, uniqueId, 'approved'));
    expect((await readAttempt(database.db, attempt.id)).empUniqueId).toBe(uniqueId);
  });

  it('keeps no personal data in the history', async () => {
    const attempt = await createAttempt(database.db);
    await processEvent(context, saleNotification(attempt, hex(16), 'approved'));
    const history = JSON.stringify((await readAttempt(database.db, attempt.id)).history);
    expect(history).not.toMatch(/DE89|Erika|Mustermann/);
  });
});

describe('concurrent duplicate deliveries on two backend processes', () => {
  let other: DatabaseHandle;
  beforeAll(() => {
    other = openDatabase(database.url, { maxConnections: 5 });
  });
  afterAll(() => other.close());

  it('apply the event once', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'approved', empUniqueId: uniqueId });
    const chargeback = forwarded({
      transaction_type: 'chargeback',
      unique_id: hex(16),
      original_transaction_unique_id: uniqueId,
      reason_code: 'MD06',
      amount: '1990',
      currency: 'EUR',
      status: 'approved',
    });
    const processA = context;
    const processB = testEventContext(other.db);

    const lock = await holdAttemptLock(attempt.id);
    const deliveries = Array.from({ length: 8 }, (_, i) => processEvent(i % 2 ? processB : processA, chargeback));
    await waitForLockWaiters(4);
    await lock.release();
    const results = await Promise.all(deliveries);

    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(new Set(results.map((result) => result.eventId)).size).toBe(1);
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history).toHaveLength(1);
    const entries = await database.db.select().from(blacklist).where(eq(blacklist.iban, attempt.iban));
    expect(entries).toHaveLength(1);
  });

  it('serialise different events for one attempt, so a late approval never overwrites a chargeback', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'submitted', empUniqueId: uniqueId });
    const lock = await holdAttemptLock(attempt.id);
    const both = Promise.all([
      processEvent(context, saleNotification(attempt, uniqueId, 'chargebacked', { reason_code: 'AM04' })),
      processEvent(testEventContext(other.db), saleNotification(attempt, uniqueId, 'approved')),
    ]);
    await waitForLockWaiters(2);
    await lock.release();
    const outcomes = (await both).map((result) => result.outcome);

    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    // Whichever came first: approved then chargebacked, or chargebacked and a stale approval.
    expect(row.history.map((entry) => entry.to)).toEqual(
      outcomes.includes('stale') ? ['chargebacked'] : ['approved', 'chargebacked'],
    );
  });

  it('do not make events for other attempts wait', async () => {
    const busy = await createAttempt(database.db);
    const free = await createAttempt(database.db);
    const lock = await holdAttemptLock(busy.id);
    try {
      const result = await processEvent(context, saleNotification(free, hex(16), 'approved'));
      expect(result.outcome).toBe('applied');
    } finally {
      await lock.release();
    }
  });
});

describe('events out of order', () => {
  it('leave a chargebacked attempt chargebacked when a late approval arrives', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'submitted', empUniqueId: uniqueId });
    await processEvent(context, saleNotification(attempt, uniqueId, 'chargebacked'));
    const late = await processEvent(context, saleNotification(attempt, uniqueId, 'approved'));

    expect(late.outcome).toBe('stale');
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history).toHaveLength(1);
    expect(await readEvent(database.db, late.eventId)).toMatchObject({
      outcome: 'stale',
      error: 'chargebacked → approved is stale',
      billingAttemptId: attempt.id,
    });
  });

  it('call a pending after approved stale', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'submitted', empUniqueId: uniqueId });
    await processEvent(context, saleNotification(attempt, uniqueId, 'approved'));
    const late = await processEvent(context, saleNotification(attempt, uniqueId, 'pending_async'));
    expect(late.outcome).toBe('stale');
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
  });

  it('record an illegal transition on the event without applying it', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'declined', empUniqueId: uniqueId });
    const result = await processEvent(context, saleNotification(attempt, uniqueId, 'chargebacked', { reason_code: 'MD06' }));
    expect(result.outcome).toBe('illegal');
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('declined');
    expect(row.history).toEqual([]);
    expect(await database.db.select().from(blacklist).where(eq(blacklist.iban, attempt.iban))).toEqual([]);
  });

  it('refuse a notification whose unique_id is another transaction than the attempt’s', async () => {
    const attempt = await createAttempt(database.db, { status: 'approved', empUniqueId: hex(16) });
    // e.g. a resend EMP refused as a duplicate: our transaction_id, another unique_id.
    const result = await processEvent(context, saleNotification(attempt, hex(16), 'error'));
    expect(result.outcome).toBe('illegal');
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
  });

  it('keep every history entry as events accumulate', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'sending' });
    await processEvent(context, saleNotification(attempt, uniqueId, 'pending_async'));
    await processEvent(context, saleNotification(attempt, uniqueId, 'approved'));
    await processEvent(context, saleNotification(attempt, uniqueId, 'chargebacked'));
    await processEvent(context, saleNotification(attempt, uniqueId, 'chargeback_reversed'));
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargeback_reversed');
    expect(row.history.map((entry) => entry.to)).toEqual(['submitted', 'approved', 'chargebacked', 'chargeback_reversed']);
  });
});

describe('a chargeback', () => {
  async function approvedAttempt() {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'approved', empUniqueId: uniqueId });
    return { ...attempt, uniqueId };
  }

  async function activeEntries(iban: string) {
    return database.db
      .select()
      .from(blacklist)
      .where(and(eq(blacklist.iban, iban), isNull(blacklist.removedAt)));
  }

  it('as status=chargebacked on the original sdd_sale', async () => {
    const attempt = await approvedAttempt();
    const result = await processEvent(
      context,
      saleNotification(attempt, attempt.uniqueId, 'chargebacked', { rc_code: 'md06', rc_description: 'Refund request by debtor' }),
    );
    expect(result.outcome).toBe('applied');
    const row = await readAttempt(database.db, attempt.id);
    expect(row).toMatchObject({ status: 'chargebacked', errorCode: 'MD06', errorMessage: 'Refund request by debtor' });
    expect(row.history[0]).toMatchObject({ chargeback: { reason_code: 'MD06', reason: 'Refund request by debtor', amount: 1990 } });
    expect(await activeEntries(attempt.iban)).toHaveLength(1);
  });

  it('as transaction_type=chargeback naming the original by original_transaction_unique_id', async () => {
    const attempt = await approvedAttempt();
    const chargebackId = hex(16);
    const received = new Date(Date.now() - 1000);
    const result = await processEvent(
      context,
      forwarded(
        {
          transaction_type: 'chargeback',
          unique_id: chargebackId,
          transaction_id: `emp-${hex(4)}`,
          original_transaction_unique_id: attempt.uniqueId,
          status: 'approved',
          reason_code: 'AC04',
          reason: 'Account closed',
          amount: '1990',
          currency: 'eur',
          arn: '74537604221431003881865',
        },
        received,
      ),
    );
    expect(result.outcome).toBe('applied');
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.empStatus).toBe('chargebacked');
    expect(row.history[0]).toMatchObject({
      chargeback: {
        unique_id: chargebackId,
        amount: 1990,
        currency: 'EUR',
        reason: 'Account closed',
        reason_code: 'AC04',
        received_at: received.toISOString(),
      },
      blacklist: { listed: true, created: true, reason_code: 'AC04' },
    });
    const [entry] = await activeEntries(attempt.iban);
    expect(entry).toMatchObject({ source: 'chargeback', reasonCode: 'AC04', sourceEventId: result.eventId });
  });

  it('as event=chargeback naming the original by reference_transaction_unique_id with rc_code', async () => {
    const attempt = await approvedAttempt();
    const result = await processEvent(
      context,
      forwarded({
        event: 'chargeback',
        transaction_type: 'sdd_sale',
        unique_id: hex(16),
        reference_transaction_unique_id: attempt.uniqueId,
        status: 'approved',
        rc_code: 'SL01',
      }),
    );
    expect(result.outcome).toBe('applied');
    expect((await readAttempt(database.db, attempt.id)).status).toBe('chargebacked');
    expect(await activeEntries(attempt.iban)).toHaveLength(1);
  });

  it('as event=chargeback on the original itself', async () => {
    const attempt = await approvedAttempt();
    await processEvent(
      context,
      forwarded({ event: 'chargeback', unique_id: attempt.uniqueId, transaction_type: 'sdd_sale', status: 'chargebacked', reason_code: 'MD01' }),
    );
    expect((await readAttempt(database.db, attempt.id)).status).toBe('chargebacked');
    expect(await activeEntries(attempt.iban)).toHaveLength(1);
  });

  it('with insufficient funds (AM04) does not blacklist', async () => {
    const attempt = await approvedAttempt();
    await processEvent(context, saleNotification(attempt, attempt.uniqueId, 'chargebacked', { reason_code: 'AM04' }));
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history[0]).toMatchObject({ blacklist: { listed: false, reason_code: 'AM04' } });
    expect(await activeEntries(attempt.iban)).toEqual([]);
  });

  it('without a reason code updates the status, blacklists nothing and warns', async () => {
    const attempt = await approvedAttempt();
    const result = await processEvent(context, saleNotification(attempt, attempt.uniqueId, 'chargebacked'));
    expect((await readAttempt(database.db, attempt.id)).status).toBe('chargebacked');
    expect(await activeEntries(attempt.iban)).toEqual([]);
    expect(context.logLines()).toContainEqual(
      expect.objectContaining({ level: 40, eventId: result.eventId, msg: 'chargeback without a reason code: IBAN not blacklisted' }),
    );
  });

  it('follows the configured policy rather than the default', async () => {
    const strict = testEventContext(database.db, { blacklistCodes: ['AM04'] });
    const attempt = await approvedAttempt();
    await processEvent(strict, saleNotification(attempt, attempt.uniqueId, 'chargebacked', { reason_code: 'AM04' }));
    expect(await activeEntries(attempt.iban)).toHaveLength(1);
  });

  it('blacklists a debtor once, keeping the first cause, and adds details that arrive later', async () => {
    const debtorAttempt = await approvedAttempt();
    const second = await createAttempt(database.db, { status: 'approved', empUniqueId: hex(16), debtorId: debtorAttempt.debtorId });
    // The status change arrives first without a code, the chargeback record with it afterwards.
    await processEvent(context, saleNotification(debtorAttempt, debtorAttempt.uniqueId, 'chargebacked'));
    const detailed = await processEvent(
      context,
      forwarded({ transaction_type: 'chargeback', unique_id: hex(16), original_transaction_unique_id: debtorAttempt.uniqueId, reason_code: 'MD06' }),
    );
    const secondUniqueId = (await readAttempt(database.db, second.id)).empUniqueId!;
    await processEvent(
      context,
      forwarded({ transaction_type: 'chargeback', unique_id: hex(16), original_transaction_unique_id: secondUniqueId, reason_code: 'MS02' }),
    );

    expect(detailed.outcome).toBe('unchanged');
    const row = await readAttempt(database.db, debtorAttempt.id);
    expect(row.errorCode).toBe('MD06');
    expect(row.history).toHaveLength(2);
    expect(row.history[1]).toMatchObject({ outcome: 'unchanged', chargeback: { reason_code: 'MD06' } });
    const entries = await activeEntries(debtorAttempt.iban);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ reasonCode: 'MD06', sourceEventId: detailed.eventId });
    expect((await readAttempt(database.db, second.id)).history[0]).toMatchObject({ blacklist: { listed: true, created: false } });
  });
});

describe('a transaction aborted between receive and commit', () => {
  it('leaves nothing applied, is recorded as failed, and the redelivery applies it once', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'approved', empUniqueId: uniqueId });
    const chargeback = saleNotification(attempt, uniqueId, 'chargebacked', { reason_code: 'MD06' });

    const lock = await holdAttemptLock(attempt.id);
    const delivery = processEvent(context, chargeback);
    await waitForLockWaiters(1);
    // The session applying the event dies mid-transaction, as when its node is killed.
    await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    await expect(delivery).rejects.toThrow();
    await lock.release();

    const afterCrash = await readAttempt(database.db, attempt.id);
    expect(afterCrash.status).toBe('approved');
    expect(afterCrash.history).toEqual([]);
    const [failed] = await database.db.execute<{ id: number; outcome: string; error: string }>(
      sql`select id, outcome, error from webhook_events where dedup_key = ${chargeback.dedupKey}`,
    ).then((result) => result.rows);
    expect(failed).toMatchObject({ outcome: 'failed' });

    const redelivered = await processEvent(context, chargeback);
    const again = await processEvent(context, chargeback);
    expect(redelivered).toMatchObject({ eventId: failed!.id, outcome: 'applied', duplicate: true });
    expect(again).toMatchObject({ outcome: 'applied', duplicate: true });
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history).toHaveLength(1);
    expect(await readEvent(database.db, failed!.id)).toMatchObject({ outcome: 'applied', error: null, attempts: 2 });
  });
});

describe('a batch of events in one transaction', () => {
  it('decides each event in order, once', async () => {
    const uniqueId = hex(16);
    const attempt = await createAttempt(database.db, { status: 'submitted', empUniqueId: uniqueId });
    const earlier = await processEvent(context, saleNotification(attempt, uniqueId, 'pending_async'));
    const approved = saleNotification(attempt, uniqueId, 'approved');
    const chargeback = forwarded({ transaction_type: 'chargeback', unique_id: hex(16), original_transaction_unique_id: uniqueId, reason_code: 'MD06' });
    // The same approval read again later, e.g. by a reconcile: another key, the same meaning.
    const lateApproval = { ...saleNotification(attempt, uniqueId, 'approved'), dedupKey: `late:${hex(4)}` };
    const unknown = saleNotification({ transactionId: `tth_${hex(8)}` }, hex(16), 'approved');
    const nameless = { ...forwarded({ unique_id: hex(16) }), fields: { status: 'approved' } };

    const results = await processEvents(context, [
      approved,
      chargeback,
      approved,
      saleNotification(attempt, uniqueId, 'pending_async'),
      lateApproval,
      unknown,
      nameless,
    ]);

    expect(results.map(({ outcome, duplicate }) => [outcome, duplicate])).toEqual([
      ['applied', false],
      ['applied', false],
      ['applied', true],
      ['unchanged', true],
      ['stale', false],
      ['pending_match', false],
      ['failed', false],
    ]);
    expect(results[2]!.eventId).toBe(results[0]!.eventId);
    expect(results[3]!.eventId).toBe(earlier.eventId);
    const row = await readAttempt(database.db, attempt.id);
    expect(row.status).toBe('chargebacked');
    expect(row.history.map((entry) => [entry.outcome, entry.to])).toEqual([
      ['unchanged', undefined],
      ['applied', 'approved'],
      ['applied', 'chargebacked'],
    ]);
    expect(await readEvent(database.db, results[6]!.eventId)).toMatchObject({ outcome: 'failed', error: 'the event names no transaction' });
  });

  it('fails alone the event that cannot be committed, not the events batched with it', async () => {
    const batcher = new EventBatcher(context, { maxBatch: 10, maxConcurrentBatches: 1 });
    const first = await createAttempt(database.db);
    const second = await createAttempt(database.db);
    const lock = await holdAttemptLock(first.id);
    const blocked = batcher.submit(saleNotification(first, hex(16), 'approved'));
    await waitForLockWaiters(1);
    // Queued behind the blocked one, these two form the next batch; PostgreSQL refuses \u0000 in jsonb.
    const good = batcher.submit(saleNotification(second, hex(16), 'approved'));
    const poison = batcher
      .submit(saleNotification({ transactionId: `tth_${hex(8)}` }, hex(16), 'approved', { note: 'a\u0000b' }))
      .then(() => 'committed', (error: unknown) => describeError(error));
    await lock.release();

    expect((await blocked).outcome).toBe('applied');
    expect((await good).outcome).toBe('applied');
    // The reason, without the query's parameters (the payload, with its IBAN).
    expect(await poison).toBe('unsupported Unicode escape sequence (SQLSTATE 22P05)');
    expect(await poison).not.toContain('DE89');
    expect((await readAttempt(database.db, second.id)).status).toBe('approved');
  });
});

describe('a replay', () => {
  it('of an event already applied changes nothing', async () => {
    const attempt = await createAttempt(database.db);
    const { eventId } = await processEvent(context, saleNotification(attempt, hex(16), 'approved'));
    expect(await reprocessEvent(context, eventId)).toEqual({ eventId, outcome: 'applied', attemptId: attempt.id, rerun: false });
    expect((await readAttempt(database.db, attempt.id)).history).toHaveLength(1);
  });

  it('of an unknown id throws', async () => {
    await expect(reprocessEvent(context, 987_654_321)).rejects.toThrow('no event 987654321');
  });
});

describe('an event whose unique_id another attempt already holds', () => {
  it('is illegal on the attempt its transaction_id names, and changes neither attempt', async () => {
    const uniqueId = hex(16);
    const holder = await createAttempt(database.db, { status: 'approved', empUniqueId: uniqueId });
    const named = await createAttempt(database.db, { status: 'sending' });

    const result = await processEvent(context, saleNotification(named, uniqueId, 'approved'));
    expect(result).toMatchObject({ outcome: 'illegal', attemptId: named.id, duplicate: false });
    expect(result.error).toContain(`already attempt ${holder.id}'s`);
    expect(await readEvent(database.db, result.eventId)).toMatchObject({ outcome: 'illegal', billingAttemptId: named.id });
    expect(await readAttempt(database.db, named.id)).toMatchObject({ status: 'sending', empUniqueId: null, history: [] });
    expect(await readAttempt(database.db, holder.id)).toMatchObject({ status: 'approved', empUniqueId: uniqueId, history: [] });

    // Read again, it says the same, with its reason.
    expect(await processEvent(context, saleNotification(named, uniqueId, 'approved'))).toMatchObject({
      outcome: 'illegal',
      attemptId: named.id,
      error: result.error,
      duplicate: true,
    });
  });
});
