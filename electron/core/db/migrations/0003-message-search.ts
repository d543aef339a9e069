import type { Migration } from '../migration.ts';

/**
 * Full-text search over message bodies: an external-content FTS5 index.
 * `signal_tokenizer` (registered by `initTokenizer()` on every connection)
 * segments CJK text into words, which unicode61 does not.
 *
 * New rows are not indexed by a per-row trigger: every write path calls
 * `indexNewMessages` (history/search-index.ts) once at the end of its
 * transaction, which indexes all rows above `search_state.indexed_through` in
 * one INSERT…SELECT — several times cheaper per row than a trigger, and a bulk
 * import simply calls it once at the end. Deletes and edits of indexed rows
 * are mirrored by triggers. `messages.id` is AUTOINCREMENT (migration 0002),
 * so an id at or below the watermark is never reused.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'message-search',
  up(db) {
    db.exec(`
      CREATE VIRTUAL TABLE messages_fts USING fts5(
        body,
        content = 'messages',
        content_rowid = 'id',
        tokenize = 'signal_tokenizer'
      );
      CREATE TABLE search_state (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        indexed_through INTEGER NOT NULL
      ) STRICT;
      INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages ORDER BY id;
      INSERT INTO search_state VALUES (1, (SELECT coalesce(max(id), 0) FROM messages));

      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
      WHEN old.id <= (SELECT indexed_through FROM search_state) BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
      WHEN old.id <= (SELECT indexed_through FROM search_state) BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
      END;
    `);
  },
};
