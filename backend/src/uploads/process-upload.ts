/**
 * Processing of one upload, on whichever node QStash picked: stream the file from storage, map
 * the header, check each row, commit batches with their checkpoint, write the error report.
 *
 * Node parses the next batch while PostgreSQL writes the previous ones, on two connections at
 * once; batches still decide and commit strictly in order (see commitBatch). Different uploads
 * are processed side by side, on any nodes: only batches with IBANs in common wait for each
 * other, at the per-IBAN locks (iban-locks.ts). A lease on the upload's row keeps a second
 * delivery of the same upload from working alongside; should one get through anyway (a lease run
 * out under a stalled node), the checkpoint, which only moves from where the previous batch left
 * it, stops it before it writes a row twice. Nothing here lives longer than a transaction on a
 * database connection, so it all holds behind pgBouncer in transaction mode.
 */
import { resolveColumns, type ColumnIndexes, type DebtorField } from '@tether/shared/debtor-columns';
import { cellText, validateDebtorRow, type CellValue, type DebtorCells, type RowRules } from '@tether/shared/debtor-row';
import { drizzle } from 'drizzle-orm/node-postgres';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
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
import {
  claimForProcessing,
  findUpload,
  markCompleted,
  markFailed,
  PROCESSING_LEASE_SECONDS,
  processingLeaseSecondsLeft,
  releaseProcessingLease,
  renewProcessingLease,
  type UploadRecord,
  type UploadStatus,
} from './repository';
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
  /** Another run holds this upload, for `retryAfterSeconds` at most unless it renews its lease. */
  | { outcome: 'busy'; retryAfterSeconds: number }
  /** Nothing to do: already finished, not uploaded yet, or unknown. */
  | { outcome: 'skipped'; status: UploadStatus | 'unknown' };

/** The file cannot be processed as it is; retrying will not help. */
class FileProblem extends Error {}

/**
 * Connections a batch may be written on at once. PostgreSQL's share of the work per row (index
 * and foreign-key maintenance) is about twice Node's, so two writers keep both busy.
 */
const WRITE_LANES = 2;
/** Names the runs of this process in `uploads.processing_by` (host, process id, run). */
const PROCESS_NAME = `${hostname()}:${process.pid}`;
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
  let previous: PreviousBatch = { locked: Promise.resolve(), accepted: Promise.resolve(new Map()), committed: Promise.resolve(), lastRow: upload.committedRow };
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

/**
 * The connections the batches are written on: the first waits for the pool like any request (and
 * holds nothing while it waits); the others are taken only when the pool has them to spare at
 * once, so that uploads running side by side on a node never hold one connection each while
 * waiting for another, and leave the pool to the node's other work.
 */
async function takeLanes(pool: pg.Pool): Promise<pg.PoolClient[]> {
  const lanes = [await pool.connect()];
  const spare = () => pool.waitingCount === 0 && (pool.idleCount > 0 || pool.totalCount < (pool.options.max ?? 10));
  try {
    while (lanes.length < WRITE_LANES && spare()) lanes.push(await pool.connect());
  } catch (error) {
    for (const lane of lanes) lane.release();
    throw error;
  }
  return lanes;
}

/** Renews the run's lease every third of it while `work` runs; aborts `lost` if the upload is no longer the run's. */
async function holdingLease<T>(context: UploadProcessingContext, uploadId: string, by: string, work: (lost: AbortSignal) => Promise<T>): Promise<T> {
  const lost = new AbortController();
  let renewal: Promise<void> = Promise.resolve();
  const renew = () => {
    renewal = renewProcessingLease(context.database.db, uploadId, by).then(
      (held) => {
        if (!held) lost.abort(new Error('the upload was taken over by another run after this one\'s lease ran out'));
      },
      // The database is unreachable: the batches will fail too, and say so.
      () => undefined,
    );
  };
  const timer = setInterval(renew, (PROCESSING_LEASE_SECONDS * 1000) / 3);
  try {
    return await work(lost.signal);
  } finally {
    clearInterval(timer);
    await renewal;
  }
}

export async function processUpload(context: UploadProcessingContext, uploadId: string, options: ProcessingOptions = {}): Promise<ProcessingResult> {
  const { db } = context.database;
  const by = `${PROCESS_NAME}:${randomBytes(4).toString('hex')}`;
  const log = context.log.child({ uploadId });
  const upload = await claimForProcessing(db, uploadId, by);
  if (!upload) {
    const retryAfterSeconds = await processingLeaseSecondsLeft(db, uploadId);
    if (retryAfterSeconds !== undefined) return { outcome: 'busy', retryAfterSeconds };
    return { outcome: 'skipped', status: (await findUpload(db, uploadId))?.status ?? 'unknown' };
  }
  log.info({ format: upload.format, resumeAfterRow: upload.committedRow }, 'processing upload');
  let finished = false;
  try {
    const result = await holdingLease(context, uploadId, by, (lost) => processClaimed(context, upload, { ...options, signal: options.signal ? AbortSignal.any([options.signal, lost]) : lost }));
    finished = true;
    return result;
  } finally {
    // Stopped short (crash of a batch, abort): the next delivery may start at once.
    if (!finished) await releaseProcessingLease(db, uploadId, by).catch(() => undefined);
  }
}

/**
 * importRows on lanes of its own, given back to the pool before the upload is marked done: the
 * error report and the completion then take a connection like any request, and never wait for
 * one while this run still holds its lanes (two uploads on a small pool would wait for each other).
 */
async function importOnLanes(context: UploadProcessingContext, upload: UploadRecord, options: ProcessingOptions): Promise<void> {
  const clients = await takeLanes(context.database.pool);
  let failure: Error | undefined;
  try {
    await importRows(context, upload, clients.map((lane) => ({ client: lane, db: drizzle(lane, { schema }) })), options);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // After a failure a connection may be broken or mid-transaction, so it is closed, not pooled.
    for (const client of clients) client.release(failure);
  }
}

async function processClaimed(context: UploadProcessingContext, upload: UploadRecord, options: ProcessingOptions): Promise<ProcessingResult> {
  const { pool, db } = context.database;
  const log = context.log.child({ uploadId: upload.id });
  try {
    await importOnLanes(context, upload, options);
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
}
