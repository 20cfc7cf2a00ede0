/**
 * A notification is a trigger, not a fact: its signature covers only its id, so whoever saw one
 * holds a pair they can send again with any other fields. These tests deliver notifications the
 * way QStash does to a backend node whose EMP is the Genesis simulator, and check that only what
 * EMP confirms over its API changes an attempt or lists an IBAN.
 */
import type { Client } from '@upstash/qstash';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QStashDevServer } from '../../dev/qstash/server';
import { startTestQStash } from '../../dev/testing/qstash';
import { billingContext } from '../src/billing/context';
import { confirmAllDue } from '../src/confirmation/confirm';
import { blacklist, webhookEvents } from '../src/db/schema';
import { recordFailedNotification, recordNotifications } from '../src/events/notifications';
import { reprocessEvent, type IncomingEvent } from '../src/events/process';
import { startBackend, waitFor, type TestBackend } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startTestEmp, type TestEmp } from './support/emp';
import { createAttempt, forwarded, hex, readAttempt, readEvent, saleNotification } from './support/events';

let database: MigratedTestDatabase;
let qstash: { server: QStashDevServer; client: Client };
let emp: TestEmp;
let node: TestBackend;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url);
  emp = await startTestEmp();
  node = await startBackend(database.url, qstash.server.url, { environment: emp.environment });
});
afterAll(async () => {
  await node?.close();
  await emp?.close();
  await qstash?.server.close();
  await database?.destroy();
});

async function deliver(event: IncomingEvent) {
  await qstash.client.publishJSON({
    url: node.eventsUrl,
    body: { version: 1, dedupKey: event.dedupKey, receivedAt: event.receivedAt.toISOString(), traceId: event.traceId ?? hex(8), fields: event.fields },
  });
}

async function eventOf(event: IncomingEvent) {
  const [row] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, event.dedupKey));
  return row;
}

/** Delivers the notification and waits until the confirmer has judged it. */
async function settled(event: IncomingEvent) {
  await deliver(event);
  return waitFor(async () => {
    const row = await eventOf(event);
    return row && row.outcome !== 'awaiting_confirmation' && row;
  });
}

async function listed(iban: string) {
  return database.db.select().from(blacklist).where(and(eq(blacklist.iban, iban), isNull(blacklist.removedAt)));
}

describe('a notification is confirmed with EMP before anything changes', () => {
  it('applies a genuine approval once EMP confirms it, keeps no signature, and links the effect', async () => {
    const attempt = await emp.sale(database.db, { status: 'submitted' });
    const row = await settled(saleNotification(attempt, attempt.uniqueId, 'approved'));

    expect(row).toMatchObject({ outcome: 'confirmed', source: 'notification', billingAttemptId: attempt.id, attemptUniqueId: attempt.uniqueId });
    expect(row.payload).not.toHaveProperty('signature');
    expect(row.empAnswer).toMatchObject({ transaction: { uniqueId: attempt.uniqueId, status: 'approved' } });
    const effect = await readEvent(database.db, row.effectEventId!);
    expect(effect).toMatchObject({ source: 'emp_api', outcome: 'applied', billingAttemptId: attempt.id });
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
  });

  it('blacklists on the reason code of EMP\'s chargeback record, never on the notification\'s', async () => {
    const attempt = await emp.sale(database.db, { status: 'approved' });
    emp.sim.control.chargeback(attempt.uniqueId, { reasonCode: 'MD06' });
    // The reference's chargeback notification: the sale's own unique_id, event=chargeback, and a
    // reason code EMP's record does not have (a retry code, which would not blacklist).
    const notification = saleNotification(attempt, attempt.uniqueId, 'chargebacked', { event: 'chargeback', chargeback_unique_id: hex(16), rc_code: 'AM04' });
    const row = await settled(notification);

    expect(row.outcome).toBe('confirmed');
    expect((await readAttempt(database.db, attempt.id)).status).toBe('chargebacked');
    expect(await listed(attempt.iban)).toEqual([expect.objectContaining({ reasonCode: 'MD06', source: 'chargeback' })]);
  });

  it('applies EMP\'s state when the notification is out of date, and keeps the claim for the record', async () => {
    const attempt = await emp.sale(database.db, { status: 'submitted' });
    emp.sim.control.changeStatus(attempt.uniqueId, { status: 'declined', code: 'AM04' });
    const row = await settled(saleNotification(attempt, attempt.uniqueId, 'approved'));

    expect(row.outcome).toBe('contradicted');
    expect(row.error).toMatch(/^status: the notification says approved, EMP says declined/);
    expect(row.payload.status).toBe('approved');
    expect((await readAttempt(database.db, attempt.id)).status).toBe('declined');
  });
});

describe('a forged notification changes nothing', () => {
  /** The attacker's pair: a notification EMP really sent, for an attempt of their own. */
  let pair: Awaited<ReturnType<TestEmp['sale']>>;
  let victim: Awaited<ReturnType<TestEmp['sale']>>;

  beforeAll(async () => {
    pair = await emp.sale(database.db, { status: 'approved' });
    victim = await emp.sale(database.db, { status: 'approved' });
  });

  const signedFor = (fields: Record<string, string>) => forwarded({ unique_id: pair.uniqueId, ...fields });

  it.each([
    ['a chargeback naming another attempt by original_transaction_unique_id', () => signedFor({ transaction_type: 'chargeback', original_transaction_unique_id: victim.uniqueId, reason_code: 'MD06', status: 'approved' }), 'rejected', 'names_another_transaction'],
    ['a chargeback naming another attempt by reference_transaction_unique_id', () => signedFor({ event: 'chargeback', reference_transaction_unique_id: victim.uniqueId, rc_code: 'MD01' }), 'rejected', 'names_another_transaction'],
    ['a status naming another attempt by transaction_id', () => signedFor({ transaction_id: victim.transactionId, transaction_type: 'sdd_sale', status: 'chargebacked', reason_code: 'MD06' }), 'rejected', 'names_another_transaction'],
    ['the signed transaction itself charged back', () => signedFor({ transaction_id: pair.transactionId, transaction_type: 'sdd_sale', status: 'chargebacked', event: 'chargeback', rc_code: 'MD06' }), 'contradicted', 'status'],
    ['the signed transaction itself voided', () => signedFor({ transaction_id: pair.transactionId, transaction_type: 'sdd_sale', status: 'voided' }), 'contradicted', 'status'],
    ['another amount', () => signedFor({ transaction_id: pair.transactionId, transaction_type: 'sdd_sale', status: 'approved', amount: '1' }), 'contradicted', 'amount'],
    ['an id EMP does not know', () => forwarded({ unique_id: hex(16), transaction_id: victim.transactionId, transaction_type: 'sdd_sale', status: 'chargebacked', reason_code: 'MD06' }), 'rejected', 'unknown_transaction'],
    ['a WPF body naming another attempt', () => forwarded({ wpf_unique_id: pair.uniqueId, wpf_transaction_id: victim.transactionId, wpf_status: 'chargebacked', payment_transaction_unique_id: victim.uniqueId, payment_transaction_transaction_type: 'sdd_sale' }), 'rejected', 'unknown_transaction'],
    ['an undocumented event', () => signedFor({ transaction_id: pair.transactionId, transaction_type: 'sdd_sale', status: 'approved', event: 'mass_refund' }), 'contradicted', 'undocumented_event'],
  ])('%s', async (_variant, variant, verdict, reason) => {
    const before = await Promise.all([readAttempt(database.db, pair.id), readAttempt(database.db, victim.id)]);
    const row = await settled(variant());

    expect(row.outcome).toBe(verdict);
    expect(row.error).toMatch(new RegExp(`^${reason}:`));
    const after = await Promise.all([readAttempt(database.db, pair.id), readAttempt(database.db, victim.id)]);
    expect(after.map(({ status, history }) => ({ status, history }))).toEqual(before.map(({ status, history }) => ({ status, history })));
    expect(await listed(pair.iban)).toEqual([]);
    expect(await listed(victim.iban)).toEqual([]);
  });

  it('counts rejections by reason in /metrics', async () => {
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^tether_notification_verdicts_total\{verdict="rejected",reason="names_another_transaction"\} [3-9]/m);
    expect(metrics).toMatch(/^tether_notification_verdicts_total\{verdict="rejected",reason="unknown_transaction"\} [2-9]/m);
  });

  it('rejects a notification whose EMP answer does not fit the attempt EMP names', async () => {
    const attempt = await emp.sale(database.db, { status: 'submitted' });
    await database.pool.query('update billing_attempts set amount_cents = 2000 where id = $1', [attempt.id]);
    const row = await settled(saleNotification(attempt, attempt.uniqueId, 'approved'));
    expect(row).toMatchObject({ outcome: 'rejected', billingAttemptId: null });
    expect(row.error).toMatch(/^amount_mismatch:/);
    expect((await readAttempt(database.db, attempt.id)).status).toBe('submitted');
  });
});

describe('waiting for EMP is durable', () => {
  it('keeps a notification waiting through an EMP outage, applies nothing meanwhile, and confirms it after', async () => {
    const attempt = await emp.sale(database.db, { status: 'submitted' });
    emp.sim.control.configureFaults({ serverErrorRate: 1, endpoints: ['reconcile', 'reconcile_by_date'] });
    const notification = saleNotification(attempt, attempt.uniqueId, 'approved');
    try {
      await deliver(notification);
      const waiting = await waitFor(async () => {
        const row = await eventOf(notification);
        return row?.error?.startsWith('not settled yet') && row;
      });
      expect(waiting.outcome).toBe('awaiting_confirmation');
      expect((await readAttempt(database.db, attempt.id)).status).toBe('submitted');
    } finally {
      emp.sim.control.configureFaults({});
    }
    // The back-off is 2 s after the first failure; the node looks again by itself.
    const row = await waitFor(async () => {
      const current = await eventOf(notification);
      return current?.outcome === 'confirmed' && current;
    }, 20_000);
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
  });

  it('confirms on another node what a node recorded and never confirmed (it died)', async () => {
    const attempt = await emp.sale(database.db, { status: 'submitted' });
    // Recorded as the delivery route records it, on a node that died before its confirmer ran.
    const notification = saleNotification(attempt, attempt.uniqueId, 'approved');
    const [recorded] = await recordNotifications(billingContext(node.services).events, [notification]);
    expect(recorded).toMatchObject({ outcome: 'awaiting_confirmation', duplicate: false });
    expect((await readAttempt(database.db, attempt.id)).status).toBe('submitted');

    // A node starting looks for waiting notifications, and every reconciliation pass does (either may take it).
    const other = await startBackend(database.url, qstash.server.url, { environment: emp.environment });
    try {
      await confirmAllDue(billingContext(other.services));
      await waitFor(async () => (await eventOf(notification))?.outcome === 'confirmed');
    } finally {
      await other.close();
    }
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
  });
});

describe('an API and a WPF notification signed over the same id', () => {
  it('are judged in one round each by its own answer: the genuine chargeback applied, the WPF forgery rejected', async () => {
    const attempt = await emp.sale(database.db, { status: 'approved' });
    emp.sim.control.chargeback(attempt.uniqueId, { reasonCode: 'MD06' });
    const context = billingContext(node.services);
    const genuine = saleNotification(attempt, attempt.uniqueId, 'chargebacked', { event: 'chargeback' });
    const forged = forwarded({ wpf_unique_id: attempt.uniqueId, wpf_status: 'approved', wpf_transaction_id: attempt.transactionId, payment_transaction_unique_id: attempt.uniqueId });
    // Recorded together, so that one round judges both.
    await recordNotifications(context.events, [genuine, forged]);
    await confirmAllDue(context);
    await waitFor(async () => (await eventOf(genuine))?.outcome !== 'awaiting_confirmation' && (await eventOf(forged))?.outcome !== 'awaiting_confirmation');

    expect(await eventOf(genuine)).toMatchObject({ outcome: 'confirmed' });
    expect((await eventOf(forged))?.error).toMatch(/^unknown_transaction:/);
    expect((await readAttempt(database.db, attempt.id)).status).toBe('chargebacked');
    expect(await listed(attempt.iban)).toEqual([expect.objectContaining({ reasonCode: 'MD06' })]);
  });
});

describe('a replayed notification', () => {
  it('is asked about again, never applied as it claims', async () => {
    const attempt = await emp.sale(database.db, { status: 'approved' });
    const context = billingContext(node.services);
    // A forged chargeback that failed to be recorded (say, the database was down), then replayed by an operator.
    const forged = saleNotification(attempt, attempt.uniqueId, 'chargebacked', { event: 'chargeback', rc_code: 'MD06' });
    const eventId = (await recordFailedNotification(context.events, forged, new Error('database unavailable')))!;
    const replayed = await reprocessEvent(context.events, eventId);
    expect(replayed).toMatchObject({ outcome: 'awaiting_confirmation', rerun: true });
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');

    await confirmAllDue(context);
    expect(await readEvent(database.db, eventId)).toMatchObject({ outcome: 'contradicted' });
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');
    expect(await listed(attempt.iban)).toEqual([]);
  });
});

describe('kinds Tether does not act on', () => {
  it('records a signed KYC notification as ignored, changing nothing', async () => {
    const attempt = await createAttempt(database.db, { status: 'submitted' });
    const kyc = forwarded({ reference_id: hex(16), notification_type: 'kyc_service_execution', status: 'approved' });
    await deliver(kyc);
    const row = await waitFor(async () => eventOf(kyc));
    expect(row).toMatchObject({ outcome: 'ignored', source: 'notification' });
    expect((await readAttempt(database.db, attempt.id)).status).toBe('submitted');
  });
});
