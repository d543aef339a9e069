import type { Migration } from '../migration.ts';

/**
 * "Delete for me" (history/delete-messages.ts): the sender-assigned uuid of
 * every incoming message the user deleted, 1:1 or group, so a copy that
 * arrives again under another envelope id (a sender's retry, a group resend)
 * is dropped like a duplicate instead of coming back. Outgoing messages need
 * no entry: nothing delivers them to this device again.
 */
export const migration0017: Migration = {
  version: 17,
  name: 'deleted-messages',
  up(db) {
    db.exec(`
      CREATE TABLE deleted_messages (
        uuid TEXT PRIMARY KEY,
        deleted_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
