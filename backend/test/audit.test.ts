/**
 * The audit log (issue 17): each operator action through the dashboard leaves exactly one entry,
 * with its actor, target, and the before and after of what changed (IBANs masked); disabling an
 * operator ends their session at once; the last enabled admin stays; entries cannot be changed
 * or deleted; the audit page filters and exports them.
 */
import { eq, sql } from 'drizzle-orm';
import { maskIban } from '@tether/shared/mask';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changePassword } from '../src/auth/operators';
import { addToBlacklist } from '../src/blacklist/blacklist';
import { auditLog, blacklist } from '../src/db/schema';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { TEST_PERSONAL_DATA_KEY, testIban } from './support/events';
import { createTestOperator, logIn, TEST_ACTOR, type SessionClient } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;
let admin: SessionClient & { id: number };
let operator: SessionClient & { id: number };

beforeAll(async () => {
  database = await createMigratedDatabase();
  node = await startDashboardNode(database.url);
  const adminAccount = await createTestOperator(database.db, 'admin@tether.test', 'admin');
  const operatorAccount = await createTestOperator(database.db, 'operator@tether.test', 'operator');
  admin = { ...(await logIn(node.url, adminAccount)), id: adminAccount.id };
  operator = { ...(await logIn(node.url, operatorAccount)), id: operatorAccount.id };
}, 60_000);
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

/** The entries written while `act` ran. */
async function entriesOf(act: () => Promise<unknown>) {
  const [{ last }] = (await database.db.execute<{ last: number }>(sql`select coalesce(max(id), 0)::int as last from audit_log`)).rows as [{ last: number }];
  await act();
  return database.db.select().from(auditLog).where(sql`${auditLog.id} > ${last}`).orderBy(auditLog.id);
}

const form = (session: SessionClient, path: string, fields: Record<string, string>) =>
  session.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });

describe('an entry per action', () => {
  it('log-in and log-out', async () => {
    const account = await createTestOperator(database.db, 'inout@tether.test', 'viewer');
    let session: SessionClient | undefined;
    expect(await entriesOf(async () => (session = await logIn(node.url, account)))).toMatchObject([
      { action: 'operator.logged_in', actorKind: 'operator', actorOperatorId: account.id, actorName: 'inout@tether.test', targetKind: 'operator', targetId: String(account.id) },
    ]);
    expect(await entriesOf(() => session!.fetch('/logout', { method: 'POST' }))).toMatchObject([{ action: 'operator.logged_out', actorOperatorId: account.id }]);
  });

  it('blacklisting by hand, removing, and an admin lifting a compliance entry; the IBAN masked', async () => {
    const iban = testIban();
    const added = await entriesOf(() => form(operator, '/dashboard/blacklist', { iban, reason: 'asked us to stop' }));
    expect(added).toMatchObject([{ action: 'blacklist.added', actorName: 'operator@tether.test', after: { iban: maskIban(iban), active: true }, reason: 'asked us to stop' }]);
    expect(JSON.stringify(added)).not.toContain(iban);
    expect(await entriesOf(() => form(operator, '/dashboard/blacklist', { iban, reason: 'again' }))).toEqual([]);
    const [entry] = await database.db.select().from(blacklist).where(eq(blacklist.iban, iban));
    expect(await entriesOf(() => form(operator, `/dashboard/blacklist/${entry!.id}/remove`, { reason: 'paid' }))).toMatchObject([
      { action: 'blacklist.removed', targetKind: 'blacklist_entry', targetId: String(entry!.id), before: { active: true }, after: { active: false }, reason: 'paid' },
    ]);

    const deceased = testIban();
    const { entry: compliance } = await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban: deceased, reason: 'chargeback MD07', reasonCode: 'MD07', source: 'chargeback' });
    expect((await form(operator, `/dashboard/blacklist/${compliance.id}/remove`, { reason: 'mistake' })).status).toBe(422);
    expect((await form(operator, `/dashboard/blacklist/${compliance.id}/lift`, { reason: 'mistake' })).status).toBe(403);
    expect(await entriesOf(() => form(admin, `/dashboard/blacklist/${compliance.id}/lift`, { reason: 'compliance: death certificate was for another person' }))).toMatchObject([
      { action: 'blacklist.lifted', actorName: 'admin@tether.test', before: { iban: maskIban(deceased), reasonCode: 'MD07' }, reason: 'compliance: death certificate was for another person' },
    ]);
  });

  it('operator management: create, role change, disable (ending the session at once), enable; password change', async () => {
    const created = await entriesOf(() => form(admin, '/dashboard/operators', { email: 'new@tether.test', role: 'viewer', password: 'a long enough password' }));
    expect(created).toMatchObject([{ action: 'operator.created', actorName: 'admin@tether.test', after: { email: 'new@tether.test', role: 'viewer' } }]);
    const id = Number(created[0]!.targetId);
    const session = await logIn(node.url, { email: 'new@tether.test', password: 'a long enough password' });
    expect((await session.fetch('/dashboard/blacklist')).status).toBe(200);

    expect(await entriesOf(() => form(admin, `/dashboard/operators/${id}/role`, { role: 'operator' }))).toMatchObject([
      { action: 'operator.role_changed', before: { role: 'viewer' }, after: { role: 'operator' } },
    ]);
    expect(await entriesOf(() => form(admin, `/dashboard/operators/${id}/disable`, {}))).toMatchObject([
      { action: 'operator.disabled', before: { disabled: false }, after: { disabled: true, sessionsEnded: 1 } },
    ]);
    expect((await session.fetch('/uploads')).status).toBe(401);
    expect(await entriesOf(() => form(admin, `/dashboard/operators/${id}/disable`, {}))).toEqual([]);
    expect(await entriesOf(() => form(admin, `/dashboard/operators/${id}/enable`, {}))).toMatchObject([{ action: 'operator.enabled', after: { disabled: false } }]);
    expect(await entriesOf(() => changePassword(database.db, 'new@tether.test', 'another long password', TEST_ACTOR))).toMatchObject([
      { action: 'operator.password_changed', actorKind: 'system', targetId: String(id) },
    ]);
    expect((await form(operator, `/dashboard/operators/${id}/disable`, {})).status).toBe(403);
  });

  it('keeps the last enabled admin: neither disabled nor demoted, and nothing is written', async () => {
    const refused = await entriesOf(async () => {
      const disable = await form(admin, `/dashboard/operators/${admin.id}/disable`, {});
      expect(disable.status).toBe(422);
      expect(await disable.text()).toContain('it is the last enabled admin');
      expect((await form(admin, `/dashboard/operators/${admin.id}/role`, { role: 'operator' })).status).toBe(422);
    });
    expect(refused).toEqual([]);
    expect((await admin.fetch('/dashboard/operators')).status).toBe(200);
  });
});

describe('the log itself', () => {
  it('refuses UPDATE and DELETE of an entry, whoever asks', async () => {
    await expect(database.db.execute(sql`update audit_log set action = 'nothing'`)).rejects.toMatchObject({ cause: { message: 'audit_log is append-only: UPDATE refused' } });
    await expect(database.db.execute(sql`delete from audit_log`)).rejects.toMatchObject({ cause: { message: 'audit_log is append-only: DELETE refused' } });
    expect((await database.db.select().from(auditLog)).length).toBeGreaterThan(5);
  });

  it('is filtered on the audit page and exported as formula-safe CSV with the same filters', async () => {
    await form(operator, '/dashboard/blacklist', { iban: testIban(), reason: '=HYPERLINK("http://evil")' });
    const pageHtml = await (await operator.fetch('/dashboard/audit?action=blacklist.added&actor=operator%40')).text();
    expect(pageHtml).toContain('blacklist.added');
    expect(pageHtml).not.toContain('operator.logged_in</code>');
    const csv = await operator.fetch('/dashboard/audit/export.csv?action=blacklist.added');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await csv.text()).replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines[0]).toBe('"id","at","actor_kind","actor","action","target_kind","target_id","before","after","reason"');
    expect(lines.slice(1).every((line) => line.includes('"blacklist.added"'))).toBe(true);
    // Newest first.
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});
