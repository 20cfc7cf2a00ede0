/**
 * A throw-away PostgreSQL database per test file, on the real server (TEST_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test). Test files run in parallel, so none shares tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onMaintenanceConnection<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(prefix = 'tether_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onMaintenanceConnection((client) => client.query(`create database "${name}"`));
  return {
    name,
    url: withDatabase(TEST_DATABASE_URL, name),
    drop: () =>
      onMaintenanceConnection((client) => client.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}
