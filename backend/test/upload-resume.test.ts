/**
 * Crashes in the middle of a file: a process killed after some batches, a batch whose
 * transaction fails, processing stopped between batches. Each time the next run resumes after
 * the last committed batch and every row ends up exactly once, with its error reported once.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDatabaseUrl } from '../../dev/testing/pgbouncer';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as schema from '../src/db/schema';
import { CheckpointMovedError, commitBatch } from '../src/uploads/batch-commit';
import { processUpload } from '../src/uploads/process-upload';
import { findUpload, PROCESSING_LEASE_SECONDS, type UploadRecord } from '../src/uploads/repository';
import { germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';
import { TEST_PERSONAL_DATA_KEY } from './support/events';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./support/process-upload-child.ts', import.meta.url));

let environment: UploadTestEnvironment;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
});
afterAll(() => environment?.close());

/** `rows` data rows; every 100th has a bad amount, every 250th repeats the row before it. */
function debtorFile(rows: number, firstAccount: number): { csv: string; valid: number; invalid: number; duplicates: number } {
  const lines = ['IBAN,Name,Amount'];
  let valid = 0;
  let invalid = 0;
  let duplicates = 0;
  for (let index = 1; index <= rows; index++) {
    if (index % 250 === 0) {
      lines.push(lines[lines.length - 1]!);
      if (lines[lines.length - 1]!.endsWith(',1.00')) duplicates++;
      else invalid++;
    } else if (index % 100 === 0) {
      lines.push(`${germanIban(firstAccount + index)},Bad Amount,1.001.0`);
      invalid++;
    } else {
      lines.push(`${germanIban(firstAccount + index)},Debtor ${index},1.00`);
      valid++;
    }
  }
  return { csv: lines.join('\n'), valid, invalid, duplicates };
}

async function expectEveryRowOnce(upload: UploadRecord, file: ReturnType<typeof debtorFile>, rows: number) {
  const finished = (await findUpload(environment.database.db, upload.id))!;
  expect(finished).toMatchObject({ status: 'completed', rowsRead: rows, rowsAccepted: file.valid, rowsRejected: file.invalid + file.duplicates, committedRow: rows + 1 });
  const counts = await environment.database.db.execute<{ debtors: number; distinct_rows: number; attempts: number; errors: number; distinct_errors: number }>(sql`
    select (select count(*)::int from debtors where upload_id = ${upload.id}) as debtors,
           (select count(distinct upload_row)::int from debtors where upload_id = ${upload.id}) as distinct_rows,
           (select count(*)::int from billing_attempts where upload_id = ${upload.id}) as attempts,
           (select count(*)::int from upload_errors where upload_id = ${upload.id}) as errors,
           (select count(distinct row)::int from upload_errors where upload_id = ${upload.id}) as distinct_errors`);
  expect(counts.rows[0]).toEqual({ debtors: file.valid, distinct_rows: file.valid, attempts: file.valid, errors: file.invalid + file.duplicates, distinct_errors: file.invalid + file.duplicates });
}

describe('resuming an interrupted upload', () => {
  // A fresh process compiles TypeScript first: slow on a busy machine.
  it('survives the processing process being killed mid-file', { timeout: 90_000 }, async () => {
    const rows = 20_000;
    const file = debtorFile(rows, 100_000);
    const upload = await storeUpload(environment, 'killed.csv', file.csv);
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: REPOSITORY,
      env: { ...process.env, DATABASE_URL: nodeDatabaseUrl(environment.database.url), STORAGE: JSON.stringify(environment.storageConfig), UPLOAD_ID: upload.id, BATCH_SIZE: '1000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let batches = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.startsWith('batch ') && ++batches === 3) {
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited).toBe('SIGKILL');

    const interrupted = (await findUpload(environment.database.db, upload.id))!;
    expect(interrupted.status).toBe('processing');
    expect(interrupted.committedRow).toBeGreaterThanOrEqual(3_001);
    expect(interrupted.committedRow).toBeLessThan(rows + 1);

    // The dead process's lease still holds the upload, then runs out (here: at once).
    const busy = await processUpload(environment.context({ batchSize: 1000 }), upload.id);
    expect(busy).toMatchObject({ outcome: 'busy' });
    expect(busy.outcome === 'busy' && busy.retryAfterSeconds).toBeLessThanOrEqual(PROCESSING_LEASE_SECONDS);
    await environment.database.db.execute(sql`update uploads set processing_lease_until = now() where id = ${upload.id}`);
    expect((await processUpload(environment.context({ batchSize: 1000 }), upload.id)).outcome).toBe('completed');
    await expectEveryRowOnce(upload, file, rows);
  });

  it('rolls back a batch whose transaction fails and resumes at its start', async () => {
    const rows = 5_000;
    const file = debtorFile(rows, 200_000);
    const upload = await storeUpload(environment, 'failing.csv', file.csv);
    // A fault inside the third batch's transaction, after its first rows were written.
    await environment.database.db.execute(sql.raw(`
      create function fail_row_2500() returns trigger language plpgsql as $$
      begin
        if new.upload_row = 2500 then raise exception 'injected fault'; end if;
        return new;
      end $$;
      create trigger fail_row_2500 before insert on debtors for each row execute function fail_row_2500();`));
    await expect(processUpload(environment.context({ batchSize: 1000 }), upload.id)).rejects.toThrow('injected fault');
    expect(await findUpload(environment.database.db, upload.id)).toMatchObject({ status: 'processing', committedRow: 2_001, rowsRead: 2_000 });

    await environment.database.db.execute(sql.raw('drop trigger fail_row_2500 on debtors; drop function fail_row_2500();'));
    await processUpload(environment.context({ batchSize: 1000 }), upload.id);
    await expectEveryRowOnce(upload, file, rows);
  });

  it('stops between batches when aborted, and the next run completes it', async () => {
    const rows = 3_000;
    const file = debtorFile(rows, 300_000);
    const upload = await storeUpload(environment, 'aborted.csv', file.csv);
    const controller = new AbortController();
    const run = processUpload(environment.context({ batchSize: 500 }), upload.id, {
      signal: controller.signal,
      onBatch: (batch) => batch.lastRow >= 1_001 && controller.abort(),
    });
    await expect(run).rejects.toThrow();
    const stopped = (await findUpload(environment.database.db, upload.id))!;
    expect(stopped.committedRow).toBeGreaterThanOrEqual(1_001);
    expect(stopped.committedRow).toBeLessThan(rows + 1);

    await processUpload(environment.context({ batchSize: 500 }), upload.id);
    await expectEveryRowOnce(upload, file, rows);
  });

  it('lets only one run work on an upload at a time', async () => {
    const file = debtorFile(2_000, 400_000);
    const upload = await storeUpload(environment, 'twice.csv', file.csv);
    const results = await Promise.all([processUpload(environment.context({ batchSize: 500 }), upload.id), processUpload(environment.context({ batchSize: 500 }), upload.id)]);
    expect(results.map((result) => result.outcome).sort()).toEqual(['busy', 'completed']);
    expect((await processUpload(environment.context(), upload.id)).outcome).toBe('skipped');
    await expectEveryRowOnce(upload, file, 2_000);
  });

  it('refuses to commit a batch when another run moved the checkpoint', async () => {
    const file = debtorFile(10, 500_000);
    const upload = await storeUpload(environment, 'raced.csv', file.csv);
    await environment.database.db.execute(sql`update uploads set committed_row = 5 where id = ${upload.id}`);
    const client = await environment.database.pool.connect();
    try {
      const debtor = { iban: germanIban(500_001), name: 'Late Runner', nameOriginal: 'Late Runner', amountCents: 100 };
      const batch = commitBatch(
        { client, db: drizzle(client, { schema }) },
        { id: upload.id, ibanColumn: 'IBAN', personalDataKey: TEST_PERSONAL_DATA_KEY },
        { rows: [{ row: 2, debtor, problems: [] }], lastRow: 2, bytesRead: 0 },
        { locked: Promise.resolve(), accepted: Promise.resolve(new Map()), committed: Promise.resolve(), lastRow: 1 },
      );
      await expect(batch.committed).rejects.toBeInstanceOf(CheckpointMovedError);
    } finally {
      client.release();
    }
    const debtors = await environment.database.db.execute<{ count: number }>(sql`select count(*)::int as count from debtors where upload_id = ${upload.id}`);
    expect(debtors.rows[0]?.count).toBe(0);
  });
});
