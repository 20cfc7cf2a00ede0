/**
 * The finance figures (issue 18) on a real database: attempts fall in the month they were sent,
 * each status in one report class, declines and chargebacks by reason code, currencies never
 * added together; the run and upload views add up to their month; the trailing chargeback ratio;
 * and the exports: spreadsheet-safe, IBANs masked, every attempt once however many pages, and
 * over HTTP with clear refusals of bad input.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import { billingAttempts, billingRuns, debtors, uploads } from '../src/db/schema';
import { chargebackRatios } from '../src/reports/chargeback-ratio';
import { attemptsCsv, EXPORT_PAGE_SIZE, figuresCsv } from '../src/reports/exports';
import { figuresByMonth, figuresOfMonthBy, grossCollected } from '../src/reports/figures';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { startDashboardNode, type DashboardNode } from './support/dashboard';
import { hex, testIban } from './support/events';
import { createTestOperator, logIn, type SessionClient } from './support/operators';

let database: MigratedTestDatabase;
let node: DashboardNode;
let session: SessionClient;
let debtorId: number;
let debtorIban: string;
let uploadA: string;
let uploadB: string;
let runA: string;

interface Seed {
  status: AttemptStatus;
  amount: number;
  sentAt?: string;
  createdAt?: string;
  currency?: string;
  errorCode?: string;
  errorMessage?: string;
  uploadId?: string;
  runId?: string;
  chargebackAt?: string;
}

async function seed(rows: Seed[]) {
  await database.db.insert(billingAttempts).values(
    rows.map((row) => ({
      transactionId: `tth_${hex(8)}`,
      debtorId,
      amountCents: row.amount,
      currency: row.currency ?? 'EUR',
      status: row.status,
      errorCode: row.errorCode,
      errorMessage: row.errorMessage,
      uploadId: row.uploadId,
      billingRunId: row.runId,
      sentAt: row.sentAt ? new Date(row.sentAt) : undefined,
      createdAt: row.createdAt ? new Date(row.createdAt) : undefined,
      history: row.chargebackAt ? [{ at: row.chargebackAt, source: 'emp_event', from: 'approved', to: 'chargebacked' }] : [],
    })),
  );
}

beforeAll(async () => {
  database = await createMigratedDatabase();
  debtorIban = testIban();
  const [debtor] = await database.db
    .insert(debtors)
    .values({ iban: debtorIban, name: 'Erika Mustermann', nameOriginal: 'Erika Mustermann', mandateReference: '=HYPERLINK("x")' })
    .returning({ id: debtors.id });
  debtorId = debtor!.id;
  const made = await database.db
    .insert(uploads)
    .values([
      { fileKey: `k-${hex(4)}`, originalName: 'a.csv' },
      { fileKey: `k-${hex(4)}`, originalName: 'b.csv' },
    ])
    .returning({ id: uploads.id });
  [uploadA, uploadB] = made.map((upload) => upload.id) as [string, string];
  const [run] = await database.db.insert(billingRuns).values({ selection: { uploadId: uploadA }, uploadId: uploadA, status: 'completed' }).returning({ id: billingRuns.id });
  runA = run!.id;

  // November 2026: upload A sent by run A; upload B's, sent without a run (retries).
  await seed([
    { status: 'approved', amount: 1000, sentAt: '2026-11-03T10:00:00Z', uploadId: uploadA, runId: runA },
    { status: 'approved', amount: 2000, sentAt: '2026-11-03T10:00:01Z', uploadId: uploadA, runId: runA },
    { status: 'declined', amount: 500, sentAt: '2026-11-03T10:00:02Z', uploadId: uploadA, runId: runA, errorCode: 'AM04', errorMessage: '=cmd|calc' },
    { status: 'error', amount: 700, sentAt: '2026-11-03T10:00:03Z', uploadId: uploadA, runId: runA, errorCode: 'AM04' },
    { status: 'chargebacked', amount: 1500, sentAt: '2026-11-04T09:00:00Z', uploadId: uploadB, errorCode: 'MD06', chargebackAt: '2026-11-20T12:00:00Z' },
    { status: 'chargeback_reversed', amount: 800, sentAt: '2026-11-04T09:00:00Z', uploadId: uploadB, errorCode: 'MD06', chargebackAt: '2026-11-25T12:00:00Z' },
    { status: 'refunded', amount: 300, sentAt: '2026-11-05T09:00:00Z', uploadId: uploadB },
    { status: 'submitted', amount: 400, sentAt: '2026-11-30T23:59:59Z', uploadId: uploadB },
    { status: 'approved', amount: 900, sentAt: '2026-11-06T09:00:00Z', uploadId: uploadB, currency: 'CHF' },
  ]);
  // December 2026: one unsent (counted in its creation month) and one cancelled.
  await seed([
    { status: 'pending', amount: 250, createdAt: '2026-12-01T00:00:00Z', uploadId: uploadB },
    { status: 'cancelled', amount: 125, createdAt: '2026-12-02T00:00:00Z', sentAt: undefined, uploadId: uploadB },
  ]);

  node = await startDashboardNode(database.url, { CHARGEBACK_RATIO_WARNING_PERCENT: '10' });
  session = await logIn(node.url, await createTestOperator(database.db));
});
afterAll(async () => {
  await node?.close();
  await database?.destroy();
});

describe('figures', () => {
  it('put each attempt in the month it was sent, in its report class, per currency, with declines and chargebacks by reason', async () => {
    const lines = await figuresByMonth(database.db);
    expect(lines.map((line) => `${line.key} ${line.currency}`)).toEqual(['2026-12 EUR', '2026-11 CHF', '2026-11 EUR']);
    const november = lines.find((line) => line.key === '2026-11' && line.currency === 'EUR')!;
    expect(november.attempts).toEqual({ count: 8, amount: 7200 });
    expect(november.classes).toEqual({
      outstanding: { count: 1, amount: 400 },
      collected: { count: 3, amount: 3800 },
      declined: { count: 2, amount: 1200 },
      charged_back: { count: 1, amount: 1500 },
      refunded: { count: 1, amount: 300 },
      cancelled: { count: 0, amount: 0 },
    });
    expect(november.reasons).toEqual({ declined: { AM04: { count: 2, amount: 1200 } }, charged_back: { MD06: { count: 1, amount: 1500 } } });
    expect(grossCollected(november)).toEqual({ count: 5, amount: 5600 });
    const december = lines.find((line) => line.key === '2026-12')!;
    expect(december.classes.outstanding).toEqual({ count: 1, amount: 250 });
    expect(december.classes.cancelled).toEqual({ count: 1, amount: 125 });
  });

  it('split a month by run and by upload into lines that add up to the month', async () => {
    const month = (await figuresByMonth(database.db)).find((line) => line.key === '2026-11' && line.currency === 'EUR')!;
    for (const grouping of ['run', 'upload'] as const) {
      const lines = (await figuresOfMonthBy(database.db, grouping, '2026-11')).filter((line) => line.currency === 'EUR');
      const total = lines.reduce((sum, line) => ({ count: sum.count + line.attempts.count, amount: sum.amount + line.attempts.amount }), { count: 0, amount: 0 });
      expect(total).toEqual(month.attempts);
    }
    const byRun = await figuresOfMonthBy(database.db, 'run', '2026-11');
    expect(byRun.map((line) => `${line.key} ${line.currency} ${line.attempts.count}`)).toEqual([`${runA} EUR 4`, 'none CHF 1', 'none EUR 4']);
    const byUpload = await figuresOfMonthBy(database.db, 'upload', '2026-11');
    expect(byUpload.find((line) => line.key === uploadA)!.classes.declined.count).toBe(2);
    expect(byUpload.find((line) => line.key === uploadB && line.currency === 'EUR')!.classes.charged_back.amount).toBe(1500);
  });

  it('refuse a month that is not one', async () => {
    await expect(figuresOfMonthBy(database.db, 'run', '2026-13')).rejects.toThrow('not a month: 2026-13');
  });
});

describe('chargeback ratio', () => {
  it('counts chargebacks received in the trailing 30 days against debits presented in them, reversed ones included', async () => {
    const [chf, eur] = await chargebackRatios(database.db, { days: 40, now: new Date('2026-12-03T12:00:00Z') });
    expect(chf!.currency).toBe('CHF');
    expect(chf!.current.byCount).toBe(0);
    // Window 2026-11-04 .. 2026-12-03: presented the two of 11-04, 11-05 and 11-30 (3,000 cents); both chargebacks.
    expect(eur!.current.presented).toEqual({ count: 4, amount: 3000 });
    expect(eur!.current.chargebacks).toEqual({ count: 2, amount: 2300 });
    expect(eur!.current.byCount).toBeCloseTo(0.5);
    expect(eur!.current.byAmount).toBeCloseTo(2300 / 3000);
    // On 2026-11-19 nothing had been charged back yet; on 2026-11-02 nothing had been presented.
    expect(eur!.series.find((point) => point.day === '2026-11-19')!.byCount).toBe(0);
    expect(eur!.series.find((point) => point.day === '2026-11-02')!.byCount).toBeNull();
    expect(eur!.series).toHaveLength(40);
  });
});

async function collect(chunks: AsyncGenerator<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

describe('exports', () => {
  it('write attempts spreadsheet-safe with masked IBANs', async () => {
    const csv = await collect(attemptsCsv(database.pool, { month: '2026-11', runId: runA }));
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(csv.startsWith('\ufeff"attempt_id"')).toBe(true);
    expect(csv).toContain(`"'=cmd|calc"`);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).not.toContain(debtorIban);
    expect(csv).toContain(`"${debtorIban.slice(0, 4)}`);
    expect(csv).toContain('"5.00","EUR","AM04"');
  });

  it('export an upload whole, across months', async () => {
    const csv = await collect(attemptsCsv(database.pool, { uploadId: uploadB }));
    expect(csv.trim().split('\r\n')).toHaveLength(1 + 7);
  });

  it('narrow to attempts without a run', async () => {
    const csv = await collect(attemptsCsv(database.pool, { month: '2026-11', runId: 'none' }));
    expect(csv.trim().split('\r\n')).toHaveLength(1 + 5);
  });

  it('stream every attempt exactly once across pages', async () => {
    const month = '2027-01';
    const count = EXPORT_PAGE_SIZE * 2 + 7;
    await database.db.execute(sql`
      insert into billing_attempts (transaction_id, debtor_id, amount_cents, status, sent_at)
      select 'tth_page_' || n, ${debtorId}, n, 'approved', '2027-01-15T00:00:00Z'::timestamptz from generate_series(1, ${count}) n`);
    let chunks = 0;
    const ids = new Set<string>();
    for await (const chunk of attemptsCsv(database.pool, { month })) {
      chunks += 1;
      for (const line of chunk.split('\r\n').filter(Boolean).slice(chunks === 1 ? 1 : 0)) ids.add(line.split(',')[0]!);
    }
    expect(chunks).toBe(1 + 3);
    expect(ids.size).toBe(count);
  });

  it('give the connection of the cursor back when the reader stops early', async () => {
    const chunks = attemptsCsv(database.pool, { month: '2027-01' });
    await chunks.next();
    await chunks.next();
    expect(database.pool.totalCount - database.pool.idleCount).toBe(1);
    await chunks.return(undefined);
    expect(database.pool.totalCount - database.pool.idleCount).toBe(0);
  });

  it('write the figures of a view with reason codes', async () => {
    const csv = figuresCsv('month', await figuresByMonth(database.db));
    expect(csv).toContain('"2026-11","EUR","8","72.00","5","56.00"');
    expect(csv).toContain('"AM04:2:12.00"');
  });
});

describe('over HTTP', () => {
  it('shows the page with the ratio against its threshold and the figures', async () => {
    const response = await session.fetch('/dashboard/reports?by=upload&month=2026-11');
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(body).toContain('warning at 10.00 %');
    expect(body).toContain(`data-line="${uploadA}"`);
    expect(body).toContain(`/dashboard/reports/attempts.csv?month=2026-11&amp;upload=${uploadA}`);
  });

  it('streams the attempts CSV as a download', async () => {
    const response = await session.fetch(`/dashboard/reports/attempts.csv?month=2026-11&upload=${uploadA}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="tether-attempts-2026-11-upload-${uploadA}.csv"`);
    expect((await response.text()).trim().split('\r\n')).toHaveLength(5);
  });

  it('refuses bad input with a clear message', async () => {
    const page = await session.fetch('/dashboard/reports?by=run&month=november');
    expect(page.status).toBe(422);
    expect(await page.text()).toContain('not a month: &quot;november&quot;');
    const csv = await session.fetch('/dashboard/reports/attempts.csv?month=2026-11&run=1%20or%201=1');
    expect(csv.status).toBe(400);
    expect(await csv.text()).toBe('run and upload must each be an id or "none"');
    expect((await session.fetch('/dashboard/reports/figures.csv?by=debtor')).status).toBe(400);
    const unbounded = await session.fetch('/dashboard/reports/attempts.csv?run=none');
    expect(unbounded.status).toBe(400);
    expect(await unbounded.text()).toBe('choose a month, a run or an upload');
  });
});
