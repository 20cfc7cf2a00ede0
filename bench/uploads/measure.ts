/**
 * One benchmark case through the real upload path, against a backend node in its own process;
 * and the Node-side share alone (parse and check, no database) in a process of its own.
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

/** The node's connections carry this name, so their PostgreSQL backends can be told from the dev QStash server's. */
const NODE_APPLICATION_NAME = 'tether-bench-node';

/** CPU used by the node and by its PostgreSQL backends since `start()`; backends come and go with the pool. */
class CpuAccount {
  private nodeStart = 0;
  private nodeLast = 0;
  private readonly backends = new Map<number, { start: number; last: number }>();

  constructor(
    private readonly nodePid: number,
    private readonly database: pg.Client,
  ) {}

  async start(): Promise<void> {
    this.nodeStart = this.nodeLast = cpuSecondsOf(this.nodePid) ?? 0;
    for (const pid of await this.backendPids()) {
      const used = cpuSecondsOf(pid) ?? 0;
      this.backends.set(pid, { start: used, last: used });
    }
  }

  async sample(): Promise<void> {
    this.nodeLast = cpuSecondsOf(this.nodePid) ?? this.nodeLast;
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
    return { nodeCpuSeconds: round(this.nodeLast - this.nodeStart), postgresCpuSeconds: round(postgres) };
  }

  private async backendPids(): Promise<number[]> {
    const { rows } = await this.database.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [NODE_APPLICATION_NAME]);
    return rows.map((row) => row.pid);
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
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
  progress: number;
  error: string | null;
}

export async function measureUpload(
  benchCase: UploadCase,
  path: string,
  environment: Record<string, string>,
  operatorHeaders: Record<string, string>,
  nodeOptions?: string,
) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const node = spawn(process.execPath, [...(nodeOptions ? [nodeOptions] : []), '--import', 'tsx', 'backend/src/main.ts'], {
    cwd: REPOSITORY,
    env: {
      ...process.env,
      ...PLACEHOLDERS,
      ...environment,
      DATABASE_URL: `${environment.DATABASE_URL}?application_name=${NODE_APPLICATION_NAME}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logTimes = new Map<string, number>();
  createInterface({ input: node.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: number };
      if (entry.msg && entry.time) logTimes.set(entry.msg, entry.time);
    } catch {
      // not a log line
    }
  });
  const observer = new pg.Client({ connectionString: environment.DATABASE_URL });
  await observer.connect();
  try {
    await waitUntil(() => answers(`${base}/health`), 60_000, 'backend node start');
    const idleRssMb = memoryOf(node.pid!, 'VmRSS');

    const fileBytes = statSync(path).size;
    const created = await json<{ upload: UploadView; put: { url: string; headers: Record<string, string> } }>(`${base}/uploads`, {
      method: 'POST',
      headers: { ...operatorHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ fileName: `${benchCase.name}.${benchCase.format}`, sizeBytes: fileBytes, contentType: CONTENT_TYPES[benchCase.format] }),
    });
    let started = performance.now();
    await putFile(created.put.url, created.put.headers, path);
    const uploadMs = Math.round(performance.now() - started);

    started = performance.now();
    await json(`${base}/uploads/${created.upload.id}/complete`, { method: 'POST', headers: operatorHeaders });
    const completeMs = Math.round(performance.now() - started);

    const cpu = new CpuAccount(node.pid!, observer);
    await cpu.start();
    const rssSamplesMb: number[] = [];
    let upload: UploadView | undefined;
    await waitUntil(
      async () => {
        rssSamplesMb.push(memoryOf(node.pid!, 'VmRSS'));
        await cpu.sample();
        upload = (await json<{ upload: UploadView }>(`${base}/uploads/${created.upload.id}`, { headers: operatorHeaders })).upload;
        return upload.status === 'completed' || upload.status === 'failed';
      },
      30 * 60_000,
      `${benchCase.name} processing`,
    );
    if (upload?.status !== 'completed') throw new Error(`${benchCase.name} failed: ${upload?.error}`);
    await waitUntil(async () => logTimes.has('upload processed'), 5_000, 'the node log line of the finished upload');
    const processingMs = logTimes.get('upload processed')! - logTimes.get('processing upload')!;
    await cpu.sample();
    return {
      case: benchCase.name,
      nodeOptions: nodeOptions ?? 'default',
      rows: benchCase.rows,
      fileMb: Math.round((fileBytes / 1024 / 1024) * 10) / 10,
      accepted: upload.rows.accepted,
      rejected: upload.rows.rejected,
      uploadMs,
      completeCheckMs: completeMs,
      processingMs,
      rowsPerSecond: Math.round(benchCase.rows / (processingMs / 1000)),
      // Load-independent: what the same work needs of an idle machine's cores.
      ...cpu.totals(),
      nodeIdleRssMb: idleRssMb,
      nodePeakRssMb: memoryOf(node.pid!, 'VmHWM'),
      nodeRssWhileProcessingMb: { min: Math.min(...rssSamplesMb), max: Math.max(...rssSamplesMb) },
      loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    };
  } finally {
    await observer.end();
    await stop(node);
  }
}

/** The 1M-row CSV streamed from storage, decoded, parsed and checked row by row: no database. */
export async function measureParsing(path: string, environment: Record<string, string>) {
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
  return { case: 'parse-1m', ...(JSON.parse(output) as Record<string, unknown>), loadAverage: loadavg().map((load) => Math.round(load * 100) / 100) };
}
