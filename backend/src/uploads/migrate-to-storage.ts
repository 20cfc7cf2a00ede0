/**
 * For installations that kept uploaded files on a node's local disk: copy each upload's file to
 * object storage under its file key, and verify the copy (size and SHA-256, read back from
 * storage) before counting it. Local files are never deleted here; that is for the operator once
 * the run reports no failures.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/executor';
import { uploads } from '../db/schema';
import type { ObjectStorage } from '../storage/object-storage';

export type MigrationOutcome = 'migrated' | 'would_migrate' | 'already_in_storage' | 'failed';

export interface MigratedFile {
  uploadId: string;
  fileKey: string;
  outcome: MigrationOutcome;
  detail?: string;
}

export type MigrationSummary = Record<MigrationOutcome, number>;

async function digest(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function storedDigest(storage: ObjectStorage, key: string): Promise<{ sha256: string; size: number } | undefined> {
  const object = await storage.getObjectStream(key);
  return object && digest(object.body);
}

/** The local path of a file key, refusing keys that would leave the directory. */
function localPathOf(directory: string, fileKey: string): string | undefined {
  const path = resolve(directory, fileKey);
  const inside = relative(directory, path);
  return inside.startsWith('..') || resolve(directory, inside) !== path ? undefined : path;
}

async function localSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

async function migrateOne(
  db: Executor,
  storage: ObjectStorage,
  directory: string,
  upload: typeof uploads.$inferSelect,
  dryRun: boolean,
): Promise<MigratedFile> {
  const result = (outcome: MigrationOutcome, detail?: string): MigratedFile => ({ uploadId: upload.id, fileKey: upload.fileKey, outcome, detail });
  const path = localPathOf(directory, upload.fileKey);
  if (!path) return result('failed', 'the file key points outside the directory');
  const size = await localSize(path);
  if (size === undefined) {
    return (await storage.headObject(upload.fileKey)) ? result('already_in_storage', 'no local copy') : result('failed', `missing: neither ${path} nor the object exists`);
  }
  const local = await digest(createReadStream(path));
  if (upload.checksumSha256 && upload.checksumSha256 !== local.sha256) return result('failed', 'the local file does not match the checksum recorded for the upload');

  const head = await storage.headObject(upload.fileKey);
  if (head && head.size === local.size && (await storedDigest(storage, upload.fileKey))?.sha256 === local.sha256) return result('already_in_storage');
  if (dryRun) return result('would_migrate', `${local.size} bytes`);

  await storage.putObject(upload.fileKey, createReadStream(path), { contentLength: local.size, contentType: upload.contentType ?? undefined });
  const copied = await storedDigest(storage, upload.fileKey);
  if (!copied || copied.size !== local.size || copied.sha256 !== local.sha256) {
    return result('failed', `verification failed: stored ${copied?.size ?? 0} bytes, checksum ${copied?.sha256 === local.sha256 ? 'equal' : 'different'}`);
  }
  // Uploads from before checksums were recorded get them now, from the verified copy.
  await db
    .update(uploads)
    .set({ checksumSha256: sql`coalesce(${uploads.checksumSha256}, ${local.sha256})`, sizeBytes: sql`coalesce(${uploads.sizeBytes}, ${local.size})` })
    .where(eq(uploads.id, upload.id));
  return result('migrated', `${local.size} bytes`);
}

/** Goes through every upload, oldest first; `onFile` hears each result as it happens. */
export async function migrateFilesToStorage(
  db: Executor,
  storage: ObjectStorage,
  options: { directory: string; dryRun: boolean; onFile?: (file: MigratedFile) => void },
): Promise<MigrationSummary> {
  const directory = resolve(options.directory);
  const summary: MigrationSummary = { migrated: 0, would_migrate: 0, already_in_storage: 0, failed: 0 };
  const all = await db.select().from(uploads).orderBy(uploads.createdAt);
  for (const upload of all) {
    let file: MigratedFile;
    try {
      file = await migrateOne(db, storage, directory, upload, options.dryRun);
    } catch (error) {
      file = { uploadId: upload.id, fileKey: upload.fileKey, outcome: 'failed', detail: error instanceof Error ? error.message : String(error) };
    }
    summary[file.outcome] += 1;
    options.onFile?.(file);
  }
  return summary;
}
