import { configDefaults, defineConfig } from 'vitest/config';

// Each workspace is a project; the edge runs inside workerd (see edge/vitest.config.ts). The
// browser tests drive Chromium and the end-to-end run starts the whole stack, heavy on a small
// machine: they run after every other project, one after the other.
/** The events, billing and uploads suites: their backend nodes reach PostgreSQL through pgBouncer. */
const THROUGH_PGBOUNCER = ['backend/test/events-*.test.ts', 'backend/test/billing-*.test.ts', 'backend/test/upload-*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'shared', include: ['shared/test/**/*.test.ts'] } },
      { test: { name: 'dev', include: ['dev/test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
      'edge/vitest.config.ts',
      {
        test: {
          name: 'backend',
          include: ['backend/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'backend/test/browser/**', ...THROUGH_PGBOUNCER],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // The same kind of tests, their backend nodes behind pgBouncer in transaction mode, as the
      // go-live plan deploys them (docs/pgbouncer.md); each runs once, here instead of above.
      {
        test: {
          name: 'backend-pgbouncer',
          include: THROUGH_PGBOUNCER,
          globalSetup: ['backend/test/support/pgbouncer-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // What operators ship (deploy/, the Dockerfile, the edge's bundle) and release checks.
      { test: { name: 'deploy', include: ['deploy/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 600_000 } },
      {
        test: {
          name: 'browser',
          include: ['backend/test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      // The whole stack in child processes (bench/e2e): alone, after everything else.
      { test: { name: 'bench', include: ['bench/**/*.test.ts'], testTimeout: 300_000, sequence: { groupOrder: 2 } } },
    ],
  },
});
