import type { Migration } from '../migration.ts';

/**
 * The user's say over incoming attachments (issue 13 §2, docs/architecture.md#attachments).
 * A 'pending' download now runs only when the auto-download policy allows it
 * ('auto') or the user clicked Download ('requested'); a download the user
 * cancelled waits for a click whatever the policy says ('declined').
 * Rows still pending from before this migration keep downloading as they
 * would have: they become 'requested'.
 */
export const migration0013: Migration = {
  version: 13,
  name: 'download-choice',
  up(db) {
    db.exec(`
      ALTER TABLE attachments ADD COLUMN download_choice TEXT NOT NULL DEFAULT 'auto'
        CHECK (download_choice IN ('auto', 'requested', 'declined'));
      UPDATE attachments SET download_choice = 'requested' WHERE outgoing = 0 AND state = 'pending';
    `);
  },
};
