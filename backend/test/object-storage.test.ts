import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3DevServer } from '../../dev/s3/server';
import type { RunningServer } from '../../dev/running-server';
import { ObjectStorage, StorageUnavailableError, type ObjectStorageConfig } from '../src/storage/object-storage';

const bucket = 'tether-test';
const accessKeyId = `test-${randomBytes(4).toString('hex')}`;
const secretAccessKey = randomBytes(16).toString('hex');

let directory: string;
let server: RunningServer;
let storage: ObjectStorage;

function storageConfig(overrides: Partial<ObjectStorageConfig> = {}): ObjectStorageConfig {
  return { endpoint: server.url, region: 'us-east-1', bucket, accessKeyId, secretAccessKey, forcePathStyle: true, ...overrides };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `size` random bytes in 1 MiB chunks, and the SHA-256 of what was produced once it is consumed. */
function randomStream(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  async function* chunks() {
    for (let remaining = size; remaining > 0; remaining -= 1024 * 1024) {
      const chunk = randomBytes(Math.min(remaining, 1024 * 1024));
      hash.update(chunk);
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks()), digest: () => hash.digest('hex') };
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tether-s3-test-'));
  server = await startS3DevServer({ directory, buckets: [bucket], accessKeyId, secretAccessKey });
  storage = new ObjectStorage(storageConfig());
});

afterAll(async () => {
  storage?.close();
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('ObjectStorage against the dev S3 server', () => {
  it('copies an object in storage (CopyObject through the official SDK), and says when there is no source', async () => {
    const body = Buffer.from('iban;amount\nDE89370400440532013000;12.50\n');
    await storage.putObject('uploads/x/incoming.csv', body, { contentType: 'text/csv' });
    expect(await storage.copyObject('uploads/x/incoming.csv', 'uploads/x/source-1.csv')).toBe(true);
    // The copy is its own object: replacing the source afterwards leaves it as it was.
    await storage.putObject('uploads/x/incoming.csv', Buffer.from('swapped'), { contentType: 'text/csv' });
    const copy = await storage.getObjectStream('uploads/x/source-1.csv');
    expect(copy?.contentType).toBe('text/csv');
    expect(await readAll(copy!.body)).toEqual(body);
    expect(await storage.copyObject('uploads/x/missing.csv', 'uploads/x/source-2.csv')).toBe(false);
    expect(await storage.headObject('uploads/x/source-2.csv')).toBeUndefined();
  });

  it('puts, heads, streams back and deletes an object', async () => {
    const body = Buffer.from('iban;amount\nDE89370400440532013000;12.50\n');
    const { etag } = await storage.putObject('uploads/a.csv', body, { contentType: 'text/csv' });
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    expect(await storage.headObject('uploads/a.csv')).toEqual({ size: body.length, etag, contentType: 'text/csv' });

    const object = await storage.getObjectStream('uploads/a.csv');
    expect(object?.body).toBeInstanceOf(Readable);
    expect(object?.size).toBe(body.length);
    expect(await readAll(object!.body)).toEqual(body);

    await storage.deleteObject('uploads/a.csv');
    expect(await storage.headObject('uploads/a.csv')).toBeUndefined();
  });

  it('puts a stream of known length', async () => {
    const parts = [Buffer.from('first part, '), Buffer.from('second part')];
    const length = parts.reduce((total, part) => total + part.length, 0);
    await storage.putObject('streams/known.txt', Readable.from(parts), { contentLength: length, contentType: 'text/plain' });
    const object = await storage.getObjectStream('streams/known.txt');
    expect((await readAll(object!.body)).toString()).toBe('first part, second part');
  });

  it('uploads a stream of unknown length in several parts, byte for byte', async () => {
    const size = 17 * 1024 * 1024 + 123;
    const source = randomStream(size);
    await storage.upload('streams/large.bin', source.stream, { contentType: 'application/octet-stream' });

    expect((await storage.headObject('streams/large.bin'))?.size).toBe(size);
    const object = await storage.getObjectStream('streams/large.bin');
    const stored = createHash('sha256');
    for await (const chunk of object!.body) stored.update(chunk as Buffer);
    expect(stored.digest('hex')).toBe(source.digest());
  });

  it('uploads a small stream of unknown length', async () => {
    await storage.upload('streams/small.txt', Readable.from([Buffer.from('tiny')]));
    expect(await readAll((await storage.getObjectStream('streams/small.txt'))!.body)).toEqual(Buffer.from('tiny'));
  });

  it('reports a missing object as undefined', async () => {
    expect(await storage.headObject('nothing/here')).toBeUndefined();
    expect(await storage.getObjectStream('nothing/here')).toBeUndefined();
    await expect(storage.deleteObject('nothing/here')).resolves.toBeUndefined();
  });
});

describe('presigned URLs', () => {
  const csv = Buffer.from('Name;IBAN\nZoë Müller;DE89370400440532013000\n');

  it('lets a plain HTTP client PUT and then GET the object', async () => {
    const putUrl = await storage.presignPut('presigned/import.csv', { contentType: 'text/csv', expiresIn: 60, contentLength: csv.length });
    const put = await fetch(putUrl, { method: 'PUT', body: csv, headers: { 'content-type': 'text/csv' } });
    expect(put.status).toBe(200);
    expect((await storage.headObject('presigned/import.csv'))?.contentType).toBe('text/csv');

    const getUrl = await storage.presignGet('presigned/import.csv', { expiresIn: 60, downloadName: 'Lastschriften März.csv' });
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(csv);
    expect(get.headers.get('content-disposition')).toBe(
      `attachment; filename="Lastschriften M_rz.csv"; filename*=UTF-8''Lastschriften%20M%C3%A4rz.csv`,
    );
  });

  it('refuses an upload with another content type or size than signed', async () => {
    const url = await storage.presignPut('presigned/strict.csv', { contentType: 'text/csv', expiresIn: 60, contentLength: csv.length });
    const wrongType = await fetch(url, { method: 'PUT', body: csv, headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(403);
    const wrongSize = await fetch(url, { method: 'PUT', body: Buffer.concat([csv, csv]), headers: { 'content-type': 'text/csv' } });
    expect(wrongSize.status).toBe(403);
    expect(await storage.headObject('presigned/strict.csv')).toBeUndefined();
  });

  it('allows a browser on another origin to PUT (CORS)', async () => {
    const url = await storage.presignPut('presigned/browser.csv', { contentType: 'text/csv', expiresIn: 60 });
    const origin = 'http://localhost:5173';
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');

    const put = await fetch(url, { method: 'PUT', body: csv, headers: { origin, 'content-type': 'text/csv' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-allow-origin')).toBe('*');
    expect(put.headers.get('access-control-expose-headers')).toBe('ETag');
  });
});

describe('health check', () => {
  it('passes while the bucket is reachable', async () => {
    await expect(storage.check()).resolves.toBeUndefined();
  });

  it('fails clearly for a missing bucket and for wrong credentials', async () => {
    const missingBucket = new ObjectStorage(storageConfig({ bucket: 'no-such-bucket' }));
    await expect(missingBucket.check()).rejects.toThrow(/"no-such-bucket" .* the bucket does not exist/);
    missingBucket.close();

    const wrongSecret = new ObjectStorage(storageConfig({ secretAccessKey: 'wrong' }));
    await expect(wrongSecret.check()).rejects.toThrow(/access denied/);
    wrongSecret.close();
  });

  it('fails clearly when the server is down', async () => {
    const stopped = await startS3DevServer({ directory, buckets: [bucket] });
    await stopped.close();
    const unreachable = new ObjectStorage(storageConfig({ endpoint: stopped.url }));
    const failure = unreachable.check({ timeoutMs: 2_000 });
    await expect(failure).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(failure).rejects.toThrow(new RegExp(`at ${stopped.url} is not usable: .*ECONNREFUSED`));
    unreachable.close();
  });
});
