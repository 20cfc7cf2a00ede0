/**
 * Processing of one upload, on whichever node QStash picked: stream the file from storage, map
 * the header, check each row, commit batches with their checkpoint, write the error report.
 *
 * Node parses the next batch while PostgreSQL writes the previous ones, on two connections at
 * once; batches still decide and commit strictly in order (see commitBatch). A session advisory
 * lock keeps a second delivery of the same upload from working alongside; should one get through
 * anyway (a lost connection frees the lock), the checkpoint, which only moves from where the
 * previous batch left it, stops it before it writes a row twice.
 */
import { resolveColumns, type ColumnIndexes, type DebtorField } from '@tether/shared/debtor-columns';
import { cellText, validateDebtorRow, type CellValue, type DebtorCells, type RowRules } from '@tether/shared/debtor-row';
import { drizzle } from 'drizzle-orm/node-postgres';
import { setImmediate } from 'node:timers/promises';
import type { UploadLimits } from '../config';
import type { DatabaseHandle } from '../db/client';
import * as schema from '../db/schema';
import type { Logger } from '../log';
import type { ObjectStorage } from '../storage/object-storage';
import { commitBatch, type Batch, type BatchLane, type BatchOutcome, type CheckedRow, type PreviousBatch } from './batch-commit';
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
  /** PERSONAL_DATA_KEY: rows are checked against the blacklist by IBAN and by its keyed hash. */
  personalDataKey: string;
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

export const UPLOAD_LOCK_NAMESPACE = 7_406_115;
const ONE_UPLOAD_AT_A_TIME = 7_406_114;
/**
 * Connections a batch may be written on at once. PostgreSQL's share of the work per row (index
 * and foreign-key maintenance) is about twice Node's, so two writers keep both busy.
 */
const WRITE_LANES = 2;
const YIELD_EVERY_ROWS = 250;

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

async function importRows(context: UploadProcessingContext, upload: UploadRecord, lanes: BatchLane[], options: ProcessingOptions): Promise<void> {
  const source = await openRows(context, upload);
  const rules: RowRules = { amountLimits: { minCents: 1, maxCents: context.limits.maxAmountCents }, today: new Date() };
  let checker: RowChecker | undefined;
  let rows: CheckedRow[] = [];
  let previous: PreviousBatch = { accepted: Promise.resolve(new Map()), committed: Promise.resolve(), lastRow: upload.committedRow };
  const laneDone: Promise<unknown>[] = lanes.map(() => Promise.resolve());
  let batches = 0;

  const flush = async () => {
    const batch: Batch = { rows, lastRow: rows[rows.length - 1]!.row, bytesRead: source.bytesRead() };
    rows = [];
    const lane = batches++ % lanes.length;
    // The lane's previous batch is done, and with it every batch before (they commit in order).
    await laneDone[lane];
    options.signal?.throwIfAborted();
    const inFlight = commitBatch(lanes[lane]!, { id: upload.id, ibanColumn: checker!.headers.iban ?? 'IBAN', personalDataKey: context.personalDataKey }, batch, previous);
    laneDone[lane] = inFlight.committed.then((outcome) => options.onBatch?.({ ...outcome, lastRow: batch.lastRow }));
    // Awaited before the lane's next batch or at the end; until then a failure must not count as unhandled.
    laneDone[lane]!.catch(() => undefined);
    previous = inFlight;
  };

  try {
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
      // Parsing from a full buffer never leaves the microtask queue: let PostgreSQL's answers in,
      // or the connections would sit idle until the parser runs dry.
      else if (rows.length % YIELD_EVERY_ROWS === 0) await setImmediate();
    }
    if (!checker) throw new FileProblem('The file has no header row');
    if (rows.length > 0) await flush();
    await Promise.all(laneDone);
  } finally {
    // Leave no transaction running on a connection that is about to be released.
    await Promise.allSettled(laneDone);
  }
}

export async function processUpload(context: UploadProcessingContext, uploadId: string, options: ProcessingOptions = {}): Promise<ProcessingResult> {
  const { pool } = context.database;
  const log = context.log.child({ uploadId });
  const clients: pg.PoolClient[] = [];
  let failure: Error | undefined;
  try {
    const client = await pool.connect();
    clients.push(client);
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as locked', [UPLOAD_LOCK_NAMESPACE, uploadId]);
    if (!rows[0]?.locked) return { outcome: 'busy' };
    // Two uploads processed at once could each accept the same new IBAN, neither seeing the
    // other's uncommitted rows: uploads take turns, across all nodes. A dead node's turn ends with its connection.
    await client.query('select pg_advisory_lock($1)', [ONE_UPLOAD_AT_A_TIME]);
    const db = drizzle(client, { schema });
    const upload = await claimForProcessing(db, uploadId);
    if (!upload) return { outcome: 'skipped', status: (await findUpload(db, uploadId))?.status ?? 'unknown' };
    log.info({ format: upload.format, resumeAfterRow: upload.committedRow }, 'processing upload');

    while (clients.length < WRITE_LANES) clients.push(await pool.connect());
    const lanes = clients.map((lane) => ({ client: lane, db: drizzle(lane, { schema }) }));
    try {
      await importRows(context, upload, lanes, options);
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
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // Session locks end with the session. After a failure a connection may be broken or
    // mid-transaction, so it is closed, not pooled; otherwise the locks are given back first.
    if (!failure) await clients[0]?.query('select pg_advisory_unlock_all()').catch(() => undefined);
    for (const client of clients) client.release(failure);
  }
}
