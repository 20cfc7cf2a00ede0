/**
 * What decides whether an attempt is sent at all, and sent again: the blacklist checked right
 * before sending, Verification of Payee with its hold policy and cache, and retries of soft
 * declines (AM04, MS03) per RETRY_MAX, never for hard codes or blacklisted debtors.
 */
import { asc, eq, like } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { releaseHold } from '../src/billing/holds';
import { startRun } from '../src/billing/runs';
import { addToBlacklist } from '../src/blacklist/blacklist';
import { billingAttempts } from '../src/db/schema';
import { runReconciliation } from '../src/reconciliation/pass';
import { waitFor } from './support/backend';
import { seedUpload, startBillingCluster, statusCounts, waitForRun, type BillingCluster } from './support/billing';
import { readAttempt, TEST_PERSONAL_DATA_KEY } from './support/events';
import { TEST_ACTOR } from './support/operators';

let cluster: BillingCluster;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 1, env: { VOP_ENABLED: 'true', RETRY_MAX: '2' } });
});
afterEach(() => cluster.sim.control.reset());
afterAll(() => cluster?.close());

const db = () => cluster.database.db;

async function reconcile() {
  return waitFor(async () => {
    const result = await runReconciliation(cluster.operator);
    return result.kind === 'done' ? result : undefined;
  });
}

describe('the blacklist, checked again before sending', () => {
  it('cancels an attempt whose IBAN was listed after the upload, and sends the others', async () => {
    const { uploadId, attempts } = await seedUpload(cluster.database, 3);
    const listed = attempts[1]!;
    await addToBlacklist(db(), TEST_PERSONAL_DATA_KEY, { iban: listed.iban, reason: 'chargeback MD06 on another debit', reasonCode: 'MD06', source: 'chargeback' });
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed');

    expect(await statusCounts(cluster, run.id)).toEqual({ approved: 2, cancelled: 1 });
    expect(await readAttempt(db(), listed.id)).toMatchObject({ status: 'cancelled', errorCode: 'blacklisted', sentAt: null });
    expect(cluster.sim.control.salesPerTransactionId()[listed.transactionId]).toBeUndefined();
  });
});

describe('Verification of Payee', () => {
  it('holds a no-match, bills match, close match and not possible, and bills the no-match once released', async () => {
    const names = ['Max Mustermann', 'Anna NO MATCH Schmidt', 'Jan Close Match Meyer', 'Lea Not Possible Weber'];
    const { uploadId, attempts } = await seedUpload(cluster.database, names.length, { name: (index) => names[index]! });
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed');

    expect(await statusCounts(cluster, run.id)).toEqual({ approved: 3, held: 1 });
    const results = await Promise.all(attempts.map((attempt) => readAttempt(db(), attempt.id)));
    expect(results.map((attempt) => attempt.vopResult)).toEqual(['match', 'no_match', 'close_match', 'not_possible']);
    const held = results[1]!;
    expect(held).toMatchObject({ status: 'pending', holdReason: 'vop_no_match', sentAt: null });
    expect(results[2]!.history).toContainEqual(expect.objectContaining({ source: 'vop', result: 'close_match', matched_name: 'Jan Meyer' }));
    expect(cluster.sim.control.salesPerTransactionId()[held.transactionId]).toBeUndefined();

    // The operator checked with the debtor: the run reopens for it.
    expect(await releaseHold(cluster.operator, held.id, TEST_ACTOR)).toEqual({ released: true, reason: 'vop_no_match' });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed' && current.counts?.approved === 4);
    expect(cluster.sim.control.salesPerTransactionId()[held.transactionId]).toBe(1);
  });

  it('answers the same payee from the cache', async () => {
    const verify = () => cluster.operator.payees.verify({ iban: 'DE89370400440532013000', name: 'Müller, Hans' });
    expect(await verify()).toEqual({ result: 'match', cached: false });
    expect(await cluster.operator.payees.verify({ iban: 'DE89370400440532013000', name: 'MULLER HANS' })).toEqual({ result: 'match', cached: true });
  });
});

describe('retries of soft declines', () => {
  it('retries AM04 as a new attempt with its own transaction_id, and never a hard code', async () => {
    const { uploadId, attempts } = await seedUpload(cluster.database, 4);
    const [soft, alwaysSoft, hard, softButBlacklisted] = attempts as [typeof attempts[0], typeof attempts[0], typeof attempts[0], typeof attempts[0]];
    cluster.sim.control.configureOutcomes({
      rules: [
        { transactionIdPrefix: `${soft.transactionId}-r`, outcome: { status: 'approved' } },
        { transactionIdPrefix: soft.transactionId, outcome: { status: 'declined', code: 'AM04' } },
        { transactionIdPrefix: alwaysSoft.transactionId, outcome: { status: 'declined', code: 'MS03' } },
        { transactionIdPrefix: hard.transactionId, outcome: { status: 'declined', code: 'MD06' } },
        { transactionIdPrefix: softButBlacklisted.transactionId, outcome: { status: 'declined', code: 'AM04' } },
      ],
    });
    const run = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
    await waitForRun(cluster, run.id, (current) => current.status === 'completed');
    expect(await statusCounts(cluster, run.id)).toEqual({ declined: 4 });
    await addToBlacklist(db(), TEST_PERSONAL_DATA_KEY, { iban: softButBlacklisted.iban, reason: 'operator decision', source: 'operator' });

    // Each pass schedules the retries now due (RETRY_SPACING is 1 ms here) and starts a run for them.
    for (let pass = 0; pass < 4; pass++) {
      await reconcile();
      await cluster.waitForQStashIdle();
    }

    const chain = async (first: { transactionId: string }) =>
      db()
        .select()
        .from(billingAttempts)
        .where(like(billingAttempts.transactionId, `${first.transactionId}%`))
        .orderBy(asc(billingAttempts.attemptNumber));
    const softChain = await chain(soft);
    expect(softChain.map((attempt) => [attempt.transactionId, attempt.attemptNumber, attempt.status])).toEqual([
      [soft.transactionId, 1, 'declined'],
      [`${soft.transactionId}-r2`, 2, 'approved'],
    ]);
    expect(softChain[1]!.retryOf).toBe(softChain[0]!.id);
    expect(softChain[1]!.notBefore).not.toBeNull();

    // RETRY_MAX=2: the first attempt and two retries, then no more.
    expect((await chain(alwaysSoft)).map((attempt) => [attempt.attemptNumber, attempt.status, attempt.errorCode])).toEqual([
      [1, 'declined', 'MS03'],
      [2, 'declined', 'MS03'],
      [3, 'declined', 'MS03'],
    ]);
    expect(await chain(hard)).toHaveLength(1);
    expect(await chain(softButBlacklisted)).toHaveLength(1);
    const sales = cluster.sim.control.salesPerTransactionId();
    expect(Object.values(sales).every((count) => count === 1)).toBe(true);
    const retries = await db().select().from(billingAttempts).where(eq(billingAttempts.uploadId, uploadId));
    expect(retries).toHaveLength(4 + 1 + 2);
  });
});
