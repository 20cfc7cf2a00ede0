/**
 * Rows that are valid on their own but not in context: the same debit twice in a file (the first
 * wins), an IBAN with a debit still open from another upload, a blacklisted IBAN.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToBlacklist, removeFromBlacklist } from '../src/blacklist/blacklist';
import { processUpload } from '../src/uploads/process-upload';
import { findUpload } from '../src/uploads/repository';
import { germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';
import { TEST_PERSONAL_DATA_KEY } from './support/events';
import { TEST_ACTOR } from './support/operators';

let environment: UploadTestEnvironment;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
});
afterAll(() => environment?.close());

async function processCsv(lines: string[], batchSize = 5_000) {
  const upload = await storeUpload(environment, 'debtors.csv', lines.join('\n'));
  await processUpload(environment.context({ batchSize }), upload.id);
  return (await findUpload(environment.database.db, upload.id))!;
}

async function problems(uploadId: string) {
  const result = await environment.database.db.execute<{ row: number; code: string; message: string }>(
    sql`select row, code, message from upload_errors where upload_id = ${uploadId} order by row, id`,
  );
  return result.rows;
}

async function acceptedRows(uploadId: string) {
  const result = await environment.database.db.execute<{ upload_row: number }>(sql`select upload_row from debtors where upload_id = ${uploadId} order by upload_row`);
  return result.rows.map((row) => row.upload_row);
}

describe('duplicates inside one file', () => {
  it('keeps the first of rows with the same IBAN, amount and reference, also across batches', async () => {
    const upload = await processCsv(
      [
        'IBAN,Name,Amount,Reference',
        `${germanIban(1)},Ada,10.00,A`,
        `${germanIban(2)},Bob,10.00,B`,
        `${germanIban(1).replace(/(.{4})/g, '$1 ')},Ada again,"10,00",A`,
        `${germanIban(1)},Ada other debit,12.00,A`,
        `${germanIban(1)},Ada other reference,10.00,A2`,
        `${germanIban(2)},Bob again,10.00,B`,
      ],
      2,
    );
    expect(upload).toMatchObject({ rowsAccepted: 4, rowsRejected: 2 });
    expect(await acceptedRows(upload.id)).toEqual([2, 3, 5, 6]);
    expect(await problems(upload.id)).toEqual([
      { row: 4, code: 'duplicate_in_file', message: 'Duplicate of row 2 (same IBAN, amount and reference)' },
      { row: 7, code: 'duplicate_in_file', message: 'Duplicate of row 3 (same IBAN, amount and reference)' },
    ]);
  });

  it('does not count an invalid row as the first occurrence', async () => {
    const upload = await processCsv(['IBAN,Name,Amount', `${germanIban(3)},Эва,10.00`, `${germanIban(3)},Eva,10.00`]);
    expect(await acceptedRows(upload.id)).toEqual([3]);
  });
});

describe('duplicates against existing debtors', () => {
  it('refuses an IBAN whose debit from another upload is still open, and takes it once that debit is final', async () => {
    const first = await processCsv(['IBAN,Name,Amount', `${germanIban(10)},Open,10.00`, `${germanIban(11)},Settled,10.00`]);
    await environment.database.db.execute(sql`update billing_attempts set status = 'approved' where transaction_id = ${`${first.id}-3`}`);

    const second = await processCsv(['IBAN,Name,Amount', `${germanIban(10)},Open,20.00`, `${germanIban(11)},Settled,10.00`]);
    expect(second).toMatchObject({ rowsAccepted: 1, rowsRejected: 1 });
    expect(await problems(second.id)).toEqual([
      { row: 2, code: 'duplicate_open_debit', message: `IBAN already has an open debit from another upload (${first.id}-2)` },
    ]);

    await environment.database.db.execute(sql`update billing_attempts set status = 'declined' where upload_id = ${first.id}`);
    const third = await processCsv(['IBAN,Name,Amount', `${germanIban(10)},Open,20.00`]);
    expect(third).toMatchObject({ rowsAccepted: 1 });
  });
});

describe('the blacklist', () => {
  it('refuses listed IBANs in any notation, and takes them again once lifted', async () => {
    await addToBlacklist(environment.database.db, TEST_PERSONAL_DATA_KEY, { iban: germanIban(20), reason: 'chargeback MD06', reasonCode: 'MD06', source: 'chargeback' });
    const upload = await processCsv(['IBAN,Name,Amount', `${germanIban(20).toLowerCase()},Listed,10.00`, `${germanIban(21)},Fine,10.00`]);
    expect(upload).toMatchObject({ rowsAccepted: 1, rowsRejected: 1 });
    expect(await problems(upload.id)).toEqual([{ row: 2, code: 'blacklisted', message: 'IBAN is blacklisted: chargeback MD06' }]);

    await removeFromBlacklist(environment.database.db, TEST_PERSONAL_DATA_KEY, { iban: germanIban(20), reason: 'paid back' }, TEST_ACTOR);
    expect(await processCsv(['IBAN,Name,Amount', `${germanIban(20)},Listed,10.00`])).toMatchObject({ rowsAccepted: 1 });
  });
});
