/**
 * The dashboard's pages over plain HTTP, with a logged-in session: IBANs masked everywhere,
 * debtor search by name or whole IBAN, attempts filtered with their history, the CSV column
 * preview, refusals on the blacklist, and replaying events that were waiting for their attempt.
 */
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToBlacklist } from '../src/blacklist/blacklist';
import { carriesWholeIban } from '../src/http/iban-in-url';
import { billingAttempts, debtors, webhookEvents } from '../src/db/schema';
import { eventContext } from '../src/events/context';
import { processEvent } from '../src/events/process';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { createAttempt, hex, readAttempt, readEvent, saleNotification, TEST_PERSONAL_DATA_KEY, testIban } from './support/events';
import { createTestOperator, logIn, type SessionClient } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;
let session: SessionClient;

beforeAll(async () => {
  database = await createMigratedDatabase();
  node = await startDashboardNode(database.url);
  session = await logIn(node.url, await createTestOperator(database.db));
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

const masked = (iban: string) => `${iban.slice(0, 4)}${'*'.repeat(iban.length - 8)}${iban.slice(-4)}`;

async function html(path: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await session.fetch(path, init);
  return { status: response.status, body: await response.text() };
}

/** A plain form post, as a browser sends the search forms (the CSRF token in its field). */
function search(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': '' },
    body: new URLSearchParams({ _csrf: session.csrfToken, ...fields }),
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every URL a page holds (links, form actions, htmx requests, sources): none may carry an IBAN. */
function expectNoIbanInUrls(page: string) {
  const urls = [...page.matchAll(/\s(?:href|action|src|hx-get|hx-post)="([^"]*)"/g)].map((match) => match[1]!);
  expect(urls.length).toBeGreaterThan(0);
  expect(urls.filter(carriesWholeIban)).toEqual([]);
}

function form(fields: Record<string, string | string[]>): RequestInit {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) body.append(name, item);
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' }, body };
}

describe('debtors and attempts', () => {
  it('finds debtors by name and by whole IBAN through a form post, and shows the IBAN masked', async () => {
    const attempt = await createAttempt(database.db);
    const byName = await html('/dashboard/debtors/search', search({ q: 'mustermann' }));
    expect(byName.status).toBe(200);
    expect(byName.body).toContain(masked(attempt.iban));
    expect(byName.body).not.toContain(attempt.iban);

    const spaced = attempt.iban.replace(/(.{4})/g, '$1 ').toLowerCase();
    const byIban = await html('/dashboard/debtors/search', search({ q: spaced }));
    expect(byIban.body).toContain(masked(attempt.iban));
    expect((await html('/dashboard/debtors/search', search({ q: testIban() }))).body).toContain('No debtors match');
    // The search form posts; nothing on the page links to a search.
    expect(byIban.body).toMatch(/<form class="filters" method="post" action="\/dashboard\/debtors\/search">/);
    expectNoIbanInUrls(byIban.body);
  });

  it('pages through an IBAN search with a form post, never a URL carrying the IBAN', async () => {
    const iban = testIban();
    await database.db.insert(debtors).values(Array.from({ length: 51 }, (_, index) => ({ iban, name: `Shared ${index}`, nameOriginal: `Shared ${index}` })));
    const first = await html('/dashboard/debtors/search', search({ q: iban }));
    expect(first.body.match(new RegExp(escapeRegExp(masked(iban)), 'g'))).toHaveLength(50);
    expectNoIbanInUrls(first.body);
    const pager = /<form class="pager" method="post" action="\/dashboard\/debtors\/search">(.*?)<\/form>/s.exec(first.body)?.[1];
    expect(pager).toBeDefined();
    const fields = Object.fromEntries([...pager!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    expect(fields).toMatchObject({ q: iban, before: expect.stringMatching(/^\d+$/) });
    const second = await html('/dashboard/debtors/search', search({ q: fields.q!, before: fields.before! }));
    expect(second.body.match(new RegExp(escapeRegExp(masked(iban)), 'g'))).toHaveLength(1);
  });

  it('filters attempts by status and shows one with its history and events, names and IBANs masked in them', async () => {
    const attempt = await createAttempt(database.db);
    const { eventId } = await processEvent(eventContext(node.services), saleNotification(attempt, hex(16), 'approved'));
    expect((await readAttempt(database.db, attempt.id)).status).toBe('approved');

    const approved = await html('/dashboard/attempts?status=approved');
    expect(approved.body).toContain(`/dashboard/attempts/${attempt.id}"`);
    expect((await html('/dashboard/attempts?status=declined')).body).not.toContain(`/dashboard/attempts/${attempt.id}"`);
    const today = new Date().toISOString().slice(0, 10);
    expect((await html(`/dashboard/attempts?from=${today}&to=${today}`)).body).toContain(`/dashboard/attempts/${attempt.id}"`);
    expect((await html('/dashboard/attempts?to=2000-01-01')).body).not.toContain(`/dashboard/attempts/${attempt.id}"`);
    // Keyset paging: a later page shows only older (lower) ids.
    expect((await html(`/dashboard/attempts?before=${attempt.id + 1}`)).body).toContain(`/dashboard/attempts/${attempt.id}"`);
    expect((await html(`/dashboard/attempts?before=${attempt.id}`)).body).not.toContain(`/dashboard/attempts/${attempt.id}"`);

    const detail = await html(`/dashboard/attempts/${attempt.id}`);
    expect(detail.body).toContain('emp_event');
    expect(detail.body).toContain(`/dashboard/events/${eventId}"`);
    expect(detail.body).not.toContain(attempt.iban);

    const event = await html(`/dashboard/events/${eventId}`);
    expect(event.body).toContain('DE89**************3000');
    expect(event.body).not.toMatch(/DE89370400440532013000|Mustermann/);
    expect((await html('/dashboard/attempts/999999999')).status).toBe(404);
  });
});

describe('events', () => {
  it('replays events that waited for their attempt, one or many, and leaves final ones alone', async () => {
    const context = eventContext(node.services);
    const first = `tth_${hex(8)}`;
    const second = `tth_${hex(8)}`;
    const pendingA = await processEvent(context, saleNotification({ transactionId: first }, hex(16), 'approved'));
    const pendingB = await processEvent(context, saleNotification({ transactionId: second }, hex(16), 'approved'));
    expect(pendingA.outcome).toBe('pending_match');

    const list = await html('/dashboard/events?outcome=pending_match');
    expect(list.body).toContain(`name="id" value="${pendingA.eventId}"`);

    // The attempts become known (billing created them after the notifications raced ahead).
    for (const transactionId of [first, second]) {
      const attempt = await createAttempt(database.db, { status: 'sending' });
      await database.db.update(billingAttempts).set({ transactionId }).where(eq(billingAttempts.id, attempt.id));
    }
    const replayed = await html('/dashboard/events/replay', form({ id: [String(pendingA.eventId), String(pendingB.eventId)] }));
    expect(replayed.status).toBe(200);
    expect(replayed.body).toContain(`Event ${pendingA.eventId} replayed: applied.`);
    expect(replayed.body).toContain(`Event ${pendingB.eventId} replayed: applied.`);
    expect((await readEvent(database.db, pendingA.eventId)).outcome).toBe('applied');

    const again = await html('/dashboard/events/replay', form({ id: String(pendingA.eventId) }));
    expect(again.body).toContain(`Event ${pendingA.eventId} is applied: nothing to do.`);
    expect((await html('/dashboard/events/replay', form({}))).status).toBe(422);
    expect((await html('/dashboard/events/replay', form({ id: '999999999' }))).body).toContain('no such event');
  });
});

describe('rejected notifications', () => {
  it('are counted by reason at the top of the events page, with a link to them', async () => {
    // As the confirmer records them (confirmation/confirm.ts): outcome rejected, error "<reason>: <detail>".
    await database.db.insert(webhookEvents).values(
      ['names_another_transaction', 'names_another_transaction', 'unknown_transaction'].map((reason) => ({
        dedupKey: `emp:api:${hex(16)}`,
        payload: {},
        receivedAt: new Date(),
        outcome: 'rejected',
        error: `${reason}: test`,
        source: 'notification',
      })),
    );
    const list = await html('/dashboard/events');
    expect(list.body).toMatch(/3 notifications rejected in the last 24 hours \(\s*names_another_transaction 2, unknown_transaction 1\)/);
    expect(list.body).toContain('href="/dashboard/events?outcome=rejected"');
  });
});

describe('the blacklist', () => {
  it('filters by whole IBAN through a form post, and ignores an IBAN in the URL', async () => {
    const iban = testIban();
    const other = testIban();
    await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'asked to stop', source: 'operator', createdBy: 'ops@tether.test' });
    await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban: other, reason: 'asked to stop', source: 'operator', createdBy: 'ops@tether.test' });
    const found = await html('/dashboard/blacklist/search', search({ show: 'active', q: iban.replace(/(.{4})/g, '$1 ') }));
    expect(found.status).toBe(200);
    expect(found.body).toContain(masked(iban));
    expect(found.body).not.toContain(masked(other));
    expect(found.body).not.toContain(iban);
    expectNoIbanInUrls(found.body);
    // A crafted URL filters nothing: searches are never read from a URL.
    const crafted = await html(`/dashboard/blacklist?q=${iban}`);
    expect(crafted.body).toContain(masked(other));
  });

  it('refuses an invalid IBAN, a missing reason, and lifting an entry only compliance may lift', async () => {
    const invalid = await html('/dashboard/blacklist', form({ iban: 'DE00 1234', reason: 'because' }));
    expect(invalid.status).toBe(422);
    expect(invalid.body).toContain('Not blacklisted');
    expect((await html('/dashboard/blacklist', form({ iban: testIban(), reason: '' }))).status).toBe(422);

    const iban = testIban();
    const { entry } = await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'debtor deceased', reasonCode: 'MD07', source: 'chargeback' });
    const refused = await html(`/dashboard/blacklist/${entry.id}/remove`, form({ reason: 'try anyway' }));
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('only compliance (an admin) can lift a MD07 entry');
    const page = await html('/dashboard/blacklist');
    expect(page.body).toContain(masked(iban));
    expect(page.body).toContain('chargeback (automatic)');
    expect(page.body).not.toContain(iban);
  });
});

describe('the upload form', () => {
  const preview = (name: string, body: string | Buffer) =>
    html(`/dashboard/uploads/columns?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });

  it('preselects the recognised columns of a CSV, in its encoding and dialect', async () => {
    const german = Buffer.from('Kontoinhaber;IBAN;Betrag;Straße\nJörg Müller;DE89370400440532013000;12,50;Hauptstraße 1\n', 'latin1');
    const { status, body } = await preview('debtors.csv', german);
    expect(status).toBe(200);
    expect(body).toContain('4 columns, windows-1252, semicolon-separated');
    expect(body).toMatch(/name="map.iban" data-field="iban">.*?<option value="IBAN" selected=""/s);
    expect(body).toMatch(/name="map.name" data-field="name">.*?<option value="Kontoinhaber" selected=""/s);
    expect(body).toMatch(/name="map.street" data-field="street">.*?<option value="Straße" selected=""/s);
    expect(body).not.toMatch(/name="map.email" data-field="email">(?:(?!<\/select>).)*selected/s);
  });

  it('asks for header names for an XLSX, and refuses other files', async () => {
    expect((await preview('debtors.xlsx', '')).body).toContain('name="map.iban"');
    expect((await preview('debtors.pdf', 'x')).status).toBe(422);
    expect((await preview('binary.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00]))).body).toContain('not text');
  });
});

describe('URLs', () => {
  it('never carry an IBAN into the log-in redirect, nor after it', async () => {
    const iban = testIban();
    for (const query of [`q=${iban}`, `q=${encodeURIComponent(iban.replace(/(.{4})/g, '$1 ').toLowerCase())}`]) {
      const response = await fetch(`${node.url}/dashboard/debtors?${query}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/login?next=%2Fdashboard%2Fdebtors');
    }
    // A query without an IBAN is kept.
    const filtered = await fetch(`${node.url}/dashboard/attempts?status=failed`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(filtered.headers.get('location')).toBe('/login?next=%2Fdashboard%2Fattempts%3Fstatus%3Dfailed');
    // Nor does the log-in page's form, or its redirect, when handed one.
    const form = await (await fetch(`${node.url}/login?next=${encodeURIComponent(`/dashboard/blacklist?q=${iban}`)}`)).text();
    expect(form).not.toContain(iban);
  });
});
