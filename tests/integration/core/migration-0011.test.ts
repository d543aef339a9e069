import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(10);

/** A database at schema 10 with one conversation and one message. */
function profileAt10(): Sql {
  const db = openKeyed(join(tempDir(), 'v10.db'), KEY);
  migrate(db, 10);
  db.prepare(
    "INSERT INTO contacts (id, account_id, created_at) VALUES (1, '00000000-0000-4000-8000-000000000001', 1)",
  ).run();
  db.prepare('INSERT INTO conversations (id, contact_id, created_at) VALUES (1, 1, 1)').run();
  db.prepare(
    `INSERT INTO messages (id, uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (1, 'u1', 1, 0, '00000000-0000-4000-8000-000000000001', 1, 5, 6, 'hi', 'received')`,
  ).run();
  return db;
}

function insert(db: Sql, values: { message?: number | null; state?: string; key?: number }) {
  db.prepare(
    `INSERT INTO attachments (message_id, position, outgoing, state, transport_key, size, content_type, created_at)
     VALUES (?, 0, 0, ?, ?, 10, 'text/plain', 1)`,
  ).run([
    values.message === undefined ? 1 : values.message,
    values.state ?? 'pending',
    randomBytes(values.key ?? 64),
  ]);
}

describe('migration 0011 (attachments)', () => {
  it('keeps messages, adds the table, and its checks refuse rows that would break the jobs', () => {
    const db = profileAt10();
    migrate(db, 11);
    expect(schemaVersion(db)).toBe(11);
    expect(db.prepare('SELECT body FROM messages', { pluck: true }).all()).toEqual(['hi']);
    insert(db, {});
    expect(() => insert(db, { state: 'downloading' })).toThrow(/CHECK/);
    expect(() => insert(db, { key: 32 })).toThrow(/CHECK/);
    // Belongs to exactly one message (1:1 or group).
    expect(() => insert(db, { message: null })).toThrow(/CHECK/);
    expect(() => insert(db, { message: 99 })).toThrow(/FOREIGN KEY/);
    // Deleting the message deletes its rows (the files go with them: attachment-files.ts).
    db.prepare('DELETE FROM messages WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) FROM attachments', { pluck: true }).get()).toBe(0);
  });
});
