import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

// Migration 0018: attachments get an optional duration_ms (null for every row
// stored before, bounded like the pointer field), and deleted_messages an index
// on its age for the prune at open.

const KEY = new Uint8Array(32).fill(18);

describe('migration 0018 (attachment duration, deleted-message age)', () => {
  it('keeps existing rows with no duration, accepts 1 ms to 24 h and refuses the rest', () => {
    const db = openKeyed(join(tempDir(), 'v17.db'), KEY);
    migrate(db, 17);
    db.prepare(
      `INSERT INTO contacts (account_id, display_name, created_at)
       VALUES ('0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b', 'Bob', 1)`,
    ).run();
    db.prepare('INSERT INTO conversations (contact_id, created_at) VALUES (1, 1)').run();
    db.prepare(
      `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
       VALUES ('0190f0f0-0000-7000-8000-000000000001', 1, 0, '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b', 1, 1, 1, '', 'received')`,
    ).run();
    const insert = (duration?: unknown) =>
      db
        .prepare(
          `INSERT INTO attachments (message_id, position, outgoing, state, transport_key, digest, size, content_type, created_at${duration === undefined ? '' : ', duration_ms'})
           VALUES (1, (SELECT count(*) FROM attachments), 0, 'pending', zeroblob(64), zeroblob(32), 1, 'video/mp4', 1${duration === undefined ? '' : ', ?'})`,
        )
        .run(duration === undefined ? [] : [duration as number]);
    insert();
    migrate(db, 18);
    expect(schemaVersion(db)).toBe(18);
    expect(db.prepare('SELECT duration_ms FROM attachments', { pluck: true }).all()).toEqual([
      null,
    ]);
    insert(1);
    insert(86_400_000);
    for (const bad of [0, -1, 86_400_001, 1.5, 'long']) expect(() => insert(bad)).toThrow();
    expect(
      db
        .prepare("SELECT 1 FROM sqlite_master WHERE name = 'deleted_messages_by_age'", {
          pluck: true,
        })
        .get(),
    ).toBe(1);
    db.close();
  });
});
