import type { Migration } from '../migration.ts';

/**
 * No stalled mailboxes (issue 11): an envelope whose inner layer failed to
 * decrypt or decode used to stay unacked on the relay, so a few hundred of
 * them filled the relay's push window and held back every later envelope.
 * Now its raw sealed body is kept here, in the encrypted database, in the
 * same commit that records the failure; the envelope is acked and retried
 * from this table (messaging/receive-unprocessed.ts). Rows are deleted once
 * processed or rejected; `stored_at` orders eviction when the cap is reached.
 */
export const migration0008: Migration = {
  version: 8,
  name: 'unprocessed-envelopes',
  up(db) {
    db.exec(`
      CREATE TABLE unprocessed_envelopes (
        envelope_id TEXT PRIMARY KEY,
        body BLOB NOT NULL,
        server_time INTEGER NOT NULL,
        stored_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX unprocessed_by_age ON unprocessed_envelopes(stored_at, envelope_id);
    `);
  },
};
