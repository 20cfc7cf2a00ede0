/**
 * Processing CSV uploads against real PostgreSQL and the dev S3 server: encodings, delimiters,
 * header names, each row rule with a row that breaks it, and the error report.
 */
import { sql } from 'drizzle-orm';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { arrayLiteral, copyField } from '../src/uploads/batch-commit';
import { processUpload } from '../src/uploads/process-upload';
import { findUpload } from '../src/uploads/repository';
import { germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';

let environment: UploadTestEnvironment;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
});
afterAll(() => environment?.close());

async function debtorsOf(uploadId: string) {
  const result = await environment.database.db.execute<{ upload_row: number; iban: string; bic: string | null; name: string; name_original: string; amount_cents: number; transaction_id: string; status: string; mandate_date: string | null; address: Record<string, string> | null }>(
    sql`select d.upload_row, d.iban, d.bic, d.name, d.name_original, a.amount_cents, a.transaction_id, a.status, d.mandate_date::text, d.address
          from debtors d join billing_attempts a on a.debtor_id = d.id where d.upload_id = ${uploadId} order by d.upload_row`,
  );
  return result.rows;
}

async function problemsOf(uploadId: string) {
  const result = await environment.database.db.execute<{ row: number; column: string; value: string; code: string }>(
    sql`select row, "column", value, code from upload_errors where upload_id = ${uploadId} order by row, id`,
  );
  return result.rows;
}

async function process(fileName: string, content: Buffer | string, options: Parameters<typeof storeUpload>[3] = {}) {
  const upload = await storeUpload(environment, fileName, content, options);
  const result = await processUpload(environment.context(), upload.id);
  return { upload: (await findUpload(environment.database.db, upload.id))!, result };
}

async function readObject(key: string): Promise<string> {
  const object = await environment.storage.getObjectStream(key);
  const chunks: Buffer[] = [];
  for await (const chunk of object!.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('processing a CSV upload', () => {
  it('imports valid rows as debtors with pending attempts and records the rest', async () => {
    const csv = [
      'Name,IBAN,Amount,Reference',
      `Jürgen Müller,${germanIban(1)},"12,50",C-1`,
      `Ada Lovelace,${germanIban(2)},99.00,C-2`,
      'Bad Iban,DE00123,10.00,C-3',
      '',
      `Бoris,${germanIban(3)},abc,C-4`,
    ].join('\r\n');
    const { upload } = await process('debtors.csv', csv);
    expect(upload).toMatchObject({ status: 'completed', rowsRead: 4, rowsAccepted: 2, rowsRejected: 2, committedRow: 6, bytesRead: Buffer.byteLength(csv) });
    expect(await debtorsOf(upload.id)).toMatchObject([
      { upload_row: 2, iban: germanIban(1), name: 'Juergen Mueller', name_original: 'Jürgen Müller', amount_cents: 1250, transaction_id: `${upload.id}-2`, status: 'pending' },
      { upload_row: 3, iban: germanIban(2), name: 'Ada Lovelace', name_original: 'Ada Lovelace', amount_cents: 9900, transaction_id: `${upload.id}-3`, status: 'pending' },
    ]);
    expect(await problemsOf(upload.id)).toEqual([
      { row: 4, column: 'IBAN', value: 'DE00123', code: 'iban_wrong_length' },
      { row: 6, column: 'Name', value: 'Бoris', code: 'name_unmappable_characters' },
      { row: 6, column: 'Amount', value: 'abc', code: 'amount_not_a_number' },
    ]);
  });

  it('reads Windows-1252 with semicolons and German headers, as German Excel saves it', async () => {
    const csv = ['Kontoinhaber;IBAN;BIC;Betrag (EUR);Mandatsreferenz;Mandatsdatum;Straße;PLZ;Ort', `Jörg Weiß;${germanIban(10)};COBADEFFXXX;1.234,56;M-1;24.12.2025;Hauptstraße 1;50667;Köln`].join('\r\n');
    const { upload } = await process('lastschriften.csv', iconv.encode(csv, 'windows-1252'));
    expect(upload).toMatchObject({ encoding: 'windows-1252', delimiter: ';', rowsAccepted: 1 });
    expect(await debtorsOf(upload.id)).toMatchObject([
      { name: 'Joerg Weiss', name_original: 'Jörg Weiß', bic: 'COBADEFFXXX', amount_cents: 123456, mandate_date: '2025-12-24', address: { street: 'Hauptstraße 1', postalCode: '50667', city: 'Köln' } },
    ]);
  });

  it('reads UTF-8 with a byte-order mark and tabs', async () => {
    const csv = `\ufeffIBAN\tName\tAmount\r\n${germanIban(11)}\tÉmile Zola\t7.00\r\n`;
    const { upload } = await process('tabs.tsv', csv);
    expect(upload).toMatchObject({ encoding: 'utf-8', delimiter: '\t', rowsAccepted: 1 });
    expect(await debtorsOf(upload.id)).toMatchObject([{ name: 'Emile Zola', name_original: 'Émile Zola' }]);
  });

  it('reads UTF-16 as Excel saves "Unicode text"', async () => {
    const text = `IBAN\tName\tBetrag\r\n${germanIban(12)}\tÅsa Öberg\t3,00\r\n`;
    const { upload } = await process('unicode.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]));
    expect(upload).toMatchObject({ encoding: 'utf-16le', delimiter: '\t', rowsAccepted: 1 });
    expect(await debtorsOf(upload.id)).toMatchObject([{ name: 'Asa Oeberg', amount_cents: 300 }]);
  });

  it('tells Windows-1252 from UTF-8 even when the first umlaut comes late in the file', async () => {
    const lines = ['IBAN,Name,Amount'];
    for (let account = 20; account < 3_000; account++) lines.push(`${germanIban(account)},Plain Name,1.00`);
    lines.push(`${germanIban(3_000)},Gerd Müller,1.00`);
    const { upload } = await process('late.csv', iconv.encode(lines.join('\n'), 'windows-1252'));
    expect(upload).toMatchObject({ encoding: 'windows-1252', rowsAccepted: 2_981, rowsRejected: 0 });
  });

  it("uses the operator's column mapping and delimiter", async () => {
    const { upload } = await process('mapped.csv', ['Konto;Wer;Summe;Notiz', `${germanIban(13)};Hans Meier;5,00;x`].join('\n'), { columnMapping: { iban: 'Konto', name: 'Wer' } });
    expect(upload).toMatchObject({ delimiter: ';', rowsAccepted: 1 });
    const forced = await process('forced.csv', ['IBAN;Name;Amount', `${germanIban(14)};Hans Meier;5,00`].join('\n'), { delimiter: ',' });
    expect(forced.upload).toMatchObject({ delimiter: ',', status: 'failed', error: expect.stringContaining('No column found') });
  });

  it('refuses each broken rule with its own code', async () => {
    const rows: Array<[string, string]> = [
      [`${germanIban(30).slice(0, -1)}9,Wrong Checksum,1.00,,,`, 'iban_wrong_checksum'],
      ['DE8937040044053201300,Too Short,1.00,,,', 'iban_wrong_length'],
      ['TR330006100519786457841326,Not Sepa,1.00,,,', 'iban_not_sepa'],
      [`${germanIban(31)},Bad Bic,1.00,DEUTXXFF,,`, 'bic_unknown_country'],
      [`${germanIban(32)},Ivan Иванов,1.00,,,`, 'name_unmappable_characters'],
      [`${germanIban(33)},${'N'.repeat(71)},1.00,,,`, 'name_too_long'],
      [`${germanIban(34)},Many Decimals,1.0012,,,`, 'amount_too_many_decimals'],
      [`${germanIban(35)},Zero,"0,00",,,`, 'amount_not_positive'],
      [`${germanIban(36)},Too Much,"1.000.000.000,00",,,`, 'amount_above_maximum'],
      [`${germanIban(37)},Bad Mail,1.00,,nobody@,`, 'email_invalid'],
      [`${germanIban(38)},Future Mandate,1.00,,,2999-01-01`, 'mandate_date_in_future'],
      [`${germanIban(39)},,1.00,,,`, 'name_missing'],
    ];
    const csv = ['IBAN,Name,Amount,BIC,Email,Mandate date', ...rows.map(([line]) => line)].join('\n');
    const { upload } = await process('rules.csv', csv);
    expect(upload).toMatchObject({ rowsRead: rows.length, rowsAccepted: 0, rowsRejected: rows.length });
    const problems = await problemsOf(upload.id);
    expect(problems.map((problem) => [problem.row, problem.code])).toEqual(rows.map(([, code], index) => [index + 2, code]));
  });

  it('applies the configured amount cap', async () => {
    const upload = await storeUpload(environment, 'cap.csv', ['IBAN,Name,Amount', `${germanIban(40)},Big Spender,500.00`].join('\n'));
    await processUpload(environment.context({ maxAmountCents: 10_000 }), upload.id);
    expect(await problemsOf(upload.id)).toMatchObject([{ code: 'amount_above_maximum' }]);
  });

  it('fails the upload, not the rows, when a required column is missing', async () => {
    const { upload, result } = await process('nocolumn.csv', ['Name,Amount', 'Ada,1.00'].join('\n'));
    expect(result.outcome).toBe('failed');
    expect(upload).toMatchObject({ status: 'failed', error: expect.stringContaining('No column found for iban') });
  });

  it('fails an unreadable CSV with the row where reading stopped', async () => {
    const { upload } = await process('quote.csv', ['IBAN,Name,Amount', `${germanIban(41)},"Unclosed,1.00`, ...Array(5).fill(`${germanIban(42)},x,1.00`)].join('\n'));
    expect(upload).toMatchObject({ status: 'failed', error: expect.stringMatching(/cannot be read: .*line 7/) });
  });

  it('writes a report whose cells cannot run as spreadsheet formulas', async () => {
    const csv = [
      'IBAN,Name,Amount',
      `=cmd|' /C calc'!A0,Eve,1.00`,
      `+${germanIban(50)}X,"@SUM(1+1)",1.00`,
      `${germanIban(51)},"Tab",-1.00`,
      `"\tDE00",Quote "Me",1.00`,
    ].join('\n');
    const { upload } = await process('evil.csv', csv);
    const report = await readObject(upload.errorReportKey!);
    const lines = report.replace(/^\ufeff/, '').split('\r\n');
    expect(lines[0]).toBe('"row","column","value","code","reason"');
    expect(lines).toContain(`"2","IBAN","'=cmd|' /C calc'!A0","iban_invalid_characters","IBAN may contain only letters and digits (spaces are ignored)"`);
    expect(lines.some((line) => line.startsWith(`"3","IBAN","'+DE`))).toBe(true);
    expect(lines).toContain(`"3","Name","'@SUM(1+1)","name_unmappable_characters","Name contains characters outside the SEPA character set with no transliteration: ""@"""`);
    expect(lines.some((line) => line.startsWith(`"4","Amount","'-1.00"`))).toBe(true);
    expect(report).not.toMatch(/(^|,)"[=+\-@]/m);
  });
});

describe('the batch parameters and rows', () => {
  it('are array literals PostgreSQL reads back exactly as written', async () => {
    const texts = ['plain', 'NULL', '', ' spaced ', 'a,b', '{braces}', 'quote " inside', 'back\\slash \\"', "O'Brien", 'Jürgen Müller', 'tab\tnew\nline', null, undefined];
    const numbers = [1, -2, 1250, 9_007_199_254_740_991, null];
    const result = await environment.database.pool.query<{ texts: Array<string | null>; numbers: Array<string | null> }>(
      'select $1::text[] as texts, $2::bigint[]::text[] as numbers',
      [arrayLiteral(texts), arrayLiteral(numbers)],
    );
    expect(result.rows[0]!.texts).toEqual(texts.map((text) => text ?? null));
    expect(result.rows[0]!.numbers).toEqual(numbers.map((number) => (number === null ? null : String(number))));
    expect(arrayLiteral([])).toBe('{}');
  });

  it('are COPY text fields PostgreSQL reads back exactly as written', async () => {
    const texts = ['plain', '\\N', 'NULL', '', ' spaced ', 'back\\slash \\t', 'tab\there', 'new\nline', 'carriage\rreturn', '{"street":"a\\"b"}', 'Jürgen Müller', null, undefined];
    const client = await environment.database.pool.connect();
    try {
      await client.query('create temporary table copied (position int, text text, number bigint)');
      const stream = client.query(copyFrom('copy copied (position, text, number) from stdin'));
      stream.end(texts.map((text, position) => `${copyField(position)}\t${copyField(text)}\t${copyField(position === 0 ? -9_007_199_254_740_991 : null)}\n`).join(''));
      await finished(stream);
      const { rows } = await client.query<{ text: string | null; number: string | null }>('select text, number::text from copied order by position');
      expect(rows.map((row) => row.text)).toEqual(texts.map((text) => text ?? null));
      expect(rows.map((row) => row.number)).toEqual(texts.map((_, position) => (position === 0 ? '-9007199254740991' : null)));
    } finally {
      client.release();
    }
  });
});
