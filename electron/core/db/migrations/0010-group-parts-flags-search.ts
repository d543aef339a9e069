import type { Migration } from '../migration.ts';

/**
 * Groups, finished (issue 12): a new member's state split into numbered
 * parts waits in `group_snapshot_parts` until every part of the same update
 * has arrived; a member whose contact moved to a new identity is flagged
 * (`group_members.identity_changed`: sending to the group waits for the
 * user, as for 1:1); group message bodies get their own full-text index
 * (same tokenizer as `messages_fts`, per-row triggers: group messages are
 * never bulk-imported outside a restore, which rebuilds the index).
 */
export const migration0010: Migration = {
  version: 10,
  name: 'group-parts-flags-search',
  up(db) {
    db.exec(`
      -- Parts of one update's snapshot (key: the update's hash and its sealed sender), JSON each.
      CREATE TABLE group_snapshot_parts (
        update_hash BLOB NOT NULL CHECK (length(update_hash) = 32),
        sender TEXT NOT NULL,
        part INTEGER NOT NULL CHECK (part >= 0),
        parts INTEGER NOT NULL CHECK (parts >= 2),
        body TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (update_hash, sender, part)
      ) STRICT;
      CREATE INDEX group_snapshot_parts_by_sender ON group_snapshot_parts(sender);

      ALTER TABLE group_members ADD COLUMN identity_changed INTEGER NOT NULL DEFAULT 0
        CHECK (identity_changed IN (0, 1));

      CREATE VIRTUAL TABLE group_messages_fts USING fts5(
        body,
        content = 'group_messages',
        content_rowid = 'id',
        tokenize = 'signal_tokenizer'
      );
      INSERT INTO group_messages_fts(rowid, body) SELECT id, body FROM group_messages ORDER BY id;
      CREATE TRIGGER group_messages_fts_insert AFTER INSERT ON group_messages BEGIN
        INSERT INTO group_messages_fts(rowid, body) VALUES (new.id, new.body);
      END;
      CREATE TRIGGER group_messages_fts_delete AFTER DELETE ON group_messages BEGIN
        INSERT INTO group_messages_fts(group_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
      END;
      CREATE TRIGGER group_messages_fts_update AFTER UPDATE OF body ON group_messages BEGIN
        INSERT INTO group_messages_fts(group_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO group_messages_fts(rowid, body) VALUES (new.id, new.body);
      END;
    `);
  },
};
