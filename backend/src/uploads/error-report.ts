/**
 * The error report of an upload: one CSV line per problem (row, column, value, code, reason),
 * streamed from upload_errors into object storage page by page, in the spreadsheet-safe CSV of
 * shared/src/spreadsheet-csv.ts (the values come from an untrusted file).
 */
import { Readable } from 'node:stream';
import type pg from 'pg';
import { csvLine, UTF8_BOM } from '@tether/shared/spreadsheet-csv';
import type { ObjectStorage } from '../storage/object-storage';

const PAGE_SIZE = 5_000;
const HEADER = ['row', 'column', 'value', 'code', 'reason'];

interface ProblemLine {
  id: number;
  row: number;
  column: string;
  value: string;
  code: string;
  message: string;
}

async function* reportLines(pool: pg.Pool, uploadId: string, delimiter: string): AsyncGenerator<Buffer> {
  yield Buffer.from(`${UTF8_BOM}${csvLine(HEADER, delimiter)}`);
  let after = { row: 0, id: 0 };
  for (;;) {
    const { rows } = await pool.query<ProblemLine>(
      `select id, row, "column", value, code, message from upload_errors
        where upload_id = $1 and (row, id) > ($2, $3) order by row, id limit $4`,
      [uploadId, after.row, after.id, PAGE_SIZE],
    );
    const lines = rows.map((line) => csvLine([String(line.row), line.column, line.value, line.code, line.message], delimiter));
    if (lines.length > 0) yield Buffer.from(lines.join(''));
    if (rows.length < PAGE_SIZE) return;
    const last = rows[rows.length - 1]!;
    after = { row: last.row, id: last.id };
  }
}

export function errorReportKey(uploadId: string): string {
  return `uploads/${uploadId}/error-report.csv`;
}

/** Writes the report when the upload has problems; answers its key, or undefined when there were none. */
export async function writeErrorReport(
  pool: pg.Pool,
  storage: ObjectStorage,
  upload: { id: string; delimiter: string },
): Promise<string | undefined> {
  const { rows } = await pool.query('select 1 from upload_errors where upload_id = $1 limit 1', [upload.id]);
  if (rows.length === 0) return undefined;
  const key = errorReportKey(upload.id);
  await storage.upload(key, Readable.from(reportLines(pool, upload.id, upload.delimiter)), { contentType: 'text/csv; charset=utf-8' });
  return key;
}
