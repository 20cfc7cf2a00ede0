/**
 * One batch of rows, committed in one transaction together with the upload's checkpoint
 * (committed_row) and counters: after a crash the next run resumes after the last committed
 * batch, and the rows of a half-done batch were never written. The checkpoint only moves from
 * where the previous batch left it, so a second run racing on the same upload fails instead of
 * writing a row twice.
 *
 * Inside the transaction the valid rows are checked against the database as a set: blacklisted
 * IBANs, duplicates of earlier rows of the same file (same IBAN, amount and reference; the first
 * wins), and IBANs with a debit still open from another upload. Accepted rows become debtors and
 * pending billing attempts, each table written with one COPY. Another upload processed at the
 * same time cannot accept the same new IBAN meanwhile: the batch holds a lock per IBAN (iban-locks.ts).
 */
import type { ValidDebtorRow } from '@tether/shared/debtor-row';
import { OPEN_ATTEMPT_STATUSES } from '@tether/shared/attempt-status';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { findBlacklisted } from '../blacklist/blacklist';
import type { Executor } from '../db/executor';
import { lockIbans } from './iban-locks';

export interface RowProblem {
  /** The column header as written in the file. */
  column: string;
  value: string;
  code: string;
  message: string;
}

export interface CheckedRow {
  row: number;
  /** Present when every field is valid; the database checks may still reject the row. */
  debtor?: ValidDebtorRow;
  problems: RowProblem[];
}

export interface Batch {
  rows: CheckedRow[];
  /** The last row number read, including empty rows that produced no CheckedRow. */
  lastRow: number;
  bytesRead: number;
}

/** The upload a batch belongs to; `personalDataKey` matches blacklisted IBANs by their keyed hash too. */
export interface BatchUpload {
  id: string;
  ibanColumn: string;
  personalDataKey: string;
}

export interface BatchOutcome {
  read: number;
  accepted: number;
  rejected: number;
}

/** Stable across retries of a batch: the same row always gets the same Genesis transaction_id. */
export function attemptTransactionId(uploadId: string, row: number): string {
  return `${uploadId}-${row}`;
}

function duplicateKey(debtor: ValidDebtorRow): string {
  return `${debtor.iban}|${debtor.amountCents}|${debtor.externalReference ?? ''}`;
}

interface ExistingDebit {
  iban: string;
  same_upload: boolean;
  upload_row: number | null;
  external_reference: string | null;
  amount_cents: number;
  transaction_id: string;
}

interface DuplicateIndex {
  /** Duplicate key → the first row of this upload with it. */
  inFile: Map<string, number>;
  /** IBAN → transaction_id of an open debit from another upload. */
  openElsewhere: Map<string, string>;
}

async function findExistingDebits(client: pg.PoolClient, uploadId: string, ibans: string[]): Promise<DuplicateIndex> {
  // One index probe per IBAN, whatever the planner's statistics say: they lag behind while an
  // upload grows the tables by a million rows, and a hash join over all debtors per batch would
  // make each batch slower than the one before.
  const { rows } = await client.query<ExistingDebit>(
    `select x.iban, d.upload_id = $2 as same_upload, d.upload_row, d.external_reference, a.amount_cents, a.transaction_id
       from unnest($1::text[]) as x(iban)
       cross join lateral (select id, upload_id, upload_row, external_reference from debtors where iban = x.iban offset 0) d
       cross join lateral (select amount_cents, transaction_id, status from billing_attempts where debtor_id = d.id offset 0) a
      where d.upload_id = $2 or a.status = any($3::text[])`,
    [arrayLiteral(ibans), uploadId, OPEN_ATTEMPT_STATUSES],
  );
  const index: DuplicateIndex = { inFile: new Map(), openElsewhere: new Map() };
  for (const debit of rows) {
    if (debit.same_upload && debit.upload_row !== null) {
      const key = `${debit.iban}|${debit.amount_cents}|${debit.external_reference ?? ''}`;
      index.inFile.set(key, Math.min(index.inFile.get(key) ?? debit.upload_row, debit.upload_row));
    } else if (!debit.same_upload) {
      index.openElsewhere.set(debit.iban, debit.transaction_id);
    }
  }
  return index;
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;

/**
 * A PostgreSQL array literal of the values, passed as one text parameter. node-postgres would
 * build the same literal, but with two regular-expression replacements per element, for every
 * IBAN of every batch.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | null | undefined>): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) parts[i] = 'NULL';
    else if (typeof value === 'number') parts[i] = String(value);
    else parts[i] = `"${NEEDS_ESCAPE.test(value) ? value.replace(ESCAPE, '\\$&') : value}"`;
  }
  return `{${parts.join(',')}}`;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A field in COPY's text format: `\N` for none, and the four characters that would end or escape a field escaped. */
export function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, (special) => COPY_ESCAPES[special]!) : value;
}

/** Streams `lines` (COPY text format) into the table through `COPY … FROM STDIN` on the batch's connection. */
async function copyInto(client: pg.PoolClient, statement: string, lines: string): Promise<void> {
  const stream = client.query(copyFrom(statement));
  stream.end(lines);
  await finished(stream);
}

/**
 * The accepted rows as debtors and their pending billing attempts, each table written by COPY,
 * PostgreSQL's bulk path (rows inserted a page at a time, no statement per row). The debtors'
 * ids are taken from their sequence first, so that the attempts can name them without reading
 * the debtors back.
 */
async function writeDebtorsAndAttempts(client: pg.PoolClient, uploadId: string, rows: Array<{ row: number; debtor: ValidDebtorRow }>): Promise<void> {
  const reserved = await client.query<{ ids: string }>(
    `select string_agg(nextval(sequence)::text, ',') as ids
       from (select pg_get_serial_sequence('debtors', 'id')::regclass as sequence) s, generate_series(1, $1)`,
    [rows.length],
  );
  const ids = reserved.rows[0]!.ids.split(',');
  let debtors = '';
  let attempts = '';
  for (let i = 0; i < rows.length; i++) {
    const { row, debtor } = rows[i]!;
    const id = ids[i]!;
    debtors += `${id}\t${copyField(debtor.iban)}\t${copyField(debtor.bic)}\t${copyField(debtor.name)}\t${copyField(debtor.nameOriginal)}\t${copyField(
      debtor.email,
    )}\t${copyField(debtor.address && JSON.stringify(debtor.address))}\t${copyField(debtor.mandateReference)}\t${copyField(debtor.mandateDate)}\t${copyField(
      debtor.externalReference,
    )}\t${uploadId}\t${row}\n`;
    attempts += `${copyField(attemptTransactionId(uploadId, row))}\t${id}\t${uploadId}\t${debtor.amountCents}\n`;
  }
  await copyInto(
    client,
    'copy debtors (id, iban, bic, name, name_original, email, address, mandate_reference, mandate_date, external_reference, upload_id, upload_row) from stdin',
    debtors,
  );
  await copyInto(client, 'copy billing_attempts (transaction_id, debtor_id, upload_id, amount_cents) from stdin', attempts);
}

async function insertProblems(client: pg.PoolClient, uploadId: string, problems: Array<RowProblem & { row: number }>): Promise<void> {
  if (problems.length === 0) return;
  await client.query(
    `insert into upload_errors (upload_id, row, "column", value, code, message)
     select $1::uuid, * from unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[])`,
    [
      uploadId,
      problems.map((problem) => problem.row),
      problems.map((problem) => problem.column),
      problems.map((problem) => problem.value),
      problems.map((problem) => problem.code),
      problems.map((problem) => problem.message),
    ],
  );
}

/** A connection of its own (no transaction open), and drizzle on that same connection for the blacklist service. */
export interface BatchLane {
  client: pg.PoolClient;
  db: Executor;
}

/** What a batch needs from the one before it. */
export interface PreviousBatch {
  /** Settles once it holds the locks of its IBANs (iban-locks.ts): only then does this batch take its own. */
  locked: Promise<unknown>;
  /** Duplicate keys it accepted, with their rows; settles once it has decided, long before it commits. */
  accepted: Promise<ReadonlyMap<string, number>>;
  committed: Promise<unknown>;
  /** The checkpoint it leaves behind: where this batch continues. */
  lastRow: number;
}

export interface BatchInFlight extends PreviousBatch {
  committed: Promise<BatchOutcome>;
}

/** Another run committed rows of this upload meanwhile; this one must stop. */
export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
}

/**
 * Starts the batch's transaction on `lane` and answers at once. Batches overlap on separate
 * connections but stay in order: a batch decides its rows only after the previous one decided
 * (its accepted keys count as "earlier rows of the file" before they are committed), and commits
 * only after the previous one committed, moving the checkpoint from exactly where that one left
 * it. If a batch fails, every later one rolls back too.
 */
export function commitBatch(lane: BatchLane, upload: BatchUpload, batch: Batch, previous: PreviousBatch): BatchInFlight {
  const locked = settledLater<void>();
  const accepted = settledLater<ReadonlyMap<string, number>>();
  const committed = runBatch(lane, upload, batch, previous, { locked: locked.resolve, decide: accepted.resolve }).catch((error: unknown) => {
    locked.reject(error);
    accepted.reject(error);
    throw error;
  });
  // Its failure surfaces through the next batch and through `committed` when awaited.
  committed.catch(() => undefined);
  return { locked: locked.promise, accepted: accepted.promise, committed, lastRow: batch.lastRow };
}

/** A promise settled from outside; a rejection no one awaits yet does not count as unhandled. */
function settledLater<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((resolveWith, rejectWith) => {
    resolve = resolveWith;
    reject = rejectWith;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

async function runBatch(
  { client, db }: BatchLane,
  upload: BatchUpload,
  batch: Batch,
  previous: PreviousBatch,
  { locked, decide }: { locked: () => void; decide: (accepted: ReadonlyMap<string, number>) => void },
): Promise<BatchOutcome> {
  // JIT compiling these statements costs more CPU than running them: they touch a few thousand rows each.
  await client.query('begin; set local jit = off');
  try {
    const valid = batch.rows.filter((row): row is CheckedRow & { debtor: ValidDebtorRow } => row.debtor !== undefined);
    const ibans = [...new Set(valid.map((row) => row.debtor.iban))];
    await previous.locked;
    await lockIbans(client, ibans);
    locked();
    const blacklisted = ibans.length > 0 ? await findBlacklisted(db, upload.personalDataKey, ibans) : new Map();
    const existing = ibans.length > 0 ? await findExistingDebits(client, upload.id, ibans) : { inFile: new Map(), openElsewhere: new Map() };
    for (const [key, row] of await previous.accepted) existing.inFile.set(key, Math.min(existing.inFile.get(key) ?? row, row));

    const acceptedKeys = new Map<string, number>();
    const accepted: Array<{ row: number; debtor: ValidDebtorRow }> = [];
    const problems: Array<RowProblem & { row: number }> = [];
    const reject = (row: CheckedRow, problem: RowProblem) => problems.push({ row: row.row, ...problem });
    for (const row of batch.rows) {
      if (!row.debtor) {
        row.problems.forEach((problem) => reject(row, problem));
        continue;
      }
      const { iban } = row.debtor;
      const key = duplicateKey(row.debtor);
      const duplicateOf = existing.inFile.get(key) ?? acceptedKeys.get(key);
      const openDebit = existing.openElsewhere.get(iban);
      const value = iban;
      if (blacklisted.has(iban)) {
        reject(row, { column: upload.ibanColumn, value, code: 'blacklisted', message: `IBAN is blacklisted: ${blacklisted.get(iban)!.reason}` });
      } else if (duplicateOf !== undefined) {
        reject(row, { column: upload.ibanColumn, value, code: 'duplicate_in_file', message: `Duplicate of row ${duplicateOf} (same IBAN, amount and reference)` });
      } else if (openDebit !== undefined) {
        reject(row, { column: upload.ibanColumn, value, code: 'duplicate_open_debit', message: `IBAN already has an open debit from another upload (${openDebit})` });
      } else {
        acceptedKeys.set(key, row.row);
        accepted.push({ row: row.row, debtor: row.debtor });
      }
    }
    decide(acceptedKeys);

    if (accepted.length > 0) await writeDebtorsAndAttempts(client, upload.id, accepted);
    await insertProblems(client, upload.id, problems);
    await previous.committed;
    const rejected = batch.rows.length - accepted.length;
    const moved = await client.query(
      `update uploads
          set committed_row = $3, rows_read = rows_read + $4, rows_accepted = rows_accepted + $5,
              rows_rejected = rows_rejected + $6, bytes_read = greatest(bytes_read, $7), updated_at = now()
        where id = $1 and committed_row = $2`,
      [upload.id, previous.lastRow, batch.lastRow, batch.rows.length, accepted.length, rejected, batch.bytesRead],
    );
    if (moved.rowCount !== 1) throw new CheckpointMovedError(`rows after ${previous.lastRow} were committed by another run`);
    await client.query('commit');
    return { read: batch.rows.length, accepted: accepted.length, rejected };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
