/**
 * Debian's pgBouncer in transaction mode, in front of the test PostgreSQL (TEST_DATABASE_URL), as
 * the go-live plan deploys it (docs/pgbouncer.md): each client transaction gets whichever server
 * connection is free, so anything a node keeps on a session between transactions (session
 * advisory locks, named prepared statements, SET, LISTEN) breaks through it. Trust auth, every
 * database by the `*` fallback (tests create theirs on the fly), on a free port; its log goes to
 * a file in its working directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../running-server';
import { TEST_DATABASE_URL } from './postgres';

/** Set for the processes of a test run whose backend nodes go through pgBouncer: its host:port. */
export const PGBOUNCER_ADDRESS_VARIABLE = 'TETHER_TEST_PGBOUNCER';

/** Server connections per database and user: enough for a test file's nodes, few for a machine shared with other runs. */
const TEST_POOL_SIZE = 20;

export interface RunningPgBouncer {
  /** host:port */
  address: string;
  /** `databaseUrl` (a database on TEST_DATABASE_URL's server) reached through pgBouncer. */
  urlFor(databaseUrl: string): string;
  close(): Promise<void>;
}

/** The pgbouncer binary; Debian installs it in /usr/sbin, which a non-root PATH may lack. */
function pgbouncerBinary(): string {
  for (const candidate of ['pgbouncer', '/usr/sbin/pgbouncer']) {
    if (!spawnSync(candidate, ['--version']).error) return candidate;
  }
  throw new Error('pgbouncer is not installed: the events, billing and uploads suites run their backend nodes through it (apt-get install pgbouncer)');
}

/** `databaseUrl` with its host and port replaced by `address`. */
export function throughAddress(databaseUrl: string, address: string): string {
  const url = new URL(databaseUrl);
  url.host = address;
  return url.toString();
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startPgBouncer(): Promise<RunningPgBouncer> {
  const binary = pgbouncerBinary();
  const upstream = new URL(TEST_DATABASE_URL);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'tether-pgbouncer-'));
  // Started as root it must switch to another user (it refuses to run as root), who reads these files.
  chmodSync(directory, 0o755);
  const log = join(directory, 'pgbouncer.log');
  writeFileSync(join(directory, 'userlist.txt'), `"${user}" ""\n`);
  writeFileSync(
    join(directory, 'pgbouncer.ini'),
    `[databases]
* = host=${upstream.hostname} port=${upstream.port || 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(directory, 'userlist.txt')}
pool_mode = transaction
default_pool_size = ${TEST_POOL_SIZE}
max_client_conn = 2000
logfile = ${log}
`,
  );
  writeFileSync(log, '');
  chmodSync(log, 0o666);
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(binary, [...(asRoot ? ['-u', 'nobody'] : []), join(directory, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const detail = `${stderr}${readFileSync(log, 'utf8')}`.trim().split('\n').slice(-3).join(' | ');
      rmSync(directory, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start on port ${port}: ${detail || `exit ${child.exitCode}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const address = `127.0.0.1:${port}`;
  return {
    address,
    urlFor: (databaseUrl) => throughAddress(databaseUrl, address),
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Where a backend node under test reaches `databaseUrl`: through pgBouncer when this run has one, else directly. */
export function nodeDatabaseUrl(databaseUrl: string): string {
  const address = process.env[PGBOUNCER_ADDRESS_VARIABLE];
  return address ? throughAddress(databaseUrl, address) : databaseUrl;
}
