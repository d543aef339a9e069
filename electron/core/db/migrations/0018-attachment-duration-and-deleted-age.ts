import type { Migration } from '../migration.ts';

/**
 * Two leftovers of issue 13. `attachments.duration_ms`: the optional video or
 * audio duration a pointer may carry (step 1 of the two-release path in
 * docs/message-format.md#attachments: received and stored, not yet sent),
 * null when the pointer had none and for every row stored before. And an
 * index on `deleted_messages.deleted_at`, so pruning entries past their
 * window (history/deleted-messages.ts) does not scan the whole table.
 */
export const migration0018: Migration = {
  version: 18,
  name: 'attachment-duration-and-deleted-age',
  up(db) {
    db.exec(`
      ALTER TABLE attachments ADD COLUMN duration_ms INTEGER
        CHECK (duration_ms IS NULL OR (duration_ms > 0 AND duration_ms <= 86400000));
      CREATE INDEX deleted_messages_by_age ON deleted_messages(deleted_at);
    `);
  },
};
