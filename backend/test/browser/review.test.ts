/**
 * The pages of issue 17's review, recovery and personal-data work in a real browser (Debian's
 * Chromium through playwright-core) against a whole stack in this process: dismiss a chargeback
 * from the review queue, process a failed upload again with a mapping chosen from its stored
 * header row (QStash delivers the processing), change the retention settings and erase a debtor
 * as an admin.
 */
import { eq, sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debtors, operators } from '../../src/db/schema';
import { processUpload } from '../../src/uploads/process-upload';
import { launchChromium } from '../support/browser';
import { startDashboardStack, type DashboardStack } from '../support/dashboard-stack';
import { createAttempt } from '../support/events';
import { germanIban, storeUpload } from '../support/uploads';

describe('review, recovery and personal data in a browser', () => {
  let stack: DashboardStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const policyViolations: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startDashboardStack(), launchChromium()]);
    const { db } = stack.environment.database;
    await db.update(operators).set({ role: 'admin' }).where(eq(operators.email, stack.operator.email));
    context = await browser.newContext({ baseURL: stack.url });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
    });
    await page.goto('/login');
    await page.getByLabel('Email').fill(stack.operator.email);
    await page.getByLabel('Password').fill(stack.operator.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/dashboard');
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  it('dismisses a chargeback that needs review, with a reason', async () => {
    const { db } = stack.environment.database;
    const attempt = await createAttempt(db, { status: 'chargebacked' });
    await db.execute(sql`update billing_attempts set error_code = 'MD01' where id = ${attempt.id}`);
    await page.goto('/dashboard/review');
    const row = page.locator(`tr[data-item="chargebacks/${attempt.id}"]`);
    await row.getByPlaceholder('why dismiss').fill('debtor confirmed the mandate by phone');
    await row.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain(`Item ${attempt.id} dismissed`);
    expect(await page.locator(`tr[data-item="chargebacks/${attempt.id}"]`).count()).toBe(0);
  });

  it('processes a failed upload again with the columns chosen from its stored header row', async () => {
    const csv = ['Konto,Inhaber,Summe', `${germanIban(610_001)},Ada Lovelace,12.50`, `${germanIban(610_002)},Alan Turing,7.00`].join('\n');
    const stored = await storeUpload(stack.environment, 'unmapped.csv', csv);
    expect((await processUpload({ ...stack.environment.context(), personalDataKey: stack.services.config.personalData.key }, stored.id)).outcome).toBe('failed');
    await page.goto(`/dashboard/uploads/${stored.id}`);
    await page.locator('#recovery select[name="map.iban"]').selectOption('Konto');
    await page.locator('#recovery select[name="map.name"]').selectOption('Inhaber');
    await page.locator('#recovery select[name="map.amount"]').selectOption('Summe');
    await page.getByRole('button', { name: 'Process again' }).click();
    await expect.poll(() => page.locator('#upload-progress .badge').first().textContent(), { timeout: 30_000 }).toBe('completed');
    expect(await page.locator('[data-count="accepted"]').textContent()).toBe('2');
  });

  it('changes the retention settings and erases a debtor, as an admin', async () => {
    const { db } = stack.environment.database;
    const attempt = await createAttempt(db, { status: 'approved' });
    await page.goto('/dashboard/personal-data');
    await page.getByLabel('Raw EMP payloads reduced to their audit fields after (days)').fill('60');
    await page.locator('#retention').getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#retention [role=status]').textContent()).toContain('Saved');

    await page.getByLabel('Debtor id').fill(String(attempt.debtorId));
    await page.getByLabel('Reason (the request)').fill('erasure request, ticket 8812');
    await page.getByLabel('I understand this cannot be undone').check();
    await page.getByRole('button', { name: 'Erase' }).click();
    await expect.poll(() => page.locator('#erasure [role=status]').textContent()).toMatch(/Erased as ERASED-[0-9A-F]{16}/);
    const [erased] = await db.select().from(debtors).where(eq(debtors.id, attempt.debtorId));
    expect(erased!.iban).toMatch(/^ERASED-/);
    expect(erased!.erasedAt).not.toBeNull();
    expect(policyViolations).toEqual([]);
  });
});
