import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../backend/src/db/client';
import { startEmbeddedPostgres } from '../embedded-postgres';
import type { RunningServer } from '../running-server';

describe('embedded PostgreSQL (PGlite over the wire protocol)', () => {
  let directory: string;
  let server: RunningServer;
  let pool: pg.Pool;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tether-pglite-'));
    server = await startEmbeddedPostgres({ dataDirectory: directory, port: 0 });
    pool = new pg.Pool({ connectionString: server.url, max: 8 });
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('runs the backend migrations', async () => {
    await applyMigrations(pool);
    const tables = await pool.query(`select count(*)::int as n from information_schema.tables where table_schema = 'public'`);
    expect(tables.rows[0].n).toBeGreaterThanOrEqual(5);
  });

  it('keeps parameterised queries of many connections apart', async () => {
    // Each query is Parse/Bind/Execute/Sync of an unnamed statement; interleaving them across
    // connections would mix up results or fail with "unnamed prepared statement does not exist".
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => pool.query('select $1::int * 2 as doubled, $2::text as label', [i, `q${i}`])),
    );
    answers.forEach((answer, i) => expect(answer.rows[0]).toEqual({ doubled: i * 2, label: `q${i}` }));
  });

  it('keeps named prepared statements per connection, as sessions do', async () => {
    // pg prepares a named query once per connection; two connections using the same name for
    // different text must each run their own.
    const [first, second] = [new pg.Client({ connectionString: server.url }), new pg.Client({ connectionString: server.url })];
    await Promise.all([first.connect(), second.connect()]);
    try {
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([
          first.query({ name: 'shared-name', text: 'select $1::int + 1 as n', values: [round] }),
          second.query({ name: 'shared-name', text: 'select $1::int * 10 as n', values: [round] }),
        ]);
        expect(a.rows[0]).toEqual({ n: round + 1 });
        expect(b.rows[0]).toEqual({ n: round * 10 });
      }
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    // Deallocated with their connections.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const left = await pool.query(`select count(*)::int as n from pg_prepared_statements where name like '%shared-name'`);
    expect(left.rows[0].n).toBe(0);
  });

  it('isolates one connection\'s open transaction from the others', async () => {
    await pool.query('create table if not exists isolation_probe (id int)');
    const writer = await pool.connect();
    try {
      await writer.query('begin');
      await writer.query('insert into isolation_probe values ($1)', [1]);
      // The reader waits for the writer's transaction to end rather than seeing it half-done.
      const reading = pool.query('select count(*)::int as n from isolation_probe');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await writer.query('rollback');
      expect((await reading).rows[0].n).toBe(0);
    } finally {
      writer.release();
    }
  });

  it('rolls back the transaction of a connection that drops', async () => {
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => undefined); // the drop below is the point of the test
    await client.connect();
    await client.query('begin');
    await client.query('insert into isolation_probe values (2)');
    client.connection.stream.destroy();
    const after = await pool.query('select count(*)::int as n from isolation_probe');
    expect(after.rows[0].n).toBe(0);
  });
});
