/**
 * Reconciliation recovers what a lost notification would leave behind, through the same state
 * machine as the notification: a delivered and a missed notification end in the same state. It
 * also recovers claims of a node that died, and Genesis' duplicate check (450) is the second
 * guard when an attempt that did reach EMP is sent again.
 */
import { eq, isNull } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../src/billing/runs';
import { billingAttempts, billingRuns, blacklist, webhookEvents } from '../src/db/schema';
import { runReconciliation } from '../src/reconciliation/pass';
import { waitFor } from './support/backend';
import { seedUpload, startBillingCluster, waitForRun, type BillingCluster } from './support/billing';
import { readAttempt } from './support/events';
import { TEST_ACTOR } from './support/operators';

let cluster: BillingCluster;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 1, env: { RECONCILE_SUBMITTED_AFTER: '200', RECONCILE_STALE_CLAIM_AFTER: '1000' } });
});
afterEach(() => cluster.sim.control.reset());
afterAll(() => cluster?.close());

const db = () => cluster.database.db;

async function reconcile(options: { transactions?: boolean } = {}) {
  const outcome = await waitFor(async () => {
    const result = await runReconciliation(cluster.operator, options);
    return result.kind === 'done' ? result : undefined;
  });
  return outcome;
}

function comparable(attempt: Awaited<ReturnType<typeof readAttempt>>) {
  return { status: attempt.status, empStatus: attempt.empStatus, errorCode: attempt.errorCode, learntUniqueId: attempt.empUniqueId !== null };
}

describe('a missed notification', () => {
  it('is recovered by reconciliation into the same state a delivered one gives', async () => {
    cluster.sim.control.configureOutcomes({ rules: [{ outcome: { status: 'pending_async' } }] });
    const { uploadId, attempts } = await seedUpload(cluster.database, 2);
    const [delivered, missed] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed');
    const uniqueIdOf = async (id: number) => (await readAttempt(db(), id)).empUniqueId!;
    expect((await readAttempt(db(), delivered.id)).status).toBe('submitted');
    // The sales' own notifications are confirmed first: confirming one later would read the
    // status EMP has then, and so would not miss the change this test loses on purpose.
    await waitFor(async () => {
      const notifications = await db().select().from(webhookEvents).where(eq(webhookEvents.source, 'notification'));
      const settled = (attempt: { transactionId: string }) =>
        notifications.some((event) => event.transactionId === attempt.transactionId && event.outcome === 'confirmed');
      return settled(delivered) && settled(missed);
    });

    // Approved: one notification arrives, the other is lost.
    cluster.sim.control.changeStatus(await uniqueIdOf(delivered.id), { status: 'approved' });
    await waitFor(async () => (await readAttempt(db(), delivered.id)).status === 'approved');
    cluster.sim.control.configureNotifications({ hold: true });
    cluster.sim.control.changeStatus(await uniqueIdOf(missed.id), { status: 'approved' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await readAttempt(db(), missed.id)).status).toBe('submitted');
    const pass = await reconcile();
    expect(pass.due.reconciled.found).toBeGreaterThanOrEqual(1);
    expect(comparable(await readAttempt(db(), missed.id))).toEqual(comparable(await readAttempt(db(), delivered.id)));

    // Charged back (a debtor refund, MD06): by notification, and by the Chargeback API sweep.
    cluster.sim.control.configureNotifications({ hold: false });
    cluster.sim.control.chargeback(await uniqueIdOf(delivered.id), { reasonCode: 'MD06' });
    await waitFor(async () => (await readAttempt(db(), delivered.id)).status === 'chargebacked');
    cluster.sim.control.configureNotifications({ hold: true });
    cluster.sim.control.chargeback(await uniqueIdOf(missed.id), { reasonCode: 'MD06' });
    const sweep = await reconcile();
    expect(sweep.chargebacks.records).toBe(2);

    const [a, b] = [await readAttempt(db(), delivered.id), await readAttempt(db(), missed.id)];
    expect(comparable(b)).toEqual(comparable(a));
    expect(a).toMatchObject({ status: 'chargebacked', errorCode: 'MD06' });
    const listed = await db().select().from(blacklist).where(isNull(blacklist.removedAt));
    expect(listed.map((entry) => entry.iban).sort()).toEqual([delivered.iban, missed.iban].sort());
    expect(listed.every((entry) => entry.reasonCode === 'MD06' && entry.source === 'chargeback')).toBe(true);
  });

  it('is found by the by-date transaction sweep when the attempt looked settled', async () => {
    const { uploadId, attempts } = await seedUpload(cluster.database, 1);
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed');
    const attempt = await readAttempt(db(), attempts[0]!.id);
    expect(attempt.status).toBe('approved');
    // A SEPA reject before settlement whose notification is lost.
    cluster.sim.control.configureNotifications({ hold: true });
    cluster.sim.control.changeStatus(attempt.empUniqueId!, { status: 'declined', code: 'AC04' });
    const pass = await reconcile({ transactions: true });
    expect(pass.transactions?.applied).toBe(1);
    expect(await readAttempt(db(), attempt.id)).toMatchObject({ status: 'declined', errorCode: 'AC04', empStatus: 'declined' });
  });
});

describe('a node that died after claiming', () => {
  it('leaves stale claims that reconciliation resolves: sent once, whether the request had left or not', async () => {
    const { uploadId, attempts } = await seedUpload(cluster.database, 2);
    const [reached, neverLeft] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
    // A running run whose node claimed both attempts two seconds ago and died; the first one's sale had reached EMP.
    const [run] = await db().insert(billingRuns).values({ selection: { uploadId }, uploadId, attemptCount: 2 }).returning();
    await db()
      .update(billingAttempts)
      .set({ billingRunId: run!.id, status: 'sending', claimedBy: 'dead-node', claimedAt: new Date(Date.now() - 2_000) })
      .where(eq(billingAttempts.uploadId, uploadId));
    await cluster.operator.genesis.sddSale({
      transactionId: reached.transactionId,
      usage: 'sent before the node died',
      amount: 1990,
      currency: 'EUR',
      iban: reached.iban,
      billingAddress: { firstName: 'Erika', lastName: 'Mustermann', country: 'DE' },
    });

    const pass = await reconcile();
    expect(pass.due).toMatchObject({ staleClaims: 2, reconciled: { found: 1, not_found: 1 } });
    await waitForRun(cluster, run!.id, (current) => current.status === 'completed');
    expect(cluster.sim.control.salesPerTransactionId()).toEqual({ [reached.transactionId]: 1, [neverLeft.transactionId]: 1 });
    expect((await readAttempt(db(), reached.id)).status).toBe('approved');
    const resent = await readAttempt(db(), neverLeft.id);
    expect(resent.status).toBe('approved');
    expect(resent.history).toContainEqual(expect.objectContaining({ from: 'sending', to: 'unknown', source: 'reconciliation' }));
    expect(resent.history).toContainEqual(expect.objectContaining({ from: 'unknown', to: 'pending', source: 'reconciliation' }));
  });
});

describe("Genesis' duplicate check", () => {
  it('turns a resend of a transaction EMP already has into a reconcile, not a second charge', async () => {
    const { uploadId, attempts } = await seedUpload(cluster.database, 1);
    const attempt = attempts[0]!;
    // The same transaction_id reached EMP before, e.g. from a request that outlived its timeout;
    // its notification is not there yet.
    cluster.sim.control.configureNotifications({ hold: true });
    const first = await cluster.operator.genesis.sddSale({
      transactionId: attempt.transactionId,
      usage: 'an earlier send',
      amount: 1990,
      currency: 'EUR',
      iban: attempt.iban,
      billingAddress: { firstName: 'Erika', lastName: 'Mustermann', country: 'DE' },
    });
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed');
    const after = await readAttempt(db(), attempt.id);
    expect(after).toMatchObject({ status: 'approved', empUniqueId: first.uniqueId });
    expect(after.history).toContainEqual(expect.objectContaining({ reason: 'EMP already has this transaction_id (450): reconciling it' }));
    expect(cluster.sim.control.salesPerTransactionId()).toEqual({ [attempt.transactionId]: 1 });
  });
});
