// The statements that read a profile's messages into backup lines, run by
// message-blocks.ts on the export's read connection. Messages are read in id
// ranges, serialized to JSON lines by SQLite itself (json_object), which is
// several times faster than building objects in JS and stringifying them.

/** Ids of messages span (0, maxId]; `count` of them exist. */
export interface MessageRange {
  readonly maxId: number;
  readonly count: number;
}

/**
 * The message range, asked on the export's read connection: a full index
 * scan, which there goes through a small page cache rather than filling the
 * main connection's 64 MiB one (peak memory would then grow with history).
 */
export const MESSAGE_RANGE_SQL =
  'SELECT coalesce(max(id), 0) AS maxId, count(*) AS count FROM messages';

/** Message ids read per query. */
export const MESSAGE_SPAN = 2048;

/**
 * Run once on the export's read connection, in the transaction that fixes its
 * snapshot: a map from conversation id to the contact's account id, so each
 * message costs one primary-key lookup instead of a two-table join.
 */
export const MESSAGE_SETUP_SQL = `
  CREATE TEMP TABLE backup_conversation_account (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL);
  INSERT INTO temp.backup_conversation_account
    SELECT c.id, k.account_id FROM conversations c JOIN contacts k ON k.id = c.contact_id;`;

/**
 * The messages with ids in (?, ?] as JSON lines (`type` first, members in
 * the documented order) joined by newlines, as UTF-8 bytes (a blob: no JS
 * string is built, which halves the cost), and how many.
 *
 * Order: the stream must list messages by id. `CROSS JOIN` keeps `messages`
 * the outer loop (SQLite never reorders it), scanned by rowid over the id
 * range, so rows reach group_concat in ascending id order without an
 * `ORDER BY` inside it (which costs a sort of every block: over twice the
 * time). tests/integration/backup/message-order.test.ts pins this.
 */
export const MESSAGE_BLOCK_SQL = `
  SELECT CAST(group_concat(line, char(10)) AS BLOB) AS block, count(*) AS count FROM (
    SELECT json_object('type', 'message', 'uuid', m.uuid, 'with', t.account_id,
             'outgoing', json(CASE m.outgoing WHEN 1 THEN 'true' ELSE 'false' END),
             'senderAccount', m.sender_account, 'senderDevice', m.sender_device,
             'sentAt', m.sent_at, 'receivedAt', m.received_at, 'status', m.status, 'body', m.body) AS line
    FROM messages m CROSS JOIN temp.backup_conversation_account t ON t.id = m.conversation_id
    WHERE m.id > ? AND m.id <= ?)`;
