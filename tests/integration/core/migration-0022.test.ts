import { join } from 'node:path';
import { expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

// Migration 0022: names others chose, stored before the rules for them
// existed, are cleaned: names that break the display-name rule become none,
// titles show their hidden characters as U+FFFD, file names lose them.
// Names that follow the rules are left byte for byte.

const KEY = new Uint8Array(32).fill(22);
const BOB = '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b';
const EVE = '0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e';
const CAROL = '0c0c0c0c-0c0c-4c0c-8c0c-0c0c0c0c0c0c';
const RLO = '\u202e';

/** A version 20 profile holding names as releases before stop 15 stored them. */
function profileAt20(): Sql {
  const db = openKeyed(join(tempDir(), 'v20.db'), KEY);
  migrate(db, 20);
  const contact = db.prepare(
    'INSERT INTO contacts (account_id, display_name, created_at) VALUES (?, ?, 1)',
  );
  contact.run([BOB, 'Bob 🚲']);
  contact.run([EVE, `\u001b]0;bank\u0007Eve`]);
  contact.run([CAROL, `Car${RLO}ol`]);
  db.exec(
    `INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at) VALUES
       (zeroblob(32), 'Plans', 1, zeroblob(32), 'member', 1, 1),
       (randomblob(32), 'Pay${RLO}day', 1, zeroblob(32), 'member', 1, 1),
       (randomblob(32), '${RLO}', 1, zeroblob(32), 'member', 1, 1)`,
  );
  const member = db.prepare(
    `INSERT INTO group_members (group_ref, account_id, identity_key, display_name, relay, delivery_token, state, joined_revision)
     VALUES (1, ?, zeroblob(33), ?, 'r', zeroblob(16), 'member', 1)`,
  );
  member.run([BOB, 'Bob']);
  member.run([EVE, 'Admin\r\nEve']);
  member.run([CAROL, null]);
  db.exec(`INSERT INTO conversations (contact_id, created_at) VALUES (1, 1);
    INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
      VALUES ('0190f0f0-0000-7000-8000-000000000001', 1, 0, '${BOB}', 1, 1, 1, 'files', 'received')`);
  const file = db.prepare(
    `INSERT INTO attachments (message_id, position, outgoing, state, transport_key, size, content_type, file_name, created_at)
     VALUES (1, ?, 0, 'pending', zeroblob(64), 1, 'application/pdf', ?, 1)`,
  );
  file.run([0, 'report.pdf']);
  file.run([1, `invoice${RLO}fdp.exe`]);
  file.run([2, `\u200f${RLO}`]);
  file.run([3, null]);
  return db;
}

const column = (db: Sql, sql: string) => db.prepare(sql, { pluck: true }).all();

it('cleans names that break the rules and leaves the others untouched', () => {
  const db = profileAt20();
  migrate(db);
  expect(schemaVersion(db)).toBeGreaterThanOrEqual(22);
  expect(column(db, 'SELECT display_name FROM contacts ORDER BY id')).toEqual([
    'Bob 🚲',
    null,
    null,
  ]);
  expect(column(db, 'SELECT title FROM groups ORDER BY id')).toEqual([
    'Plans',
    'Pay\ufffdday',
    '\ufffd',
  ]);
  expect(column(db, 'SELECT display_name FROM group_members ORDER BY rowid')).toEqual([
    'Bob',
    null,
    null,
  ]);
  expect(column(db, 'SELECT file_name FROM attachments ORDER BY position')).toEqual([
    'report.pdf',
    'invoicefdp.exe',
    null,
    null,
  ]);
  expect(db.pragma('foreign_key_check')).toEqual([]);
});
