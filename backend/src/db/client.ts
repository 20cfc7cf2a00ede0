import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { PgDialect, type PgSession } from 'drizzle-orm/pg-core';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import * as schema from './schema';

export type Database = NodePgDatabase<typeof schema>;

/**
 * migrations/ at the repository's root; the build (scripts/build.ts) copies it into backend/dist/ and
 * sets BUNDLED_MIGRATIONS_PATH to where it is from the bundle. Unset when running from source.
 */
declare const BUNDLED_MIGRATIONS_PATH: string | undefined;
export const MIGRATIONS_FOLDER = fileURLToPath(
  new URL(typeof BUNDLED_MIGRATIONS_PATH === 'string' ? BUNDLED_MIGRATIONS_PATH : '../../../migrations', import.meta.url),
);

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

// bigint columns come back as strings by default; every bigint here (ids, cents) fits a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function openDatabase(url: string, options: { maxConnections?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // A connection the server ends (restart, failover, pg_terminate_backend) emits 'error' besides
  // failing its query; unheard, that event would crash the process. The pool drops such clients.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

const MIGRATION_LOCK_ID = 7_406_113;

/**
 * Applies every committed migration not yet applied. Nodes starting together serialise on an
 * advisory lock, so each migration runs once. The lock is transaction-scoped, taken in the
 * transaction the migrations commit in: a session lock would outlive its transaction on a pooled
 * server connection behind pgBouncer in transaction mode (docs/pgbouncer.md), and its unlock
 * could reach another one.
 */
export async function applyMigrations(pool: pg.Pool): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  const migrations = readMigrationFiles(config);
  await drizzle(pool, { schema }).transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`);
    // drizzle's migrator (drizzle-orm/node-postgres/migrator) opens a transaction of its own with
    // BEGIN; here it runs inside this one, which holds the lock until the migrations commit.
    const session: PgSession = Object.assign(Object.create(tx._.session) as PgSession, { transaction: (work: (inner: typeof tx) => Promise<unknown>) => work(tx) });
    await new PgDialect().migrate(migrations, session, config);
  });
}
