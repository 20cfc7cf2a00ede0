/**
 * Erasure of a debtor on request (GDPR Art. 17). The debtor is a person, known to Tether by an
 * IBAN: every debtor row with that IBAN is erased together. Their name, IBAN, email and street
 * are replaced by one pseudonym (keyed-hash.ts) wherever Tether keeps copies of them:
 *
 * - debtors: name, IBAN, email, address, BIC replaced or cleared; amounts, references and dates stay;
 * - the columns below that copy them as text (attempt histories, EMP payloads and answers,
 *   rejected upload rows, blacklist reasons, review reasons, upload errors);
 * - object storage: the original file of every upload that held one of their rows is deleted
 *   (rewriting a spreadsheet risks keeping a copy somewhere in it), and its error report is
 *   written again from the scrubbed rejected rows.
 *
 * Attempts not yet sent are cancelled (nothing may be collected without the IBAN); sent ones keep
 * their amounts and statuses for accounting. Blacklist entries of the IBAN keep its keyed hash,
 * so the IBAN stays refused after its text is gone. One audit entry, in the erasure's transaction.
 */
import { normaliseIban } from '@tether/shared/iban';
import { sql, type SQL } from 'drizzle-orm';
import { moveAttempts } from '../billing/attempt-moves';
import { recordAudit, type AuditActor } from '../audit/record';
import type { Executor } from '../db/executor';
import { billingAttempts } from '../db/schema';
import { writeErrorReport } from '../uploads/error-report';
import { deleteUploadObjects, markUploadObjectsDeleted, type UploadObjects } from '../uploads/stored-objects';
import type { PersonalDataContext } from './context';
import { erasurePseudonym, ibanKeyedHash } from './keyed-hash';

export class ErasureRefused extends Error {
  override name = 'ErasureRefused';
}

export interface ErasureResult {
  pseudonym: string;
  debtorIds: number[];
  attemptsCancelled: number;
  /** Uploads whose original file was deleted (and error report rewritten). */
  uploadIds: string[];
}

/**
 * Text columns that may hold a copy of a debtor's personal data, beside the debtors row itself.
 * audit_log is not among them: it is append-only and never holds whole IBANs or names (record.ts).
 */
const COPIES: ReadonlyArray<{ table: string; column: string; type: 'text' | 'jsonb' }> = [
  { table: 'billing_attempts', column: 'history', type: 'jsonb' },
  { table: 'billing_attempts', column: 'error_message', type: 'text' },
  { table: 'webhook_events', column: 'payload', type: 'jsonb' },
  { table: 'webhook_events', column: 'emp_answer', type: 'jsonb' },
  { table: 'webhook_events', column: 'error', type: 'text' },
  { table: 'upload_errors', column: 'value', type: 'text' },
  { table: 'upload_errors', column: 'message', type: 'text' },
  { table: 'uploads', column: 'error', type: 'text' },
  { table: 'blacklist', column: 'reason', type: 'text' },
  { table: 'blacklist', column: 'removal_reason', type: 'text' },
  { table: 'review_decisions', column: 'reason', type: 'text' },
];

/** Shorter values (a two-letter name) would replace unrelated text everywhere. */
const MIN_SCRUBBED_LENGTH = 3;

type DebtorData = {
  id: number;
  iban: string;
  name: string;
  name_original: string;
  email: string | null;
  street: string | null;
  upload_id: string | null;
};

/** The IBAN, compact and in groups of four as people write it, then every name, email and street, longest first. */
function personalStrings(iban: string, debtors: readonly DebtorData[]): string[] {
  const values = new Set<string>([iban, iban.replace(/(.{4})/g, '$1 ').trim()]);
  for (const debtor of debtors) {
    for (const value of [debtor.name, debtor.name_original, debtor.email, debtor.street]) {
      if (value && value.trim().length >= MIN_SCRUBBED_LENGTH) values.add(value.trim());
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/** `value` with every personal string replaced by the pseudonym; in a jsonb column, as JSON writes the strings. */
function scrubbed(column: SQL, type: 'text' | 'jsonb', strings: readonly string[], pseudonym: string): SQL {
  let text = type === 'jsonb' ? sql`${column}::text` : column;
  for (const value of strings) {
    const written = type === 'jsonb' ? JSON.stringify(value).slice(1, -1) : value;
    text = sql`replace(${text}, ${written}, ${pseudonym})`;
  }
  return type === 'jsonb' ? sql`(${text})::jsonb` : text;
}

function containsAny(column: SQL, type: 'text' | 'jsonb', strings: readonly string[]): SQL {
  const text = type === 'jsonb' ? sql`${column}::text` : column;
  const written = strings.map((value) => (type === 'jsonb' ? JSON.stringify(value).slice(1, -1) : value));
  return sql`exists (select 1 from unnest(${sql.param(written)}::text[]) as s(value) where strpos(${text}, s.value) > 0)`;
}

async function scrubCopies(tx: Executor, strings: readonly string[], pseudonym: string): Promise<void> {
  for (const { table, column, type } of COPIES) {
    const target = sql`${sql.identifier(column)}`;
    await tx.execute(sql`
      update ${sql.identifier(table)} set ${target} = ${scrubbed(target, type, strings, pseudonym)}
      where ${containsAny(target, type, strings)}`);
  }
}

export async function eraseDebtor(
  context: PersonalDataContext,
  request: { debtorId: number; actor: AuditActor; reason: string },
): Promise<ErasureResult> {
  const { db, pool } = context.database;
  const { rows: [named] } = await db.execute<{ iban: string; erased_at: Date | null }>(
    sql`select iban, erased_at from debtors where id = ${request.debtorId}`,
  );
  if (!named) throw new ErasureRefused(`there is no debtor ${request.debtorId}`);
  if (named.erased_at) throw new ErasureRefused(`debtor ${request.debtorId} is erased already`);
  const iban = normaliseIban(named.iban);
  const pseudonym = erasurePseudonym(context.key, iban);

  const { rows: debtors } = await db.execute<DebtorData>(sql`
    select id, iban, name, name_original, email, address->>'street' as street, upload_id::text
    from debtors where iban = ${iban} and erased_at is null order by id`);
  const strings = personalStrings(iban, debtors);
  const debtorIds = debtors.map((debtor) => debtor.id);

  // Every upload that held one of their rows, accepted or rejected: its original file goes.
  const { rows: uploads } = await db.execute<{ id: string; file_key: string; error_report_key: string | null; delimiter: string | null }>(sql`
    select id::text, file_key, error_report_key, delimiter from uploads
    where files_deleted_at is null and (
      id = any(${sql.param(debtors.flatMap((debtor) => debtor.upload_id ?? []))}::uuid[])
      or id in (select upload_id from upload_errors where ${containsAny(sql`value`, 'text', strings)}))`);
  for (const upload of uploads) {
    const objects: UploadObjects = { id: upload.id, fileKey: upload.file_key, errorReportKey: upload.error_report_key };
    await deleteUploadObjects(context.storage, objects);
  }

  const attemptsCancelled = await db.transaction(async (tx) => {
    const cancelled = await moveAttempts(tx, {
      where: sql`${billingAttempts.debtorId} = any(${sql.param(debtorIds)}::bigint[])`,
      from: 'pending',
      to: 'cancelled',
      note: { source: 'operator', reason: 'the debtor was erased on request (GDPR Art. 17): nothing may be collected' },
      set: { errorCode: 'debtor_erased', errorMessage: 'debtor erased on request' },
    });
    // The hash first, while the entries still name the IBAN; then the IBAN itself goes.
    await tx.execute(sql`
      update blacklist set iban_hash = ${ibanKeyedHash(context.key, iban)}, iban = ${pseudonym}
      where iban = ${iban}`);
    await scrubCopies(tx, strings, pseudonym);
    await tx.execute(sql`
      update debtors set iban = ${pseudonym}, name = ${pseudonym}, name_original = ${pseudonym},
                         email = null, address = null, bic = null, erased_at = now()
      where id = any(${sql.param(debtorIds)}::bigint[])`);
    await markUploadObjectsDeleted(tx, uploads.map((upload) => upload.id));
    await recordAudit(tx, {
      actor: request.actor,
      action: 'debtor.erased',
      target: { kind: 'debtor', id: request.debtorId },
      after: { pseudonym, debtor_ids: debtorIds, attempts_cancelled: cancelled.length, uploads_files_deleted: uploads.map((upload) => upload.id) },
      reason: request.reason,
    });
    return cancelled.length;
  });

  // The error reports again, from the scrubbed rejected rows; should this fail, the upload simply has none.
  for (const upload of uploads) {
    try {
      const key = await writeErrorReport(pool, context.storage, { id: upload.id, delimiter: upload.delimiter ?? ',' });
      if (key) await db.execute(sql`update uploads set error_report_key = ${key} where id = ${upload.id}`);
    } catch (error) {
      context.log.warn({ uploadId: upload.id, error: error instanceof Error ? error.message : String(error) }, 'error report not rewritten after an erasure');
    }
  }
  context.log.info({ debtorIds, pseudonym, attemptsCancelled, uploads: uploads.length }, 'debtor erased');
  return { pseudonym, debtorIds, attemptsCancelled, uploadIds: uploads.map((upload) => upload.id) };
}
