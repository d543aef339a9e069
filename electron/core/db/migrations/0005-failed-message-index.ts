import type { Migration } from '../migration.ts';

/**
 * The conversation list marks conversations with failed sends. Failed messages
 * are rare, so a partial index finds them per conversation without reading a
 * conversation's whole history.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'failed-message-index',
  up(db) {
    db.exec(`CREATE INDEX messages_failed ON messages(conversation_id) WHERE status = 'failed';`);
  },
};
