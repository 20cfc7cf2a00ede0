/**
 * What upload tests share: the dev S3 server in a temp directory, a migrated database, and a way
 * to put a file into storage as a completed upload, ready for processing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { RunningServer } from '../../../dev/running-server';
import { startS3DevServer } from '../../../dev/s3/server';
import { nodeDatabaseUrl } from '../../../dev/testing/pgbouncer';
import { loadConfig, type UploadLimits } from '../../src/config';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import { ObjectStorage } from '../../src/storage/object-storage';
import { inspectContent } from '../../src/uploads/content-check';
import type { Delimiter } from '../../src/uploads/csv-dialect';
import { formatOf } from '../../src/uploads/file-types';
import { createUpload, markUploaded, type UploadRecord } from '../../src/uploads/repository';
import type { UploadProcessingContext } from '../../src/uploads/process-upload';
import type { TextEncoding } from '../../src/uploads/text-inspection';
import { createMigratedDatabase, type MigratedTestDatabase } from './database';
import { TEST_PERSONAL_DATA_KEY } from './events';

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = loadConfig({
  DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: 'unused',
  QSTASH_TOKEN: 'unused',
  QSTASH_CURRENT_SIGNING_KEY: 'unused',
  QSTASH_NEXT_SIGNING_KEY: 'unused',
  S3_BUCKET: 'unused',
  S3_ACCESS_KEY_ID: 'unused',
  S3_SECRET_ACCESS_KEY: 'unused',
  EMP_TERMINAL_TOKEN: 'unused',
  EMP_API_LOGIN: 'unused',
  EMP_API_PASSWORD: 'unused',
}).uploads;

export interface UploadTestEnvironment {
  /** The test's own connections: setup and checks. */
  database: MigratedTestDatabase;
  /** The processing's connections, as a node's: through pgBouncer when the test project runs one. */
  nodeDatabase: DatabaseHandle;
  s3: RunningServer;
  storage: ObjectStorage;
  /** Where the S3 stand-in keeps the objects: tests that must find no trace of something read it all. */
  directory: string;
  storageConfig: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };
  context(limits?: Partial<UploadLimits>): UploadProcessingContext;
  close(): Promise<void>;
}

export async function startUploadTestEnvironment(): Promise<UploadTestEnvironment> {
  const directory = await mkdtemp(join(tmpdir(), 'tether-uploads-test-'));
  const bucket = 'tether-uploads';
  const accessKeyId = `test-${randomBytes(4).toString('hex')}`;
  const secretAccessKey = randomBytes(16).toString('hex');
  const [database, s3] = await Promise.all([createMigratedDatabase(), startS3DevServer({ directory, buckets: [bucket], accessKeyId, secretAccessKey })]);
  const storageConfig = { endpoint: s3.url, region: 'us-east-1', bucket, accessKeyId, secretAccessKey, forcePathStyle: true };
  const storage = new ObjectStorage(storageConfig);
  const nodeDatabase = openDatabase(nodeDatabaseUrl(database.url), { maxConnections: 5 });
  const log = pino({ level: 'silent' });
  return {
    database,
    nodeDatabase,
    s3,
    storage,
    directory,
    storageConfig,
    context: (limits = {}) => ({ database: nodeDatabase, storage, log, limits: { ...DEFAULT_UPLOAD_LIMITS, ...limits }, personalDataKey: TEST_PERSONAL_DATA_KEY }),
    close: async () => {
      storage.close();
      await nodeDatabase.close();
      await s3.close();
      await database.destroy();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Stores `content` as a new upload and runs the content check, as `complete` does before queueing. */
export async function storeUpload(
  environment: UploadTestEnvironment,
  fileName: string,
  content: Buffer | string,
  options: { columnMapping?: Record<string, string>; encoding?: TextEncoding; delimiter?: Delimiter } = {},
): Promise<UploadRecord> {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const format = formatOf(fileName)!;
  const created = await createUpload(environment.database.db, {
    id: randomUUID(),
    originalName: fileName,
    format,
    contentType: 'application/octet-stream',
    sizeBytes: body.length,
    ...options,
  });
  await environment.storage.putObject(created.fileKey, body);
  const inspected = await inspectContent(environment.storage, { fileKey: created.fileKey, format, encoding: options.encoding, delimiter: options.delimiter }, DEFAULT_UPLOAD_LIMITS);
  return (await markUploaded(environment.database.db, created.id, { ...inspected, fileKey: created.fileKey }))!;
}

export { germanIban } from '../../../dev/testing/iban';
