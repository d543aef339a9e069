import type { Migration } from '../migration.ts';

/**
 * The account (one row) and libsignal's protocol state. Records are stored as
 * libsignal serializes them; rows are keyed the way libsignal's stores ask.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'account-and-protocol-state',
  up(db) {
    db.exec(`
      CREATE TABLE account (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        account_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        device_id INTEGER NOT NULL,
        registration_id INTEGER NOT NULL,
        identity_key_pair BLOB NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- Monotonic id allocators for prekeys (ids are 24-bit in libsignal).
      CREATE TABLE key_counters (
        kind TEXT PRIMARY KEY,
        next_id INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- address = '<account id>.<device id>'
      CREATE TABLE sessions (
        address TEXT PRIMARY KEY,
        record BLOB NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE pre_keys (
        id INTEGER PRIMARY KEY,
        record BLOB NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE signed_pre_keys (
        id INTEGER PRIMARY KEY,
        record BLOB NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE kyber_pre_keys (
        id INTEGER PRIMARY KEY,
        record BLOB NOT NULL,
        last_resort INTEGER NOT NULL CHECK (last_resort IN (0, 1)),
        created_at INTEGER NOT NULL
      ) STRICT;

      -- A last-resort Kyber key may be used many times, but never twice with the
      -- same (signed prekey, base key): that would be a replayed session start.
      CREATE TABLE kyber_pre_key_uses (
        kyber_pre_key_id INTEGER NOT NULL REFERENCES kyber_pre_keys(id) ON DELETE CASCADE,
        signed_pre_key_id INTEGER NOT NULL,
        base_key BLOB NOT NULL,
        PRIMARY KEY (kyber_pre_key_id, signed_pre_key_id, base_key)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE sender_keys (
        address TEXT NOT NULL,
        distribution_id TEXT NOT NULL,
        record BLOB NOT NULL,
        PRIMARY KEY (address, distribution_id)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
