/**
 * Upload recovery through the dashboard of a real node, with real storage and the QStash stand-in
 * delivering the processing: a failed CSV and a failed XLSX mapped again from their stored header
 * rows and processed to completion; a withdrawal that cancels what was not sent, leaves what was
 * sent, and deletes the stored objects; refusals that change nothing. Each action is audited once.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQStash } from '../../dev/testing/qstash';
import { processUpload } from '../src/uploads/process-upload';
import { findUpload, type UploadRecord } from '../src/uploads/repository';
import { waitFor } from './support/backend';
import { createTestOperator, logIn, type SessionClient } from './support/operators';
import { startUploadBackend } from './support/upload-backend';
import { germanIban, startUploadTestEnvironment, storeUpload, type UploadTestEnvironment } from './support/uploads';
import { inlineSheet, storedPart, workbookParts, zipOf } from './support/zip-files';

let environment: UploadTestEnvironment;
let qstash: Awaited<ReturnType<typeof startTestQStash>>;
let node: { url: string; close(): Promise<void> };
let session: SessionClient;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
  qstash = await startTestQStash(environment.database.url);
  node = await startUploadBackend(environment, qstash.server.url);
  session = await logIn(node.url, await createTestOperator(environment.database.db));
});
afterAll(async () => {
  await node?.close();
  await qstash?.server.close();
  await environment?.close();
});

const db = () => environment.database.db;

function post(path: string, fields: Record<string, string>) {
  return session.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
    body: new URLSearchParams(fields),
  });
}

async function failedUpload(name: string, content: Buffer | string): Promise<UploadRecord> {
  const stored = await storeUpload(environment, name, content);
  const result = await processUpload(environment.context(), stored.id);
  expect(result.outcome).toBe('failed');
  return (await findUpload(db(), stored.id))!;
}

async function auditActions(target: string) {
  const { rows } = await db().execute<{ action: string; reason: string | null }>(
    sql`select action, reason from audit_log where target_kind = 'upload' and target_id = ${target} order by id`,
  );
  return rows;
}

const completed = (id: string) =>
  waitFor(async () => {
    const upload = await findUpload(db(), id);
    return upload?.status === 'completed' ? upload : undefined;
  });

describe('processing a failed upload again', () => {
  it('maps a CSV again from its stored header row and processes it to completion', async () => {
    const csv = ['Konto;Inhaber;Summe', `${germanIban(9_001)};Ada Lovelace;12,50`, `${germanIban(9_002)};Alan Turing;7,00`].join('\n');
    const failed = await failedUpload('unrecognised.csv', csv);
    expect(failed.error).toMatch(/iban|IBAN/);

    const page = await (await session.fetch(`/dashboard/uploads/${failed.id}`)).text();
    expect(page).toContain('Process again');
    for (const header of ['Konto', 'Inhaber', 'Summe']) expect(page).toContain(`<option value="${header}">`);

    const answer = await post(`/dashboard/uploads/${failed.id}/reprocess`, { 'map.iban': 'Konto', 'map.name': 'Inhaber', 'map.amount': 'Summe', encoding: '', delimiter: ';' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('hx-redirect')).toBe(`/dashboard/uploads/${failed.id}`);
    const done = await completed(failed.id);
    expect(done).toMatchObject({ rowsRead: 2, rowsAccepted: 2, rowsRejected: 0, error: null, columnMapping: { iban: 'Konto', name: 'Inhaber', amount: 'Summe' } });
    expect((await auditActions(failed.id)).map((entry) => entry.action)).toEqual(['upload.reprocessed']);

    // Done once: a completed upload is not processed again, and nothing is recorded.
    expect((await post(`/dashboard/uploads/${failed.id}/reprocess`, { 'map.iban': 'Konto' })).status).toBe(422);
    expect(await auditActions(failed.id)).toHaveLength(1);
  });

  it("previews a stored XLSX's header row and processes it with the mapping chosen from it", async () => {
    const sheet = inlineSheet([
      ['Kontonr', 'Wer', 'Euro'],
      [germanIban(9_101), 'Grace Hopper', '20.00'],
    ]);
    const failed = await failedUpload('unrecognised.xlsx', zipOf([...workbookParts(), storedPart('xl/worksheets/sheet1.xml', sheet)]));
    const page = await (await session.fetch(`/dashboard/uploads/${failed.id}`)).text();
    expect(page).toContain('3 columns in the first sheet');
    for (const header of ['Kontonr', 'Wer', 'Euro']) expect(page).toContain(`<option value="${header}">`);

    expect((await post(`/dashboard/uploads/${failed.id}/reprocess`, { 'map.iban': 'Kontonr', 'map.name': 'Wer', 'map.amount': 'Euro' })).status).toBe(200);
    expect(await completed(failed.id)).toMatchObject({ rowsAccepted: 1, rowsRejected: 0 });
  });
});

describe('withdrawing an upload', () => {
  it('cancels the attempts not yet sent, leaves the sent ones, and deletes the file and the error report', async () => {
    const csv = ['IBAN,Name,Amount', ...[1, 2, 3].map((n) => `${germanIban(9_200 + n)},Debtor ${n},10.00`), 'not-an-iban,Broken Row,1.00'].join('\n');
    const stored = await storeUpload(environment, 'to-withdraw.csv', csv);
    await processUpload(environment.context(), stored.id);
    const upload = (await findUpload(db(), stored.id))!;
    expect(upload).toMatchObject({ status: 'completed', rowsAccepted: 3, rowsRejected: 1 });
    expect(upload.errorReportKey).not.toBeNull();
    const { rows: attempts } = await db().execute<{ id: number }>(sql`select id from billing_attempts where upload_id = ${upload.id} order by id`);
    // One went to EMP and was approved, one is being sent right now; the third was never sent.
    await db().execute(sql`update billing_attempts set status = 'approved', sent_at = now() where id = ${attempts[0]!.id}`);
    await db().execute(sql`update billing_attempts set status = 'sending', claimed_at = now() where id = ${attempts[1]!.id}`);

    expect((await post(`/dashboard/uploads/${upload.id}/withdraw`, { reason: '' })).status).toBe(422);
    expect(await environment.storage.headObject(upload.fileKey)).toBeDefined();

    const answer = await post(`/dashboard/uploads/${upload.id}/withdraw`, { reason: 'wrong month: the client sent last month’s file' });
    expect(answer.status).toBe(200);
    const { rows: statuses } = await db().execute<{ status: string }>(sql`select status from billing_attempts where upload_id = ${upload.id} order by id`);
    expect(statuses.map((row) => row.status)).toEqual(['approved', 'sending', 'cancelled']);
    const withdrawn = (await findUpload(db(), upload.id))!;
    expect(withdrawn).toMatchObject({ status: 'withdrawn', rowsAccepted: 3, errorReportKey: null });
    expect(withdrawn.filesDeletedAt).not.toBeNull();
    expect(await environment.storage.headObject(upload.fileKey)).toBeUndefined();
    expect(await environment.storage.headObject(upload.errorReportKey!)).toBeUndefined();
    expect((await session.fetch(`/dashboard/uploads/${upload.id}/file`)).status).toBe(404);

    const entries = await auditActions(upload.id);
    expect(entries).toEqual([{ action: 'upload.withdrawn', reason: 'wrong month: the client sent last month’s file' }]);
    expect((await post(`/dashboard/uploads/${upload.id}/withdraw`, { reason: 'again' })).status).toBe(422);
    expect(await auditActions(upload.id)).toHaveLength(1);
  });
});
