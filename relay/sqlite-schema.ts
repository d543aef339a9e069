import type Database from '@signalapp/sqlcipher';

// The relay database's schema, one numbered migration per entry; PRAGMA
// user_version records how many have run. Append, never edit, a migration.

const MIGRATIONS: readonly string[] = [
  `
  -- Account id -> identity key, bound by the first successful auth.
  CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    identity_key BLOB NOT NULL,
    bound_at INTEGER NOT NULL
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

  -- Mailboxes. seq is arrival order; body is the ciphertext as bytes.
  CREATE TABLE envelopes (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    recipient_device INTEGER NOT NULL,
    sender TEXT NOT NULL,
    sender_device INTEGER NOT NULL,
    ctype INTEGER NOT NULL,
    body BLOB NOT NULL,
    received_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX envelopes_mailbox ON envelopes (recipient, recipient_device, sender, seq);
  CREATE INDEX envelopes_age ON envelopes (received_at);

  -- Idempotency records. They outlive the envelope (an ack deletes the body) so
  -- a late resubmit of a delivered message is not delivered twice; they expire with the TTL.
  CREATE TABLE submissions (
    sender TEXT NOT NULL,
    client_message_id TEXT NOT NULL,
    envelope_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (sender, client_message_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX submissions_age ON submissions (received_at);
  `,
];

/** Runs the migrations this database has not seen yet, each in its own transaction. */
export function migrate(db: Database): void {
  const applied = Number(db.pragma('user_version', { simple: true }) ?? 0);
  if (applied > MIGRATIONS.length) {
    throw new Error('relay.db was written by a newer relay');
  }
  MIGRATIONS.slice(applied).forEach((sql, index) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${applied + index + 1}`);
    })();
  });
}
