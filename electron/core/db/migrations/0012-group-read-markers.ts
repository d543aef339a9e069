import type { Migration } from '../migration.ts';

/**
 * Group unread counts that survive a restart: each group keeps a read marker,
 * the id of the newest group message the user has seen (`group_messages.id`
 * is AUTOINCREMENT, so ids only grow and a message that arrives late with an
 * old `sent_at` still counts as unread). Unread = incoming rows above the
 * marker, counted through a partial index that holds only incoming rows, so
 * the count walks the unread ones and never the whole history. Groups that
 * exist already start read up to their newest message: before this the app
 * counted only what arrived while it ran.
 */
export const migration0012: Migration = {
  version: 12,
  name: 'group-read-markers',
  up(db) {
    db.exec(`
      ALTER TABLE groups ADD COLUMN read_through INTEGER NOT NULL DEFAULT 0 CHECK (read_through >= 0);
      UPDATE groups SET read_through = coalesce((SELECT max(m.id) FROM group_messages m WHERE m.group_ref = groups.id), 0);
      CREATE INDEX group_messages_incoming ON group_messages(group_ref, id) WHERE outgoing = 0;
    `);
  },
};
