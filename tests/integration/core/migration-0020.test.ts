import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { searchGroupMessages } from '../../../electron/core/groups/group-search.ts';
import { deletedCheck, recordDeleted } from '../../../electron/core/history/deleted-messages.ts';
import { searchMessages } from '../../../electron/core/history/history.ts';
import { indexNewMessages } from '../../../electron/core/history/search-index.ts';
import { tempDir } from '../../support/profiles.ts';

// Migration 0020: messages and group_messages are rebuilt with UNIQUE
// (uuid, sender_account) in place of UNIQUE (uuid), and deleted_messages gets
// the sender. A profile at 18 with history, files, search index, outbox,
// receipts, read markers and deleted entries comes out with the same rows
// under the same ids, every reference valid, search and cascades working.

const KEY = new Uint8Array(32).fill(20);
const ME = '0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a';
const BOB = '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b';
const MALLORY = '0c0c0c0c-0c0c-4c0c-8c0c-0c0c0c0c0c0c';
const ID = (n: number) => `0190f0f0-0000-7000-8000-${String(n).padStart(12, '0')}`;

const all = (db: Sql, sql: string) => db.prepare(sql).all();
const one = (db: Sql, sql: string) => db.prepare(sql, { pluck: true }).get();

/** A version 18 profile with a little of everything that hangs off messages. */
function profileAt18(): Sql {
  const db = openKeyed(join(tempDir(), 'v18.db'), KEY);
  migrate(db, 18);
  db.exec(`
    INSERT INTO contacts (account_id, display_name, created_at) VALUES ('${BOB}', 'Bob', 1);
    INSERT INTO conversations (contact_id, created_at) VALUES (1, 1);
    INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES
      ('${ID(1)}', 1, 0, '${BOB}', 1, 10, 10, 'picnic on saturday', 'received'),
      ('${ID(2)}', 1, 1, '${ME}', 1, 20, 20, 'bring the lemonade', 'queued'),
      ('${ID(3)}', 1, 0, '${BOB}', 1, 30, 30, 'deleted later', 'received');
    INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, created_at)
      VALUES ('message', 2, 'c1', '${BOB}', 1, x'00', 20);
    INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at)
      VALUES (zeroblob(32), 'Plans', 1, zeroblob(32), 'member', 1, 1);
    INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES
      ('${ID(4)}', 1, 1, '${ME}', 1, 40, 40, 'group kayak trip', 'sent'),
      ('${ID(5)}', 1, 0, '${BOB}', 1, 50, 50, 'kayaks booked', 'received');
    INSERT INTO group_receipts (message_id, account_id, delivered_at) VALUES (1, '${BOB}', 45);
    INSERT INTO group_sent_keys (message_id, distribution_id, chain_id, iteration, sent_at) VALUES (1, 'd', 1, 0, 40);
    UPDATE groups SET read_through = 2;
    INSERT INTO deleted_messages (uuid, deleted_at) VALUES ('${ID(9)}', 99);
  `);
  const attach = db.prepare(
    `INSERT INTO attachments (message_id, group_message_id, position, outgoing, state, transport_key, size, content_type, created_at)
     VALUES (?, ?, 0, 0, 'pending', zeroblob(64), 1, 'image/png', 1)`,
  );
  attach.run([1, null]);
  attach.run([null, 2]);
  indexNewMessages(db);
  // The newest rows were deleted: AUTOINCREMENT must not hand their ids out again.
  db.exec('DELETE FROM messages WHERE id = 3; DELETE FROM group_messages WHERE id = 2;');
  attach.run([null, 1]);
  return db;
}

describe('migration 0020 (message ids scoped by sender)', () => {
  it('keeps every row, id, reference, search entry and counter; uniqueness is per sender', () => {
    const db = profileAt18();
    const before = {
      messages: all(db, 'SELECT * FROM messages ORDER BY id'),
      group: all(db, 'SELECT * FROM group_messages ORDER BY id'),
      attachments: all(db, 'SELECT * FROM attachments ORDER BY id'),
      outbox: all(db, 'SELECT * FROM outbox'),
      receipts: all(db, 'SELECT * FROM group_receipts'),
      sequence: all(db, 'SELECT * FROM sqlite_sequence ORDER BY name'),
    };
    const objects = (table: string) =>
      db
        .prepare(
          "SELECT type, name FROM sqlite_master WHERE tbl_name = ? AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
        )
        .all([table]);
    const shape = { m: objects('messages'), g: objects('group_messages') };
    migrate(db, 20);
    expect(schemaVersion(db)).toBe(20);
    expect(Number(db.pragma('foreign_keys', { simple: true }))).toBe(1);
    expect(all(db, 'PRAGMA foreign_key_check')).toEqual([]);
    expect(all(db, 'SELECT * FROM messages ORDER BY id')).toEqual(before.messages);
    expect(all(db, 'SELECT * FROM group_messages ORDER BY id')).toEqual(before.group);
    expect(all(db, 'SELECT * FROM attachments ORDER BY id')).toEqual(before.attachments);
    expect(all(db, 'SELECT * FROM outbox')).toEqual(before.outbox);
    expect(all(db, 'SELECT * FROM group_receipts')).toEqual(before.receipts);
    expect(all(db, 'SELECT * FROM sqlite_sequence ORDER BY name')).toEqual(before.sequence);
    // The read marker is a row id: it still names the same message.
    expect(one(db, 'SELECT read_through FROM groups')).toBe(2);
    // Every index and trigger is back (the FTS triggers among them).
    expect({ m: objects('messages'), g: objects('group_messages') }).toEqual(shape);
    expect(shape.g).toContainEqual({ type: 'trigger', name: 'group_messages_fts_insert' });

    // Search finds old messages, and the index agrees with its content table.
    expect(searchMessages(db, 'picnic').map((m) => m.id)).toEqual([1]);
    expect(searchGroupMessages(db, 'kayak').map((m) => m.id)).toEqual([1]);
    db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
    db.exec("INSERT INTO group_messages_fts(group_messages_fts) VALUES ('integrity-check')");

    // New rows continue after the deleted ids; another sender may reuse a uuid, the same sender may not.
    const insert = db.prepare(
      `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       VALUES (?, 1, 0, ?, 1, ?, 60, ?, 'received') ON CONFLICT DO NOTHING RETURNING id`,
      { pluck: true },
    );
    expect(insert.get([ID(4), MALLORY, 60, 'kayak copy'])).toBe(3);
    expect(insert.get([ID(4), MALLORY, 61, 'kayak copy again'])).toBeUndefined();
    expect(searchGroupMessages(db, 'kayak').map((m) => m.id)).toEqual([3, 1]);
    const direct = db.prepare(
      `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       VALUES (?, 1, 0, ?, ?, ?, 70, 'x', 'received')`,
    );
    direct.run([ID(2), BOB, 2, 70]);
    expect(() => direct.run([ID(1), BOB, 2, 71])).toThrow(/UNIQUE/);
    expect(one(db, 'SELECT max(id) FROM messages')).toBe(4);

    // Cascades still reach the children: deleting a message takes its files and outbox row.
    expect(one(db, 'SELECT count(*) FROM attachments')).toBe(2);
    db.exec('DELETE FROM messages WHERE id IN (1, 2); DELETE FROM group_messages WHERE id = 1');
    expect(one(db, 'SELECT count(*) FROM attachments')).toBe(0);
    expect(one(db, 'SELECT count(*) FROM outbox')).toBe(0);
    expect(one(db, 'SELECT count(*) FROM group_receipts')).toBe(0);
    expect(one(db, 'SELECT count(*) FROM group_sent_keys')).toBe(0);
    expect(searchMessages(db, 'picnic')).toEqual([]);

    // A deleted entry from before names no sender: it keeps any sender's copy out; new ones only their sender's.
    const wasDeleted = deletedCheck(db);
    expect(all(db, 'SELECT uuid, sender_account, deleted_at FROM deleted_messages')).toEqual([
      { uuid: ID(9), sender_account: null, deleted_at: 99 },
    ]);
    expect([wasDeleted(ID(9), BOB), wasDeleted(ID(9), MALLORY)]).toEqual([true, true]);
    recordDeleted(db, [{ uuid: ID(8), sender: MALLORY }], 100);
    recordDeleted(db, [{ uuid: ID(8), sender: MALLORY }], 101);
    expect([wasDeleted(ID(8), MALLORY), wasDeleted(ID(8), BOB)]).toEqual([true, false]);
    expect(one(db, `SELECT count(*) FROM deleted_messages WHERE uuid = '${ID(8)}'`)).toBe(1);
    db.close();
  });

  it('damage a profile already carries (a dangling reference) is carried as it was, not refused, and foreign keys end on', () => {
    const db = profileAt18();
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec('DELETE FROM messages WHERE id = 1');
    db.exec('PRAGMA foreign_keys = ON');
    const damage = all(db, 'PRAGMA foreign_key_check');
    expect(damage).toHaveLength(1);
    migrate(db, 20);
    expect(schemaVersion(db)).toBe(20);
    expect(all(db, 'PRAGMA foreign_key_check')).toEqual(damage);
    expect(Number(db.pragma('foreign_keys', { simple: true }))).toBe(1);
    db.close();
  });

  it('a rebuild inside an open transaction is refused before it drops anything', () => {
    const db = profileAt18();
    expect(() => db.transaction(() => migrate(db))()).toThrow(/INTERNAL|transaction/);
    expect(schemaVersion(db)).toBe(18);
    expect(one(db, 'SELECT count(*) FROM attachments')).toBe(2);
    db.close();
  });
});
