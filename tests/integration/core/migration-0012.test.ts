import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { groupUnread } from '../../../electron/core/groups/group-read.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(12);

/** A database at schema 11 with two groups: one with history, one without. */
function profileAt11(): Sql {
  const db = openKeyed(join(tempDir(), 'v11.db'), KEY);
  migrate(db, 11);
  const group = db.prepare(
    `INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at)
     VALUES (?, 't', 0, ?, 'member', 1, 1)`,
  );
  group.run([randomBytes(32), randomBytes(32)]);
  group.run([randomBytes(32), randomBytes(32)]);
  insertMessage(db, 1, 'u1', 0, 1);
  insertMessage(db, 1, 'u2', 1, 2);
  return db;
}

function insertMessage(db: Sql, ref: number, uuid: string, outgoing: number, sentAt: number): void {
  db.prepare(
    `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (?, ?, ?, 'a', 1, ?, 1, 'x', ?)`,
  ).run([uuid, ref, outgoing, sentAt, outgoing ? 'sent' : 'received']);
}

describe('migration 0012 (group read markers)', () => {
  it('starts existing groups read up to their newest message; later incoming ones count', () => {
    const db = profileAt11();
    migrate(db, 12);
    expect(schemaVersion(db)).toBe(12);
    expect(
      db.prepare('SELECT read_through FROM groups ORDER BY id', { pluck: true }).all(),
    ).toEqual([2, 0]);
    expect(groupUnread(db, 1)).toBe(0);
    insertMessage(db, 1, 'u3', 0, 3);
    // Arrived late with an old sent_at: still unread (the marker is by arrival, not by time).
    insertMessage(db, 1, 'u4', 0, 0);
    insertMessage(db, 1, 'u5', 1, 5);
    expect(groupUnread(db, 1)).toBe(2);
    insertMessage(db, 2, 'u6', 0, 6);
    expect(groupUnread(db, 2)).toBe(1);
    expect(() => db.prepare('UPDATE groups SET read_through = -1').run()).toThrow(/CHECK/);
  });
});
