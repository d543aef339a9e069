import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(9);

/** A database at schema 5 with a contact, a queued message and an encrypted receipt in the outbox. */
function profileAt5(): Sql {
  const db = openKeyed(join(tempDir(), 'v5.db'), KEY);
  migrate(db, 5);
  db.exec(`
    INSERT INTO contacts (account_id, display_name, relay, created_at) VALUES ('peer', 'Peer', 'ws://127.0.0.1:1', 0);
    INSERT INTO conversations (contact_id, created_at) VALUES (1, 0);
    INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
      VALUES ('m1', 1, 1, 'me', 1, 5, 5, 'queued text', 'queued');
    INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, attempts, next_attempt_at, created_at)
      VALUES ('message', 1, 'c1', 'peer', 1, x'0102', 2, 0, 7);
    INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, ciphertext_type, ciphertext, created_at)
      VALUES ('receipt', 'c2', 'peer', 1, 2, x'0304', 8);
  `);
  return db;
}

describe('migration 0006 (delivery tokens)', () => {
  it('gives an existing profile a random 16-byte token and keeps every outbox entry as it was', () => {
    const db = profileAt5();
    migrate(db, 6);
    expect(schemaVersion(db)).toBe(6);
    const token = db
      .prepare("SELECT value FROM settings WHERE key = 'delivery.token'", { pluck: true })
      .get();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(
      db
        .prepare(
          'SELECT id, kind, message_id, client_message_id, recipient, payload, ciphertext, attempts, created_at FROM outbox ORDER BY id',
        )
        .all(),
    ).toEqual([
      {
        id: 1,
        kind: 'message',
        message_id: 1,
        client_message_id: 'c1',
        recipient: 'peer',
        payload: Buffer.from([1, 2]),
        ciphertext: null,
        attempts: 2,
        created_at: 7,
      },
      {
        id: 2,
        kind: 'receipt',
        message_id: null,
        client_message_id: 'c2',
        recipient: 'peer',
        payload: null,
        ciphertext: Buffer.from([3, 4]),
        attempts: 0,
        created_at: 8,
      },
    ]);
    // The contact keeps its relay; it has no token until a new invite or a token message.
    expect(
      db.prepare('SELECT relay, relay_id, delivery_token, blocked FROM contacts').get(),
    ).toEqual({
      relay: 'ws://127.0.0.1:1',
      relay_id: null,
      delivery_token: null,
      blocked: 0,
    });
    db.close();
  });

  it('two profiles get different tokens', () => {
    const tokens = [profileAt5(), profileAt5()].map((db) => {
      migrate(db);
      const value = db
        .prepare("SELECT value FROM settings WHERE key = 'delivery.token'", { pluck: true })
        .get();
      db.close();
      return value;
    });
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it('the outbox accepts token entries, and its constraints and cascade still hold', () => {
    const db = profileAt5();
    migrate(db, 6);
    db.exec(
      "INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at) VALUES ('token', 'c3', 'peer', 1, x'05', 9)",
    );
    expect(() =>
      db.exec(
        "INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at) VALUES ('other', 'c4', 'peer', 1, x'05', 9)",
      ),
    ).toThrow(/CHECK/);
    expect(() =>
      db.exec(
        "INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, created_at) VALUES ('token', 'c5', 'peer', 1, 9)",
      ),
    ).toThrow(/CHECK/);
    expect(() => db.exec("UPDATE contacts SET delivery_token = x'00'")).toThrow(/CHECK/);
    expect(() => db.exec('UPDATE contacts SET blocked = 2')).toThrow(/CHECK/);
    db.exec("DELETE FROM messages WHERE uuid = 'm1'");
    expect(
      db.prepare('SELECT client_message_id FROM outbox ORDER BY id', { pluck: true }).all(),
    ).toEqual(['c2', 'c3']);
    db.close();
  });
});
