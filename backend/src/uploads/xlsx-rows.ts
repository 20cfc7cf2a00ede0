/**
 * The rows of an XLSX's first sheet, streamed with exceljs's WorkbookReader and no temp files.
 *
 * exceljs reads a ZIP front to back and spools every worksheet that arrives before
 * sharedStrings.xml to a temp file (Excel itself writes the sheets first). So the reader is not
 * given the upload as stored: it is given a ZIP stream assembled from ranged reads of the parts
 * it needs, in the order it needs them — relationships, workbook, styles, shared strings, then
 * the first sheet. Each part is inflated here to exactly the size the checked directory declared
 * and passed on stored, so a lying directory cannot smuggle a ZIP bomb past the check.
 *
 * Memory: shared strings stay in memory for the whole sheet (capped by
 * UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES); the sheet itself streams.
 */
import ExcelJS from 'exceljs';
import { crc32, createInflateRaw } from 'node:zlib';
import { pipeline, Readable } from 'node:stream';
import type { CellValue } from '@tether/shared/debtor-row';
import type { RowSource, SheetRow } from './sheet-row';
import type { StoredFile } from './stored-file';
import { findPart, firstSheetPath, readXlsxDirectory, XLSX_PARTS, XlsxRefusedError, type XlsxLimits } from './xlsx-package';
import { entryDataRange, storedEntryHeader, type ZipEntry } from './zip-directory';

/** exceljs only parses worksheets named like this; the first tab is passed under this name whatever it is called. */
const SHEET_NAME_FOR_READER = 'xl/worksheets/sheet1.xml';
const EMPTY_SHARED_STRINGS = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>');

async function* inflateExactly(file: StoredFile, entry: ZipEntry): AsyncGenerator<Buffer> {
  const compressed = await file.stream(await entryDataRange(file.read, entry));
  let source: Readable = compressed;
  if (entry.method === 8) {
    const inflater = createInflateRaw();
    pipeline(compressed, inflater, () => undefined);
    source = inflater;
  }
  let produced = 0;
  for await (const chunk of source) {
    produced += (chunk as Buffer).length;
    if (produced > entry.uncompressedSize) {
      throw new XlsxRefusedError(`The .xlsx is refused as a ZIP bomb: ${entry.name} inflates beyond its declared size`);
    }
    yield chunk as Buffer;
  }
  if (produced !== entry.uncompressedSize) throw new XlsxRefusedError(`The .xlsx is damaged: ${entry.name} is shorter than declared`);
}

async function inflateWhole(file: StoredFile, entry: ZipEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of inflateExactly(file, entry)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

type Part = { name: string; entry: ZipEntry } | { name: string; content: Buffer };

/**
 * What the unzipper still expects of a part that failed. exceljs neither hears errors of its
 * input stream nor a stream cut short inside a part (it waits forever), so the part is completed
 * with bytes no XML parser accepts, which stops exceljs at once; the real cause is thrown then.
 */
async function* unparsable(bytes: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(Math.min(bytes, 64 * 1024), '<');
  for (let left = bytes; left > 0; left -= chunk.length) yield chunk.subarray(0, Math.min(left, chunk.length));
}

/** The parts as one ZIP of stored entries; the first failure is handed to `fail` and ends the stream. */
async function* storedZip(file: StoredFile, parts: Part[], fail: (cause: unknown) => void): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if ('content' in part) {
      yield storedEntryHeader(part.name, part.content.length, crc32(part.content));
      yield part.content;
      continue;
    }
    yield storedEntryHeader(part.name, part.entry.uncompressedSize, part.entry.crc32);
    let produced = 0;
    try {
      for await (const chunk of inflateExactly(file, part.entry)) {
        produced += chunk.length;
        yield chunk;
      }
    } catch (error) {
      fail(error);
      yield* unparsable(part.entry.uncompressedSize - produced);
      return;
    }
  }
}

function plainText(value: ExcelJS.CellValue): CellValue {
  if (value === null || value === undefined || typeof value !== 'object' || value instanceof Date) return value;
  if ('richText' in value) return value.richText.map((run) => run.text).join('');
  if ('error' in value) return value.error;
  if ('hyperlink' in value) return plainText(value.text as ExcelJS.CellValue);
  if ('result' in value) return plainText(value.result as ExcelJS.CellValue);
  return undefined;
}

export async function openXlsxRows(file: StoredFile, limits: XlsxLimits): Promise<RowSource> {
  const directory = await readXlsxDirectory(file.read, file.size, limits);
  const relationships = findPart(directory, XLSX_PARTS.workbookRelationships)!;
  const workbook = findPart(directory, XLSX_PARTS.workbook)!;
  const relationshipsXml = await inflateWhole(file, relationships);
  const workbookXml = await inflateWhole(file, workbook);
  const sheetPath = firstSheetPath(workbookXml.toString('utf8'), relationshipsXml.toString('utf8'));
  const sheet = sheetPath === undefined ? undefined : findPart(directory, sheetPath);
  if (!sheet) throw new XlsxRefusedError('The .xlsx has no worksheet');
  const styles = findPart(directory, XLSX_PARTS.styles);
  const sharedStrings = findPart(directory, XLSX_PARTS.sharedStrings);

  // Without shared strings exceljs would wait for them and spool the sheet to disk: give it an empty set.
  const parts: Part[] = [
    { name: XLSX_PARTS.workbookRelationships, content: relationshipsXml },
    { name: XLSX_PARTS.workbook, content: workbookXml },
    ...(styles ? [{ name: XLSX_PARTS.styles, entry: styles }] : []),
    sharedStrings ? { name: XLSX_PARTS.sharedStrings, entry: sharedStrings } : { name: XLSX_PARTS.sharedStrings, content: EMPTY_SHARED_STRINGS },
    { name: SHEET_NAME_FOR_READER, entry: sheet },
  ];
  let cause: unknown;
  const zip = Readable.from(
    storedZip(file, parts, (error) => {
      cause ??= error;
    }),
  );
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(zip, {
    sharedStrings: 'cache',
    // Styles tell dates from numbers.
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });

  async function* rows(): AsyncGenerator<SheetRow> {
    try {
      for await (const worksheet of reader) {
        for await (const row of worksheet) {
          const values = row.values as ExcelJS.CellValue[];
          // exceljs counts columns from 1; index 0 is always empty.
          yield { row: row.number, cells: Array.from(values.slice(1), plainText) };
        }
        break;
      }
    } catch (error) {
      throw cause ?? error;
    } finally {
      zip.destroy();
    }
    if (cause) throw cause;
  }
  return { rows: rows(), bytesRead: () => file.bytesRead() };
}
