import { configDefaults, defineConfig } from 'vitest/config';

// Each workspace is a project; the edge runs inside workerd (see edge/vitest.config.ts). The
// browser tests drive Chromium, heavy on a small machine: they run after every other project.
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
          exclude: [...configDefaults.exclude, 'backend/test/browser/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['backend/test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
