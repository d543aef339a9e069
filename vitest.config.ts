import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './tests/support/sequencer.ts';

// Test projects by runtime (docs/architecture.md#tests): unit tests are fast and
// in-process; integration tests use real SQLCipher files, real processes and sockets.
// The projects that spawn `sotto` or `sotto-relay` build them first (they run
// from out/: docs/architecture.md#build).
const BUILD_CLI = ['tests/support/build-setup.ts'];
// The slowest integration files (about 10 of the 34 file-minutes of the last
// CI, on an idle 2-core machine): many CLI processes, each deriving a 64 MiB
// Argon2id key and waiting out the 1-10 s receipt delay, kill -9 loops, the
// attachment kill loops and 100 MiB file, the attachment CLI round trips over
// both relay kinds. `npm test` leaves them to `npm run test:slow`; CI runs
// everything in one run (`npm run test:all`), the longest files first.
const SLOW = [
  'tests/integration/cli/conversation.test.ts',
  'tests/integration/cli/crash-recovery.test.ts',
  'tests/integration/cli/groups.test.ts',
  'tests/integration/backup/v2-relay.test.ts',
  // PostgreSQL, two relay nodes and a TLS proxy as processes, a drain mid-stream (about 30 s).
  'tests/integration/relay/postgres/topology.test.ts',
  'tests/integration/attachments/kill-resume.test.ts',
  'tests/integration/attachments/large-file.test.ts',
  'tests/integration/attachments/cli-attachments.test.ts',
  'tests/integration/cli/key-maintenance.test.ts',
  // A backup restored into a new profile that re-sends its queued group message (about 40 s idle).
  'tests/integration/backup/group-requeue.test.ts',
  'tests/integration/cli/mute.test.ts',
];
const INTEGRATION = {
  environment: 'node',
  globalSetup: BUILD_CLI,
  testTimeout: 120_000,
  hookTimeout: 120_000,
  // Two files at a time (maxWorkers below): each uses its own temporary
  // directories and free loopback ports, and its budgets hold with both cores busy.
  fileParallelism: true,
} as const;
export default defineConfig({
  test: {
    // vitest's default is one worker fewer than the cores: one on a 2-core machine.
    // Two on CI's two cores: with three, the app's restore in tests/e2e/backup
    // took past its 90 s wait in two of three fresh-clone CI runs.
    maxWorkers: 2,
    // The longest files first, whatever their project (tests/support/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts'],
          // Budgets, not expectations: a test that passes returns at once, but a
          // machine with both cores busy takes many times the idle time.
          testTimeout: 60_000,
        },
      },
      {
        // Stores and components in a simulated DOM (happy-dom); the real
        // Chromium runs are the e2e project.
        plugins: [vue()],
        test: {
          name: 'renderer',
          environment: 'happy-dom',
          include: ['tests/renderer/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          ...INTEGRATION,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          exclude: SLOW,
        },
      },
      { test: { ...INTEGRATION, name: 'slow', include: SLOW } },
      {
        // The built renderer in headless Chromium against real cores and a real relay.
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          // The renderer is built once, before any file serves it.
          globalSetup: [...BUILD_CLI, 'tests/e2e/support/renderer-build.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Several files at a time, like the integration files, and alongside them:
          // each has its own Chromium, relay, ports and temporary directories.
          // (One at a time, the e2e files ran last with a core idle: 5 minutes.)
          fileParallelism: true,
        },
      },
    ],
  },
});
