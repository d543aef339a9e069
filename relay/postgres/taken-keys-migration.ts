// Migration 9 of the PostgreSQL relay database (schema.ts runs it): the
// one-time key ids the relay handed out, so a retried or replayed publish
// cannot bring one back (docs/relay-protocol.md, keys.publish). Append-only like every
// migration once released.

/** The SQL of migration 9. */
export const TAKEN_KEYS_MIGRATION = `
  -- One row per handed-out one-time key (kind as in one_time_key), written by
  -- the DELETE that claimed it, in the same transaction; the sweep forgets it
  -- TAKEN_KEY_MEMORY_MS after taken_at. A key claimed before this migration
  -- has no row: those were handed out by a relay that forgot them already.
  CREATE TABLE taken_one_time_key (
    account_id uuid NOT NULL,
    device_id  integer NOT NULL,
    kind       smallint NOT NULL CHECK (kind IN (1, 2)),
    key_id     integer NOT NULL,
    taken_at   bigint NOT NULL,
    PRIMARY KEY (account_id, device_id, kind, key_id)
  );
  CREATE INDEX taken_one_time_key_age ON taken_one_time_key (taken_at);
`;
