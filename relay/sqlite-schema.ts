import { randomBytes } from 'node:crypto';
import type Database from '@signalapp/sqlcipher';

// The relay database's schema. PRAGMA user_version records the schema version:
// 1 was protocol 1 (envelopes with a sender column; never migrated, see
// ProtocolOneDataError), 2 is the first protocol-2 schema, and later versions
// are appended to MIGRATIONS. Append, never edit, a migration.

/** The user_version a protocol-1 relay left in its database. */
const PROTOCOL_ONE_VERSION = 1;
/** The user_version of the first protocol-2 schema (MIGRATIONS[0]). */
const FIRST_VERSION = 2;

const MIGRATIONS: readonly string[] = [
  `
  -- One row per fact about this relay; 'relay_id' is written with the schema.
  CREATE TABLE relay_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

  -- Account id -> identity key, bound by the first login whose key derives the id.
  -- token_hash: SHA-256 of the delivery token (kept after a move, only so that
  -- token holders, and nobody else, learn that the account moved).
  CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    identity_key BLOB NOT NULL,
    bound_at INTEGER NOT NULL,
    token_hash BLOB,
    moved_at INTEGER
  ) STRICT;

  -- The replaceable part of a device's published keys (base64 as published;
  -- the relay never interprets them, the fetching client verifies them).
  CREATE TABLE device_keys (
    account_id TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    registration_id INTEGER NOT NULL,
    identity_key TEXT NOT NULL,
    signed_pre_key_id INTEGER NOT NULL,
    signed_pre_key TEXT NOT NULL,
    signed_pre_key_signature TEXT NOT NULL,
    last_resort_kyber_id INTEGER NOT NULL,
    last_resort_kyber_key TEXT NOT NULL,
    last_resort_kyber_signature TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id)
  ) STRICT;

  -- One-time keys; seq is publication order, so "oldest first" survives key-id wraparound.
  CREATE TABLE one_time_pre_keys (
    seq INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    UNIQUE (account_id, device_id, key_id)
  ) STRICT;
  CREATE INDEX one_time_pre_keys_order ON one_time_pre_keys (account_id, device_id, seq);

  CREATE TABLE one_time_kyber_pre_keys (
    seq INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    UNIQUE (account_id, device_id, key_id)
  ) STRICT;
  CREATE INDEX one_time_kyber_pre_keys_order ON one_time_kyber_pre_keys (account_id, device_id, seq);

  -- Mailboxes. seq is arrival order (AUTOINCREMENT: never reused after the
  -- newest envelope is acked, so a connection's push cursor stays valid); body
  -- is the sealed ciphertext. There is no sender anywhere: the idempotency key
  -- is a column of the row and goes with it.
  CREATE TABLE envelopes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    recipient_device INTEGER NOT NULL,
    client_message_id TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (recipient, recipient_device, client_message_id)
  ) STRICT;
  CREATE INDEX envelopes_mailbox ON envelopes (recipient, recipient_device, seq);
  CREATE INDEX envelopes_age ON envelopes (received_at);

  -- Maintained counters (never COUNT(*) on the intake path): envelopes and
  -- body bytes per mailbox, and in total (the row with mailbox '' / 0).
  CREATE TABLE mailbox_usage (
    recipient TEXT NOT NULL,
    recipient_device INTEGER NOT NULL,
    envelopes INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (recipient, recipient_device)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO mailbox_usage VALUES ('', 0, 0, 0);

  CREATE TRIGGER envelopes_counted AFTER INSERT ON envelopes BEGIN
    INSERT INTO mailbox_usage VALUES (new.recipient, new.recipient_device, 1, length(new.body))
      ON CONFLICT DO UPDATE SET envelopes = envelopes + 1, bytes = bytes + length(new.body);
    UPDATE mailbox_usage SET envelopes = envelopes + 1, bytes = bytes + length(new.body)
      WHERE recipient = '' AND recipient_device = 0;
  END;
  CREATE TRIGGER envelopes_uncounted AFTER DELETE ON envelopes BEGIN
    UPDATE mailbox_usage SET envelopes = envelopes - 1, bytes = bytes - length(old.body)
      WHERE (recipient = old.recipient AND recipient_device = old.recipient_device)
         OR (recipient = '' AND recipient_device = 0);
  END;
  `,
  `
  -- Attachment blobs (docs/relay-protocol.md#blobs): the bytes live in the
  -- BlobStore under storage_key (random, not the blob id: a directory listing
  -- must not hand out capabilities); token_hash is SHA-256 of the upload
  -- token; length is the declared length, which counts against the
  -- uploader's quota until expires_at, finished or not.
  CREATE TABLE blobs (
    blob_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL,
    length INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX blobs_account ON blobs (account_id, expires_at);
  CREATE INDEX blobs_expiry ON blobs (expires_at);
  `,
  `
  -- One-time key ids the relay handed out (kind 1 = EC, 2 = Kyber), kept
  -- until the sweep forgets them TAKEN_KEY_MEMORY_MS after taken_at: a
  -- publish naming one of them ignores that key, so a retried or replayed
  -- publish never brings a handed-out key back (docs/relay-protocol.md, keys.publish).
  CREATE TABLE taken_one_time_keys (
    account_id TEXT NOT NULL,
    device_id INTEGER NOT NULL,
    kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
    key_id INTEGER NOT NULL,
    taken_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id, kind, key_id)
  ) STRICT;
  CREATE INDEX taken_one_time_keys_age ON taken_one_time_keys (taken_at);
  `,
];

/** The data directory holds a protocol-1 relay database, which a protocol-2 relay cannot serve. */
export class ProtocolOneDataError extends Error {
  constructor() {
    super('relay.db was written by a protocol-1 relay');
    this.name = 'ProtocolOneDataError';
  }
}

/** The data directory holds a database written by a newer relay. */
export class NewerRelayDataError extends Error {
  constructor() {
    super('relay.db was written by a newer relay');
    this.name = 'NewerRelayDataError';
  }
}

/**
 * Brings the schema up to date, each migration in its own transaction; a new
 * database also gets its relay id (16 random bytes, base64url) in the first one.
 * A protocol-1 database is refused, untouched: its envelopes name senders and
 * are not sealed, so no protocol-2 client could read them.
 */
export function migrate(db: Database): void {
  const version = Number(db.pragma('user_version', { simple: true }) ?? 0);
  if (version === PROTOCOL_ONE_VERSION) throw new ProtocolOneDataError();
  const latest = FIRST_VERSION + MIGRATIONS.length - 1;
  if (version > latest) throw new NewerRelayDataError();
  const applied = version === 0 ? 0 : version - FIRST_VERSION + 1;
  MIGRATIONS.slice(applied).forEach((sql, index) => {
    const number = applied + index;
    db.transaction(() => {
      db.exec(sql);
      if (number === 0)
        db.prepare("INSERT INTO relay_meta (key, value) VALUES ('relay_id', ?)").run([
          randomBytes(16).toString('base64url'),
        ]);
      db.pragma(`user_version = ${FIRST_VERSION + number}`);
    })();
  });
}
