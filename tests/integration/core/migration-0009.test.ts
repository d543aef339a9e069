import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(9);

/** A database at schema 8 with a queued outbox row and a sender-key record. */
function profileAt8(): Sql {
  const db = openKeyed(join(tempDir(), 'v8.db'), KEY);
  migrate(db, 8);
  db.prepare(
    `INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, next_attempt_at, token_refused_at, created_at)
     VALUES ('token', 'c1', '00000000-0000-4000-8000-000000000001', 1, ?, 5, 6, 7)`,
  ).run([randomBytes(160)]);
  db.prepare('INSERT INTO sender_keys (address, distribution_id, record) VALUES (?, ?, ?)').run([
    '00000000-0000-4000-8000-000000000001.1',
    'd1d1d1d1-7000-11eb-b32a-33b8a8a487a6',
    randomBytes(50),
  ]);
  return db;
}

describe('migration 0009 (groups)', () => {
  it('keeps outbox rows and sender keys as they were, and lets the outbox hold group contents', () => {
    const db = profileAt8();
    migrate(db, 9);
    expect(schemaVersion(db)).toBe(9);
    expect(
      db
        .prepare(
          'SELECT kind, client_message_id, next_attempt_at, token_refused_at, created_at FROM outbox',
        )
        .all(),
    ).toEqual([
      {
        kind: 'token',
        client_message_id: 'c1',
        next_attempt_at: 5,
        token_refused_at: 6,
        created_at: 7,
      },
    ]);
    expect(db.prepare('SELECT updated_at FROM sender_keys', { pluck: true }).all()).toEqual([0]);
    db.prepare(
      `INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at)
       VALUES ('group', 'c2', '00000000-0000-4000-8000-000000000001', 1, ?, 1)`,
    ).run([randomBytes(160)]);
    expect(() =>
      db
        .prepare(
          `INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at)
           VALUES ('other', 'c3', 'x', 1, ?, 1)`,
        )
        .run([randomBytes(160)]),
    ).toThrow(/CHECK/);
  });

  it('is strict: a group id is 32 bytes, a token 16, a group outbox row holds payload or ciphertext', () => {
    const db = profileAt8();
    migrate(db, 9);
    const group = db.prepare(
      `INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at) VALUES (?, 't', 0, ?, 'member', 1, 1)`,
    );
    expect(() => group.run([randomBytes(31), randomBytes(32)])).toThrow(/CHECK/);
    group.run([randomBytes(32), randomBytes(32)]);
    const member = db.prepare(
      `INSERT INTO group_members (group_ref, account_id, identity_key, relay, delivery_token, state, joined_revision)
       VALUES (1, 'a', ?, 'r', ?, 'member', 0)`,
    );
    expect(() => member.run([randomBytes(33), randomBytes(15)])).toThrow(/CHECK/);
    db.prepare(
      `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       VALUES ('u', 1, 1, 'a', 1, 1, 1, 'b', 'queued')`,
    ).run();
    expect(() =>
      db
        .prepare(
          'INSERT INTO group_outbox (message_id, client_message_id, group_ref, created_at) VALUES (1, ?, 1, 1)',
        )
        .run(['x']),
    ).toThrow(/CHECK/);
  });
});
