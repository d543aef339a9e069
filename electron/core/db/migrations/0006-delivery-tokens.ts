import type { Migration } from '../migration.ts';

/**
 * Relay protocol 2 (docs/message-format.md#delivery-tokens):
 * - this account's delivery token, a setting (`delivery.token`, 32 hex chars);
 *   a profile created from now on gets it here too, since creation runs the
 *   migrations on the empty database;
 * - per contact: the relay id and delivery token from their invite (or their
 *   last `token` message, whose `sentAt` orders rotations), and `blocked`;
 * - the outbox learns a third kind, `token` (the rotated token re-shared with
 *   a contact), and remembers when a relay first refused an entry's token, so
 *   a refusal right after the recipient rotated waits instead of failing.
 *   SQLite cannot widen a CHECK in place, so the outbox is rebuilt.
 */
export const migration0006: Migration = {
  version: 6,
  name: 'delivery-tokens',
  up(db) {
    db.exec(`
      INSERT INTO settings (key, value) VALUES ('delivery.token', lower(hex(randomblob(16))))
        ON CONFLICT (key) DO NOTHING;

      ALTER TABLE contacts ADD COLUMN relay_id TEXT;
      ALTER TABLE contacts ADD COLUMN delivery_token BLOB CHECK (delivery_token IS NULL OR length(delivery_token) = 16);
      ALTER TABLE contacts ADD COLUMN token_sent_at INTEGER;
      ALTER TABLE contacts ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1));

      CREATE TABLE outbox_v6 (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'receipt', 'token')),
        message_id INTEGER UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
        client_message_id TEXT NOT NULL UNIQUE,
        recipient TEXT NOT NULL,
        recipient_device INTEGER NOT NULL,
        payload BLOB,
        ciphertext_type INTEGER,
        ciphertext BLOB,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        token_refused_at INTEGER,
        created_at INTEGER NOT NULL,
        CHECK ((payload IS NULL) <> (ciphertext IS NULL))
      ) STRICT;
      INSERT INTO outbox_v6 (id, kind, message_id, client_message_id, recipient, recipient_device, payload,
                             ciphertext_type, ciphertext, attempts, next_attempt_at, created_at)
        SELECT id, kind, message_id, client_message_id, recipient, recipient_device, payload,
               ciphertext_type, ciphertext, attempts, next_attempt_at, created_at FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_v6 RENAME TO outbox;
      CREATE INDEX outbox_by_recipient ON outbox(recipient, id);
    `);
  },
};
