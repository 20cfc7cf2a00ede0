/**
 * The real upload path against backend nodes, each in its own process: a node started from
 * this checkout, a file submitted through it (presigned PUT, `complete`) and its processing
 * watched to the end; and the Node-side share alone (parse and check, no database) in a
 * process of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../dev/running-server';
import { answers, cpuSecondsOf, waitUntil } from '../support/processes';
import { ObjectStorage } from '../../backend/src/storage/object-storage';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

export interface UploadCase {
  name: string;
  format: 'csv' | 'xlsx';
  rows: number;
  firstAccount: number;
}

/** What a node needs besides its database: the stand-ins' addresses and keys. */
export type StackEnvironment = Record<string, string>;

/** A database with an operator's session in it, as a logged-in dashboard holds one. */
export interface BenchDatabase {
  url: string;
  operatorHeaders: Record<string, string>;
}

/** Variables the node requires but this benchmark never reaches. */
const PLACEHOLDERS = {
  // Not production: that would refuse this stack's http URLs (config.ts); nothing else reads NODE_ENV.
  NODE_ENV: 'development',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
  UPSTASH_REDIS_REST_TOKEN: 'unused',
  EMP_TERMINAL_TOKEN: 'unused',
  EMP_API_LOGIN: 'unused',
  EMP_API_PASSWORD: 'unused',
};

const CONTENT_TYPES = { csv: 'text/csv', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' };

/** Resident memory of a process from /proc, in MB: `VmHWM` is its peak, `VmRSS` its current. */
function memoryOf(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match?.[1] ?? Number.NaN) / 1024);
}

export const loadAverage = () => loadavg().map((load) => Math.round(load * 100) / 100);
const round = (value: number) => Math.round(value * 10) / 10;

/**
 * CPU used by a client process (if any) and by its PostgreSQL backends, told apart by their
 * `application_name`, since `start()`; backends come and go with a pool, so they are sampled.
 */
export class CpuAccount {
  private clientStart = 0;
  private clientLast = 0;
  private readonly backends = new Map<number, { start: number; last: number }>();

  constructor(
    private readonly applicationName: string,
    private readonly database: pg.Client,
    private readonly clientPid?: number,
  ) {}

  async start(): Promise<void> {
    if (this.clientPid !== undefined) this.clientStart = this.clientLast = cpuSecondsOf(this.clientPid) ?? 0;
    for (const pid of await this.backendPids()) {
      const used = cpuSecondsOf(pid) ?? 0;
      this.backends.set(pid, { start: used, last: used });
    }
  }

  async sample(): Promise<void> {
    if (this.clientPid !== undefined) this.clientLast = cpuSecondsOf(this.clientPid) ?? this.clientLast;
    for (const pid of await this.backendPids()) {
      const used = cpuSecondsOf(pid);
      if (used === undefined) continue;
      const known = this.backends.get(pid);
      if (known) known.last = used;
      else this.backends.set(pid, { start: 0, last: used });
    }
  }

  totals() {
    const postgres = [...this.backends.values()].reduce((sum, backend) => sum + backend.last - backend.start, 0);
    return { nodeCpuSeconds: round(this.clientLast - this.clientStart), postgresCpuSeconds: round(postgres) };
  }

  private async backendPids(): Promise<number[]> {
    const { rows } = await this.database.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [this.applicationName]);
    return rows.map((row) => row.pid);
  }
}

async function json<T>(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json()) as T;
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** The browser's part: the file, streamed from disk, to the presigned URL. */
async function putFile(url: string, headers: Record<string, string>, path: string): Promise<void> {
  const outgoing = request(url, { method: 'PUT', headers: { ...headers, 'content-length': String(statSync(path).size) } });
  const answered = once(outgoing, 'response') as Promise<[import('node:http').IncomingMessage]>;
  await pipeline(createReadStream(path), outgoing);
  const [response] = await answered;
  response.resume();
  if (response.statusCode !== 200) throw new Error(`presigned PUT answered ${response.statusCode}`);
}

interface UploadView {
  id: string;
  status: string;
  rows: { read: number; accepted: number; rejected: number };
  error: string | null;
}

export interface SubmittedUpload {
  id: string;
  fileBytes: number;
  uploadMs: number;
}

/** One upload's processing as the node saw it: wall clock times of its own log lines. */
export interface Processed {
  upload: UploadView;
  startedAt: number;
  finishedAt: number;
  processingMs: number;
  cpu: ReturnType<CpuAccount['totals']>;
  rssWhileProcessingMb: { min: number; max: number };
}

/** A backend node (backend/src/main.ts) in its own process, with its own PUBLIC_URL: QStash delivers its uploads' processing to it. */
export class BenchNode {
  /** Upload id → message → the time the node logged it. */
  private readonly logTimes = new Map<string, Map<string, number>>();

  private constructor(
    private readonly child: ChildProcess,
    readonly base: string,
    readonly applicationName: string,
    private readonly database: BenchDatabase,
    readonly nodeOptions: string[],
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; time?: number; uploadId?: string };
        if (!entry.msg || !entry.time || !entry.uploadId) return;
        const times = this.logTimes.get(entry.uploadId) ?? new Map<string, number>();
        times.set(entry.msg, entry.time);
        this.logTimes.set(entry.uploadId, times);
      } catch {
        // not a log line
      }
    });
  }

  static async start(environment: StackEnvironment, database: BenchDatabase, nodeOptions: string[] = []): Promise<BenchNode> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Each node's connections carry a name of their own, so their PostgreSQL backends can be told apart.
    const applicationName = `tether-bench-node-${port}`;
    const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', 'backend/src/main.ts'], {
      cwd: REPOSITORY,
      env: {
        ...process.env,
        ...PLACEHOLDERS,
        ...environment,
        DATABASE_URL: `${database.url}?application_name=${applicationName}`,
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: base,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const node = new BenchNode(child, base, applicationName, database, nodeOptions);
    try {
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`backend node exited with ${child.exitCode} while starting`);
          return answers(`${base}/health`);
        },
        // Minutes, not seconds: on the shared machine under load a node has taken more than one to load.
        180_000,
        'backend node start',
      );
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  get pid(): number {
    return this.child.pid!;
  }

  rssMb = () => memoryOf(this.pid, 'VmRSS');
  peakRssMb = () => memoryOf(this.pid, 'VmHWM');

  /** Created and PUT, not yet completed: nothing is queued. */
  async submit(benchCase: UploadCase, path: string): Promise<SubmittedUpload> {
    const fileBytes = statSync(path).size;
    const created = await json<{ upload: UploadView; put: { url: string; headers: Record<string, string> } }>(`${this.base}/uploads`, {
      method: 'POST',
      headers: { ...this.database.operatorHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ fileName: `${benchCase.name}.${benchCase.format}`, sizeBytes: fileBytes, contentType: CONTENT_TYPES[benchCase.format] }),
    });
    const started = performance.now();
    await putFile(created.put.url, created.put.headers, path);
    return { id: created.upload.id, fileBytes, uploadMs: Math.round(performance.now() - started) };
  }

  /** `complete`: the content check and checksum, then processing is queued. Answers its duration. */
  async complete(uploadId: string): Promise<number> {
    const started = performance.now();
    await json(`${this.base}/uploads/${uploadId}/complete`, { method: 'POST', headers: this.database.operatorHeaders });
    return Math.round(performance.now() - started);
  }

  /** Polls the upload until it is completed, sampling the node's memory and CPU; throws if it failed. */
  async waitProcessed(uploadId: string, observer: pg.Client): Promise<Processed> {
    const cpu = new CpuAccount(this.applicationName, observer, this.pid);
    await cpu.start();
    const rssSamplesMb: number[] = [];
    let upload: UploadView | undefined;
    await waitUntil(
      async () => {
        rssSamplesMb.push(this.rssMb());
        await cpu.sample();
        upload = (await json<{ upload: UploadView }>(`${this.base}/uploads/${uploadId}`, { headers: this.database.operatorHeaders })).upload;
        return upload.status === 'completed' || upload.status === 'failed';
      },
      30 * 60_000,
      `upload ${uploadId} processing`,
    );
    if (upload?.status !== 'completed') throw new Error(`upload ${uploadId} failed: ${upload?.error}`);
    await waitUntil(async () => this.logTimes.get(uploadId)?.has('upload processed') ?? false, 5_000, 'the node log line of the finished upload');
    await cpu.sample();
    const times = this.logTimes.get(uploadId)!;
    const startedAt = times.get('processing upload')!;
    const finishedAt = times.get('upload processed')!;
    return {
      upload,
      startedAt,
      finishedAt,
      processingMs: finishedAt - startedAt,
      cpu: cpu.totals(),
      rssWhileProcessingMb: { min: Math.min(...rssSamplesMb), max: Math.max(...rssSamplesMb) },
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** One case through the real path on a fresh node: PUT, complete, processing to the end. */
export async function measureUpload(benchCase: UploadCase, path: string, environment: StackEnvironment, database: BenchDatabase, nodeOptions: string[] = []) {
  const node = await BenchNode.start(environment, database, nodeOptions);
  const observer = new pg.Client({ connectionString: database.url });
  await observer.connect();
  try {
    const idleRssMb = node.rssMb();
    const submitted = await node.submit(benchCase, path);
    const completeMs = await node.complete(submitted.id);
    const processed = await node.waitProcessed(submitted.id, observer);
    return {
      uploadId: submitted.id,
      case: benchCase.name,
      nodeOptions: nodeOptions.join(' ') || 'default',
      rows: benchCase.rows,
      fileMb: Math.round((submitted.fileBytes / 1024 / 1024) * 10) / 10,
      accepted: processed.upload.rows.accepted,
      rejected: processed.upload.rows.rejected,
      uploadMs: submitted.uploadMs,
      completeCheckMs: completeMs,
      processingMs: processed.processingMs,
      rowsPerSecond: Math.round(benchCase.rows / (processed.processingMs / 1000)),
      // Load-independent: what the same work needs of an idle machine's cores.
      ...processed.cpu,
      nodeIdleRssMb: idleRssMb,
      nodePeakRssMb: node.peakRssMb(),
      nodeRssWhileProcessingMb: processed.rssWhileProcessingMb,
      loadAverage: loadAverage(),
    };
  } finally {
    await observer.end();
    await node.stop();
  }
}

/** The 1M-row CSV streamed from storage, decoded, parsed and checked row by row: no database. */
export async function measureParsing(path: string, environment: StackEnvironment) {
  const storage = new ObjectStorage({
    endpoint: environment.S3_ENDPOINT,
    region: environment.S3_REGION!,
    bucket: environment.S3_BUCKET!,
    accessKeyId: environment.S3_ACCESS_KEY_ID!,
    secretAccessKey: environment.S3_SECRET_ACCESS_KEY!,
    forcePathStyle: true,
  });
  const key = 'bench/parse-only.csv';
  await storage.putObject(key, createReadStream(path), { contentLength: statSync(path).size });
  storage.close();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/uploads/parse-only.ts'], {
    cwd: REPOSITORY,
    env: { ...process.env, ...environment, PARSE_KEY: key, PARSE_SIZE: String(statSync(path).size) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await once(child, 'exit');
  return { case: 'parse-1m', ...(JSON.parse(output) as Record<string, unknown>), loadAverage: loadAverage() };
}
