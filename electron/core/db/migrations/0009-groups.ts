import type { Migration } from '../migration.ts';

/**
 * Group conversations with sender keys (issue 12, docs/storage.md#groups).
 * Membership lives only on members' devices: a group is its 32-byte random
 * id, a title, a revision and the member list as signed group updates left
 * it. Sender keys (table `sender_keys` since 0001) are libsignal's serialized
 * records keyed by (sender address, distribution id); `own_sender_keys` is this device's chain per
 * group and `sender_key_shared` the member devices that already hold it
 * (Signal's `memberDevices`): both change in the same transaction as any
 * reset of our own record. Group messages, their outbox (the SenderKeyMessage
 * is stored in the same transaction as the chain advance that produced it:
 * R4) and per-member receipts have tables of their own, so the 1:1 tables
 * keep their meaning.
 */
export const migration0009: Migration = {
  version: 9,
  name: 'groups',
  up(db) {
    db.exec(`
      -- state: 'member' (we are in it), 'left' (we left), 'removed' (an admin removed us).
      -- head_hash: SHA-256 of the last applied signed update (the tie-break of concurrent updates).
      CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        group_id BLOB NOT NULL UNIQUE CHECK (length(group_id) = 32),
        title TEXT NOT NULL,
        revision INTEGER NOT NULL CHECK (revision >= 0),
        head_hash BLOB NOT NULL CHECK (length(head_hash) = 32),
        -- The state before the last applied update (JSON snapshot): a concurrent update that
        -- wins the tie-break replaces the last one from here (docs/message-format.md#groups).
        prev_state TEXT,
        state TEXT NOT NULL CHECK (state IN ('member', 'left', 'removed')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- Every member, ourselves included, as an invite gives them. state 'removed'/'left'
      -- rows stay so history keeps the sender's name and a stale update can be recognised.
      CREATE TABLE group_members (
        group_ref INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        identity_key BLOB NOT NULL,
        display_name TEXT,
        relay TEXT NOT NULL,
        relay_id TEXT,
        delivery_token BLOB NOT NULL CHECK (length(delivery_token) = 16),
        admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
        state TEXT NOT NULL CHECK (state IN ('member', 'removed', 'left')),
        joined_revision INTEGER NOT NULL,
        PRIMARY KEY (group_ref, account_id)
      ) STRICT; -- with rowid: the member list keeps the order members joined in
      CREATE INDEX group_members_by_account ON group_members(account_id);

      -- Updates refused, by reason (counted, content-free: the integrator's and the user's view).
      CREATE TABLE group_update_refusals (
        reason TEXT PRIMARY KEY,
        count INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- sender_keys (0001: address '<account id>.<device id>', distribution_id, record) gets its age.
      ALTER TABLE sender_keys ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

      CREATE TABLE own_sender_keys (
        group_ref INTEGER PRIMARY KEY REFERENCES groups(id) ON DELETE CASCADE,
        distribution_id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE sender_key_shared (
        group_ref INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        device_id INTEGER NOT NULL,
        PRIMARY KEY (group_ref, account_id, device_id)
      ) STRICT, WITHOUT ROWID;

      -- status as in messages: queued | sent | delivered | failed (outgoing), received (incoming).
      CREATE TABLE group_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL UNIQUE,
        group_ref INTEGER NOT NULL REFERENCES groups(id),
        outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
        sender_account TEXT NOT NULL,
        sender_device INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'received'))
      ) STRICT;
      CREATE INDEX group_messages_by_group ON group_messages(group_ref, sent_at, id);
      CREATE UNIQUE INDEX group_messages_by_sender ON group_messages(sender_account, sender_device, sent_at);

      -- Per-member delivery of an outgoing group message ("delivered to N of M").
      CREATE TABLE group_receipts (
        message_id INTEGER NOT NULL REFERENCES group_messages(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        delivered_at INTEGER,
        PRIMARY KEY (message_id, account_id)
      ) STRICT, WITHOUT ROWID;

      -- R4 for sender keys: the SenderKeyMessage is written in the transaction that
      -- commits the chain advance; it is sealed (multi-recipient) at send time.
      CREATE TABLE group_outbox (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL UNIQUE REFERENCES group_messages(id) ON DELETE CASCADE,
        client_message_id TEXT NOT NULL UNIQUE,
        group_ref INTEGER NOT NULL REFERENCES groups(id),
        payload BLOB,
        ciphertext BLOB,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK ((payload IS NULL) <> (ciphertext IS NULL))
      ) STRICT;
      CREATE TABLE group_outbox_recipients (
        outbox_id INTEGER NOT NULL REFERENCES group_outbox(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        PRIMARY KEY (outbox_id, account_id)
      ) STRICT, WITHOUT ROWID;

      -- Pairwise group contents (updates, sender-key distribution, retry answers) are outbox kind 'group'.
      CREATE TABLE outbox_v9 (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'receipt', 'token', 'group')),
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
      INSERT INTO outbox_v9 SELECT id, kind, message_id, client_message_id, recipient, recipient_device, payload,
        ciphertext_type, ciphertext, attempts, next_attempt_at, token_refused_at, created_at FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_v9 RENAME TO outbox;
      CREATE INDEX outbox_by_recipient ON outbox(recipient, id);

      -- The bounded sent-message log for retries: which chain position carried which message.
      CREATE TABLE group_sent_keys (
        message_id INTEGER PRIMARY KEY REFERENCES group_messages(id) ON DELETE CASCADE,
        distribution_id TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        iteration INTEGER NOT NULL,
        sent_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX group_sent_keys_by_position ON group_sent_keys(distribution_id, chain_id, iteration);

      -- Retry requests answered per (requester, message), bounded (5, like Signal).
      CREATE TABLE group_retries (
        message_uuid TEXT NOT NULL,
        requester TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (message_uuid, requester)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
