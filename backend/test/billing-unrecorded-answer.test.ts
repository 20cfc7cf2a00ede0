/**
 * An answer from EMP that the backend cannot record on its attempt — here an approved sale whose
 * unique_id another attempt already holds, as after restarting a simulator that handed out the
 * same ids again — never leaves the attempt silently in sending: it ends unknown with the cause
 * logged, counted, written on the attempt and shown by the dashboard, and reconciling it ends
 * the same way instead of asking forever in silence.
 */
import { eq } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingContext } from '../src/billing/context';
import { sendAttempt } from '../src/billing/send-attempt';
import { billingAttempts, billingRuns, webhookEvents } from '../src/db/schema';
import { createLogger } from '../src/log';
import { reconcileAttempt } from '../src/reconciliation/reconcile-attempt';
import { seedUpload, startBillingCluster, type BillingCluster, type SeededAttempt } from './support/billing';
import { createTestOperator, logIn } from './support/operators';

let cluster: BillingCluster;
let context: BillingContext;
const logLines: Array<Record<string, unknown>> = [];
let holder: SeededAttempt;
let sent: SeededAttempt;

beforeAll(async () => {
  cluster = await startBillingCluster({ nodes: 1 });
  // Only the sale's own answer speaks for it.
  cluster.sim.control.configureNotifications({ hold: true });
  const { db } = cluster.database;
  [holder, sent] = (await seedUpload(cluster.database, 2)).attempts as [SeededAttempt, SeededAttempt];
  const [run] = await db.insert(billingRuns).values({ selection: { attemptIds: [sent.id] }, attemptCount: 1 }).returning({ id: billingRuns.id });
  await db.update(billingAttempts).set({ billingRunId: run!.id }).where(eq(billingAttempts.id, sent.id));

  const genesis = cluster.operator.genesis;
  context = {
    ...cluster.operator,
    log: createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    }),
    genesis: {
      ...genesis,
      // The approved sale's unique_id is on record already, for an attempt billed before.
      async sddSale(request, options) {
        const payment = await genesis.sddSale(request, options);
        await db.update(billingAttempts).set({ status: 'approved', empUniqueId: payment.uniqueId }).where(eq(billingAttempts.id, holder.id));
        return payment;
      },
    },
  };
  expect(await sendAttempt(context, run!.id, sent.id)).toBe('unknown');
});
afterAll(() => cluster?.close());

const readAttempt = async (id: number) => (await cluster.database.db.select().from(billingAttempts).where(eq(billingAttempts.id, id)))[0]!;
const unrecordedLogs = () => logLines.filter((line) => line.msg === 'EMP answered but the answer could not be recorded on its attempt');
const unrecordedCount = async (origin: string) =>
  (await context.metrics.unrecordedAnswers.get()).values.find((value) => value.labels.origin === origin)?.value ?? 0;

describe('an approved sale whose unique_id another attempt holds', () => {
  it('ends unknown, not sending, with the cause on the attempt', async () => {
    const attempt = await readAttempt(sent.id);
    expect(attempt.status).toBe('unknown');
    expect(attempt.empUniqueId).toBeNull();
    expect(attempt.errorMessage).toMatch(new RegExp(`^EMP's sale answer \\(approved\\) could not be recorded: event \\d+ illegal: .*already attempt ${holder.id}'s`));
    expect(attempt.history.at(-1)).toMatchObject({ from: 'sending', to: 'unknown', source: 'billing' });
    // The attempt that held the unique_id is left as it was.
    expect(await readAttempt(holder.id)).toMatchObject({ status: 'approved', history: [] });
  });

  it('is logged at error with the attempt id and the cause, without IBANs, and counted', async () => {
    expect(unrecordedLogs()).toEqual([
      expect.objectContaining({ level: 50, attemptId: sent.id, origin: 'sale', cause: expect.stringContaining(`already attempt ${holder.id}'s`) }),
    ]);
    const logged = JSON.stringify(logLines);
    for (const iban of [sent.iban, holder.iban]) expect(logged).not.toContain(iban);
    expect(await unrecordedCount('sale')).toBe(1);
  });

  it('is shown by the dashboard among the unknown attempts, with the error', async () => {
    const session = await logIn(cluster.url, await createTestOperator(cluster.database.db));
    const list = await (await session.fetch('/dashboard/attempts?status=unknown')).text();
    expect(list).toContain(`/dashboard/attempts/${sent.id}"`);
    expect(list).toContain('could not be recorded');
    const detail = await (await session.fetch(`/dashboard/attempts/${sent.id}`)).text();
    expect(detail).toContain(`already attempt ${holder.id}&#39;s`);
  });

  it('reconciled, ends the same way each time: unrecorded, logged, the event illegal on the attempt', async () => {
    const toReconcile = { id: sent.id, transactionId: sent.transactionId, empUniqueId: null, status: 'unknown' as const };
    expect(await reconcileAttempt(context, toReconcile)).toBe('unrecorded');
    expect(await reconcileAttempt(context, toReconcile)).toBe('unrecorded');

    const attempt = await readAttempt(sent.id);
    expect(attempt.status).toBe('unknown');
    expect(attempt.errorMessage).toMatch(/^EMP's reconcile answer \(approved\) could not be recorded: event \d+ illegal: /);
    const events = await cluster.database.db
      .select({ outcome: webhookEvents.outcome, error: webhookEvents.error })
      .from(webhookEvents)
      .where(eq(webhookEvents.billingAttemptId, sent.id));
    expect(events).toHaveLength(2); // the sale's answer and the reconcile's, each recorded once
    for (const event of events) expect(event).toEqual({ outcome: 'illegal', error: expect.stringContaining(`already attempt ${holder.id}'s`) });
    expect(unrecordedLogs().filter((line) => line.origin === 'reconcile')).toHaveLength(2);
    expect(await unrecordedCount('reconcile')).toBe(2);
  });
});
