/**
 * Refunds (issue 18) against a real database and the Genesis simulator: an operator refunds an
 * approved debit in part and then the rest, each refund is an sdd_refund with its own stable
 * transaction_id, claimed before it is sent, reconciled (never resent) when its answer is lost,
 * and moved on by its notification only once EMP confirms it. No debit is refunded beyond what it
 * collected, however many ask at once, and every refund is audited with who and why.
 */
import type { Client } from '@upstash/qstash';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QStashDevServer } from '../../dev/qstash/server';
import { startTestQStash } from '../../dev/testing/qstash';
import { cliActor } from '../src/audit/actor';
import { billingContext, type BillingContext } from '../src/billing/context';
import { auditLog, refunds, webhookEvents } from '../src/db/schema';
import type { IncomingEvent } from '../src/events/process';
import { RefundRefused, requestRefund } from '../src/refunds/request';
import { reconcileRefund, sendRefund } from '../src/refunds/send';
import { settleOpenRefunds } from '../src/refunds/settle';
import { startBackend, waitFor, type TestBackend } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startTestEmp, type TestEmp } from './support/emp';
import { forwarded, hex, readAttempt } from './support/events';
import { createTestOperator, logIn } from './support/operators';
import { operators } from '../src/db/schema';

let database: MigratedTestDatabase;
let qstash: { server: QStashDevServer; client: Client };
let emp: TestEmp;
let node: TestBackend;
let context: BillingContext;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url);
  // Refunds stay pending_async until a test settles them.
  emp = await startTestEmp({ refundSettlementMs: 60 * 60_000 });
  node = await startBackend(database.url, qstash.server.url, { environment: emp.environment });
  context = billingContext(node.services);
});
afterAll(async () => {
  await node?.close();
  await emp?.close();
  await qstash?.server.close();
  await database?.destroy();
});

const refund = (attemptId: number, amountCents: number | undefined, reason = 'customer cancelled the contract') =>
  requestRefund(database.db, { attemptId, amountCents, reason, actor: cliActor(), requestedBy: 'test' });

async function readRefund(id: number) {
  const [row] = await database.db.select().from(refunds).where(eq(refunds.id, id));
  return row!;
}

/** EMP's notification of a refund's state, as the edge forwards it (signed over the refund's unique_id). */
function refundNotification(refundRow: { transactionId: string; empUniqueId: string | null; amountCents: number }, originalUniqueId: string, status: string): IncomingEvent {
  return forwarded({
    transaction_id: refundRow.transactionId,
    unique_id: refundRow.empUniqueId!,
    transaction_type: 'sdd_refund',
    status,
    amount: String(refundRow.amountCents),
    reference_transaction_unique_id: originalUniqueId,
  });
}

async function settled(event: IncomingEvent) {
  await qstash.client.publishJSON({
    url: node.eventsUrl,
    body: { version: 1, dedupKey: event.dedupKey, receivedAt: event.receivedAt.toISOString(), traceId: hex(8), fields: event.fields },
  });
  return waitFor(async () => {
    const [row] = await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, event.dedupKey));
    return row && row.outcome !== 'awaiting_confirmation' && row;
  });
}

describe('an operator refunds an approved debit', () => {
  it('in part and then the rest: each sent once as an sdd_refund, each moving the attempt when EMP confirms it', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const first = await refund(sale.id, 500);
    expect(first).toMatchObject({ status: 'pending', amountCents: 500, currency: 'EUR' });
    expect(await sendRefund(context, first.id)).toBe('answered');
    // The reference documents pending_async: EMP decides later.
    const sent = await readRefund(first.id);
    expect(sent).toMatchObject({ status: 'submitted', empStatus: 'pending_async' });
    expect(sent.empUniqueId).toMatch(/^[0-9a-f]{32}$/);
    // Sending again is a no-op: the claim is gone.
    expect(await sendRefund(context, first.id)).toBe('skipped');
    expect(emp.sim.control.refundsOf(sale.uniqueId)).toEqual([expect.objectContaining({ transactionId: first.transactionId, amount: 500, referenceTransactionUniqueId: sale.uniqueId })]);

    emp.sim.control.changeRefundStatus(sent.empUniqueId!, { status: 'approved' });
    const partly = await settled(refundNotification(sent, sale.uniqueId, 'approved'));
    expect(partly).toMatchObject({ outcome: 'confirmed', billingAttemptId: sale.id });
    expect((await readRefund(first.id)).status).toBe('approved');
    expect((await readAttempt(database.db, sale.id)).status).toBe('partially_refunded');

    // The rest: no amount means all that is left.
    const rest = await refund(sale.id, undefined);
    expect(rest.amountCents).toBe(1990 - 500);
    await sendRefund(context, rest.id);
    const restSent = await readRefund(rest.id);
    emp.sim.control.changeRefundStatus(restSent.empUniqueId!, { status: 'approved' });
    expect((await settled(refundNotification(restSent, sale.uniqueId, 'approved'))).outcome).toBe('confirmed');
    const attempt = await readAttempt(database.db, sale.id);
    expect(attempt.status).toBe('refunded');
    expect(attempt.history).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'refund', from: 'approved', to: 'partially_refunded', refund_id: first.id }),
        expect.objectContaining({ source: 'refund', from: 'partially_refunded', to: 'refunded', refund_id: rest.id }),
      ]),
    );
    // Who and why, once per refund, in the refund's own transaction.
    const audit = await database.db.select().from(auditLog).where(and(eq(auditLog.action, 'refund.requested'), eq(auditLog.targetId, String(sale.id))));
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ actorKind: 'cli', reason: 'customer cancelled the contract', after: expect.objectContaining({ refund_id: first.id, amount_cents: 500 }) });
    // Fully refunded: nothing more.
    await expect(refund(sale.id, 1)).rejects.toThrow(RefundRefused);
  });

  it('never refunds more than was collected, even when operators ask at the same moment', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const results = await Promise.allSettled([refund(sale.id, 1500), refund(sale.id, 1500), refund(sale.id, 1500)]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(RefundRefused);
    await expect(refund(sale.id, 491)).rejects.toThrow(/only 490 cents/);
    const rows = await database.db.select().from(refunds).where(eq(refunds.attemptId, sale.id));
    expect(rows.map((row) => row.amountCents)).toEqual([1500]);
    const audit = await database.db.select().from(auditLog).where(eq(auditLog.targetId, String(sale.id)));
    expect(audit).toHaveLength(1);
  });

  it('frees the amount of a refund EMP declined, and refuses a debit that collected nothing or a refund without a reason', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const whole = await refund(sale.id, undefined);
    await sendRefund(context, whole.id);
    const sent = await readRefund(whole.id);
    emp.sim.control.changeRefundStatus(sent.empUniqueId!, { status: 'declined' });
    await reconcileRefund(context, whole.id);
    expect(await readRefund(whole.id)).toMatchObject({ status: 'declined' });
    expect((await readAttempt(database.db, sale.id)).status).toBe('approved');
    expect((await refund(sale.id, undefined)).amountCents).toBe(1990);

    const pending = await emp.sale(database.db, { status: 'submitted' });
    await expect(refund(pending.id, 100)).rejects.toThrow(/submitted: only an approved debit/);
    await expect(refund(sale.id, 100, ' ')).rejects.toThrow(/reason/);
    await expect(refund(sale.id, 0)).rejects.toThrow(/positive/);
    expect(await database.db.select().from(refunds).where(eq(refunds.attemptId, pending.id))).toEqual([]);
  });

  it('reconciles a refund whose answer was lost instead of sending it again', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const lost = await refund(sale.id, 700);
    // EMP processes the refund but the answer never comes (the client gives up after EMP_TIMEOUT).
    emp.sim.control.injectFault({ kind: 'hang', endpoint: 'process', count: 1 });
    expect(await sendRefund(context, lost.id)).toBe('unknown');
    expect((await readRefund(lost.id)).status).toBe('unknown');

    await settleOpenRefunds(context);
    const reconciled = await readRefund(lost.id);
    expect(reconciled).toMatchObject({ status: 'submitted', empStatus: 'pending_async' });
    expect(reconciled.lastReconciledAt).not.toBeNull();
    expect(emp.sim.control.refundsOf(sale.uniqueId)).toHaveLength(1);
  });

  it('sends again, with the same transaction_id, a refund EMP never received', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const unsent = await refund(sale.id, 300);
    // A 503 before processing: EMP has nothing, yet Tether cannot know that without asking.
    emp.sim.control.injectFault({ kind: 'server_error', endpoint: 'process', count: 1 });
    expect(await sendRefund(context, unsent.id)).toBe('unknown');
    await settleOpenRefunds(context);
    expect((await readRefund(unsent.id)).status).toBe('pending');
    // Back in the queue; once past the sender's grace period the sweep sends it (here: directly).
    expect(await sendRefund(context, unsent.id)).toBe('answered');
    expect(emp.sim.control.refundsOf(sale.uniqueId)).toEqual([expect.objectContaining({ transactionId: unsent.transactionId, amount: 300 })]);
  });

  it('rejects a forged refund notification for a refund EMP does not know, and changes nothing', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const row = await settled(refundNotification({ transactionId: `tth_rf_${hex(12)}`, empUniqueId: hex(16), amountCents: 1990 }, sale.uniqueId, 'approved'));
    expect(row).toMatchObject({ outcome: 'rejected' });
    expect((await readAttempt(database.db, sale.id)).status).toBe('approved');
  });
});

describe('the attempt page', () => {
  const post = (fields: Record<string, string>, csrfToken: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfToken, ...fields }),
  });

  it('refunds with the operator\'s amount and reason, shows the refund, and audits the operator', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const operator = await createTestOperator(database.db);
    const session = await logIn(node.url, operator);
    const before = await (await session.fetch(`/dashboard/attempts/${sale.id}`)).text();
    expect(before).toContain(`action="/dashboard/attempts/${sale.id}/refunds"`);

    const answer = await session.fetch(`/dashboard/attempts/${sale.id}/refunds`, post({ amount: '4,90', reason: 'goodwill: late delivery' }, session.csrfToken));
    const page = await answer.text();
    expect(answer.status).toBe(200);
    expect(page).toMatch(/Refund \d+ sent to EMP/);
    expect(page).toContain('goodwill: late delivery');
    const [row] = await database.db.select().from(refunds).where(eq(refunds.attemptId, sale.id));
    expect(row).toMatchObject({ amountCents: 490, status: 'submitted', requestedBy: operator.email });
    const [entry] = await database.db.select().from(auditLog).where(and(eq(auditLog.action, 'refund.requested'), eq(auditLog.targetId, String(sale.id))));
    expect(entry).toMatchObject({ actorKind: 'operator', actorName: operator.email, reason: 'goodwill: late delivery' });

    const tooMuch = await session.fetch(`/dashboard/attempts/${sale.id}/refunds`, post({ amount: '15.01', reason: 'too much' }, session.csrfToken));
    expect(tooMuch.status).toBe(422);
    expect(await tooMuch.text()).toContain('only 1500 cents');
  });

  it('refuses a viewer: 403, nothing written', async () => {
    const sale = await emp.sale(database.db, { status: 'approved' });
    const viewer = await createTestOperator(database.db);
    await database.db.update(operators).set({ role: 'viewer' }).where(eq(operators.email, viewer.email));
    const session = await logIn(node.url, viewer);
    const answer = await session.fetch(`/dashboard/attempts/${sale.id}/refunds`, post({ reason: 'not allowed' }, session.csrfToken));
    expect(answer.status).toBe(403);
    expect(await database.db.select().from(refunds).where(eq(refunds.attemptId, sale.id))).toEqual([]);
  });
});
