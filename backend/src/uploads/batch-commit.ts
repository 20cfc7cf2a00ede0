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
 * pending billing attempts in two set-based statements.
 */
import type { ValidDebtorRow } from '@tether/shared/debtor-row';
import { OPEN_ATTEMPT_STATUSES } from '@tether/shared/attempt-status';
import type pg from 'pg';
import { findBlacklisted } from '../blacklist/blacklist';
import type { Executor } from '../db/executor';

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
 * build the same literal, but with two regular-expression replacements per element: for the
 * fifteen columns of a batch that was a quarter of Node's CPU per written row.
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

async function insertDebtors(client: pg.PoolClient, uploadId: string, rows: Array<{ row: number; debtor: ValidDebtorRow }>): Promise<void> {
  const column = (pick: (debtor: ValidDebtorRow) => string | number | undefined) => arrayLiteral(rows.map(({ debtor }) => pick(debtor)));
  await client.query(
    `with input as (
       select * from unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::text[], $11::text[], $12::text[], $13::date[], $14::text[], $15::bigint[], $16::text[])
         as t(upload_row, iban, bic, name, name_original, email, street, postal_code, city, country,
              mandate_reference, mandate_date, external_reference, amount_cents, transaction_id)
     ), new_debtors as (
       insert into debtors (iban, bic, name, name_original, email, address, mandate_reference, mandate_date,
                            external_reference, upload_id, upload_row)
       select iban, bic, name, name_original, email,
              nullif(jsonb_strip_nulls(jsonb_build_object('street', street, 'postalCode', postal_code, 'city', city, 'country', country)), '{}'::jsonb),
              mandate_reference, mandate_date, external_reference, $1::uuid, upload_row
         from input
       returning id, upload_row
     )
     insert into billing_attempts (transaction_id, debtor_id, upload_id, amount_cents)
     select i.transaction_id, d.id, $1::uuid, i.amount_cents
       from new_debtors d join input i using (upload_row)`,
    [
      uploadId,
      arrayLiteral(rows.map(({ row }) => row)),
      column((debtor) => debtor.iban),
      column((debtor) => debtor.bic),
      column((debtor) => debtor.name),
      column((debtor) => debtor.nameOriginal),
      column((debtor) => debtor.email),
      column((debtor) => debtor.address?.street),
      column((debtor) => debtor.address?.postalCode),
      column((debtor) => debtor.address?.city),
      column((debtor) => debtor.address?.country),
      column((debtor) => debtor.mandateReference),
      column((debtor) => debtor.mandateDate),
      column((debtor) => debtor.externalReference),
      column((debtor) => debtor.amountCents),
      arrayLiteral(rows.map(({ row }) => attemptTransactionId(uploadId, row))),
    ],
  );
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
  let decide!: (accepted: ReadonlyMap<string, number>) => void;
  let refuse!: (error: unknown) => void;
  const accepted = new Promise<ReadonlyMap<string, number>>((resolve, reject) => {
    decide = resolve;
    refuse = reject;
  });
  const committed = runBatch(lane, upload, batch, previous, decide).catch((error: unknown) => {
    refuse(error);
    throw error;
  });
  // Their failures surface through the next batch and through `committed` when awaited.
  accepted.catch(() => undefined);
  committed.catch(() => undefined);
  return { accepted, committed, lastRow: batch.lastRow };
}

async function runBatch(
  { client, db }: BatchLane,
  upload: BatchUpload,
  batch: Batch,
  previous: PreviousBatch,
  decide: (accepted: ReadonlyMap<string, number>) => void,
): Promise<BatchOutcome> {
  // JIT compiling these statements costs more CPU than running them: they touch a few thousand rows each.
  await client.query('begin; set local jit = off');
  try {
    const valid = batch.rows.filter((row): row is CheckedRow & { debtor: ValidDebtorRow } => row.debtor !== undefined);
    const ibans = [...new Set(valid.map((row) => row.debtor.iban))];
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

    if (accepted.length > 0) await insertDebtors(client, upload.id, accepted);
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
