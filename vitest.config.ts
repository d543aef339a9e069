import { defineConfig } from 'vitest/config';

// Test projects by runtime (docs/architecture.md#tests): unit tests are fast and
// in-process; integration tests use real SQLCipher files, real processes and sockets.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          environment: 'node',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration tests spawn processes and hold file locks; keep them apart.
          fileParallelism: false,
        },
      },
    ],
  },
});
