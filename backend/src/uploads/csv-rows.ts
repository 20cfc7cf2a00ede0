/**
 * The rows of a CSV upload, streamed: object storage → decoder (iconv-lite, which also drops a
 * byte-order mark; not for UTF-8, which csv-parse decodes) → csv-parse. Memory stays constant whatever the file size; one record is
 * capped so an unclosed quote cannot swallow the file.
 */
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { pipeline } from 'node:stream';
import type { Delimiter } from './csv-dialect';
import type { RowSource, SheetRow } from './sheet-row';
import type { StoredFile } from './stored-file';
import type { TextEncoding } from './text-inspection';

const MAX_RECORD_BYTES = 64 * 1024;

export class CsvFormatError extends Error {
  override name = 'CsvFormatError';
}

export async function openCsvRows(file: StoredFile, dialect: { encoding: TextEncoding; delimiter: Delimiter }): Promise<RowSource> {
  const body = await file.stream();
  // csv-parse reads bytes and decodes each field as UTF-8 itself: a UTF-8 file goes to it as it is
  // (its byte-order mark dropped by `bom`), rather than decoded to text and encoded back.
  const utf8 = dialect.encoding === 'utf-8';
  const parser = parse({
    bom: utf8,
    delimiter: dialect.delimiter,
    relax_column_count: true,
    relax_quotes: true,
    // Empty lines still count, so row numbers match what a spreadsheet shows.
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_BYTES,
  });
  if (utf8) pipeline(body, parser, () => undefined);
  else pipeline(body, iconv.decodeStream(dialect.encoding), parser, () => undefined);

  async function* rows(): AsyncGenerator<SheetRow> {
    let row = 0;
    try {
      for await (const record of parser) {
        row += 1;
        yield { row, cells: record as string[] };
      }
    } catch (error) {
      // csv-parse names the line; records parsed before it may not have reached us.
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('CSV_')) {
        throw new CsvFormatError(`The CSV cannot be read: ${error.message}`);
      }
      throw error;
    }
  }
  return { rows: rows(), bytesRead: () => file.bytesRead() };
}
