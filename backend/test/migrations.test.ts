import { sql } from 'drizzle-orm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS_FOLDER } from '../src/db/client';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';

describe('migrations', () => {
  let database: MigratedTestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase();
  });
  afterAll(() => database.destroy());

  it('create every table of the schema', async () => {
    const result = await database.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(result.rows.map((row) => row.table_name)).toEqual([
      'audit_log',
      'billing_attempts',
      'billing_runs',
      'blacklist',
      'debtors',
      'login_failure_events',
      'login_failures',
      'mandates',
      'operator_sessions',
      'operators',
      'refunds',
      'review_decisions',
      'settings',
      'upload_errors',
      'uploads',
      'webhook_events',
    ]);
  });

  it('apply once when several nodes start together', async () => {
    await Promise.all([applyMigrations(database.pool), applyMigrations(database.pool), applyMigrations(database.pool)]);
    const applied = await database.db.execute<{ count: number }>(
      sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
    );
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(applied.rows[0]?.count).toBe(journal.entries.length);
  });
});
