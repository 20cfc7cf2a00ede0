/**
 * Recurring collections (issue 18) through real billing runs, QStash, the database and the Genesis
 * simulator: a recurring debtor's first collection is an sdd_init_recurring_sale (FRST), remembered
 * once approved on its mandate; every later run sends an sdd_recurring_sale referencing it (RCUR);
 * a chargeback with a mandate code ends the mandate, and nothing more is sent on it.
 */
import { randomBytes } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../src/billing/runs';
import { billingAttempts, debtors, mandates, uploads } from '../src/db/schema';
import { waitFor } from './support/backend';
import { startBillingCluster, waitForRun, type BillingCluster } from './support/billing';
import { testIban } from './support/events';
import { TEST_ACTOR } from './support/operators';

let cluster: BillingCluster;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 1, sim: { outcomes: { random: { declineRate: 0, errorRate: 0, chargebackRate: 0 } } } });
});
afterAll(async () => {
  await cluster?.close();
});

/** An upload of the given collection, one pending attempt per debtor (mandate reference and IBAN). */
async function seed(collection: 'one_off' | 'recurring', debtorsOf: Array<{ mandateReference: string; iban: string }>) {
  const { db } = cluster.database;
  const [upload] = await db
    .insert(uploads)
    .values({ fileKey: `uploads/${randomBytes(8).toString('hex')}.csv`, originalName: 'debtors.csv', status: 'completed', collection })
    .returning({ id: uploads.id });
  const rows = await db
    .insert(debtors)
    .values(debtorsOf.map((debtor, index) => ({ ...debtor, name: 'Erika Mustermann', nameOriginal: 'Erika Mustermann', uploadId: upload!.id, uploadRow: index + 2 })))
    .returning({ id: debtors.id, row: debtors.uploadRow });
  const attempts = await db
    .insert(billingAttempts)
    .values(rows.map((debtor) => ({ transactionId: `${upload!.id}-${debtor.row}`, debtorId: debtor.id, uploadId: upload!.id, amountCents: 2500 })))
    .returning({ id: billingAttempts.id, transactionId: billingAttempts.transactionId });
  return { uploadId: upload!.id, attempts };
}

async function run(uploadId: string) {
  const started = await startRun(cluster.operator, { selection: { uploadId }, actor: TEST_ACTOR });
  return waitForRun(cluster, started.id, (current) => current.status === 'completed');
}

const simSale = (transactionId: string) => cluster.sim.control.transactions({ transactionId });

describe('a recurring debtor', () => {
  const first = { mandateReference: `MANDATE-${randomBytes(4).toString('hex')}`, iban: testIban() };
  const second = { mandateReference: `MANDATE-${randomBytes(4).toString('hex')}`, iban: testIban() };

  it('is collected first with sdd_init_recurring_sale, then with sdd_recurring_sale referencing the approved first one', async () => {
    const january = await seed('recurring', [first, second]);
    await run(january.uploadId);
    const firstDebits = january.attempts.map((attempt) => simSale(attempt.transactionId));
    expect(firstDebits.map((sales) => sales.map((sale) => sale.transactionType))).toEqual([['sdd_init_recurring_sale'], ['sdd_init_recurring_sale']]);
    const remembered = await waitFor(async () => {
      const rows = await cluster.database.db.select().from(mandates).where(inArray(mandates.mandateKey, [`ref:${first.mandateReference}`, `ref:${second.mandateReference}`]));
      return rows.length === 2 && rows.every((mandate) => mandate.status === 'active') && rows;
    });
    expect(remembered.map((mandate) => mandate.firstUniqueId).sort()).toEqual(firstDebits.map((sales) => sales[0]!.uniqueId).sort());

    // February: the same debtors in a new upload (new debtor rows, the same mandates).
    const february = await seed('recurring', [first, second]);
    await run(february.uploadId);
    for (const [index, attempt] of february.attempts.entries()) {
      const [sale] = simSale(attempt.transactionId);
      expect(sale).toMatchObject({ transactionType: 'sdd_recurring_sale', status: 'approved' });
      const [row] = await cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.id, attempt.id));
      expect(row).toMatchObject({ transactionType: 'sdd_recurring_sale', status: 'approved', mandateId: expect.any(Number) });
      // The recurring sale's reference is the first debit of the same mandate.
      expect(cluster.sim.control.transaction(sale!.uniqueId!)).toBeDefined();
      expect(firstDebits[index]![0]!.uniqueId).toBe(remembered.find((mandate) => mandate.id === row!.mandateId)!.firstUniqueId);
    }
  });

  it('is not collected again once a chargeback with a mandate code ended the mandate', async () => {
    const march = await seed('recurring', [first]);
    await run(march.uploadId);
    const [sale] = simSale(march.attempts[0]!.transactionId);
    // The debtor's bank returns it: no mandate (MD01). The notification goes edge → QStash → confirmation.
    cluster.sim.control.chargeback(sale!.uniqueId!, { reasonCode: 'MD01' });
    const ended = await waitFor(async () => {
      const [mandate] = await cluster.database.db.select().from(mandates).where(eq(mandates.mandateKey, `ref:${first.mandateReference}`));
      return mandate?.status === 'ended' && mandate;
    }, 30_000);
    expect(ended.endedReasonCode).toBe('MD01');

    // The other debtor's mandate lives on; this one's next collection is cancelled, never sent.
    const april = await seed('recurring', [{ ...first, iban: testIban() }, second]);
    await run(april.uploadId);
    const [stopped, going] = april.attempts;
    expect(simSale(stopped!.transactionId)).toEqual([]);
    const [cancelled] = await cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.id, stopped!.id));
    expect(cancelled).toMatchObject({ status: 'cancelled', errorCode: 'mandate_ended' });
    expect(simSale(going!.transactionId)).toEqual([expect.objectContaining({ transactionType: 'sdd_recurring_sale' })]);
  });

  it('leaves one-off uploads as they were: sdd_sale, no mandate', async () => {
    const once = await seed('one_off', [{ mandateReference: first.mandateReference, iban: testIban() }]);
    await run(once.uploadId);
    expect(simSale(once.attempts[0]!.transactionId)).toEqual([expect.objectContaining({ transactionType: 'sdd_sale' })]);
    const [row] = await cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.id, once.attempts[0]!.id));
    expect(row!.mandateId).toBeNull();
  });
});
