import { defineConfig } from 'vitest/config';

// Each workspace is a project; the edge runs inside workerd (see edge/vitest.config.ts).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'shared', include: ['shared/test/**/*.test.ts'] } },
      { test: { name: 'dev', include: ['dev/test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
      'edge/vitest.config.ts',
      { test: { name: 'backend', include: ['backend/test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 } },
    ],
  },
});
