/**
 * Debtor upload benchmark (see bench/README.md, "Uploads"):
 *
 *   npm run bench:uploads -- [--only csv-100k,csv-1m,xlsx-100k,parse-1m] [--max-old-space-size <MB>]
 *
 * Each case goes through the real path: the file is PUT to the dev S3 server through a presigned
 * URL, `complete` checks it, the dev QStash server delivers processing to a backend node
 * (backend/src/main.ts in its own process, fresh for each case) which streams the file from
 * storage into PostgreSQL. Measured: wall time of processing (from the node's own log lines),
 * rows/s, and the node's peak RSS (VmHWM from /proc), sampled RSS while it runs.
 * `--max-old-space-size` starts the node with that V8 heap cap (as a deployment would set it).
 * `parse-1m` streams and checks the 1M-row CSV without the database, in its own process: the
 * Node side of the time. Results are printed and written to bench/results/tmp/uploads-<time>.json.
 */
import { startQStashDevServer } from '../../dev/qstash/server';
import { startS3DevServer } from '../../dev/s3/server';
import { createTestDatabase } from '../../dev/testing/postgres';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import { systemActor } from '../../backend/src/audit/actor';
import { createOperator } from '../../backend/src/auth/operators';
import { startSession } from '../../backend/src/auth/sessions';
import { writeCsv, writeXlsx } from './files';
import { measureParsing, measureUpload, type UploadCase } from './measure';

const CASES: UploadCase[] = [
  { name: 'csv-100k', format: 'csv', rows: 100_000, firstAccount: 1_000_000 },
  { name: 'csv-1m', format: 'csv', rows: 1_000_000, firstAccount: 2_000_000 },
  { name: 'xlsx-100k', format: 'xlsx', rows: 100_000, firstAccount: 4_000_000 },
];

const { values: args } = parseArgs({
  options: { only: { type: 'string', default: 'csv-100k,csv-1m,xlsx-100k,parse-1m' }, 'max-old-space-size': { type: 'string' } },
});
const selected = new Set(args.only.split(','));

const scratch = fileURLToPath(new URL('../results/tmp/uploads/', import.meta.url));
mkdirSync(scratch, { recursive: true });

async function fileFor(benchCase: UploadCase): Promise<string> {
  const path = `${scratch}${benchCase.name}.${benchCase.format}`;
  if (!existsSync(path)) {
    const started = performance.now();
    await (benchCase.format === 'csv' ? writeCsv : writeXlsx)(path, benchCase.rows, benchCase.firstAccount);
    console.log(`generated ${path} (${statSync(path).size} bytes) in ${Math.round(performance.now() - started)} ms`);
  }
  return path;
}

const keys = { token: 'bench-qstash-token', current: 'sig_bench_current', next: 'sig_bench_next' };
const storage = { bucket: 'tether-bench', accessKeyId: `bench-${randomBytes(4).toString('hex')}`, secretAccessKey: randomBytes(16).toString('hex') };
const database = await createTestDatabase('tether_bench_uploads');
// The upload API is an operator's: the benchmark holds a session like a logged-in dashboard.
const handle = openDatabase(database.url, { maxConnections: 1 });
await applyMigrations(handle.pool);
const operator = await createOperator(handle.db, { email: 'bench@tether.test', password: randomBytes(16).toString('hex'), role: 'operator' }, systemActor('bench'));
const session = await startSession(handle.db, operator, { idleSeconds: 24 * 3600, maxAgeSeconds: 24 * 3600 });
await handle.close();
const operatorHeaders = { cookie: `tether_session=${session.token}`, 'x-csrf-token': session.csrfToken };
const s3Directory = `${scratch}s3`;
rmSync(s3Directory, { recursive: true, force: true });
const s3 = await startS3DevServer({ directory: s3Directory, buckets: [storage.bucket], accessKeyId: storage.accessKeyId, secretAccessKey: storage.secretAccessKey });
const qstash = await startQStashDevServer({ databaseUrl: database.url, token: keys.token, currentSigningKey: keys.current, nextSigningKey: keys.next });
const environment = {
  DATABASE_URL: database.url,
  QSTASH_URL: qstash.url,
  QSTASH_TOKEN: keys.token,
  QSTASH_CURRENT_SIGNING_KEY: keys.current,
  QSTASH_NEXT_SIGNING_KEY: keys.next,
  S3_ENDPOINT: s3.url,
  S3_REGION: 'us-east-1',
  S3_BUCKET: storage.bucket,
  S3_ACCESS_KEY_ID: storage.accessKeyId,
  S3_SECRET_ACCESS_KEY: storage.secretAccessKey,
};

const results: Record<string, unknown>[] = [];
try {
  for (const benchCase of CASES.filter((candidate) => selected.has(candidate.name))) {
    const nodeOptions = args['max-old-space-size'] ? `--max-old-space-size=${args['max-old-space-size']}` : undefined;
    const result = await measureUpload(benchCase, await fileFor(benchCase), environment, operatorHeaders, nodeOptions);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  if (selected.has('parse-1m')) {
    const result = await measureParsing(await fileFor(CASES[1]!), environment);
    console.log(JSON.stringify(result));
    results.push(result);
  }
} finally {
  await qstash.close();
  await s3.close();
  await database.drop();
  rmSync(s3Directory, { recursive: true, force: true });
}

const file = `${scratch}../uploads-${new Date().toISOString().replace(/:/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ loadAverageAtEnd: loadavg(), results }, null, 2)}\n`);
console.log(`results written to ${file}`);
