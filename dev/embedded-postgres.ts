/**
 * PostgreSQL for a laptop with nothing installed: PGlite (Postgres compiled to WebAssembly),
 * kept on disk, served over the wire protocol so the backend uses the same `pg` driver as in
 * production.
 *
 * PGlite is one session, so connections take turns. pglite-socket's own server interleaves
 * connections message by message, which breaks the extended protocol: one client's Parse can
 * replace another's unnamed statement between its Parse and Bind ("unnamed prepared statement
 * does not exist"). Here a connection keeps the session for a whole exchange — up to the
 * ReadyForQuery that ends it — and for as long as that ReadyForQuery says a transaction (or a
 * COPY) is open. Named prepared statements belong to a session too: each connection's names get
 * a prefix of their own, or two connections preparing "claim" would collide ("prepared statement
 * already exists"), and are deallocated when it closes.
 */
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { RunningServer } from './running-server';

const SSL_REQUEST_CODE = 80877103;
const CANCEL_REQUEST_CODE = 80877102;
/** Messages after which the client waits for an answer, so the exchange can run. */
const EXCHANGE_ENDS = new Set(['S', 'Q', 'H', 'c', 'f', 'F']);
const TERMINATE = 'X';

/** Where the statement name sits in the messages that carry one (after any leading fields). */
function statementNameOffset(message: Buffer): number | undefined {
  switch (String.fromCharCode(message[0]!)) {
    case 'P': // Parse: name, query, …
      return 5;
    case 'B': // Bind: portal, statement, …
      return message.indexOf(0, 5) + 1;
    case 'D': // Describe and Close: 'S' statement or 'P' portal, then the name
    case 'C':
      return message[5] === 0x53 ? 6 : undefined;
    default:
      return undefined;
  }
}

let connections = 0;

/** Lets one connection at a time use the single PGlite session. */
class SessionLock {
  private owner: object | undefined;
  private waiters: Array<() => void> = [];

  async acquire(holder: object): Promise<void> {
    while (this.owner !== undefined && this.owner !== holder) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.owner = holder;
  }

  release(holder: object): void {
    if (this.owner !== holder) return;
    this.owner = undefined;
    this.waiters.shift()?.();
  }

  isHeldBy(holder: object): boolean {
    return this.owner === holder;
  }
}

class WireConnection {
  private buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private started = false;
  private work = Promise.resolve();
  /** The last bytes PGlite sent, to see whether they end with ReadyForQuery and in which state. */
  private tail = Buffer.alloc(0);
  private readonly statementPrefix = `c${++connections}_`;
  private readonly statements = new Set<string>();

  constructor(
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly lock: SessionLock,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => void this.enqueue(() => this.closed()));
    socket.on('error', () => socket.destroy());
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        const code = message.readInt32BE(4);
        if (code === SSL_REQUEST_CODE) this.socket.write('N');
        else if (code === CANCEL_REQUEST_CODE) this.socket.end();
        else {
          this.started = true;
          this.enqueue(() => this.exchange(message));
        }
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < length) return;
      const message = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      const type = String.fromCharCode(message[0]!);
      if (type === TERMINATE) {
        this.socket.end();
        return;
      }
      this.pending.push(this.withOwnStatementName(message));
      if (EXCHANGE_ENDS.has(type)) {
        const exchange = Buffer.concat(this.pending);
        this.pending = [];
        this.enqueue(() => this.exchange(exchange));
      }
    }
  }

  /** The message with its statement name (if it has a non-empty one) prefixed for this connection. */
  private withOwnStatementName(message: Buffer): Buffer {
    const offset = statementNameOffset(message);
    if (offset === undefined || message[offset] === 0) return message;
    const end = message.indexOf(0, offset);
    const name = `${this.statementPrefix}${message.toString('utf8', offset, end)}`;
    if (message[0] === 0x50) this.statements.add(name);
    const rewritten = Buffer.concat([message.subarray(0, offset), Buffer.from(name), message.subarray(end)]);
    rewritten.writeInt32BE(rewritten.length - 1, 1);
    return rewritten;
  }

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(step).catch(() => void this.socket.destroy());
  }

  private async exchange(messages: Buffer): Promise<void> {
    await this.lock.acquire(this);
    await this.db.execProtocolRawStream(new Uint8Array(messages), {
      onRawData: (data) => {
        if (this.socket.writable) this.socket.write(data);
        this.tail = Buffer.concat([this.tail, Buffer.from(data)]).subarray(-6);
      },
    });
    if (this.isIdle()) this.lock.release(this);
  }

  /** ReadyForQuery ('Z', length 5) with status 'I': no transaction, nothing half-done. */
  private isIdle(): boolean {
    return this.tail.length === 6 && this.tail[0] === 0x5a && this.tail.readInt32BE(1) === 5 && this.tail[5] === 0x49;
  }

  private async closed(): Promise<void> {
    await this.lock.acquire(this);
    if (this.db.isInTransaction()) await this.db.exec('rollback').catch(() => undefined);
    for (const name of this.statements) await this.db.exec(`deallocate "${name.replaceAll('"', '""')}"`).catch(() => undefined);
    this.lock.release(this);
  }
}

export async function startEmbeddedPostgres(options: { dataDirectory: string; port: number; host?: string }): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.dataDirectory, { recursive: true });
  const db = await PGlite.create(options.dataDirectory);
  const lock = new SessionLock();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new WireConnection(socket, db, lock);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}
