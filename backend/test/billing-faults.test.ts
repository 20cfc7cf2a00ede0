/**
 * EMP failing under a run: answers that never come (the sale was processed — the outcome is
 * unknown until reconciled) and a burst of 5xx (the breaker opens, the run pauses with the
 * reason, a probe closes it, the run resumes). No attempt is ever charged twice.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../src/billing/runs';
import { billingAttempts } from '../src/db/schema';
import { seedUpload, startBillingCluster, statusCounts, waitForRun, type BillingCluster } from './support/billing';
import { TEST_ACTOR } from './support/operators';

let cluster: BillingCluster;

beforeAll(async () => {
  cluster = await startBillingCluster({ env: { EMP_RATE_LIMIT: '50', BILLING_BATCH_SIZE: '25', EMP_TIMEOUT: '800' } });
});
afterEach(() => cluster.sim.control.reset());
afterAll(() => cluster?.close());

function expectEachSentOnce(transactionIds: string[]) {
  const sales = cluster.sim.control.salesPerTransactionId();
  expect(cluster.sim.control.doubleCharges()).toEqual([]);
  for (const transactionId of transactionIds) expect(sales[transactionId], transactionId).toBe(1);
}

describe('timeouts on 10% of the sales', () => {
  it('leaves them unknown, reconciles every one, and charges no one twice', async () => {
    cluster.sim.control.configureFaults({ timeoutRate: 0.1, endpoints: ['process'], hangMs: 5_000 });
    // No notification comes: only reconciliation can tell what became of the timed-out sales.
    cluster.sim.control.configureNotifications({ hold: true });
    const { uploadId, attempts } = await seedUpload(cluster.database, 200);
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });

    const done = await waitForRun(cluster, run.id, (current) => current.status === 'completed', 90_000);
    expectEachSentOnce(attempts.map((attempt) => attempt.transactionId));
    const counts = await statusCounts(cluster, done.id);
    expect(counts).toEqual({ approved: 200 });

    // The timed-out ones went through unknown and were resolved by reconcile or by their notification.
    const timedOut = await cluster.database.db
      .select({ id: billingAttempts.id })
      .from(billingAttempts)
      .where(and(eq(billingAttempts.billingRunId, run.id), sql`${billingAttempts.history} @> '[{"to": "unknown"}]'`));
    expect(timedOut.length).toBeGreaterThan(8);
    expect(timedOut.length).toBeLessThan(40);
  }, 120_000);
});

describe('a burst of 5xx', () => {
  it('opens the breaker, pauses the run with the reason, and resumes after a probe', async () => {
    cluster.sim.control.injectFault({ kind: 'server_error', endpoint: 'process', count: 12, status: 503 });
    const { uploadId, attempts } = await seedUpload(cluster.database, 150);
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });

    const paused = await waitForRun(cluster, run.id, (current) => current.status === 'paused', 30_000);
    expect(paused).toMatchObject({ pausedBy: 'circuit_breaker', breakerState: 'open' });
    expect(paused.pauseReason).toMatch(/circuit breaker open: .*HTTP 503/);

    const done = await waitForRun(cluster, run.id, (current) => current.status === 'completed', 60_000);
    expect(done).toMatchObject({ breakerState: 'closed', pausedBy: null, pauseReason: null });
    expect(await statusCounts(cluster, run.id)).toEqual({ approved: 150 });
    expectEachSentOnce(attempts.map((attempt) => attempt.transactionId));

    // The 5xx ones were never processed: reconcile found nothing (460) and they went out again, same transaction_id.
    const resent = await cluster.database.db
      .select({ id: billingAttempts.id })
      .from(billingAttempts)
      .where(and(eq(billingAttempts.billingRunId, run.id), sql`${billingAttempts.history} @> '[{"from": "unknown", "to": "pending"}]'`));
    expect(resent.length).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
