/**
 * Screenshots of the dashboard's main pages for docs/screenshots/, taken with playwright-core
 * and Debian's Chromium on a stack started in this process and seeded like a working day:
 *
 *   npx tsx backend/test/take-screenshots.ts [name …]
 *
 * With names (e.g. `review personal-data upload-recovery`) only those pictures are written; the
 * stack is seeded the same either way.
 *
 * The seed is made through the real paths (an upload through the browser, EMP events through
 * the event pipeline, a billing run started from its page) except the hour of event traffic
 * behind the status chart, which is written straight into webhook_events.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { addToBlacklist } from '../src/blacklist/blacklist';
import { webhookEvents } from '../src/db/schema';
import { EMP_EVENTS_PATH } from '../src/events/delivery-route';
import { eventContext } from '../src/events/context';
import { processEvent } from '../src/events/process';
import { listen } from '../src/http/listen';
import { processUpload } from '../src/uploads/process-upload';
import { waitFor } from './support/backend';
import { seedUpload } from './support/billing';
import { launchChromium } from './support/browser';
import { startDashboardStack } from './support/dashboard-stack';
import { createAttempt, forwarded, hex, saleNotification, testIban } from './support/events';
import { germanIban, storeUpload } from './support/uploads';
import { inlineSheet, storedPart, workbookParts, zipOf } from './support/zip-files';

const OUT = new URL('../../docs/screenshots/', import.meta.url);

const ONLY = new Set(process.argv.slice(2));

/** Long lists are cut at the window, as an operator first sees them. */
async function shoot(page: Page, name: string, options: { fullPage?: boolean } = { fullPage: true }) {
  if (ONLY.size > 0 && !ONLY.has(name)) return;
  await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: options.fullPage });
  console.log(`docs/screenshots/${name}.png`);
}

function debtorFile(): Buffer {
  const names = ['Erika Mustermann', 'Jörg Schäfer', 'Anna Nowak', 'Luca Rossi', 'Marie Dubois', 'Sven Andersson'];
  const lines = ['Kontoinhaber;IBAN;Betrag;Mandatsreferenz;E-Mail'];
  for (let row = 1; row <= 2400; row++) {
    lines.push(`${names[row % names.length]} ${row};${germanIban(700_000 + row)};${(row % 70) + 9},90;MND-${String(row).padStart(6, '0')};debtor${row}@example.org`);
  }
  lines.push('Falsche IBAN;DE12 3456;19,90;MND-X;x@example.org', 'Ohne Betrag;' + germanIban(799_999) + ';;MND-Y;y@example.org');
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

/**
 * Six months of debits for the reports page, written straight into billing_attempts: mostly
 * approved, declines and chargebacks with their reason codes, a chargeback rate drifting up.
 */
async function seedSixMonthsOfCollections(stack: Awaited<ReturnType<typeof startDashboardStack>>) {
  await stack.environment.database.db.execute(sql`
    with debtor as (
      insert into debtors (iban, name, name_original) values ('DE89370400440532013000', 'Erika Mustermann', 'Erika Mustermann') returning id
    )
    insert into billing_attempts (transaction_id, debtor_id, amount_cents, status, error_code, sent_at, history)
    select 'tth_book_' || n, debtor.id, 990 + (n % 40) * 250, s.status, s.code, s.sent_at,
           case when s.status = 'chargebacked'
                then jsonb_build_array(jsonb_build_object('at', s.sent_at + interval '8 days', 'from', 'approved', 'to', 'chargebacked'))
                else '[]'::jsonb end
      from debtor, generate_series(1, 6000) n
      cross join lateral (
        select now() - make_interval(secs => n * 2592) as sent_at,
               case when n % 100 < 84 then 'approved'
                    when n % 100 < 93 then 'declined'
                    when n % 100 < 93 + (6000 - n) / 1500 then 'chargebacked'
                    when n % 100 < 97 then 'refunded'
                    else 'approved' end as status,
               case when n % 100 between 84 and 92 then (array['AM04', 'AC04', 'MS03'])[1 + n % 3]
                    when n % 100 between 93 and 96 then (array['MD06', 'MD01', 'AM04'])[1 + n % 3] end as code
      ) s`);
}

/** An hour of EMP traffic for the status chart: a few dozen events a minute, committed 20–300 ms after receipt. */
async function seedEventTraffic(stack: Awaited<ReturnType<typeof startDashboardStack>>) {
  const rows = [];
  for (let minute = 59; minute >= 0; minute--) {
    const count = 20 + Math.round(25 * Math.abs(Math.sin(minute / 7))) + (minute % 11 === 0 ? 40 : 0);
    for (let i = 0; i < count; i++) {
      const receivedAt = new Date(Date.now() - minute * 60_000 - Math.random() * 59_000);
      const latency = 20 + Math.random() * (minute % 13 === 0 ? 900 : 250);
      rows.push({
        dedupKey: `seed:${randomBytes(8).toString('hex')}`,
        transactionType: 'sdd_sale',
        empStatus: 'approved',
        payload: { transaction_type: 'sdd_sale', status: 'approved' },
        receivedAt,
        processedAt: new Date(receivedAt.getTime() + latency),
        outcome: i % 17 === 0 ? 'unchanged' : 'applied',
      });
    }
  }
  await stack.environment.database.db.insert(webhookEvents).values(rows);
}

async function main() {
  await mkdir(OUT, { recursive: true });
  const stack = await startDashboardStack({ EMP_RATE_LIMIT: '3', BILLING_BATCH_SIZE: '3' });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const { db } = stack.environment.database;

    await page.goto('/login');
    await page.getByLabel('Email').fill(stack.operator.email);
    await shoot(page, 'login');
    await page.getByLabel('Password').fill(stack.operator.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/dashboard');

    // EMP events through the pipeline: approvals, a decline, a chargeback that blacklists, one waiting for its attempt.
    const events = eventContext(stack.services);
    for (let i = 0; i < 4; i++) await processEvent(events, saleNotification(await createAttempt(db), hex(16), 'approved'));
    await processEvent(events, saleNotification(await createAttempt(db), hex(16), 'declined', { code: '510', message: 'Insufficient funds' }));
    const charged = hex(16);
    const chargedAttempt = await createAttempt(db, { status: 'approved', empUniqueId: charged });
    await processEvent(events, forwarded({ transaction_type: 'chargeback', unique_id: hex(16), original_transaction_unique_id: charged, reason_code: 'MD06', amount: '1990', currency: 'EUR', status: 'approved' }));
    await processEvent(events, saleNotification({ transactionId: `tth_${hex(8)}` }, hex(16), 'approved'));
    await addToBlacklist(db, stack.services.config.personalData.key, { iban: testIban(), reason: 'Debtor asked to stop all debits (phone, ticket 4711)', source: 'operator', createdBy: stack.operator.email });
    await seedEventTraffic(stack);

    // A delivery QStash gave up on: the node it was sent to was down.
    const down = await listen(() => new Response());
    await down.close();
    const lost = saleNotification(await createAttempt(db), hex(16), 'approved');
    await stack.qstash.client.publishJSON({
      url: `${down.url}${EMP_EVENTS_PATH}`,
      retries: 0,
      body: { version: 1, dedupKey: lost.dedupKey, receivedAt: lost.receivedAt.toISOString(), traceId: hex(8), fields: lost.fields },
    });
    await waitFor(async () => (await stack.qstash.client.dlq.listMessages()).messages.length > 0);

    await page.goto('/dashboard/uploads/new');
    await page.setInputFiles('input[type=file]', { name: 'debtors-march.csv', mimeType: 'text/csv', buffer: debtorFile() });
    await page.locator('select[name="map.iban"]').waitFor();
    await shoot(page, 'upload-mapping');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#upload-phase', { hasText: 'Processed.' }).waitFor({ timeout: 120_000 });
    await shoot(page, 'upload-done');
    await page.getByRole('link', { name: 'Open the upload' }).click();
    await shoot(page, 'upload-detail');

    await page.goto('/dashboard');
    await shoot(page, 'status');
    // The search is a form post (no search term in a URL).
    await page.goto('/dashboard/debtors');
    await page.getByLabel('Name or whole IBAN').fill('schäfer');
    await Promise.all([page.waitForURL('**/dashboard/debtors/search'), page.getByRole('button', { name: 'Search' }).click()]);
    await shoot(page, 'debtors', { fullPage: false });
    await page.goto('/dashboard/attempts');
    await shoot(page, 'attempts', { fullPage: false });
    await page.goto(`/dashboard/attempts/${chargedAttempt.id}`);
    await shoot(page, 'attempt-history');
    await page.goto('/dashboard/blacklist');
    await shoot(page, 'blacklist');
    await page.goto('/dashboard/events');
    await shoot(page, 'events', { fullPage: false });
    await page.goto('/dashboard/events/dead-letters');
    await shoot(page, 'dead-letters');

    // Review queues: chargebacks whose codes need a person, a notification EMP rejected, an attempt
    // stuck in unknown, the event pending match since yesterday.
    for (const code of ['MD01', 'RR04', 'XT99']) {
      const reviewed = await createAttempt(db, { status: 'chargebacked' });
      await db.execute(sql`update billing_attempts set error_code = ${code}, error_message = ${`chargeback ${code}`} where id = ${reviewed.id}`);
    }
    const stuck = await createAttempt(db, { status: 'unknown' });
    await db.execute(sql`update billing_attempts set updated_at = now() - interval '25 minutes' where id = ${stuck.id}`);
    await db.execute(sql`update webhook_events set received_at = now() - interval '26 hours' where outcome = 'pending_match'`);
    await db.insert(webhookEvents).values({
      dedupKey: `seed:${hex(8)}`,
      payload: { unique_id: hex(16), status: 'approved' },
      receivedAt: new Date(Date.now() - 3_600_000),
      outcome: 'rejected',
      source: 'notification',
      error: 'unknown_transaction: EMP has no transaction with this unique_id',
    });
    await page.goto('/dashboard/review');
    await shoot(page, 'review');
    await page.goto('/dashboard/personal-data');
    await shoot(page, 'personal-data');
    const unmapped = await storeUpload(stack.environment, 'kunden-april.xlsx', zipOf([...workbookParts(), storedPart('xl/worksheets/sheet1.xml', inlineSheet([
      ['Kontonummer', 'Zahler', 'Euro', 'Referenz'],
      [germanIban(780_001), 'Erika Mustermann', '19.90', 'MND-1'],
    ]))]));
    await processUpload({ ...stack.environment.context(), personalDataKey: stack.services.config.personalData.key }, unmapped.id);
    await page.goto(`/dashboard/uploads/${unmapped.id}`);
    await shoot(page, 'upload-recovery');

    const { uploadId } = await seedUpload(stack.environment.database, 60);
    await page.goto('/dashboard/runs');
    await page.getByLabel('What to bill').selectOption(uploadId);
    await page.getByRole('button', { name: 'Start billing' }).click();
    await page.waitForURL(/\/dashboard\/runs\/[0-9a-f-]{36}$/);
    // Long enough for a rate over the last minute and a bar well under way.
    await page.waitForTimeout(6_000);
    await page.reload();
    await shoot(page, 'billing-run');
    await page.goto('/dashboard/audit');
    await shoot(page, 'audit', { fullPage: false });
    await page.goto('/dashboard/operators');
    await shoot(page, 'operators');

    await seedSixMonthsOfCollections(stack);
    await page.goto('/dashboard/reports');
    await shoot(page, 'reports');
  } finally {
    await browser.close();
    await stack.close();
  }
  // Timers of the stand-ins (QStash polling, simulator schedules) would keep the process up.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
