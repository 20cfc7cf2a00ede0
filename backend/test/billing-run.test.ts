/**
 * A billing run on two backend nodes sharing the database, the Redis rate limiter and QStash:
 * every attempt reaches EMP exactly once, the rate stays under EMP_RATE_LIMIT in every
 * one-second window, and the run completes with its outcomes recorded through the state machine.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun, pauseRun, resumeRun, startRun } from '../src/billing/runs';
import { billingAttempts, webhookEvents } from '../src/db/schema';
import { startBillingCluster, seedUpload, statusCounts, waitForRun, type BillingCluster } from './support/billing';
import { TEST_ACTOR } from './support/operators';

const RATE_LIMIT = 40;
let cluster: BillingCluster;

beforeAll(async () => {
  cluster = await startBillingCluster({ env: { EMP_RATE_LIMIT: String(RATE_LIMIT), BILLING_BATCH_SIZE: '40' } });
});
afterAll(() => cluster?.close());

// 300 attempts at 40/s take 7.5 s at the least; on a loaded 2-core CI machine two nodes, the
// simulator and QStash need far more than vitest's default, so the limit is waitForRun's.
describe('a run of a few hundred attempts on two nodes', { timeout: 120_000 }, () => {
  it('sends each attempt exactly once, never faster than the limit, and completes', async () => {
    cluster.sim.control.configureOutcomes({ random: { declineRate: 0.1 } });
    // The simulator times the sales it counts per second on its own event loop; the nodes'
    // confirmations of its notifications (reconciles, by-date pages) would share that loop during
    // the run and bunch its timing (41 counted in one second on a loaded CI machine, a stall, not
    // a sale too many). Its notifications wait until the run is done: the sales' answers are what
    // this test follows.
    cluster.sim.control.configureNotifications({ hold: true });
    const { uploadId, attempts } = await seedUpload(cluster.database, 300);
    const started = Date.now();
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    expect(run).toMatchObject({ status: 'running', attemptCount: 300, createdBy: 'test' });

    const done = await waitForRun(cluster, run.id, (current) => current.status === 'completed');
    const seconds = (Date.now() - started) / 1000;
    cluster.sim.control.configureNotifications({ hold: false });
    await cluster.sim.control.releaseNotifications();

    const sales = cluster.sim.control.salesPerTransactionId();
    expect(Object.keys(sales).sort()).toEqual(attempts.map((attempt) => attempt.transactionId).sort());
    expect(Object.values(sales).every((count) => count === 1)).toBe(true);
    expect(cluster.sim.control.doubleCharges()).toEqual([]);
    expect(cluster.sim.control.maxRequestsPerSecond('process')).toBeLessThanOrEqual(RATE_LIMIT);
    // Spaced slots: 300 sales cannot take much less than 300 / limit seconds.
    expect(seconds).toBeGreaterThan(300 / RATE_LIMIT - 1);

    const counts = await statusCounts(cluster, run.id);
    expect((counts.approved ?? 0) + (counts.declined ?? 0)).toBe(300);
    expect(counts.declined).toBeGreaterThan(10);
    expect(done.counts).toEqual(counts);

    // Both nodes took part; every outcome came through the events path with Genesis' unique_id.
    const rows = await cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.billingRunId, run.id));
    expect(new Set(rows.map((row) => row.claimedBy)).size).toBe(2);
    for (const row of rows) {
      expect(row.empUniqueId).toMatch(/^[0-9a-f]{32}$/);
      expect(row.sentAt).not.toBeNull();
      if (row.status === 'declined') expect(row).toMatchObject({ errorCode: '500', errorMessage: 'Transaction declined by issuer.' });
    }
    const saleAnswers = await cluster.database.db.select({ id: webhookEvents.id }).from(webhookEvents).where(eq(webhookEvents.outcome, 'applied'));
    expect(saleAnswers.length).toBeGreaterThanOrEqual(300);
  });

  it('refuses a second run for attempts another run holds, and pauses, resumes and cancels', async () => {
    cluster.sim.control.reset();
    const { uploadId } = await seedUpload(cluster.database, 120);
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await expect(startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR })).rejects.toMatchObject({ status: 422 });

    await pauseRun(cluster.operator, run.id, TEST_ACTOR);
    await cluster.waitForQStashIdle();
    const whilePaused = cluster.sim.control.requestCount('process');
    const paused = await statusCounts(cluster, run.id);
    expect(paused.sending ?? 0).toBe(0);
    expect(paused.pending).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cluster.sim.control.requestCount('process')).toBe(whilePaused);

    await resumeRun(cluster.operator, run.id, TEST_ACTOR);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelled = await cancelRun(cluster.operator, run.id, TEST_ACTOR);
    expect(cancelled.status).toBe('cancelled');
    await cluster.waitForQStashIdle();
    const final = await statusCounts(cluster, run.id);
    expect(final.pending ?? 0).toBe(0);
    expect(final.sending ?? 0).toBe(0);
    expect(final.cancelled).toBeGreaterThan(0);
    expect(final.approved).toBe(cluster.sim.control.requestCount('process'));
    expect(cluster.sim.control.doubleCharges()).toEqual([]);
  });
});
