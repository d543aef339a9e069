import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

// Migration 0013 on a real SQLCipher file at schema 12: attachments pending
// before it keep downloading ('requested'), everything else is 'auto', and
// the column takes nothing but its three values.

const KEY = new Uint8Array(32).fill(13);

function attachment(db: Sql, messageId: number, outgoing: number, state: string): void {
  db.prepare(
    `INSERT INTO attachments (message_id, position, outgoing, state, transport_key, digest, size,
       content_type, created_at) VALUES (?, 0, ?, ?, ?, ?, 10, 'image/png', 1)`,
  ).run([messageId, outgoing, state, randomBytes(64), randomBytes(32)]);
}

/** A database at schema 12 with one message and attachments in each state. */
function profileAt12(): Sql {
  const db = openKeyed(join(tempDir(), 'v12.db'), KEY);
  migrate(db, 12);
  db.prepare(
    "INSERT INTO contacts (id, account_id, created_at) VALUES (1, '00000000-0000-4000-8000-000000000001', 1)",
  ).run();
  db.prepare('INSERT INTO conversations (id, contact_id, created_at) VALUES (1, 1, 1)').run();
  db.prepare(
    `INSERT INTO messages (id, uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (1, 'u1', 1, 0, '00000000-0000-4000-8000-000000000001', 1, 5, 6, 'hi', 'received')`,
  ).run();
  attachment(db, 1, 0, 'pending');
  attachment(db, 1, 0, 'done');
  attachment(db, 1, 0, 'failed');
  attachment(db, 1, 1, 'uploading');
  return db;
}

describe('migration 0013 (download choice)', () => {
  it('keeps earlier pending downloads going, defaults the rest to auto, and refuses other values', () => {
    const db = profileAt12();
    migrate(db, 13);
    expect(schemaVersion(db)).toBe(13);
    expect(
      db.prepare('SELECT download_choice FROM attachments ORDER BY id', { pluck: true }).all(),
    ).toEqual(['requested', 'auto', 'auto', 'auto']);
    attachment(db, 1, 0, 'pending');
    expect(
      db.prepare('SELECT download_choice FROM attachments WHERE id = 5', { pluck: true }).get(),
    ).toBe('auto');
    for (const bad of ['always', '', 'AUTO'])
      expect(() =>
        db.prepare('UPDATE attachments SET download_choice = ? WHERE id = 1').run([bad]),
      ).toThrow(/CHECK/);
    expect(() =>
      db.prepare('UPDATE attachments SET download_choice = NULL WHERE id = 1').run(),
    ).toThrow(/NOT NULL/);
  });
});
