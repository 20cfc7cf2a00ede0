/**
 * Personal data kept only as long as it must be: erasure of a debtor on request and the retention
 * sweep, against real PostgreSQL and the S3 stand-in. "No trace" is checked the hard way: every
 * text, varchar and jsonb column of every table, and every byte the S3 stand-in stores.
 */
import { sql } from 'drizzle-orm';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../src/audit/actor';
import { addToBlacklist, isBlacklisted } from '../src/blacklist/blacklist';
import type { PersonalDataContext } from '../src/personal-data/context';
import { eraseDebtor, ErasureRefused } from '../src/personal-data/erasure';
import { DELETED_VALUE, sweepRetention } from '../src/personal-data/retention';
import { readRetentionSettings, saveRetentionSettings } from '../src/personal-data/retention-settings';
import { processUpload } from '../src/uploads/process-upload';
import { findUpload } from '../src/uploads/repository';
import { TEST_PERSONAL_DATA_KEY } from './support/events';
import { germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';

let environment: UploadTestEnvironment;
let context: PersonalDataContext;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
  context = { database: environment.database, storage: environment.storage, log: pino({ level: 'silent' }), key: TEST_PERSONAL_DATA_KEY };
});
afterAll(() => environment?.close());

const db = () => environment.database.db;

/** Every column of every table that can hold text, as `table.column` where `needle` occurs. */
async function databaseColumnsContaining(needle: string): Promise<string[]> {
  const { rows: columns } = await db().execute<{ table_name: string; column_name: string }>(sql`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' and data_type in ('text', 'character varying', 'character', 'jsonb', 'json')`);
  const found: string[] = [];
  for (const { table_name, column_name } of columns) {
    const { rows } = await db().execute<{ count: number }>(
      sql`select count(*)::int as count from ${sql.identifier(table_name)} where strpos(${sql.identifier(column_name)}::text, ${needle}) > 0`,
    );
    if (rows[0]!.count > 0) found.push(`${table_name}.${column_name}`);
  }
  return found.sort();
}

async function storedFilesContaining(needle: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(environment.directory, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(Buffer.from(needle, 'utf8'))) found.push(path);
  }
  return found;
}

async function totals() {
  const { rows } = await db().execute<{ attempts: number; cents: string; statuses: string }>(sql`
    select count(*)::int as attempts, sum(amount_cents)::text as cents,
           (select string_agg(status || ':' || n, ',' order by status) from (select status, count(*) n from billing_attempts group by status) s) as statuses
    from billing_attempts`);
  return rows[0]!;
}

async function processCsv(name: string, lines: string[]) {
  const upload = await storeUpload(environment, name, lines.join('\n'));
  await processUpload(environment.context(), upload.id);
  return (await findUpload(db(), upload.id))!;
}

describe('erasure of a debtor', () => {
  const iban = germanIban(7_001);
  const name = 'Henrietta Quandtmeyer';
  const email = 'henrietta.quandtmeyer@example.org';
  const street = 'Quandtweg 17';

  it('leaves no trace of the name, IBAN, email or street anywhere, keeps amounts, and the IBAN stays blocked', async () => {
    // Two uploads hold her: one accepted row each, and in the first a duplicate row, rejected with
    // her IBAN as the rejected value (so it is in upload_errors and the error report too).
    const first = await processCsv('first.csv', [
      'IBAN,Name,Amount,Email,Street',
      `${iban},${name},12.50,${email},${street}`,
      `${iban},${name},12.50,${email},${street}`,
      `${germanIban(7_002)},Other Person,30.00,,`,
    ]);
    expect(first.status).toBe('completed');
    expect(first.rowsRejected).toBe(1);
    expect(await storedFilesContaining(iban)).not.toEqual([]);
    const { rows: [debtor] } = await db().execute<{ id: number }>(sql`select id from debtors where iban = ${iban} order by id limit 1`);
    // The first debit went to EMP and was approved; EMP's answer copied her name and IBAN.
    const { rows: [attempt] } = await db().execute<{ id: number; transaction_id: string }>(
      sql`select id, transaction_id from billing_attempts where debtor_id = ${debtor!.id}`,
    );
    await db().execute(sql`update billing_attempts set status = 'approved', emp_unique_id = 'u-7001', sent_at = now(),
      history = jsonb_build_array(jsonb_build_object('note', ${`sent for ${name} (${iban})`}::text)) where id = ${attempt!.id}`);
    await db().execute(sql`insert into webhook_events (dedup_key, unique_id, transaction_id, payload, received_at, outcome, billing_attempt_id, source, emp_answer)
      values ('erasure-test-1', 'u-7001', ${attempt!.transaction_id},
              ${JSON.stringify({ unique_id: 'u-7001', status: 'approved', bank_account_owner: name, iban, customer_email: email })}::jsonb,
              now(), 'confirmed', ${attempt!.id}, 'notification', ${JSON.stringify({ transaction: { bankAccountNumber: iban, customerEmail: email } })}::jsonb)`);
    // A later upload holds her again, not sent yet; then a chargeback blacklists her IBAN.
    const second = await processCsv('second.csv', ['IBAN,Name,Amount', `${iban},${name},99.00`]);
    expect(second.rowsAccepted).toBe(1);
    await addToBlacklist(db(), TEST_PERSONAL_DATA_KEY, { iban, reason: `chargeback MD06 from ${name}`, reasonCode: 'MD06', source: 'chargeback' });

    const before = await totals();
    const result = await eraseDebtor(context, { debtorId: debtor!.id, actor: cliActor(), reason: 'request 2026-114 by email' });

    for (const needle of [iban, name, email, street, iban.replace(/(.{4})/g, '$1 ').trim()]) {
      expect(await databaseColumnsContaining(needle), needle).toEqual([]);
      expect(await storedFilesContaining(needle), needle).toEqual([]);
    }
    expect(result.pseudonym).toMatch(/^ERASED-[0-9A-F]{16}$/);
    expect(result.uploadIds.sort()).toEqual([first.id, second.id].sort());

    const after = await totals();
    expect(after.attempts).toBe(before.attempts);
    expect(after.cents).toBe(before.cents);
    // Her approved debit stays approved; only what was never sent is cancelled.
    const { rows: statuses } = await db().execute<{ status: string }>(
      sql`select status from billing_attempts where debtor_id = any(${sql.param(result.debtorIds)}::bigint[]) order by id`,
    );
    expect(statuses.map((row) => row.status)).toEqual(['approved', ...Array(result.attemptsCancelled).fill('cancelled')]);

    // The error report was written again without her; the original files are gone.
    const firstAfter = (await findUpload(db(), first.id))!;
    expect(firstAfter.filesDeletedAt).not.toBeNull();
    expect(firstAfter.errorReportKey).not.toBeNull();
    expect(firstAfter.rowsAccepted).toBe(first.rowsAccepted);
    expect(await environment.storage.headObject(first.fileKey)).toBeUndefined();

    // Blacklisted, then erased: still refused, by the keyed hash alone.
    expect(await isBlacklisted(db(), TEST_PERSONAL_DATA_KEY, iban)).toBe(true);
    const third = await processCsv('third.csv', ['IBAN,Name,Amount', `${iban},Someone Else,5.00`]);
    expect(third.rowsAccepted).toBe(0);
    const { rows: refusals } = await db().execute<{ code: string }>(sql`select code from upload_errors where upload_id = ${third.id}`);
    expect(refusals.map((row) => row.code)).toEqual(['blacklisted']);

    const { rows: audit } = await db().execute<{ action: string; target_id: string; reason: string }>(
      sql`select action, target_id, reason from audit_log where action = 'debtor.erased'`,
    );
    expect(audit).toEqual([{ action: 'debtor.erased', target_id: String(debtor!.id), reason: 'request 2026-114 by email' }]);
    await expect(eraseDebtor(context, { debtorId: debtor!.id, actor: cliActor(), reason: 'again' })).rejects.toBeInstanceOf(ErasureRefused);
  });
});

describe('the retention sweep', () => {
  it('reduces old payloads to their audit fields and deletes old uploads’ files, leaving recent ones and the totals alone', async () => {
    const iban = germanIban(8_001);
    const name = 'Ottilie Retentionsdorf';
    const old = await processCsv('old.csv', ['IBAN,Name,Amount', `${iban},${name},10.00`, `${iban},${name},10.00`]);
    const recent = await processCsv('recent.csv', ['IBAN,Name,Amount', `${germanIban(8_002)},Recent Person,11.00`]);
    await db().execute(sql`update uploads set completed_at = now() - interval '31 days' where id = ${old.id}`);
    const payload = { unique_id: 'u-8001', transaction_type: 'sdd_sale', status: 'approved', amount: '1000', currency: 'EUR', bank_account_owner: name, iban };
    for (const [key, age] of [['retention-old', '91 days'], ['retention-recent', '89 days']] as const) {
      await db().execute(sql`insert into webhook_events (dedup_key, unique_id, payload, received_at, outcome, source)
        values (${key}, 'u-8001', ${JSON.stringify(payload)}::jsonb, now() - ${age}::interval, 'rejected', 'notification')`);
    }
    const before = await totals();

    const result = await sweepRetention(context, cliActor());
    expect(result.eventsReduced).toBeGreaterThanOrEqual(1);
    expect(result.uploadsCleared).toBeGreaterThanOrEqual(1);

    const { rows: events } = await db().execute<{ dedup_key: string; payload: Record<string, string>; payload_reduced_at: Date | null }>(
      sql`select dedup_key, payload, payload_reduced_at from webhook_events where dedup_key like 'retention-%' order by dedup_key`,
    );
    expect(events[0]!.payload).toEqual({ unique_id: 'u-8001', transaction_type: 'sdd_sale', status: 'approved', amount: '1000', currency: 'EUR' });
    expect(events[1]!.payload).toEqual(payload);
    expect(events[1]!.payload_reduced_at).toBeNull();

    const oldAfter = (await findUpload(db(), old.id))!;
    expect(oldAfter.filesDeletedAt).not.toBeNull();
    expect(await environment.storage.headObject(old.fileKey)).toBeUndefined();
    expect(await environment.storage.headObject(old.errorReportKey!)).toBeUndefined();
    const { rows: cells } = await db().execute<{ value: string }>(sql`select value from upload_errors where upload_id = ${old.id}`);
    expect(cells.map((cell) => cell.value)).toEqual([DELETED_VALUE]);
    expect(await environment.storage.headObject(recent.fileKey)).toBeDefined();
    expect((await findUpload(db(), recent.id))!.filesDeletedAt).toBeNull();
    expect(await totals()).toEqual(before);
    // Old files and payloads hold the name no more; the debtor rows and the recent payload do (erasure removes those).
    expect(await storedFilesContaining(name)).toEqual([]);
    expect(await databaseColumnsContaining(name)).toEqual(['debtors.name', 'debtors.name_original', 'webhook_events.payload']);

    const { rows: audit } = await db().execute<{ actor_kind: string; after: Record<string, unknown> }>(
      sql`select actor_kind, after from audit_log where action = 'retention.swept'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]!.after).toMatchObject({ uploadsCleared: result.uploadsCleared, eventsReduced: result.eventsReduced });
    // Nothing left: a second sweep changes nothing and writes no entry.
    expect(await sweepRetention(context, cliActor())).toEqual({ eventsReduced: 0, uploadsCleared: 0, more: false });
  });

  it('reads the documented defaults and saves a change with its audit entry', async () => {
    expect(await readRetentionSettings(db())).toMatchObject({ notificationPayloadDays: 90, uploadFileDays: 30 });
    expect(await saveRetentionSettings(db(), { notificationPayloadDays: 60, uploadFileDays: 30 }, cliActor(), 'shorter')).toEqual({ changed: true });
    expect(await saveRetentionSettings(db(), { notificationPayloadDays: 60, uploadFileDays: 30 }, cliActor())).toEqual({ changed: false });
    expect(await readRetentionSettings(db())).toMatchObject({ notificationPayloadDays: 60, uploadFileDays: 30 });
    const { rows } = await db().execute<{ before: unknown; after: unknown }>(sql`select before, after from audit_log where action = 'retention.changed'`);
    expect(rows).toEqual([{ before: { notificationPayloadDays: 90, uploadFileDays: 30 }, after: { notificationPayloadDays: 60, uploadFileDays: 30 } }]);
  });
});
