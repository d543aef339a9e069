import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(10);

/** A database at schema 9 with a group, a member and one group message. */
function profileAt9(): Sql {
  const db = openKeyed(join(tempDir(), 'v9.db'), KEY);
  migrate(db, 9);
  db.prepare(
    `INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at)
     VALUES (?, 't', 0, ?, 'member', 1, 1)`,
  ).run([randomBytes(32), randomBytes(32)]);
  db.prepare(
    `INSERT INTO group_members (group_ref, account_id, identity_key, relay, delivery_token, state, joined_revision)
     VALUES (1, 'a', ?, 'r', ?, 'member', 0)`,
  ).run([randomBytes(33), randomBytes(16)]);
  db.prepare(
    `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES ('u1', 1, 0, 'a', 1, 1, 1, 'lighthouse keepers', 'received')`,
  ).run();
  return db;
}

const search = (db: Sql, q: string) =>
  db
    .prepare('SELECT rowid FROM group_messages_fts WHERE group_messages_fts MATCH ?', {
      pluck: true,
    })
    .all([q]);

describe('migration 0010 (group snapshot parts, member identity flags, group search)', () => {
  it('indexes the group messages already there and those written after; members start unflagged', () => {
    const db = profileAt9();
    migrate(db, 10);
    expect(schemaVersion(db)).toBe(10);
    expect(search(db, 'lighthouse')).toEqual([1]);
    db.prepare(
      `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       VALUES ('u2', 1, 1, 'a', 1, 2, 2, 'harbour lights', 'queued')`,
    ).run();
    expect(search(db, 'harbour')).toEqual([2]);
    db.prepare("DELETE FROM group_messages WHERE uuid = 'u1'").run();
    expect(search(db, 'lighthouse')).toEqual([]);
    expect(db.prepare('SELECT identity_changed FROM group_members', { pluck: true }).all()).toEqual(
      [0],
    );
    expect(() => db.prepare('UPDATE group_members SET identity_changed = 2').run()).toThrow(
      /CHECK/,
    );
  });

  it('keeps snapshot parts by update hash, sender and part number, strictly', () => {
    const db = profileAt9();
    migrate(db, 10);
    const part = db.prepare(
      `INSERT INTO group_snapshot_parts (update_hash, sender, part, parts, body, received_at) VALUES (?, 's', ?, ?, '{}', 1)`,
    );
    const hash = randomBytes(32);
    part.run([hash, 0, 2]);
    expect(() => part.run([hash, 0, 2])).toThrow(/UNIQUE|PRIMARY/);
    expect(() => part.run([randomBytes(31), 0, 2])).toThrow(/CHECK/);
    expect(() => part.run([hash, 1, 1])).toThrow(/CHECK/);
  });
});
