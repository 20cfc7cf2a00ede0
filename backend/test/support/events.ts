/**
 * Fixtures for the event tests: debtors and billing attempts as billing would create them,
 * notifications as the edge forwards them, and an event context whose log lines can be read.
 */
import { identifyNotification } from '@tether/shared/notification';
import { DEFAULT_BLACKLIST_CODES } from '@tether/shared/reason-codes';
import { eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import type { Database } from '../../src/db/client';
import { billingAttempts, debtors, webhookEvents } from '../../src/db/schema';
import type { EventContext } from '../../src/events/context';
import { eventMetrics } from '../../src/events/metrics';
import type { IncomingEvent } from '../../src/events/process';
import { createMetricsRegistry } from '../../src/metrics';

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A syntactically valid German IBAN, different each call. */
export function testIban(): string {
  const account = String(Math.floor(Math.random() * 1e10)).padStart(10, '0');
  const bban = `37040044${account}`;
  const numeric = `${bban}131400`; // "DE00" moved to the end, letters as numbers
  const check = 98 - Number(BigInt(numeric) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

export interface TestAttempt {
  id: number;
  transactionId: string;
  debtorId: number;
  iban: string;
}

export async function createAttempt(
  db: Database,
  options: { status?: AttemptStatus; empUniqueId?: string; iban?: string; debtorId?: number; transactionId?: string } = {},
): Promise<TestAttempt> {
  let debtorId = options.debtorId;
  let iban = options.iban ?? testIban();
  if (debtorId === undefined) {
    const [debtor] = await db
      .insert(debtors)
      .values({ iban, name: 'Erika Mustermann', nameOriginal: 'Erika Mustermann' })
      .returning({ id: debtors.id });
    debtorId = debtor!.id;
  } else {
    const [debtor] = await db.select({ iban: debtors.iban }).from(debtors).where(eq(debtors.id, debtorId));
    iban = debtor!.iban;
  }
  const transactionId = options.transactionId ?? `tth_${hex(8)}`;
  const [attempt] = await db
    .insert(billingAttempts)
    .values({ transactionId, debtorId, amountCents: 1990, status: options.status ?? 'submitted', empUniqueId: options.empUniqueId })
    .returning({ id: billingAttempts.id });
  return { id: attempt!.id, transactionId, debtorId, iban };
}

export async function readAttempt(db: Database, id: number) {
  const [attempt] = await db.select().from(billingAttempts).where(eq(billingAttempts.id, id));
  return attempt!;
}

export async function readEvent(db: Database, id: number) {
  const [event] = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id));
  return event!;
}

/** A notification as the edge forwards it: its fields, keyed the way the edge deduplicates. */
export function forwarded(fields: Record<string, string>, receivedAt = new Date()): IncomingEvent {
  return { dedupKey: identifyNotification(fields).dedupKey, receivedAt, traceId: hex(8), fields: { signature: hex(20), ...fields } };
}

/** An sdd_sale status notification for the attempt. */
export function saleNotification(attempt: { transactionId: string }, uniqueId: string, status: string, extra: Record<string, string> = {}) {
  return forwarded({
    transaction_id: attempt.transactionId,
    unique_id: uniqueId,
    transaction_type: 'sdd_sale',
    status,
    amount: '1990',
    bank_account_number: 'DE89370400440532013000',
    first_name: 'Erika',
    last_name: 'Mustermann',
    ...extra,
  });
}

/** PERSONAL_DATA_KEY of the tests' contexts (blacklist entries' keyed hashes). */
export const TEST_PERSONAL_DATA_KEY = 'test-personal-data-key-at-least-32-chars';

export interface TestEventContext extends EventContext {
  logLines: () => Array<Record<string, unknown>>;
}

export function testEventContext(db: Database, options: { blacklistCodes?: readonly string[] } = {}): TestEventContext {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return {
    db,
    log: pino({ level: 'debug' }, sink),
    metrics: eventMetrics(createMetricsRegistry()),
    blacklistCodes: new Set(options.blacklistCodes ?? DEFAULT_BLACKLIST_CODES),
    personalDataKey: TEST_PERSONAL_DATA_KEY,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
