import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { indexNewMessages } from '../../../electron/core/history/search-index.ts';
import { thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(7);

function freshDb(): Sql {
  return openKeyed(join(tempDir(), 'test.db'), KEY);
}

function tables(db: Sql): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type IN ('table') AND name NOT LIKE 'messages_fts_%' ORDER BY name", {
      pluck: true,
    })
    .all<string>();
}

describe('schema migrations', () => {
  it('are numbered 1..N in order, one per file', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('0001 creates the account and libsignal protocol-state tables', () => {
    const db = freshDb();
    migrate(db, 1);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual([
      'account',
      'key_counters',
      'kyber_pre_key_uses',
      'kyber_pre_keys',
      'pre_keys',
      'sender_keys',
      'sessions',
      'settings',
      'signed_pre_keys',
    ]);
    expect(() => db.exec("INSERT INTO account VALUES (2, 'a', 'n', 1, 1, x'00', 0)")).toThrow(/CHECK/);
    db.close();
  });

  it('0002 adds identities, contacts, conversations, messages, outbox and the envelope ledger', () => {
    const db = freshDb();
    migrate(db, 2);
    expect(schemaVersion(db)).toBe(2);
    for (const table of ['identities', 'identity_changes', 'contacts', 'conversations', 'messages', 'outbox', 'processed_envelopes', 'failed_envelopes', 'sqlite_sequence']) {
      expect(tables(db)).toContain(table);
    }
    db.exec("INSERT INTO contacts (account_id, created_at) VALUES ('peer', 0)");
    db.exec('INSERT INTO conversations (contact_id, created_at) VALUES (1, 0)');
    const insert = db.prepare(
      "INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES (?, 1, 0, 'peer', 1, ?, 0, 'x', 'received')",
    );
    insert.run(['u1', 100]);
    // The same (sender, device, sent timestamp) is the same message (R3).
    expect(() => insert.run(['u2', 100])).toThrow(/UNIQUE/);
    // A message cannot point at a conversation that does not exist.
    expect(() =>
      db.exec("INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES ('u3', 99, 0, 'p', 1, 1, 0, 'x', 'received')"),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('0003 indexes existing bodies, new ones up to the watermark, and mirrors edits and deletes (CJK included)', () => {
    const db = freshDb();
    migrate(db, 2);
    db.exec("INSERT INTO contacts (account_id, created_at) VALUES ('peer', 0)");
    db.exec('INSERT INTO conversations (contact_id, created_at) VALUES (1, 0)');
    const insert = db.prepare(
      "INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES (?, 1, 0, 'peer', 1, ?, 0, ?, 'received')",
    );
    insert.run(['before', 1, 'written before the index existed']);
    migrate(db, 3);
    expect(schemaVersion(db)).toBe(3);
    const match = (q: string) =>
      db.prepare('SELECT m.uuid FROM messages_fts f JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?', { pluck: true }).all([q]);
    expect(match('existed')).toEqual(['before']);
    expect(match('writ*')).toEqual(['before']);

    insert.run(['after', 2, '我们明天去北京吃饭']);
    expect(match('北京')).toEqual([]); // not indexed until the write path says so
    expect(indexNewMessages(db)).toBe(1);
    expect(match('北京')).toEqual(['after']);
    expect(indexNewMessages(db)).toBe(0);

    db.exec("UPDATE messages SET body = 'edited text' WHERE uuid = 'before'");
    expect(match('existed')).toEqual([]);
    expect(match('edited')).toEqual(['before']);
    db.exec("DELETE FROM messages WHERE uuid = 'after'");
    expect(match('北京')).toEqual([]);
    // AUTOINCREMENT: the deleted top id is not reused, so a new row is never mistaken for indexed.
    insert.run(['later', 3, 'brand new row']);
    expect(match('brand')).toEqual([]);
    indexNewMessages(db);
    expect(match('brand')).toEqual(['later']);
    db.close();
  });

  it('a migration that fails leaves the schema at the previous version', () => {
    const db = freshDb();
    migrate(db, 1);
    db.exec('CREATE TABLE contacts (x INTEGER)'); // makes 0002 fail half-way
    expect(() => migrate(db)).toThrow();
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).not.toContain('identities');
    db.close();
  });

  it('a database from a newer schema is refused before anything is written', () => {
    const db = freshDb();
    migrate(db);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    expect(thrownCode(() => migrate(db))).toBe('PROFILE_TOO_NEW');
    db.close();
  });
});

describe('migration 0004', () => {
  it('tracks which one-time prekeys were published, defaulting existing keys to unpublished', () => {
    const db = freshDb();
    migrate(db, 3);
    db.exec("INSERT INTO pre_keys (id, record, created_at) VALUES (1, x'00', 0)");
    migrate(db, 4);
    expect(db.prepare('SELECT published FROM pre_keys WHERE id = 1', { pluck: true }).get()).toBe(0);
    db.exec("INSERT INTO kyber_pre_keys (id, record, last_resort, created_at) VALUES (5, x'00', 0, 0)");
    expect(() => db.exec('UPDATE kyber_pre_keys SET published = 2')).toThrow(/CHECK/);
    db.close();
  });
});

describe('migration 0005', () => {
  it('indexes failed messages so the conversation list can mark them without a history scan', () => {
    const db = freshDb();
    migrate(db, 5);
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT count(*) FROM messages WHERE conversation_id = 1 AND status = 'failed'")
      .all<{ detail: string }>()
      .map((row) => row.detail)
      .join('\n');
    expect(plan).toContain('messages_failed');
    db.close();
  });
});
