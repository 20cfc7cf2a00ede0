/**
 * `files:migrate-to-s3 <directory> [--dry-run]`: local files copied to storage under their
 * uploads' keys, each copy read back and verified, counts printed, non-zero exit on failure.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run';
import { uploads } from '../src/db/schema';
import { findUpload } from '../src/uploads/repository';
import { uploadServices } from './support/upload-backend';
import { startUploadTestEnvironment, type UploadTestEnvironment } from './support/uploads';

let environment: UploadTestEnvironment;
let directory: string;

beforeAll(async () => {
  environment = await startUploadTestEnvironment();
  directory = await mkdtemp(join(tmpdir(), 'tether-legacy-files-'));
});
afterAll(async () => {
  await environment?.close();
  await rm(directory, { recursive: true, force: true });
});

async function legacyUpload(fileKey: string, content: string | undefined, recordedChecksum?: string) {
  if (content !== undefined) {
    await mkdir(dirname(join(directory, fileKey)), { recursive: true });
    await writeFile(join(directory, fileKey), content);
  }
  const [upload] = await environment.database.db
    .insert(uploads)
    .values({ id: randomUUID(), fileKey, originalName: fileKey, status: 'completed', checksumSha256: recordedChecksum })
    .returning();
  return upload!;
}

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['files:migrate-to-s3', ...args], { out: (line) => out.push(line), err: (line) => err.push(line) }, () => uploadServices(environment));
  return { code, out, err };
}

async function stored(key: string): Promise<string | undefined> {
  const object = await environment.storage.getObjectStream(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('files:migrate-to-s3', () => {
  it('copies and verifies each upload, counts, and fails when a file is missing or altered', async () => {
    const good = await legacyUpload('2024/03/debtors.csv', 'IBAN,Name,Amount\n');
    const altered = await legacyUpload('2024/04/altered.csv', 'changed since upload', createHash('sha256').update('original').digest('hex'));
    const missing = await legacyUpload('2024/05/gone.csv', undefined);

    const dryRun = await cli(directory, '--dry-run');
    expect(dryRun.code).toBe(1);
    expect(dryRun.out.at(-1)).toBe('dry run: would migrate 1, already in storage 0, failed 2');
    expect(await stored(good.fileKey)).toBeUndefined();

    const run = await cli(directory);
    expect(run.code).toBe(1);
    expect(run.out.at(-1)).toBe('migrated 1, already in storage 0, failed 2');
    expect(run.out.find((line) => line.includes(altered.id))).toMatch(/^failed .*does not match the checksum/);
    expect(run.out.find((line) => line.includes(missing.id))).toMatch(/^failed .*missing/);
    expect(await stored(good.fileKey)).toBe('IBAN,Name,Amount\n');
    expect((await findUpload(environment.database.db, good.id))?.checksumSha256).toBe(createHash('sha256').update('IBAN,Name,Amount\n').digest('hex'));

    await environment.database.db.delete(uploads);
    await legacyUpload(good.fileKey, 'IBAN,Name,Amount\n');
    const again = await cli(directory);
    expect(again).toMatchObject({ code: 0, out: [expect.stringMatching(/^already_in_storage/), 'migrated 0, already in storage 1, failed 0'] });
  });

  it('refuses a file key that leaves the directory, and bad usage', async () => {
    await environment.database.db.delete(uploads);
    await legacyUpload('../outside.csv', undefined);
    expect((await cli(directory)).out.at(-1)).toBe('migrated 0, already in storage 0, failed 1');
    expect((await cli()).code).toBe(2);
  });
});
