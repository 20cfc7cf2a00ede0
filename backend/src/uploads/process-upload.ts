/**
 * Processing of one upload, on whichever node QStash picked: stream the file from storage, map
 * the header, check each row, commit batches with their checkpoint, write the error report.
 *
 * Parsing the next batch overlaps with committing the previous one (Node parses while
 * PostgreSQL writes), but batches commit strictly in order. A session advisory lock keeps a
 * second delivery of the same upload from working alongside; should it get through anyway (a
 * lost connection frees the lock), the checkpoint inside each batch transaction still keeps
 * every row single.
 */
import { resolveColumns, type ColumnIndexes, type DebtorField } from '@tether/shared/debtor-columns';
import { cellText, validateDebtorRow, type CellValue, type DebtorCells, type RowRules } from '@tether/shared/debtor-row';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { UploadLimits } from '../config';
import type { DatabaseHandle } from '../db/client';
import * as schema from '../db/schema';
import type { Logger } from '../log';
import type { ObjectStorage } from '../storage/object-storage';
import { commitBatch, type Batch, type BatchOutcome, type CheckedRow } from './batch-commit';
import type { Executor } from '../db/executor';
import type pg from 'pg';
import { CsvFormatError, openCsvRows } from './csv-rows';
import { writeErrorReport } from './error-report';
import { claimForProcessing, findUpload, markCompleted, markFailed, type UploadRecord, type UploadStatus } from './repository';
import { isEmptyRow, type RowSource } from './sheet-row';
import { MissingObjectError, StoredFile } from './stored-file';
import { XlsxRefusedError } from './xlsx-package';
import { openXlsxRows } from './xlsx-rows';

export interface UploadProcessingContext {
  database: DatabaseHandle;
  storage: ObjectStorage;
  limits: UploadLimits;
  log: Logger;
}

export interface ProcessingOptions {
  /** Stops between batches, as a crash would (tests, shutdown). */
  signal?: AbortSignal;
  /** Called after each committed batch. */
  onBatch?: (outcome: BatchOutcome & { lastRow: number }) => void;
}

export type ProcessingResult =
  | { outcome: 'completed' | 'failed'; upload: UploadRecord }
  /** Another run holds this upload. */
  | { outcome: 'busy' }
  /** Nothing to do: already finished, not uploaded yet, or unknown. */
  | { outcome: 'skipped'; status: UploadStatus | 'unknown' };

/** The file cannot be processed as it is; retrying will not help. */
class FileProblem extends Error {}

const UPLOAD_LOCK_NAMESPACE = 7_406_115;

function isFileProblem(error: unknown): error is Error {
  return error instanceof FileProblem || error instanceof CsvFormatError || error instanceof XlsxRefusedError || error instanceof MissingObjectError;
}

async function openRows(context: UploadProcessingContext, upload: UploadRecord): Promise<RowSource> {
  if (upload.sizeBytes === null) throw new FileProblem('The upload was never completed');
  const file = new StoredFile(context.storage, upload.fileKey, upload.sizeBytes);
  if (upload.format === 'xlsx') return openXlsxRows(file, context.limits);
  return openCsvRows(file, { encoding: upload.encoding ?? 'utf-8', delimiter: upload.delimiter ?? ',' });
}

/** Field → column index and header, fixed once per file so each row costs only the lookups. */
export class RowChecker {
  private readonly fields: Array<[DebtorField, number]>;
  readonly headers: Partial<Record<DebtorField, string>>;

  constructor(
    header: readonly CellValue[],
    columns: ColumnIndexes,
    private readonly rules: RowRules,
  ) {
    this.fields = Object.entries(columns) as Array<[DebtorField, number]>;
    this.headers = Object.fromEntries(this.fields.map(([field, index]) => [field, cellText(header[index])]));
  }

  check(row: number, cells: readonly CellValue[]): CheckedRow {
    const byField: DebtorCells = {};
    for (const [field, index] of this.fields) byField[field] = cells[index];
    const result = validateDebtorRow(byField, this.rules);
    if (result.ok) return { row, debtor: result.row, problems: [] };
    return {
      row,
      problems: result.errors.map((error) => ({ column: this.headers[error.field] ?? error.field, value: error.value, code: error.code, message: error.message })),
    };
  }
}

async function importRows(
  context: UploadProcessingContext,
  upload: UploadRecord,
  connection: { client: pg.PoolClient; db: Executor },
  options: ProcessingOptions,
): Promise<void> {
  const source = await openRows(context, upload);
  const rules: RowRules = { amountLimits: { minCents: 1, maxCents: context.limits.maxAmountCents }, today: new Date() };
  let checker: RowChecker | undefined;
  let rows: CheckedRow[] = [];
  let inFlight: Promise<unknown> = Promise.resolve();

  const flush = async () => {
    const batch: Batch = { rows, lastRow: rows[rows.length - 1]!.row, bytesRead: source.bytesRead() };
    rows = [];
    await inFlight;
    options.signal?.throwIfAborted();
    const target = { id: upload.id, ibanColumn: checker!.headers.iban ?? 'IBAN' };
    inFlight = commitBatch(connection.client, connection.db, target, batch).then((outcome) => options.onBatch?.({ ...outcome, lastRow: batch.lastRow }));
    // Awaited before the next batch or at the end; until then a failure must not count as unhandled.
    inFlight.catch(() => undefined);
  };

  for await (const { row, cells } of source.rows) {
    if (isEmptyRow(cells)) continue;
    if (!checker) {
      const columns = resolveColumns(cells.map(cellText), (upload.columnMapping ?? {}) as Record<string, string>);
      if (!columns.ok) throw new FileProblem(columns.message);
      checker = new RowChecker(cells, columns.columns, rules);
      continue;
    }
    // Rows up to the checkpoint were committed by an earlier run.
    if (row <= upload.committedRow) continue;
    rows.push(checker.check(row, cells));
    if (rows.length >= context.limits.batchSize) await flush();
  }
  if (!checker) throw new FileProblem('The file has no header row');
  if (rows.length > 0) await flush();
  await inFlight;
}

export async function processUpload(context: UploadProcessingContext, uploadId: string, options: ProcessingOptions = {}): Promise<ProcessingResult> {
  const { pool } = context.database;
  const client = await pool.connect();
  const log = context.log.child({ uploadId });
  let failure: Error | undefined;
  try {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as locked', [UPLOAD_LOCK_NAMESPACE, uploadId]);
    if (!rows[0]?.locked) return { outcome: 'busy' };
    try {
      const db = drizzle(client, { schema });
      const upload = await claimForProcessing(db, uploadId);
      if (!upload) return { outcome: 'skipped', status: (await findUpload(db, uploadId))?.status ?? 'unknown' };
      log.info({ format: upload.format, resumeAfterRow: upload.committedRow }, 'processing upload');

      try {
        await importRows(context, upload, { client, db }, options);
      } catch (error) {
        if (!isFileProblem(error)) throw error;
        await markFailed(db, upload.id, error.message);
        log.warn({ error: error.message }, 'upload failed: the file cannot be processed');
        return { outcome: 'failed', upload: (await findUpload(db, upload.id))! };
      }
      const reportKey = await writeErrorReport(pool, context.storage, { id: upload.id, delimiter: upload.delimiter ?? ',' });
      await markCompleted(db, upload.id, reportKey);
      const finished = (await findUpload(db, upload.id))!;
      log.info({ rowsRead: finished.rowsRead, rowsAccepted: finished.rowsAccepted, rowsRejected: finished.rowsRejected }, 'upload processed');
      return { outcome: 'completed', upload: finished };
    } finally {
      await client.query('select pg_advisory_unlock($1, hashtext($2))', [UPLOAD_LOCK_NAMESPACE, uploadId]).catch(() => undefined);
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // After a failure the connection may be broken or mid-transaction: it is closed, not pooled.
    client.release(failure);
  }
}
