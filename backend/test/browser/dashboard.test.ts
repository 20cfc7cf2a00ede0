/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core), against a whole
 * stack in this process: refused without a session, log in, upload a CSV (mapping a column the
 * dashboard does not recognise) and watch it upload and process, download its error report,
 * blacklist and lift an IBAN, send a dead-lettered EMP event again, and start, pause and
 * resume a billing run against the Genesis simulator.
 */
import { readFile } from 'node:fs/promises';
import { and, eq, isNull } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/http/listen';
import { billingAttempts, blacklist, debtors } from '../../src/db/schema';
import { EMP_EVENTS_PATH } from '../../src/events/delivery-route';
import { startBackend, waitFor, type TestBackend } from '../support/backend';
import { seedUpload } from '../support/billing';
import { launchChromium } from '../support/browser';
import { startDashboardStack, type DashboardStack } from '../support/dashboard-stack';
import { createAttempt, hex, saleNotification, testIban } from '../support/events';
import { germanIban } from '../support/uploads';

const ROWS = 1500;

function debtorFile(): string {
  const lines = ['Kontoinhaber,Konto,Betrag,Mandatsreferenz'];
  for (let row = 1; row <= ROWS; row++) lines.push(`Debtor ${row},${germanIban(500_000 + row)},${(row % 90) + 10}.50,M-${row}`);
  lines.push('Broken Iban,DE00123,12.00,M-X', 'Negative Amount,' + germanIban(900_001) + ',-5.00,M-Y');
  return `${lines.join('\n')}\n`;
}

describe('the dashboard in a browser', () => {
  let stack: DashboardStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let secondNode: TestBackend | undefined;
  const policyViolations: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startDashboardStack({ UPLOAD_BATCH_SIZE: '100', EMP_RATE_LIMIT: '4', BILLING_BATCH_SIZE: '4' }), launchChromium()]);
    context = await browser.newContext({ baseURL: stack.url, acceptDownloads: true });
    page = await context.newPage();
    // Chromium reports what the Content-Security-Policy blocked on the console.
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
    });
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await secondNode?.close();
    await stack?.close();
  });

  it('refuses a request without a session: pages go to the log-in, the API answers 401', async () => {
    await page.goto('/dashboard/blacklist');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/dashboard/blacklist');
    const api = await page.request.get('/uploads');
    expect(api.status()).toBe(401);
    expect(await api.json()).toEqual({ error: 'not logged in' });
  });

  it('logs in and shows the status of every dependency', async () => {
    await page.goto('/login');
    await page.getByLabel('Email').fill(stack.operator.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong email or password');

    await page.getByLabel('Password').fill(stack.operator.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/dashboard');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Status');
    for (const dependency of ['db', 'redis', 'qstash', 'storage']) {
      expect(await page.locator(`tr[data-dependency="${dependency}"] .badge`).textContent(), dependency).toBe('ok');
    }
    expect(await page.locator('svg.chart').count()).toBe(1);
    expect(await page.locator('header .who').textContent()).toContain(stack.operator.email);
  });

  it('uploads a CSV with a mapped column and shows it uploading, processing and done', async () => {
    await page.goto('/dashboard/uploads/new');
    await page.setInputFiles('input[type=file]', { name: 'march-debtors.csv', mimeType: 'text/csv', buffer: Buffer.from(debtorFile()) });
    // Recognised headers are preselected; "Konto" is not a header Tether knows, so the operator maps it.
    await expect.poll(() => page.locator('select[name="map.name"]').inputValue()).toBe('Kontoinhaber');
    expect(await page.locator('select[name="map.amount"]').inputValue()).toBe('Betrag');
    expect(await page.locator('select[name="map.mandate_reference"]').inputValue()).toBe('Mandatsreferenz');
    expect(await page.locator('select[name="map.iban"]').inputValue()).toBe('');
    await page.locator('select[name="map.iban"]').selectOption('Konto');

    // Every phase and bar width the page shows, as the operator would see them go by (the test
    // has no DOM types: the observer is page script).
    await page.evaluate(`
      window.seen = [];
      const phase = document.getElementById('upload-phase');
      const bar = document.getElementById('upload-bar');
      new MutationObserver(() => window.seen.push(phase.textContent + ' @ ' + bar.style.width))
        .observe(phase.parentElement, { subtree: true, childList: true, characterData: true, attributes: true });
    `);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#upload-phase', { hasText: 'Processed.' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-counts]').getAttribute('data-counts')).toBe(`${ROWS + 2}/${ROWS}/2`);
    expect(await page.locator('#upload-bar').getAttribute('style')).toBe('width: 100%;');

    const seen = (await page.evaluate('window.seen')) as string[];
    expect(seen.some((entry) => entry.startsWith('Uploading'))).toBe(true);
    const processing = seen.filter((entry) => entry.startsWith('Processing'));
    expect(processing.length).toBeGreaterThan(0);

    const [debtor] = await stack.environment.database.db.select().from(debtors).where(eq(debtors.mandateReference, 'M-7'));
    expect(debtor?.iban).toBe(germanIban(500_007));
  });

  it('downloads the error report of the upload', async () => {
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download the error report' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('march-debtors-errors.csv');
    const report = await readFile((await download.path())!, 'utf8');
    // The header row is row 1: the two bad rows are the file's last two.
    expect(report).toContain(`"${ROWS + 2}","Konto","DE00123","iban_wrong_length"`);
    expect(report).toContain(`"${ROWS + 3}","Betrag","'-5.00","amount_not_positive"`);
    expect(report.trim().split('\n')).toHaveLength(3);

    await page.getByRole('link', { name: 'Open the upload' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('march-debtors.csv');
    expect(await page.locator('[data-count="rejected"]').textContent()).toBe('2');
  });

  it('blacklists an IBAN with a reason, shows it masked with who and when, and lifts it again', async () => {
    const iban = testIban();
    await page.goto('/dashboard/blacklist');
    await page.getByLabel('IBAN', { exact: true }).fill(iban.replace(/(.{4})/g, '$1 ').trim());
    await page.getByLabel('Reason', { exact: true }).fill('debtor asked us to stop');
    await page.getByRole('button', { name: 'Blacklist' }).click();
    const masked = `${iban.slice(0, 4)}${'*'.repeat(iban.length - 8)}${iban.slice(-4)}`;
    await page.locator('.notice.ok', { hasText: `${masked} is blacklisted.` }).waitFor();
    const row = page.locator('tr', { hasText: masked });
    expect(await row.textContent()).toContain(stack.operator.email);
    expect(await page.content()).not.toContain(iban);
    // The form empties for the next IBAN (dashboard.js, not an inline handler).
    expect(await page.getByLabel('IBAN', { exact: true }).inputValue()).toBe('');

    const [entry] = await stack.environment.database.db.select().from(blacklist).where(and(eq(blacklist.iban, iban), isNull(blacklist.removedAt)));
    expect(entry).toMatchObject({ source: 'operator', reason: 'debtor asked us to stop', createdBy: stack.operator.email });

    await row.getByLabel('Reason for removal').fill('mandate renewed');
    await row.getByRole('button', { name: 'Remove' }).click();
    await page.locator('.notice.ok', { hasText: `${masked} is no longer blacklisted.` }).waitFor();
    const [removed] = await stack.environment.database.db.select().from(blacklist).where(eq(blacklist.id, entry!.id));
    expect(removed).toMatchObject({ removedBy: stack.operator.email, removalReason: 'mandate renewed' });
  });

  it('sends a dead-lettered EMP event again, and it is applied', async () => {
    const { database } = stack.environment;
    // A node that is down when QStash delivers: QStash gives up and dead-letters the event.
    const downNode = await listen(() => new Response());
    await downNode.close();
    // A sale EMP approved, whose notification the node confirms with EMP before applying it.
    const transactionId = `tth_${hex(8)}`;
    const sale = await stack.services.genesis.sddSale({
      transactionId,
      usage: 'dashboard test',
      amount: 1990,
      currency: 'EUR',
      iban: 'DE89370400440532013000',
      billingAddress: { firstName: 'Erika', lastName: 'Mustermann', country: 'DE' },
    });
    const attempt = await createAttempt(database.db, { transactionId, empUniqueId: sale.uniqueId });
    const event = saleNotification(attempt, sale.uniqueId!, 'approved');
    await stack.qstash.client.publishJSON({
      url: `${downNode.url}${EMP_EVENTS_PATH}`,
      retries: 0,
      body: { version: 1, dedupKey: event.dedupKey, receivedAt: event.receivedAt.toISOString(), traceId: hex(8), fields: event.fields },
    });
    await waitFor(async () => (await stack.qstash.client.dlq.listMessages()).messages.length > 0);

    // The node is back (any node serves any delivery); the operator sends the event again.
    secondNode = await startBackend(database.url, stack.qstash.server.url, { port: downNode.port, environment: stack.empEnvironment });
    await page.goto('/dashboard/events/dead-letters');
    const row = page.locator('tr', { hasText: event.dedupKey });
    await row.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Send selected again' }).click();
    await page.locator('#dlq-result .notice.ok', { hasText: '1 sent again' }).waitFor();

    await waitFor(async () => (await database.db.select().from(billingAttempts).where(eq(billingAttempts.id, attempt.id)))[0]!.status === 'approved');
    await page.goto(`/dashboard/attempts/${attempt.id}`);
    expect(await page.locator('main .badge').first().textContent()).toBe('approved');
    expect(await page.locator('.timeline').textContent()).toContain('emp_event');
    await page.goto('/dashboard/events/dead-letters');
    expect(await page.locator('tr', { hasText: event.dedupKey }).count()).toBe(0);
  });

  it('starts a billing run, pauses and resumes it, and watches it complete', async () => {
    const { uploadId, attempts } = await seedUpload(stack.environment.database, 12);
    await page.goto('/dashboard/runs');
    await page.getByLabel('What to bill').selectOption(uploadId);
    await page.getByRole('button', { name: 'Start billing' }).click();
    await page.waitForURL(/\/dashboard\/runs\/[0-9a-f-]{36}$/);
    const runId = page.url().split('/').at(-1)!;

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#run-panel', { hasText: `paused by ${stack.operator.email}` }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#run-panel .badge', { hasText: 'running' }).first().waitFor();

    // 12 sales at 4 a second: the panel refreshes itself until the run is done.
    await page.locator('#run-panel .badge', { hasText: 'completed' }).first().waitFor({ timeout: 60_000 });
    expect(await page.locator('#run-panel [role=progressbar]').getAttribute('aria-valuenow')).toBe('100');
    expect(await page.locator('#run-panel').textContent()).toContain('closed');
    const sent = await stack.environment.database.db.select().from(billingAttempts).where(eq(billingAttempts.billingRunId, runId));
    expect(sent).toHaveLength(attempts.length);
    expect(sent.every((attempt) => attempt.sentAt !== null)).toBe(true);

    await page.goto('/dashboard/runs');
    expect(await page.locator('tr', { hasText: runId.slice(0, 8) }).textContent()).toContain(stack.operator.email);
  });

  it('shows the audit log with who blacklisted what, filtered, and exports it as CSV', async () => {
    await page.goto('/dashboard/audit');
    await page.getByLabel('Action').selectOption('blacklist.removed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=blacklist.removed/);
    const rows = page.locator('#audit-entries tr[data-audit]');
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await rows.first().textContent()).toContain(stack.operator.email);
    expect(await rows.first().textContent()).toContain('mandate renewed');
    expect(await page.locator('#audit-entries').textContent()).not.toContain('blacklist.added');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toContain('"blacklist.removed"');
    expect(csv).not.toContain('"blacklist.added"');
  });

  it('lets an admin add an operator and disable them, whose open session ends at once', async () => {
    await page.goto('/dashboard/operators');
    await page.getByLabel('Email').fill('viewer@tether.test');
    await page.locator('form[action="/dashboard/operators"] select[name="role"]').selectOption('viewer');
    await page.getByLabel('Initial password').fill('a long enough password');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.locator('.notice.ok', { hasText: 'viewer@tether.test can log in now, as viewer.' }).waitFor();

    const viewerContext = await browser.newContext({ baseURL: stack.url });
    const viewerPage = await viewerContext.newPage();
    await viewerPage.goto('/login');
    await viewerPage.getByLabel('Email').fill('viewer@tether.test');
    await viewerPage.getByLabel('Password').fill('a long enough password');
    await viewerPage.getByRole('button', { name: 'Log in' }).click();
    await viewerPage.goto('/dashboard/blacklist');
    // A viewer reads the list but is offered neither the form nor the operators' page.
    expect(await viewerPage.getByRole('button', { name: 'Blacklist' }).isVisible()).toBe(false);
    expect(await viewerPage.getByRole('link', { name: 'Operators' }).count()).toBe(0);

    await page.locator('tr', { hasText: 'viewer@tether.test' }).getByRole('button', { name: 'Disable' }).click();
    await page.locator('.notice.ok', { hasText: 'viewer@tether.test is disabled; their sessions have ended.' }).waitFor();
    await viewerPage.goto('/dashboard/blacklist');
    expect(new URL(viewerPage.url()).pathname).toBe('/login');
    await viewerContext.close();
  });

  it('broke no rule of the Content-Security-Policy on any page above', () => {
    expect(policyViolations).toEqual([]);
  });
});
