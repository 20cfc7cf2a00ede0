/**
 * One Chargeback API record Tether cannot read must never hide the others (issue 14): the sweep
 * applies the readable records of the page, and keeps the unreadable one as a failed event,
 * logged and counted. The page comes from a stand-in client here; reading a page with a bad
 * record is genesis-conformance.test.ts's.
 */
import type { ChargebackRecord } from '@tether/shared/genesis-xml';
import { eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQStash } from '../../dev/testing/qstash';
import { billingContext, type BillingContext } from '../src/billing/context';
import { webhookEvents } from '../src/db/schema';
import type { GenesisClient, PagingOptions } from '../src/emp/genesis-client';
import { sweepChargebacks } from '../src/reconciliation/sweeps';
import { startBackend, type TestBackend } from './support/backend';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { createAttempt, hex, readAttempt } from './support/events';

let database: MigratedTestDatabase;
let qstash: Awaited<ReturnType<typeof startTestQStash>>;
let node: TestBackend;

beforeAll(async () => {
  database = await createMigratedDatabase();
  qstash = await startTestQStash(database.url);
  node = await startBackend(database.url, qstash.server.url);
});
afterAll(async () => {
  await node?.close();
  await qstash?.server.close();
  await database?.destroy();
});

function contextWithPage(records: ChargebackRecord[], unusable: { index: number; error: string; arn: string }): BillingContext {
  const genesis = {
    async *chargebacksByDateRange(_range: unknown, options: PagingOptions = {}) {
      await options.beforePage?.();
      options.onUnusable?.(unusable, 1);
      yield* records;
    },
  } as unknown as GenesisClient;
  return { ...billingContext(node.services), genesis, reconcileLimiter: { acquire: async () => {} } as BillingContext['reconcileLimiter'] };
}

describe('a chargeback page with a record Tether cannot read', () => {
  it('applies the others, and keeps the unreadable one as a failed event, counted', async () => {
    const [first, second] = [hex(16), hex(16)];
    const attempts = [await createAttempt(database.db, { status: 'approved', empUniqueId: first }), await createAttempt(database.db, { status: 'approved', empUniqueId: second })];
    const record = (originalTransactionUniqueId: string): ChargebackRecord =>
      ({ type: '1st Chargeback', originalTransactionUniqueId, reasonCode: 'MD06', postDate: '2026-12-01', amount: -1990, currency: 'EUR', chargebackAmount: 1990, originalTransactionAmount: 1990 }) as ChargebackRecord;
    const arn = `arn-${hex(6)}`;
    const context = contextWithPage([record(first), record(second)], { index: 1, error: 'invalid <chargeback_response>: amount: must be an integer in minor units', arn });

    const summary = await sweepChargebacks(context, { startDate: '2026-12-01', endDate: '2026-12-02' });

    expect(summary).toMatchObject({ records: 2, recorded: 2, unusable: 1 });
    for (const attempt of attempts) expect((await readAttempt(database.db, attempt.id)).status).toBe('chargebacked');
    const [kept] = await database.db.select().from(webhookEvents).where(like(webhookEvents.dedupKey, `chargeback-api-unusable:%${arn}%`));
    expect(kept).toMatchObject({ outcome: 'failed', payload: { arn, source: 'chargeback_api' } });
    expect(kept!.error).toContain('unusable chargeback record');
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^tether_chargeback_records_unusable_total [1-9]/m);

    // Swept again: the same record is the same event, not a second one.
    await sweepChargebacks(context, { startDate: '2026-12-01', endDate: '2026-12-02' });
    expect(await database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupKey, kept!.dedupKey))).toHaveLength(1);
  });
});
