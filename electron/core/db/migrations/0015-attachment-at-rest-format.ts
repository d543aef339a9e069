import type { Migration } from '../migration.ts';

/**
 * Which at-rest format a stored copy is in (docs/architecture.md#at-rest-format):
 * 0 is the AttachmentV2 blob files were stored in until now (CBC + HMAC, with
 * local_digest; checked as a whole before a byte is read), 1 the chunked
 * AES-256-GCM format every new copy is written in (per-chunk tags, no
 * local_digest), which range requests read without a whole-file pass. Copies
 * already on disk stay in format 0 and keep being read as such: converting
 * them at open would rewrite every file of a large profile before it unlocks.
 */
export const migration0015: Migration = {
  version: 15,
  name: 'attachment-at-rest-format',
  up(db) {
    db.exec(`
      ALTER TABLE attachments ADD COLUMN local_format INTEGER NOT NULL DEFAULT 0
        CHECK (local_format IN (0, 1));
    `);
  },
};
