import type { Migration } from '../migration.ts';

/**
 * Identities (trust state per peer), contacts, conversations, messages, the
 * outbox and the envelope ledger that makes redelivery harmless (R3).
 */
export const migration0002: Migration = {
  version: 2,
  name: 'contacts-and-history',
  up(db) {
    db.exec(`
      -- libsignal's identity store. trust: 'trusted' (first use or accepted) or
      -- 'changed' (a new key was seen and the user has not accepted it yet).
      CREATE TABLE identities (
        account_id TEXT PRIMARY KEY,
        public_key BLOB NOT NULL,
        trust TEXT NOT NULL CHECK (trust IN ('trusted', 'changed')),
        verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
        first_seen_at INTEGER NOT NULL,
        changed_at INTEGER
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE identity_changes (
        id INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL,
        old_key BLOB NOT NULL,
        new_key BLOB NOT NULL,
        detected_at INTEGER NOT NULL,
        accepted_at INTEGER
      ) STRICT;

      CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL UNIQUE,
        display_name TEXT,
        relay TEXT,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL UNIQUE REFERENCES contacts(id),
        last_message_at INTEGER,
        unread_count INTEGER NOT NULL DEFAULT 0,
        identity_changed INTEGER NOT NULL DEFAULT 0 CHECK (identity_changed IN (0, 1)),
        draft TEXT,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX conversations_recent ON conversations(last_message_at DESC);

      -- uuid: the sender-assigned message id (merge key for backups).
      -- status: queued | sent | delivered | failed (outgoing), received (incoming).
      -- AUTOINCREMENT: ids are never reused, which the search index watermark relies on (0003).
      CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL UNIQUE,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
        sender_account TEXT NOT NULL,
        sender_device INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'received'))
      ) STRICT;
      -- Keyset paging of one conversation, newest first.
      CREATE INDEX messages_by_conversation ON messages(conversation_id, sent_at, id);
      -- Application-level dedupe of redelivered content (R3).
      CREATE UNIQUE INDEX messages_by_sender ON messages(sender_account, sender_device, sent_at);

      -- R4: the row exists before the first attempt; client_message_id makes
      -- resubmits idempotent at the relay. payload is the encoded content until
      -- it is encrypted; ciphertext is set in the same transaction that advances
      -- the session that produced it. kind 'receipt' rows have no message.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'receipt')),
        message_id INTEGER UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
        client_message_id TEXT NOT NULL UNIQUE,
        recipient TEXT NOT NULL,
        recipient_device INTEGER NOT NULL,
        payload BLOB,
        ciphertext_type INTEGER,
        ciphertext BLOB,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK ((payload IS NULL) <> (ciphertext IS NULL))
      ) STRICT;
      CREATE INDEX outbox_by_recipient ON outbox(recipient, id);

      -- Envelopes already processed (decrypted and committed, or known duplicates).
      CREATE TABLE processed_envelopes (
        envelope_id TEXT PRIMARY KEY,
        processed_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- R5: envelopes that failed to process, with a bounded attempt count.
      CREATE TABLE failed_envelopes (
        envelope_id TEXT PRIMARY KEY,
        sender_account TEXT NOT NULL,
        error_code TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        first_failed_at INTEGER NOT NULL,
        last_failed_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
