/**
 * The reports page in a real browser (Debian's Chromium through playwright-core): the chargeback
 * ratio against its warning, the figures by month and, one click away, by upload, and the
 * attempts CSV downloaded from a line; no Content-Security-Policy rule broken.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingAttempts, debtors, uploads } from '../../src/db/schema';
import { launchChromium } from '../support/browser';
import { createMigratedDatabase, type MigratedTestDatabase } from '../support/database';
import { startDashboardNode, type DashboardNode } from '../support/dashboard';
import { hex, testIban } from '../support/events';
import { createTestOperator, type TestOperator } from '../support/operators';

describe('the reports page in a browser', () => {
  let database: MigratedTestDatabase;
  let node: DashboardNode;
  let browser: Browser;
  let page: Page;
  let operator: TestOperator;
  let uploadId: string;
  const policyViolations: string[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    const [upload] = await database.db.insert(uploads).values({ fileKey: `k-${hex(4)}`, originalName: 'november.csv' }).returning({ id: uploads.id });
    uploadId = upload!.id;
    const [debtor] = await database.db.insert(debtors).values({ iban: testIban(), name: 'Erika Mustermann', nameOriginal: 'Erika Mustermann' }).returning({ id: debtors.id });
    const sentAt = new Date(Date.now() - 5 * 86_400_000);
    const chargebackAt = new Date(Date.now() - 86_400_000).toISOString();
    await database.db.insert(billingAttempts).values(
      Array.from({ length: 40 }, (_, index) => ({
        transactionId: `tth_${hex(8)}`,
        debtorId: debtor!.id,
        uploadId,
        amountCents: 1000 + index,
        sentAt,
        status: index < 2 ? ('chargebacked' as const) : index < 6 ? ('declined' as const) : ('approved' as const),
        errorCode: index < 2 ? 'MD06' : index < 6 ? 'AM04' : undefined,
        history: index < 2 ? [{ at: chargebackAt, source: 'emp_event', from: 'approved', to: 'chargebacked' }] : [],
      })),
    );
    [node, browser, operator] = await Promise.all([startDashboardNode(database.url), launchChromium(), createTestOperator(database.db)]);
    const context = await browser.newContext({ baseURL: node.url, acceptDownloads: true });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
    });
    await page.goto('/login');
    await page.getByLabel('Email').fill(operator.email);
    await page.getByLabel('Password').fill(operator.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/dashboard$/);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await node?.close();
    await database?.destroy();
  });

  it('shows the chargeback ratio above its warning, with its chart', async () => {
    await page.getByRole('link', { name: 'Reports' }).click();
    const panel = page.locator('#chargeback-ratio [data-currency=EUR]');
    // 2 chargebacks of 40 debits: 5 %, over the 0.5 % default.
    expect(await panel.locator('[data-ratio=count]').textContent()).toBe('5.00 %');
    expect(await panel.locator('.badge').textContent()).toBe('above warning');
    expect(await panel.locator('polyline[data-series=count]').getAttribute('points')).toMatch(/\d/);
  });

  it('shows the month, then its uploads, and downloads a line’s attempts', async () => {
    const month = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 7);
    const line = page.locator(`#figures tr[data-line="${month}"]`);
    expect(await line.locator('[data-class=declined]').textContent()).toContain('4');
    await line.locator('[data-class=charged_back] summary').click();
    expect(await line.locator('[data-class=charged_back] .reasons').textContent()).toContain('MD06 2');

    await page.getByLabel('figures by').selectOption('upload');
    await page.getByLabel('month (for run and upload)').fill(month);
    await page.getByRole('button', { name: 'Show' }).click();
    const uploadLine = page.locator(`#figures tr[data-line="${uploadId}"]`);
    await uploadLine.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), uploadLine.getByRole('link', { name: 'attempts CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(41);
    expect(download.suggestedFilename()).toBe(`tether-attempts-${month}-upload-${uploadId}.csv`);
  });

  it('broke no rule of the Content-Security-Policy', () => {
    expect(policyViolations).toEqual([]);
  });
});
