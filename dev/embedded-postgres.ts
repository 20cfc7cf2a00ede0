/**
 * PostgreSQL for a laptop with nothing installed: PGlite (Postgres compiled to WebAssembly),
 * kept on disk, served over the wire protocol so the backend uses the same `pg` driver as in
 * production. PGlite is single-session; the socket server multiplexes connections and keeps a
 * transaction on the connection that opened it.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync } from 'node:fs';
import type { RunningServer } from './running-server';

export async function startEmbeddedPostgres(options: { dataDirectory: string; port: number; host?: string }): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.dataDirectory, { recursive: true });
  const db = await PGlite.create(options.dataDirectory);
  const server = new PGLiteSocketServer({ db, port: options.port, host, maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres@${host}:${options.port}/postgres`,
    port: options.port,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
