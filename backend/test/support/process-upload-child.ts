/**
 * Processes one upload in a process of its own, printing "batch <last row>" after each commit,
 * so a test can SIGKILL it in the middle of a file. Configured through the environment:
 * DATABASE_URL, STORAGE (ObjectStorageConfig as JSON), UPLOAD_ID, BATCH_SIZE.
 */
import pino from 'pino';
import { openDatabase } from '../../src/db/client';
import { ObjectStorage } from '../../src/storage/object-storage';
import { processUpload } from '../../src/uploads/process-upload';
import { DEFAULT_UPLOAD_LIMITS } from './uploads';
import { TEST_PERSONAL_DATA_KEY } from './events';

const database = openDatabase(process.env.DATABASE_URL!, { maxConnections: 2 });
const storage = new ObjectStorage(JSON.parse(process.env.STORAGE!));
const batchSize = Number(process.env.BATCH_SIZE);
const result = await processUpload(
  { database, storage, log: pino({ level: 'silent' }), limits: { ...DEFAULT_UPLOAD_LIMITS, batchSize }, personalDataKey: TEST_PERSONAL_DATA_KEY },
  process.env.UPLOAD_ID!,
  { onBatch: (batch) => process.stdout.write(`batch ${batch.lastRow}\n`) },
);
process.stdout.write(`done ${result.outcome}\n`);
storage.close();
await database.close();
