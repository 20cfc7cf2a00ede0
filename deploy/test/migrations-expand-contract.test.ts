/**
 * The CI check of expand/contract (issue 16.5): no committed migration takes away what the
 * previous release uses, unless it is marked as the contract step (support/expand-contract.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contractChanges } from './support/expand-contract';

const MIGRATIONS = fileURLToPath(new URL('../../migrations/', import.meta.url));

describe('migrations expand before they contract', () => {
  it.each(readdirSync(MIGRATIONS).filter((file) => file.endsWith('.sql')))('%s keeps the previous release working, or is marked as a contract', (file) => {
    expect(contractChanges(readFileSync(join(MIGRATIONS, file), 'utf8'))).toEqual([]);
  });

  it('refuses drops, renames and new NOT NULL without a default', () => {
    const refused = [
      'DROP TABLE "uploads";',
      'ALTER TABLE "uploads" DROP COLUMN "format";',
      'ALTER TABLE "uploads" DROP "format";',
      'ALTER TABLE "uploads" RENAME COLUMN "format" TO "kind";',
      'ALTER TABLE "uploads" RENAME TO "files";',
      'ALTER TABLE "uploads" ADD COLUMN "kind" text NOT NULL;',
      'ALTER TABLE "uploads" ADD COLUMN "a" text DEFAULT \'x\' NOT NULL, ADD COLUMN "kind" text NOT NULL;',
      'ALTER TABLE "uploads" ALTER COLUMN "format" SET NOT NULL;',
      // drizzle-kit's form, several statements in one file.
      'CREATE TABLE "x" ("id" bigserial PRIMARY KEY NOT NULL);--> statement-breakpoint\nALTER TABLE "uploads" DROP COLUMN "format";',
    ];
    for (const sql of refused) expect(contractChanges(sql), sql).toHaveLength(1);
  });

  it('lets expansions, index and constraint changes, and marked contracts through', () => {
    const allowed = [
      'CREATE TABLE "x" ("id" bigserial PRIMARY KEY NOT NULL, "name" text NOT NULL);',
      'ALTER TABLE "uploads" ADD COLUMN "kind" text;',
      'ALTER TABLE "uploads" ADD COLUMN "bytes_read" bigint DEFAULT 0 NOT NULL;',
      'ALTER TABLE "uploads" ALTER COLUMN "format" DROP NOT NULL;',
      'ALTER TABLE "uploads" ALTER COLUMN "format" DROP DEFAULT;',
      'ALTER TABLE "billing_attempts" DROP CONSTRAINT "billing_attempts_emp_unique_id_unique";',
      'DROP INDEX "billing_attempts_run_status_idx";',
      '-- a comment mentioning DROP TABLE "uploads"\nALTER TABLE "uploads" ADD COLUMN "kind" text;',
      '-- tether:contract uploads.format unused since release 2026-12-10 (0012 expanded to uploads.kind)\nALTER TABLE "uploads" DROP COLUMN "format";',
    ];
    for (const sql of allowed) expect(contractChanges(sql), sql).toEqual([]);
    // The marker needs its reason.
    expect(contractChanges('-- tether:contract\nALTER TABLE "uploads" DROP COLUMN "format";')).toHaveLength(1);
  });
});
