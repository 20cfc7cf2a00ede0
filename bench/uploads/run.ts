/**
 * Debtor upload benchmark (see bench/README.md, "Uploads"):
 *
 *   npm run bench:uploads -- [--only csv-100k,csv-1m,xlsx-100k,parse-1m] [--repeat <n>]
 *                            [--max-old-space-size <MB>] [--cpu-prof]
 *   npm run bench:uploads -- --pair csv-1m,csv-100k [--repeat <n>]
 *
 * Each case goes through the real path: the file is PUT to the dev S3 server through a presigned
 * URL, `complete` checks it, the dev QStash server delivers processing to a backend node
 * (backend/src/main.ts in its own process, fresh for each case) which streams the file from
 * storage into PostgreSQL. Measured: wall time of processing (from the node's own log lines),
 * rows/s, and the node's peak RSS (VmHWM from /proc), sampled RSS while it runs. Right after,
 * in the same run, the case's floor (floor.ts: psql's \copy of the same rows into a fresh
 * database with the same schema) and the ratio of the two.
 * Every measurement gets a fresh, migrated database, so that none starts with another's rows.
 * `--max-old-space-size` starts the node with that V8 heap cap (as a deployment would set it);
 * `--cpu-prof` writes the node's CPU profile under bench/results/tmp/uploads/profiles/.
 * `parse-1m` streams and checks the 1M-row CSV without the database, in its own process: the
 * Node side of the time.
 * `--pair larger,smaller`: both files on two nodes at once (one submitted to each, completed
 * together), against the larger alone plus the floor of the smaller. Results are printed and
 * written to bench/results/tmp/uploads-<time>.json.
 */
import { startQStashDevServer } from '../../dev/qstash/server';
import { startS3DevServer } from '../../dev/s3/server';
import { createTestDatabase, type TestDatabase } from '../../dev/testing/postgres';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { applyMigrations, openDatabase } from '../../backend/src/db/client';
import { systemActor } from '../../backend/src/audit/actor';
import { createOperator } from '../../backend/src/auth/operators';
import { startSession } from '../../backend/src/auth/sessions';
import { writeCsv, writeXlsx } from './files';
import { dumpImportedDebtors, measureFloor } from './floor';
import { BenchNode, loadAverage, measureParsing, measureUpload, type BenchDatabase, type UploadCase } from './measure';

const CASES: UploadCase[] = [
  { name: 'csv-100k', format: 'csv', rows: 100_000, firstAccount: 1_000_000 },
  { name: 'csv-1m', format: 'csv', rows: 1_000_000, firstAccount: 2_000_000 },
  { name: 'xlsx-100k', format: 'xlsx', rows: 100_000, firstAccount: 4_000_000 },
];

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'csv-100k,csv-1m,xlsx-100k,parse-1m' },
    pair: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    'max-old-space-size': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const repeat = Number(args.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, not ${args.repeat}`);
const caseNamed = (name: string) => {
  const found = CASES.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no case ${name} (cases: ${CASES.map((candidate) => candidate.name).join(', ')})`);
  return found;
};

const scratch = fileURLToPath(new URL('../results/tmp/uploads/', import.meta.url));
mkdirSync(scratch, { recursive: true });

const nodeOptions = [
  ...(args['max-old-space-size'] ? [`--max-old-space-size=${args['max-old-space-size']}`] : []),
  ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${scratch}profiles`] : []),
];

async function fileFor(benchCase: UploadCase): Promise<string> {
  const path = `${scratch}${benchCase.name}.${benchCase.format}`;
  if (!existsSync(path)) {
    const started = performance.now();
    await (benchCase.format === 'csv' ? writeCsv : writeXlsx)(path, benchCase.rows, benchCase.firstAccount);
    console.log(`generated ${path} (${statSync(path).size} bytes) in ${Math.round(performance.now() - started)} ms`);
  }
  return path;
}

/** A fresh database with the schema and an operator's session, dropped by the caller. */
async function freshDatabase(): Promise<TestDatabase & BenchDatabase> {
  const database = await createTestDatabase('tether_bench_uploads');
  const handle = openDatabase(database.url, { maxConnections: 1 });
  try {
    await applyMigrations(handle.pool);
    const operator = await createOperator(handle.db, { email: 'bench@tether.test', password: randomBytes(16).toString('hex'), role: 'operator' }, systemActor('bench'));
    const session = await startSession(handle.db, operator, { idleSeconds: 24 * 3600, maxAgeSeconds: 24 * 3600 });
    return { ...database, operatorHeaders: { cookie: `tether_session=${session.token}`, 'x-csrf-token': session.csrfToken } };
  } finally {
    await handle.close();
  }
}

async function withFreshDatabase<T>(work: (database: TestDatabase & BenchDatabase) => Promise<T>): Promise<T> {
  const database = await freshDatabase();
  try {
    return await work(database);
  } finally {
    await database.drop();
  }
}

/** The floor of what upload `uploadId` wrote into `source`: its debtors dumped, then written again into a fresh database. */
async function floorOf(source: BenchDatabase, uploadId: string, rows: number) {
  const prepared = `${scratch}floor-${uploadId}.copy`;
  try {
    await dumpImportedDebtors(source.url, uploadId, prepared);
    return await withFreshDatabase((target) => measureFloor(target.url, uploadId, prepared, rows));
  } finally {
    rmSync(prepared, { force: true });
  }
}

const ratio = (figure: number, floor: number) => Math.round((figure / floor) * 100) / 100;

/** One case on a fresh node and database, then its floor. */
async function measureCase(benchCase: UploadCase) {
  return withFreshDatabase(async (database) => {
    const result = await measureUpload(benchCase, await fileFor(benchCase), environment, database, nodeOptions);
    const floor = await floorOf(database, result.uploadId, result.accepted);
    return {
      ...result,
      ...floor,
      ratioToFloor: ratio(result.processingMs, floor.floorMs),
      // Less dependent on the shared machine's load than wall time: all the CPU the import took, node and PostgreSQL, against the floor's.
      cpuRatioToFloor: ratio(result.nodeCpuSeconds + result.postgresCpuSeconds, floor.floorPostgresCpuSeconds),
    };
  });
}

/**
 * Two files on two nodes at once, against the larger alone plus the floor of the smaller: each
 * file submitted (PUT) to a node of its own, both completed together, timed from the first
 * node's "processing upload" to the last one's "upload processed". While uploads take turns
 * across nodes this is the serial figure.
 */
async function measurePair(larger: UploadCase, smaller: UploadCase) {
  const alone = await measureCase(larger);
  const together = await withFreshDatabase(async (database) => {
    const nodes = await Promise.all([BenchNode.start(environment, database, nodeOptions), BenchNode.start(environment, database, nodeOptions)]);
    const observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
    try {
      // One PUT after the other (they are not what is measured); then both completed at once.
      const first = await nodes[0].submit(larger, await fileFor(larger));
      const second = await nodes[1].submit(smaller, await fileFor(smaller));
      await Promise.all([nodes[0].complete(first.id), nodes[1].complete(second.id)]);
      const [largerProcessed, smallerProcessed] = await Promise.all([nodes[0].waitProcessed(first.id, observer), nodes[1].waitProcessed(second.id, observer)]);
      const smallerFloor = await floorOf(database, second.id, smallerProcessed.upload.rows.accepted);
      return {
        bothMs: Math.max(largerProcessed.finishedAt, smallerProcessed.finishedAt) - Math.min(largerProcessed.startedAt, smallerProcessed.startedAt),
        largerMs: largerProcessed.processingMs,
        smallerMs: smallerProcessed.processingMs,
        accepted: [largerProcessed.upload.rows.accepted, smallerProcessed.upload.rows.accepted],
        overlapMs: Math.max(0, Math.min(largerProcessed.finishedAt, smallerProcessed.finishedAt) - Math.max(largerProcessed.startedAt, smallerProcessed.startedAt)),
        nodePeakRssMb: nodes.map((node) => node.peakRssMb()),
        smallerFloorMs: smallerFloor.floorMs,
      };
    } finally {
      await observer.end();
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
  const boundMs = alone.processingMs + together.smallerFloorMs;
  return {
    case: `pair ${larger.name} + ${smaller.name}`,
    bothAtOnceMs: together.bothMs,
    largerAloneMs: alone.processingMs,
    smallerFloorMs: together.smallerFloorMs,
    boundMs,
    ratioToBound: ratio(together.bothMs, boundMs),
    together,
    largerAloneFloorMs: alone.floorMs,
    loadAverage: loadAverage(),
  };
}

const keys = { token: 'bench-qstash-token', current: 'sig_bench_current', next: 'sig_bench_next' };
const storage = { bucket: 'tether-bench', accessKeyId: `bench-${randomBytes(4).toString('hex')}`, secretAccessKey: randomBytes(16).toString('hex') };
// QStash's own tables in a database of their own, which lives as long as the run.
const qstashDatabase = await createTestDatabase('tether_bench_uploads_qstash');
const s3Directory = `${scratch}s3`;
rmSync(s3Directory, { recursive: true, force: true });
const s3 = await startS3DevServer({ directory: s3Directory, buckets: [storage.bucket], accessKeyId: storage.accessKeyId, secretAccessKey: storage.secretAccessKey });
const qstash = await startQStashDevServer({ databaseUrl: qstashDatabase.url, token: keys.token, currentSigningKey: keys.current, nextSigningKey: keys.next });
const environment = {
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
const report = (result: Record<string, unknown>) => {
  console.log(JSON.stringify(result));
  results.push(result);
};
try {
  for (let round = 1; round <= repeat; round++) {
    if (args.pair) {
      const [larger, smaller] = args.pair.split(',').map(caseNamed);
      if (!larger || !smaller) throw new Error('--pair needs two cases, the larger first: --pair csv-1m,csv-100k');
      report({ round, ...(await measurePair(larger, smaller)) });
      continue;
    }
    const selected = new Set(args.only.split(','));
    for (const benchCase of CASES.filter((candidate) => selected.has(candidate.name))) report({ round, ...(await measureCase(benchCase)) });
    if (selected.has('parse-1m')) report({ round, ...(await measureParsing(await fileFor(caseNamed('csv-1m')), environment)) });
  }
} finally {
  await qstash.close();
  await s3.close();
  await qstashDatabase.drop();
  rmSync(s3Directory, { recursive: true, force: true });
}

const file = `${scratch}../uploads-${new Date().toISOString().replace(/:/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ loadAverageAtEnd: loadavg(), results }, null, 2)}\n`);
console.log(`results written to ${file}`);
