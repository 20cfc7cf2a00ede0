/**
 * The review queues over HTTP, on a real node with the Genesis simulator behind it: each queue
 * shows what needs a person and not what does not, and each action works, takes the item out of
 * its queue and leaves exactly one audit entry; a refused action changes nothing and leaves none.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlacklisted } from '../src/blacklist/blacklist';
import { eventContext } from '../src/events/context';
import { processEvent } from '../src/events/process';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { startTestEmp, type TestEmp } from './support/emp';
import { createAttempt, hex, readAttempt, saleNotification } from './support/events';
import { createTestOperator, logIn, type SessionClient } from './support/operators';

let database: MigratedTestDatabase;
let emp: TestEmp;
let node: DashboardNode;
let session: SessionClient;

beforeAll(async () => {
  database = await createMigratedDatabase();
  emp = await startTestEmp();
  node = await startDashboardNode(database.url, { ...emp.environment, RECONCILE_UNKNOWN_AFTER: '60000' });
  session = await logIn(node.url, await createTestOperator(database.db));
});
afterAll(async () => {
  await node?.close();
  await emp?.close();
  await database?.destroy();
});

const db = () => database.db;

async function reviewPage(): Promise<string> {
  const response = await session.fetch('/dashboard/review');
  expect(response.status).toBe(200);
  return response.text();
}

function post(path: string, fields: Record<string, string> = {}, client = session) {
  return client.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
    body: new URLSearchParams(fields),
  });
}

/** What the review actions wrote: the operators' own creation and log-ins are audited too, and are not this test's. */
async function auditEntries() {
  const { rows } = await db().execute<{ action: string; target_kind: string; target_id: string; reason: string | null; actor_name: string }>(
    sql`select action, target_kind, target_id, reason, actor_name from audit_log where action not like 'operator.%' order by id`,
  );
  return rows;
}

async function chargebacked(code: string | null) {
  const attempt = await createAttempt(db(), { status: 'chargebacked' });
  await db().execute(sql`update billing_attempts set error_code = ${code} where id = ${attempt.id}`);
  return attempt;
}

describe('review queues', () => {
  it('show what needs a person, and each action works once, leaves its queue and one audit entry', async () => {
    const unauthorised = await chargebacked('MD01');
    const unknownCode = await chargebacked('ZZ42');
    const softDecline = await chargebacked('AM04');
    const insertNotification = (outcome: string, attemptId: number | null) =>
      db().execute<{ id: number }>(sql`insert into webhook_events (dedup_key, payload, received_at, outcome, source, error, billing_attempt_id)
        values (${`review-${hex(6)}`}, '{}'::jsonb, now(), ${outcome}, 'notification', ${`${outcome}: test`}, ${attemptId}) returning id`);
    const rejected = (await insertNotification('rejected', null)).rows[0]!.id;
    const confirmed = (await insertNotification('confirmed', null)).rows[0]!.id;
    // EMP approved it; Tether lost the answer a while ago.
    const stuck = await emp.sale(db(), { status: 'unknown' });
    await db().execute(sql`update billing_attempts set updated_at = now() - interval '10 minutes' where id = ${stuck.id}`);
    const fresh = await emp.sale(db(), { status: 'unknown' });
    // An EMP answer for a transaction no attempt had, two days ago; the attempt exists now.
    const transactionId = `tth_${hex(8)}`;
    const pending = await processEvent(eventContext(node.services), saleNotification({ transactionId }, hex(16), 'approved'));
    expect(pending.outcome).toBe('pending_match');
    await db().execute(sql`update webhook_events set received_at = now() - interval '2 days' where id = ${pending.eventId}`);
    const recentPending = await processEvent(eventContext(node.services), saleNotification({ transactionId: `tth_${hex(8)}` }, hex(16), 'approved'));

    const page = await reviewPage();
    for (const item of [`chargebacks/${unauthorised.id}`, `chargebacks/${unknownCode.id}`, `notifications/${rejected}`, `unknown-attempts/${stuck.id}`, `pending-events/${pending.eventId}`]) {
      expect(page, item).toContain(`data-item="${item}"`);
    }
    for (const item of [`chargebacks/${softDecline.id}`, `notifications/${confirmed}`, `unknown-attempts/${fresh.id}`, `pending-events/${recentPending.eventId}`]) {
      expect(page, item).not.toContain(`data-item="${item}"`);
    }

    // Refused: no reason, an action the queue does not offer, an item not in the queue. Nothing happens.
    expect((await post(`/dashboard/review/chargebacks/${unknownCode.id}/dismiss`, { reason: '' })).status).toBe(422);
    expect((await post(`/dashboard/review/notifications/${rejected}/blacklist`, { reason: 'not offered' })).status).toBe(422);
    expect((await post(`/dashboard/review/chargebacks/${softDecline.id}/dismiss`, { reason: 'not in the queue' })).status).toBe(422);
    expect(await auditEntries()).toEqual([]);

    const dismissed = await post(`/dashboard/review/chargebacks/${unknownCode.id}/dismiss`, { reason: 'bank confirmed: typo in the code' });
    expect(dismissed.status).toBe(200);
    expect(await dismissed.text()).not.toContain(`data-item="chargebacks/${unknownCode.id}"`);
    expect((await post(`/dashboard/review/chargebacks/${unknownCode.id}/dismiss`, { reason: 'twice' })).status).toBe(422);

    const listed = await post(`/dashboard/review/chargebacks/${unauthorised.id}/blacklist`, { reason: 'debtor says not authorised' });
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain('is blacklisted');
    expect(await isBlacklisted(db(), node.services.config.personalData.key, unauthorised.iban)).toBe(true);

    const reconciled = await post(`/dashboard/review/unknown-attempts/${stuck.id}/reconcile`);
    expect(reconciled.status).toBe(200);
    expect(await reconciled.text()).toContain('it is approved');
    expect((await readAttempt(db(), stuck.id)).status).toBe('approved');

    const attempt = await createAttempt(db(), { status: 'submitted', transactionId });
    const replayed = await post(`/dashboard/review/pending-events/${pending.eventId}/replay`);
    expect(replayed.status).toBe(200);
    expect(await replayed.text()).toContain('replayed: applied');
    expect((await readAttempt(db(), attempt.id)).status).toBe('approved');

    const after = await reviewPage();
    for (const item of [`chargebacks/${unauthorised.id}`, `chargebacks/${unknownCode.id}`, `unknown-attempts/${stuck.id}`, `pending-events/${pending.eventId}`]) {
      expect(after, item).not.toContain(`data-item="${item}"`);
    }
    expect(after).toContain(`data-item="notifications/${rejected}"`);

    const entries = await auditEntries();
    expect(entries.map((entry) => [entry.action, entry.target_kind])).toEqual([
      ['review.dismissed', 'review_item'],
      ['blacklist.added', 'blacklist'],
      ['attempt.reconciled', 'attempt'],
      ['event.replayed', 'event'],
    ]);
    expect(entries[0]).toMatchObject({ target_id: `chargebacks/${unknownCode.id}`, reason: 'bank confirmed: typo in the code' });
    expect(entries.every((entry) => entry.actor_name.endsWith('@tether.test'))).toBe(true);
    const { rows: decisions } = await db().execute<{ queue: string; decision: string }>(sql`select queue, decision from review_decisions order by id`);
    expect(decisions).toEqual([
      { queue: 'chargebacks', decision: 'dismissed' },
      { queue: 'chargebacks', decision: 'blacklisted' },
    ]);
  });

  it('lets a viewer read the queues but act on none, and keeps erasure and retention to admins', async () => {
    const viewer = await createTestOperator(db());
    await db().execute(sql`update operators set role = 'viewer' where email = ${viewer.email}`);
    const viewing = await logIn(node.url, viewer);
    expect((await viewing.fetch('/dashboard/review')).status).toBe(200);
    const rejected = (
      await db().execute<{ id: number }>(sql`insert into webhook_events (dedup_key, payload, received_at, outcome, source)
        values (${`review-${hex(6)}`}, '{}'::jsonb, now(), 'rejected', 'notification') returning id`)
    ).rows[0]!.id;
    const before = (await auditEntries()).length;
    expect((await post(`/dashboard/review/notifications/${rejected}/dismiss`, { reason: 'viewer tries' }, viewing)).status).toBe(403);
    // An operator is no admin.
    expect((await post('/dashboard/personal-data/retention', { notificationPayloadDays: '10', uploadFileDays: '10' })).status).toBe(403);
    expect((await post('/dashboard/personal-data/erase', { debtorId: '1', reason: 'operator tries', confirm: 'yes' })).status).toBe(403);
    expect((await auditEntries()).length).toBe(before);
    expect(await reviewPage()).toContain(`data-item="notifications/${rejected}"`);
  });
});
