/**
 * The upload API through a whole backend node: presigned PUT or streaming through the node,
 * complete, processing delivered by the dev QStash server, progress, downloads, refusals.
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QStashDevServer } from '../../dev/qstash/server';
import { debtors } from '../src/db/schema';
import { PROCESS_UPLOAD_PATH } from '../src/uploads/queue';
import { waitFor } from './support/backend';
import { startUploadBackend } from './support/upload-backend';
import { createTestOperator, logIn, type SessionClient } from './support/operators';
import { germanIban, startUploadTestEnvironment, type UploadTestEnvironment } from './support/uploads';
import { zipBomb } from './support/zip-files';
import { startTestQStash } from '../../dev/testing/qstash';

let environment: UploadTestEnvironment;
let qstash: { server: QStashDevServer };
let backend: { url: string; close(): Promise<void> };
/** The upload API, like every operator route, needs an operator's session. */
let session: SessionClient;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
  qstash = await startTestQStash(environment.database.url);
  backend = await startUploadBackend(environment, qstash.server.url, { UPLOAD_MAX_CSV_BYTES: String(64 * 1024) });
  session = await logIn(backend.url, await createTestOperator(environment.database.db));
});
afterAll(async () => {
  await backend?.close();
  await qstash?.server.close();
  await environment?.close();
});

interface UploadView {
  id: string;
  status: string;
  rows: { read: number; accepted: number; rejected: number };
  progress: number;
  error: string | null;
  errorReportAvailable: boolean;
  checksumSha256: string | null;
  sizeBytes: number;
}

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await session.fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as T };
}

async function createAndPut(fileName: string, content: Buffer, contentType?: string) {
  const created = await api<{ upload: UploadView; put: { url: string; headers: Record<string, string> } }>('POST', '/uploads', { fileName, sizeBytes: content.length, contentType });
  expect(created.status).toBe(201);
  const put = await fetch(created.json.put.url, { method: 'PUT', headers: created.json.put.headers, body: content });
  expect(put.status).toBe(200);
  return created.json.upload.id;
}

async function completed(id: string): Promise<UploadView> {
  return waitFor(async () => {
    const { json } = await api<{ upload: UploadView }>('GET', `/uploads/${id}`);
    return ['completed', 'failed'].includes(json.upload.status) ? json.upload : undefined;
  });
}

const csv = (lines: string[]) => Buffer.from(lines.join('\n'));

describe('the upload API', () => {
  it('takes a file through a presigned PUT, processes it via QStash and offers both downloads', async () => {
    const content = csv(['name,iban,amount', `Ada Lovelace,${germanIban(101)},10.00`, `=HYPERLINK("http://evil"),${germanIban(102)},-5`]);
    const id = await createAndPut('march.csv', content);

    const complete = await api<{ upload: UploadView }>('POST', `/uploads/${id}/complete`);
    expect(complete.status).toBe(202);
    expect(['queued', 'processing', 'completed']).toContain(complete.json.upload.status);
    expect(complete.json.upload.checksumSha256).toMatch(/^[0-9a-f]{64}$/);

    const upload = await completed(id);
    expect(upload).toMatchObject({ status: 'completed', rows: { read: 2, accepted: 1, rejected: 1 }, progress: 1, errorReportAvailable: true });

    const report = await api<{ url: string }>('GET', `/uploads/${id}/error-report`);
    const reportCsv = await (await fetch(report.json.url)).text();
    expect(reportCsv).toContain(`"3","name","'=HYPERLINK(""http://evil"")","name_unmappable_characters"`);
    expect(reportCsv).toContain(`"3","amount","'-5","amount_not_positive"`);

    const file = await api<{ url: string }>('GET', `/uploads/${id}/file`);
    const download = await fetch(file.json.url);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
    expect(download.headers.get('content-disposition')).toContain('march.csv');
  });

  it('processes the file it checked: a PUT to the presigned URL after complete changes nothing', async () => {
    const original = csv(['name,iban,amount', `Ada Lovelace,${germanIban(111)},10.00`]);
    const swapped = csv(['name,iban,amount', `Eve Malloryy,${germanIban(112)},99.00`]);
    expect(swapped.length).toBe(original.length);
    const created = await api<{ upload: UploadView; put: { url: string; headers: Record<string, string> } }>('POST', '/uploads', { fileName: 'swap.csv', sizeBytes: original.length });
    const { url, headers } = created.json.put;
    expect((await fetch(url, { method: 'PUT', headers, body: original })).status).toBe(200);
    const complete = await api<{ upload: UploadView }>('POST', `/uploads/${created.json.upload.id}/complete`);
    expect(complete.status).toBe(202);

    // The presigned URL is still valid, and storage takes the new file...
    expect((await fetch(url, { method: 'PUT', headers, body: swapped })).status).toBe(200);
    // ...but what is processed, checksummed and offered for download is the file checked.
    const upload = await completed(created.json.upload.id);
    expect(upload).toMatchObject({ status: 'completed', rows: { read: 1, accepted: 1 }, checksumSha256: createHash('sha256').update(original).digest('hex') });
    const imported = await environment.database.db.select({ iban: debtors.iban }).from(debtors).where(eq(debtors.uploadId, upload.id));
    expect(imported).toEqual([{ iban: germanIban(111) }]);
    const file = await api<{ url: string }>('GET', `/uploads/${upload.id}/file`);
    expect(Buffer.from(await (await fetch(file.json.url)).arrayBuffer())).toEqual(original);
  });

  it('streams a file through the node when there is no browser', async () => {
    const created = await api<{ upload: UploadView }>('POST', '/uploads', { fileName: 'cli.csv', sizeBytes: 100 });
    const id = created.json.upload.id;
    const put = await session.fetch(`/uploads/${id}/content`, { method: 'PUT', body: csv(['IBAN;Name;Betrag', `${germanIban(103)};Jörg;12,50`]) });
    expect(put.status).toBe(200);
    expect((await api('POST', `/uploads/${id}/complete`)).status).toBe(202);
    expect(await completed(id)).toMatchObject({ status: 'completed', rows: { accepted: 1 }, errorReportAvailable: false });
    expect((await api('GET', `/uploads/${id}/error-report`)).status).toBe(404);
  });

  it('cuts off a streamed file over the size limit', async () => {
    const created = await api<{ upload: UploadView }>('POST', '/uploads', { fileName: 'big.csv', sizeBytes: 100 });
    const big = Buffer.alloc(200 * 1024, 'a');
    const put = await session.fetch(`/uploads/${created.json.upload.id}/content`, { method: 'PUT', body: big });
    expect(put.status).toBe(413);
  });

  it('refuses a binary file posing as CSV with a clear message', async () => {
    const id = await createAndPut('debtors.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01, 0x02, 0xff, 0x00]));
    const complete = await api<{ error: string }>('POST', `/uploads/${id}/complete`);
    expect(complete).toEqual({ status: 422, json: { error: expect.stringContaining('not text') } });
    expect((await api<{ upload: UploadView }>('GET', `/uploads/${id}`)).json.upload).toMatchObject({ status: 'failed', error: expect.stringContaining('control character') });
  });

  it('refuses a ZIP bomb before inflating it', async () => {
    const id = await createAndPut('bomb.xlsx', zipBomb(), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const complete = await api<{ error: string }>('POST', `/uploads/${id}/complete`);
    expect(complete).toEqual({ status: 422, json: { error: expect.stringMatching(/ZIP bomb/) } });
  });

  it('refuses what is not CSV or XLSX, or is too large, before anything is stored', async () => {
    expect(await api('POST', '/uploads', { fileName: 'debtors.pdf', sizeBytes: 10 })).toMatchObject({ status: 415 });
    expect(await api('POST', '/uploads', { fileName: 'debtors.csv', sizeBytes: 10, contentType: 'image/png' })).toMatchObject({ status: 415 });
    expect(await api('POST', '/uploads', { fileName: 'debtors.csv', sizeBytes: 10 * 1024 * 1024 })).toMatchObject({ status: 413 });
    expect(await api('POST', '/uploads', { fileName: 'debtors.csv' })).toMatchObject({ status: 400 });
    expect(await api('GET', '/uploads/not-a-uuid')).toMatchObject({ status: 404 });
  });

  it('processes an XLSX made by exceljs', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Lastschriften');
    sheet.addRow(['Kontoinhaber', 'IBAN', 'Betrag']);
    sheet.addRow(['Zoë Martin', germanIban(104), 12.5]);
    const id = await createAndPut('sheet.xlsx', Buffer.from(await workbook.xlsx.writeBuffer()), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    await api('POST', `/uploads/${id}/complete`);
    expect(await completed(id)).toMatchObject({ status: 'completed', rows: { read: 1, accepted: 1 } });
  });

  it('accepts processing deliveries only when QStash signed them', async () => {
    const response = await fetch(`${backend.url}${PROCESS_UPLOAD_PATH}`, { method: 'POST', body: JSON.stringify({ uploadId: crypto.randomUUID() }) });
    expect(response.status).toBe(401);
  });
});
