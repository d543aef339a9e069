import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Vitest's own order puts projects one after another and, on a fresh clone
// (no timings cached), the larger files first: CI's two workers then often
// ended with one 1-2 minute file running alone while the other core idled.
// Starting the longest files first (longest-processing-time scheduling) lets
// the many short files fill in around them, so both workers finish together.

/**
 * Seconds each file took in the last fresh-clone CI run (both cores busy),
 * for the files of 10 s or more; the rest keep vitest's order after them.
 * Refresh from a CI log when a file's time changes a lot (an outdated entry
 * only costs balance, never a test). Files added since that run are marked
 * `est.`: timed on a busy shared machine (two workers, load 10-22) and divided
 * by 3, the median ratio of six listed files timed the same way to their CI
 * seconds (2.1-6.0: a guess good enough for order, replace with CI's).
 */
export const EXPECTED_SECONDS: Readonly<Record<string, number>> = {
  'tests/integration/attachments/cli-attachments.test.ts': 143,
  'tests/integration/cli/conversation.test.ts': 124,
  'tests/integration/cli/groups.test.ts': 62,
  'tests/integration/cli/delete.test.ts': 60,
  'tests/integration/backup/v2-relay.test.ts': 58,
  'tests/integration/cli/group-retry.test.ts': 56,
  'tests/integration/cli/crash-recovery.test.ts': 52,
  'tests/e2e/groups.test.ts': 48,
  'tests/e2e/attachment-picks.test.ts': 45,
  'tests/integration/attachments/kill-resume.test.ts': 44,
  'tests/integration/cli/key-maintenance.test.ts': 43,
  'tests/integration/attachments/seal-kill.test.ts': 39, // est.
  'tests/integration/attachments/group-sealing-upload.test.ts': 30, // est.
  'tests/e2e/seal-cancel.test.ts': 20, // est.
  'tests/integration/attachments/upload-rederive.test.ts': 20, // est.
  'tests/integration/attachments/retry-refused-fanout.test.ts': 20, // est.
  'tests/integration/sync/relay-contract.test.ts': 36,
  'tests/integration/backup/cli-attachments.test.ts': 35,
  'tests/integration/attachments/large-file.test.ts': 35,
  'tests/integration/attachments/upload-while-sealing.test.ts': 34, // est.
  'tests/integration/backup/group-requeue.test.ts': 30,
  'tests/integration/service/app-service.test.ts': 28,
  'tests/integration/cli/mute.test.ts': 26,
  'tests/integration/relay/storage-contract.test.ts': 23,
  'tests/e2e/video-previews.test.ts': 23,
  'tests/e2e/attachments.test.ts': 23,
  'tests/integration/backup/round-trip.test.ts': 22,
  'tests/e2e/messenger.test.ts': 22,
  'tests/e2e/backup.test.ts': 22,
  'tests/integration/sync/cli-wss.test.ts': 20,
  'tests/integration/backup/mutes.test.ts': 20,
  'tests/integration/backup/kill.test.ts': 20,
  'tests/integration/attachments/relay-restart.test.ts': 20,
  'tests/e2e/history-reopen.test.ts': 19, // est.
  'tests/e2e/group-history.test.ts': 19,
  'tests/e2e/accessibility.test.ts': 19,
  'tests/e2e/transfers.test.ts': 18,
  'tests/e2e/mute.test.ts': 18,
  'tests/integration/core/sealed-relay.test.ts': 16,
  'tests/integration/groups/group-crash.test.ts': 15,
  'tests/unit/main/core-host.test.ts': 14,
  'tests/integration/groups/group-hostile.test.ts': 14,
  'tests/integration/backup/deleted-messages.test.ts': 13, // est.
  'tests/integration/sync/cli-relay.test.ts': 13,
  'tests/integration/relay/s3-blobs.test.ts': 13,
  'tests/integration/groups/group-snapshot-parts.test.ts': 13,
  'tests/integration/attachments/core-transfer.test.ts': 13,
  'tests/integration/cli/retry-resume.test.ts': 12, // est.
  'tests/integration/attachments/retry-cancelled-group.test.ts': 12, // est.
  'tests/integration/groups/group-recovery.test.ts': 12,
  'tests/integration/cli/policy.test.ts': 12,
  'tests/integration/backup/cli-import.test.ts': 12,
  'tests/integration/backup/attachments.test.ts': 12,
  'tests/e2e/message-delete.test.ts': 12,
  'tests/e2e/identity-change.test.ts': 12,
  'tests/integration/sync/real-relay.test.ts': 11,
  'tests/integration/groups/group-ws-relays.test.ts': 11,
  'tests/integration/core/key-maintenance.test.ts': 11,
  'tests/integration/core/bulk-import.test.ts': 11,
  'tests/integration/sync/stalled-mailbox.test.ts': 10,
  'tests/integration/relay/postgres/topology.test.ts': 10,
  'tests/integration/groups/group-unsent.test.ts': 10,
  'tests/integration/attachments/receive-downloads.test.ts': 10,
};

/** Orders test files by EXPECTED_SECONDS, longest first, across all projects. */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (spec: TestSpecification) =>
      EXPECTED_SECONDS[relative(root, spec.moduleId)] ?? 0;
    // Array.prototype.sort is stable: files without an entry keep vitest's order.
    return (await super.sort(files)).sort((a, b) => seconds(b) - seconds(a));
  }
}
