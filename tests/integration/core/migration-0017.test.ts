import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

// Migration 0017: the uuids of deleted incoming messages. Existing profiles
// start with none (nothing was deletable before), and the table takes only
// what its writer writes.

const KEY = new Uint8Array(32).fill(17);

describe('migration 0017 (deleted messages)', () => {
  it('adds an empty table; a uuid is recorded once; wrong types are refused', () => {
    const db = openKeyed(join(tempDir(), 'v15.db'), KEY);
    migrate(db, 15);
    db.prepare(
      `INSERT INTO contacts (account_id, display_name, created_at)
       VALUES ('0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b', 'Bob', 1)`,
    ).run();
    db.prepare('INSERT INTO conversations (contact_id, created_at) VALUES (1, 1)').run();
    migrate(db, 17);
    expect(schemaVersion(db)).toBe(17);
    expect(db.prepare('SELECT count(*) FROM deleted_messages', { pluck: true }).get()).toBe(0);
    // The statements of 0017's writer (history/deleted-messages.ts moved on with migration 0020).
    const record = db.prepare(
      'INSERT INTO deleted_messages (uuid, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    record.run(['0190f0f0-0000-7000-8000-000000000001', 5]);
    record.run(['0190f0f0-0000-7000-8000-000000000001', 6]);
    expect(db.prepare('SELECT deleted_at FROM deleted_messages', { pluck: true }).all()).toEqual([
      5,
    ]);
    expect(() =>
      db.prepare("INSERT INTO deleted_messages (uuid, deleted_at) VALUES ('x', 'soon')").run(),
    ).toThrow();
    expect(() =>
      db.prepare('INSERT INTO deleted_messages (uuid, deleted_at) VALUES (NULL, 1)').run(),
    ).toThrow();
    db.close();
  });
});
