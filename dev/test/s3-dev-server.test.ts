import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../running-server';
import { startS3DevServer } from '../s3/server';

const bucket = 'dev-test';
const credentials = { accessKeyId: `dev-${randomBytes(4).toString('hex')}`, secretAccessKey: randomBytes(16).toString('hex') };

let directory: string;
let server: RunningServer;

function client(overrides: Partial<typeof credentials> = {}) {
  return new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...credentials, ...overrides },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function startServer() {
  return startS3DevServer({ directory, buckets: [bucket], ...credentials });
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tether-s3-dev-test-'));
  server = await startServer();
});

afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('dev S3 server', () => {
  it('stores and returns objects whose keys need encoding', async () => {
    const key = 'uploads/2026 März/Lastschrift (1) & co+tax!*.csv';
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'ä;ö\n' }));
    const object = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await object.Body?.transformToString()).toBe('ä;ö\n');
  });

  it('refuses unsigned requests', async () => {
    const response = await fetch(`${server.url}/${bucket}/anything`);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a wrong secret and an unknown key', async () => {
    const wrongSecret = client({ secretAccessKey: 'not-the-secret' }).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    await expect(wrongSecret).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    const unknownKey = client({ accessKeyId: 'nobody' }).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    await expect(unknownKey).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
  });

  it('refuses a presigned URL used for another object than it was signed for', async () => {
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: 'signed-for', Body: 'a' }));
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: 'other', Body: 'b' }));
    const url = await getSignedUrl(client(), new GetObjectCommand({ Bucket: bucket, Key: 'signed-for' }), { expiresIn: 60 });
    expect(await (await fetch(url)).text()).toBe('a');
    const tampered = await fetch(url.replace('/signed-for?', '/other?'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('keeps objects across a restart on the same directory', async () => {
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: 'durable.txt', Body: 'still here' }));
    await server.close();
    server = await startServer();
    const object = await client().send(new GetObjectCommand({ Bucket: bucket, Key: 'durable.txt' }));
    expect(await object.Body?.transformToString()).toBe('still here');
  });
});
