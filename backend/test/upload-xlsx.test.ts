/**
 * XLSX uploads: workbooks as exceljs writes them (sheets before shared strings, as Excel does),
 * inline strings, a first tab under any part name, dates and numbers, ZIP64 directories — and
 * the refusals: not a ZIP, an old .xls, a ZIP bomb, a directory that lies, too much text.
 */
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContentRefusedError, inspectContent } from '../src/uploads/content-check';
import { processUpload } from '../src/uploads/process-upload';
import { findUpload } from '../src/uploads/repository';
import { DEFAULT_UPLOAD_LIMITS, germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';
import { deflatedPart, inlineSheet, storedPart, workbookParts, zipBomb, zipOf } from './support/zip-files';

let environment: UploadTestEnvironment;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
});
afterAll(() => environment?.close());

// exceljs spools early worksheets through tmp.file(); record every call to prove none happens.
const tmp = createRequire(createRequire(import.meta.url).resolve('exceljs'))('tmp') as { file: (...args: unknown[]) => unknown };
const originalTmpFile = tmp.file;
const tempFiles: unknown[] = [];
tmp.file = (...args: unknown[]) => {
  tempFiles.push(args);
  return originalTmpFile(...args);
};
afterEach(() => expect(tempFiles).toEqual([]));

async function streamedWorkbook(rows: unknown[][], options: { useSharedStrings: boolean }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: output, useSharedStrings: options.useSharedStrings, useStyles: true });
  const sheet = workbook.addWorksheet('Debtors');
  for (const row of rows) sheet.addRow(row).commit();
  sheet.commit();
  await workbook.commit();
  return Buffer.concat(chunks);
}

async function processXlsx(content: Buffer) {
  const upload = await storeUpload(environment, 'debtors.xlsx', content);
  const result = await processUpload(environment.context({ batchSize: 2 }), upload.id);
  return { result, upload: (await findUpload(environment.database.db, upload.id))! };
}

async function debtorsOf(uploadId: string) {
  const result = await environment.database.db.execute<{ upload_row: number; iban: string; name: string; amount_cents: number; mandate_date: string | null; external_reference: string | null }>(
    sql`select d.upload_row, d.iban, d.name, a.amount_cents, d.mandate_date::text, d.external_reference
          from debtors d join billing_attempts a on a.debtor_id = d.id where d.upload_id = ${uploadId} order by d.upload_row`,
  );
  return result.rows;
}

async function refusal(content: Buffer, limits = DEFAULT_UPLOAD_LIMITS): Promise<string> {
  const key = `refusals/${crypto.randomUUID()}.xlsx`;
  await environment.storage.putObject(key, content);
  const error = await inspectContent(environment.storage, { fileKey: key, format: 'xlsx' }, limits).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ContentRefusedError);
  return (error as Error).message;
}

describe('processing an XLSX upload', () => {
  it('reads German headers, numbers, dates and rich text from a workbook written whole', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Lastschriften');
    sheet.addRow(['Kontoinhaber', 'IBAN', 'Betrag', 'Mandatsdatum', 'Kundennummer']);
    sheet.addRow(['Zoë Martin', germanIban(1), 12.5, new Date(Date.UTC(2025, 0, 31)), 4711]);
    sheet.addRow([{ richText: [{ text: 'Rich ' }, { text: 'Text', font: { bold: true } }] }, germanIban(2), { formula: '2*5', result: 10 }, null, 'K-2']);
    sheet.addRow([]);
    sheet.addRow(['Too Precise', germanIban(3), 1.005, null, null]);
    const { upload } = await processXlsx(Buffer.from(await workbook.xlsx.writeBuffer()));
    expect(upload).toMatchObject({ status: 'completed', rowsRead: 3, rowsAccepted: 2, rowsRejected: 1, committedRow: 5 });
    expect(await debtorsOf(upload.id)).toEqual([
      { upload_row: 2, iban: germanIban(1), name: 'Zoe Martin', amount_cents: 1250, mandate_date: '2025-01-31', external_reference: '4711' },
      { upload_row: 3, iban: germanIban(2), name: 'Rich Text', amount_cents: 1000, mandate_date: null, external_reference: 'K-2' },
    ]);
  });

  it('streams a workbook whose sheet comes before its shared strings, without temp files', async () => {
    const rows: unknown[][] = [['IBAN', 'Name', 'Amount']];
    for (let account = 10; account < 60; account++) rows.push([germanIban(account), `Debtor ${account}`, account]);
    const content = await streamedWorkbook(rows, { useSharedStrings: true });
    const names = zipEntryNames(content);
    expect(names.indexOf('xl/worksheets/sheet1.xml')).toBeLessThan(names.indexOf('xl/sharedStrings.xml'));
    const { upload } = await processXlsx(content);
    expect(upload).toMatchObject({ status: 'completed', rowsAccepted: 50 });
  });

  it('reads a workbook without shared strings', async () => {
    const content = await streamedWorkbook([['IBAN', 'Name', 'Amount'], [germanIban(70), 'Inline Ida', '3,50']], { useSharedStrings: false });
    expect(zipEntryNames(content)).not.toContain('xl/sharedStrings.xml');
    const { upload } = await processXlsx(content);
    expect(await debtorsOf(upload.id)).toMatchObject([{ name: 'Inline Ida', amount_cents: 350 }]);
  });

  it('takes the first tab whatever its part is called, from a ZIP64 directory', async () => {
    const sheet = inlineSheet([['IBAN', 'Name', 'Betrag'], [germanIban(80), 'Odd Part', '1,00']]);
    const content = zipOf([...workbookParts('worksheets/debtors.xml'), deflatedPart('xl/worksheets/debtors.xml', Buffer.from(sheet))], { zip64: true });
    const { upload } = await processXlsx(content);
    expect(await debtorsOf(upload.id)).toMatchObject([{ name: 'Odd Part', amount_cents: 100 }]);
  });

  it('fails when a part inflates beyond the size its directory declared', async () => {
    const { upload, result } = await processXlsx(zipBomb({ inflatedBytes: 2 * 1024 * 1024, declaredSize: 4096 }));
    expect(result.outcome).toBe('failed');
    expect(upload.error).toMatch(/ZIP bomb: xl\/worksheets\/sheet1.xml inflates beyond its declared size/);
  });
});

describe('refusing an XLSX', () => {
  it('that is a ZIP bomb, from its directory alone', async () => {
    expect(await refusal(zipBomb())).toMatch(/ZIP bomb: xl\/worksheets\/sheet1.xml expands 1\d{3} times/);
  });

  it('that unpacks to more than the cap', async () => {
    const big = zipOf([...workbookParts(), deflatedPart('xl/worksheets/sheet1.xml', Buffer.from('x'.repeat(1024)), 1024)]);
    expect(await refusal(big, { ...DEFAULT_UPLOAD_LIMITS, maxXlsxUncompressedBytes: 1000 })).toMatch(/unpacks to/);
  });

  it('whose shared strings would not fit the memory cap', async () => {
    const content = zipOf([...workbookParts(), storedPart('xl/sharedStrings.xml', `<sst>${'<si><t>x</t></si>'.repeat(100)}</sst>`), storedPart('xl/worksheets/sheet1.xml', inlineSheet([]))]);
    expect(await refusal(content, { ...DEFAULT_UPLOAD_LIMITS, maxXlsxSharedStringsBytes: 1000 })).toMatch(/save it as CSV/);
  });

  it('that is not a ZIP, or an old .xls', async () => {
    expect(await refusal(Buffer.from('IBAN,Name,Amount\n'.repeat(10)))).toMatch(/not a valid .xlsx/);
    expect(await refusal(Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)]))).toMatch(/old .xls/);
  });

  it('that has no workbook', async () => {
    expect(await refusal(zipOf([storedPart('word/document.xml', '<w/>')]))).toMatch(/no workbook/);
  });
});

function zipEntryNames(content: Buffer): string[] {
  const names: string[] = [];
  for (let at = content.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04])); at !== -1; at = content.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), at + 4)) {
    const length = content.readUInt16LE(at + 26);
    names.push(content.toString('utf8', at + 30, at + 30 + length).replace(/^\//, ''));
  }
  return names;
}
