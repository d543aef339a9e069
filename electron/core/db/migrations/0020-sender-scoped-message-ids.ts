import type { Migration } from '../migration.ts';
import type { Sql } from '../sqlite.ts';

/**
 * A message's identity is (sender account, uuid), no longer the uuid alone
 * (docs/threat-model.md#reordering). The uuid is chosen by the sender and
 * every group member sees it, so with `uuid UNIQUE` a member who copied
 * another member's id into a message of her own made the real one a
 * "duplicate" wherever hers arrived first. `sender_account` is the account
 * the session layer authenticated (this account for outgoing rows), never a
 * field of the content.
 *
 * SQLite cannot drop a UNIQUE constraint, so `messages` and `group_messages`
 * are rebuilt (foreign keys off, see `rebuildsParents`): same columns, same
 * row ids (attachments, outbox rows, receipts, read markers and both search
 * indexes point at them), the AUTOINCREMENT counter carried over (an id is
 * never handed out twice), and every index and trigger the old table had
 * (the FTS triggers, and the deferrable indexes a killed bulk import may have
 * left out, which the next open builds) created again from its own SQL.
 * The key is (uuid, sender_account): uuids are time-ordered, so the index
 * stays append-mostly, and a lookup by uuid alone still uses it.
 *
 * `deleted_messages` gains the sender: a "delete for me" keeps only that
 * sender's copy out. Rows from before have none (NULL) and keep their old
 * meaning, any sender, until they age out (90 days, history/deleted-messages.ts).
 */
export const migration0020: Migration = {
  version: 20,
  name: 'sender-scoped-message-ids',
  rebuildsParents: true,
  up(db) {
    rebuild(db, 'messages', 'conversation_id INTEGER NOT NULL REFERENCES conversations(id)');
    rebuild(db, 'group_messages', 'group_ref INTEGER NOT NULL REFERENCES groups(id)');
    db.exec(`
      CREATE TABLE deleted_messages_v20 (
        uuid TEXT NOT NULL,
        sender_account TEXT,
        deleted_at INTEGER NOT NULL
      ) STRICT;
      INSERT INTO deleted_messages_v20 (uuid, sender_account, deleted_at)
        SELECT uuid, NULL, deleted_at FROM deleted_messages;
      DROP TABLE deleted_messages;
      ALTER TABLE deleted_messages_v20 RENAME TO deleted_messages;
      CREATE UNIQUE INDEX deleted_messages_by_uuid ON deleted_messages(uuid, ifnull(sender_account, ''));
      CREATE INDEX deleted_messages_by_age ON deleted_messages(deleted_at);
    `);
  },
};

const COLUMNS = `id, uuid, CONTAINER, outgoing, sender_account, sender_device, sent_at, received_at, body, status`;

/** Rebuilds one message table with UNIQUE (uuid, sender_account) in place of UNIQUE (uuid). */
function rebuild(db: Sql, table: string, container: string): void {
  const extras = db
    .prepare(
      "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
      { pluck: true },
    )
    .all<string>([table]);
  const columns = COLUMNS.replace('CONTAINER', container.split(' ')[0]!);
  db.exec(`
    CREATE TABLE ${table}_v20 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      uuid TEXT NOT NULL,
      ${container},
      outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
      sender_account TEXT NOT NULL,
      sender_device INTEGER NOT NULL,
      sent_at INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      body TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'received')),
      UNIQUE (uuid, sender_account)
    ) STRICT;
    INSERT INTO ${table}_v20 (${columns}) SELECT ${columns} FROM ${table} ORDER BY id;
    DELETE FROM sqlite_sequence WHERE name = '${table}_v20';
    INSERT INTO sqlite_sequence (name, seq) SELECT '${table}_v20', seq FROM sqlite_sequence WHERE name = '${table}';
    DROP TABLE ${table};
    ALTER TABLE ${table}_v20 RENAME TO ${table};
  `);
  for (const sql of extras) db.exec(sql);
}
