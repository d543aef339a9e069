import type { Migration } from '../migration.ts';

/**
 * Full-text search over message bodies: an external-content FTS5 index kept in
 * step by triggers. `signal_tokenizer` (registered by `initTokenizer()` on every
 * connection) segments CJK text into words, which unicode61 does not.
 *
 * While the setting `search.pendingFrom` exists (a bulk import is running, see
 * history/bulk-import.ts), rows with id >= it are not indexed row by row; the
 * import indexes them in one pass at the end, and Profile.open finishes the
 * job if the import was interrupted.
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
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
      WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = 'search.pendingFrom') BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
      WHEN old.id < coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'search.pendingFrom'), 9223372036854775807)
      BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
      WHEN old.id < coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'search.pendingFrom'), 9223372036854775807)
      BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
      END;
      INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages;
    `);
  },
};
