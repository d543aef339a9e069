import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { IdentityKeyPair, type PublicKey } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  migrate,
  SCHEMA_VERSION,
  schemaVersion,
} from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { indexNewMessages } from '../../../electron/core/history/search-index.ts';
import { thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { ACCOUNT_ID_DOMAIN, accountIdFromLegacy } from '../../../shared/protocol/account-id.ts';
import { toBase32 } from '../../../shared/protocol/encoding.ts';

const KEY = new Uint8Array(32).fill(7);

function freshDb(): Sql {
  return openKeyed(join(tempDir(), 'test.db'), KEY);
}

function tables(db: Sql): string[] {
  return db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type IN ('table') AND name NOT LIKE 'messages_fts_%' ORDER BY name",
      {
        pluck: true,
      },
    )
    .all<string>();
}

describe('schema migrations', () => {
  it('are numbered in increasing order from 1, one per file, the last being the schema version', () => {
    // 0006 lives on the relay-v2 client branch until the merge; then this list is 1..7 without a gap.
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions[0]).toBe(1);
    expect(versions.every((v, i) => i === 0 || v > versions[i - 1]!)).toBe(true);
    expect(versions.at(-1)).toBe(SCHEMA_VERSION);
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
    expect(() => db.exec("INSERT INTO account VALUES (2, 'a', 'n', 1, 1, x'00', 0)")).toThrow(
      /CHECK/,
    );
    db.close();
  });

  it('0002 adds identities, contacts, conversations, messages, outbox and the envelope ledger', () => {
    const db = freshDb();
    migrate(db, 2);
    expect(schemaVersion(db)).toBe(2);
    for (const table of [
      'identities',
      'identity_changes',
      'contacts',
      'conversations',
      'messages',
      'outbox',
      'processed_envelopes',
      'failed_envelopes',
      'sqlite_sequence',
    ]) {
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
      db.exec(
        "INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES ('u3', 99, 0, 'p', 1, 1, 0, 'x', 'received')",
      ),
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
      db
        .prepare(
          'SELECT m.uuid FROM messages_fts f JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?',
          { pluck: true },
        )
        .all([q]);
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
    expect(db.prepare('SELECT published FROM pre_keys WHERE id = 1', { pluck: true }).get()).toBe(
      0,
    );
    db.exec(
      "INSERT INTO kyber_pre_keys (id, record, last_resort, created_at) VALUES (5, x'00', 0, 0)",
    );
    expect(() => db.exec('UPDATE kyber_pre_keys SET published = 2')).toThrow(/CHECK/);
    db.close();
  });
});

describe('migration 0005', () => {
  it('indexes failed messages so the conversation list can mark them without a history scan', () => {
    const db = freshDb();
    migrate(db, 5);
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM messages WHERE conversation_id = 1 AND status = 'failed'",
      )
      .all<{ detail: string }>()
      .map((row) => row.detail)
      .join('\n');
    expect(plan).toContain('messages_failed');
    db.close();
  });
});

describe('migration 0007: UUID-shaped account ids and the key lifecycle', () => {
  const legacyIdOf = (key: PublicKey) =>
    toBase32(
      createHash('sha256')
        .update(ACCOUNT_ID_DOMAIN)
        .update(key.serialize())
        .digest()
        .subarray(0, 20),
    );

  /** Every TEXT value (message bodies aside) that still has the first format's shape, as `table.column`. */
  function legacyLeftovers(db: Sql): string[] {
    const found: string[] = [];
    for (const table of tables(db)) {
      if (table === 'messages_fts' || table === 'sqlite_sequence') continue;
      const columns = db
        .prepare(`SELECT name, type FROM pragma_table_info(?)`)
        .all<{ name: string; type: string }>([table]);
      for (const { name, type } of columns) {
        if (type !== 'TEXT' || (table === 'messages' && name === 'body')) continue;
        for (const value of db
          .prepare(`SELECT ${name} FROM ${table}`, { pluck: true })
          .all<string | null>()) {
          // Whole values and `<id>.<device>` addresses alike.
          if (typeof value === 'string' && /(^|[^a-z2-7])[a-z2-7]{32}($|[^a-z2-7])/.test(value))
            found.push(`${table}.${name}`);
        }
      }
    }
    return [...new Set(found)];
  }

  /** A profile database at schema 0005 holding ids of the first format in every place they live. */
  function legacyProfile() {
    const db = freshDb();
    migrate(db, 5);
    const me = IdentityKeyPair.generate();
    const bob = IdentityKeyPair.generate();
    const carol = IdentityKeyPair.generate();
    const mallory = IdentityKeyPair.generate();
    const [myId, bobId, carolId] = [me, bob, carol].map((k) => legacyIdOf(k.publicKey)) as [
      string,
      string,
      string,
    ];
    db.prepare("INSERT INTO account VALUES (1, ?, 'Me', 1, 7, ?, 0)").run([myId, me.serialize()]);
    db.prepare("INSERT INTO settings VALUES ('relay', 'ws://127.0.0.1:8787')").run();
    const contact = db.prepare(
      'INSERT INTO contacts (account_id, display_name, created_at) VALUES (?, ?, 0)',
    );
    contact.run([bobId, 'Bob']);
    contact.run([carolId, 'Carol']);
    db.exec('INSERT INTO conversations (contact_id, created_at) VALUES (1, 0), (2, 0)');
    db.prepare("INSERT INTO identities VALUES (?, ?, 'trusted', 1, 0, NULL)").run([
      bobId,
      bob.publicKey.serialize(),
    ]);
    // The old trust rule let a forged key replace Carol's as a "change" the user could accept.
    db.prepare("INSERT INTO identities VALUES (?, ?, 'changed', 0, 0, 5)").run([
      carolId,
      mallory.publicKey.serialize(),
    ]);
    db.prepare(
      'INSERT INTO identity_changes (account_id, old_key, new_key, detected_at) VALUES (?, ?, ?, 5)',
    ).run([carolId, carol.publicKey.serialize(), mallory.publicKey.serialize()]);
    db.exec('UPDATE conversations SET identity_changed = 1 WHERE contact_id = 2');
    const session = db.prepare("INSERT INTO sessions VALUES (?, x'00', 0)");
    session.run([`${bobId}.1`]);
    session.run([`${carolId}.1`]);
    db.prepare("INSERT INTO sender_keys VALUES (?, 'dist', x'00')").run([`${bobId}.1`]);
    const message = db.prepare(
      "INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES (?, 1, ?, ?, 1, ?, 0, ?, 'received')",
    );
    message.run(['m1', 0, bobId, 1, 'from bob']);
    message.run(['m2', 1, myId, 2, 'to bob']);
    db.prepare(
      "INSERT INTO outbox (kind, client_message_id, recipient, recipient_device, payload, created_at) VALUES ('receipt', 'c1', ?, 1, x'00', 0)",
    ).run([bobId]);
    db.prepare("INSERT INTO failed_envelopes VALUES ('e1', ?, 'DECRYPT_FAILED', 1, 0, 0)").run([
      carolId,
    ]);
    db.prepare(
      "INSERT INTO signed_pre_keys (id, record, created_at) VALUES (1, x'00', 1), (2, x'00', 2)",
    ).run();
    db.prepare(
      "INSERT INTO kyber_pre_keys (id, record, last_resort, created_at) VALUES (1, x'00', 1, 1), (2, x'00', 1, 2), (3, x'00', 0, 2)",
    ).run();
    return { db, me, bob, carol, ids: { myId, bobId, carolId } };
  }

  it('rewrites every stored account id (account, contacts, identities, changes, sessions, sender keys, messages, outbox, failures)', () => {
    const { db, me, bob, carol, ids } = legacyProfile();
    expect(legacyLeftovers(db).sort()).toEqual(
      [
        'account.account_id',
        'contacts.account_id',
        'failed_envelopes.sender_account',
        'identities.account_id',
        'identity_changes.account_id',
        'messages.sender_account',
        'outbox.recipient',
        'sender_keys.address',
        'sessions.address',
      ].sort(),
    );
    migrate(db, 7);
    const [myId, bobId, carolId] = [me, bob, carol].map((k) => deriveAccountId(k.publicKey));
    expect(accountIdFromLegacy(ids.bobId)).toBe(bobId);
    const all = (sql: string) => db.prepare(sql, { pluck: true }).all();
    expect(all('SELECT account_id FROM account')).toEqual([myId]);
    expect(all('SELECT account_id FROM contacts ORDER BY id')).toEqual([bobId, carolId]);
    expect(all('SELECT account_id FROM identities ORDER BY account_id')).toEqual(
      [bobId, carolId].sort(),
    );
    expect(all('SELECT account_id FROM identity_changes')).toEqual([carolId]);
    expect(all('SELECT address FROM sessions')).toEqual([`${bobId}.1`]); // Carol's was built on the forged key
    expect(all('SELECT address FROM sender_keys')).toEqual([`${bobId}.1`]);
    expect(all('SELECT sender_account FROM messages ORDER BY id')).toEqual([bobId, myId]);
    expect(all('SELECT recipient FROM outbox')).toEqual([bobId]);
    expect(all('SELECT sender_account FROM failed_envelopes')).toEqual([carolId]);
    expect(legacyLeftovers(db)).toEqual([]);
  });

  it("repairs a forged pin left by the old rule: Carol's genuine key is trusted again, the forgery is counted", () => {
    const { db, carol } = legacyProfile();
    migrate(db, 7);
    const carolId = deriveAccountId(carol.publicKey);
    const row = db
      .prepare('SELECT public_key, trust, verified FROM identities WHERE account_id = ?')
      .get<{ public_key: Uint8Array<ArrayBuffer>; trust: string; verified: number }>([carolId]);
    expect(Buffer.from(row!.public_key).equals(Buffer.from(carol.publicKey.serialize()))).toBe(
      true,
    );
    expect(row).toMatchObject({ trust: 'trusted', verified: 0 });
    expect(
      db
        .prepare('SELECT identity_changed FROM conversations WHERE contact_id = 2', { pluck: true })
        .get(),
    ).toBe(0);
    expect(
      db
        .prepare("SELECT count FROM trust_refusals WHERE code = 'identity.forged'", { pluck: true })
        .get(),
    ).toBe(1);
  });

  it('an account reset under the old rule (id no longer its key) gets the id of its key, its own messages follow', () => {
    const { db, ids } = legacyProfile();
    const replaced = IdentityKeyPair.generate();
    db.prepare('UPDATE account SET identity_key_pair = ?').run([replaced.serialize()]);
    migrate(db, 7);
    const newId = deriveAccountId(replaced.publicKey);
    expect(db.prepare('SELECT account_id FROM account', { pluck: true }).get()).toBe(newId);
    expect(
      db.prepare("SELECT sender_account FROM messages WHERE uuid = 'm2'", { pluck: true }).get(),
    ).toBe(newId);
    expect(accountIdFromLegacy(ids.myId)).not.toBe(newId);
  });

  it('keeps only the newest signed and last-resort key current; the older ones start their grace period', () => {
    const { db } = legacyProfile();
    migrate(db, 7);
    expect(db.prepare('SELECT id, state FROM signed_pre_keys ORDER BY id').all()).toEqual([
      { id: 1, state: 'previous' },
      { id: 2, state: 'current' },
    ]);
    expect(
      db.prepare('SELECT id, state FROM kyber_pre_keys WHERE last_resort = 1 ORDER BY id').all(),
    ).toEqual([
      { id: 1, state: 'previous' },
      { id: 2, state: 'current' },
    ]);
    expect(
      db
        .prepare('SELECT count(*) FROM signed_pre_keys WHERE superseded_at IS NOT NULL', {
          pluck: true,
        })
        .get(),
    ).toBe(1);
  });

  it('the leftover scan catches an account-id column the migration does not know', () => {
    const { db, ids } = legacyProfile();
    db.exec('CREATE TABLE unknown_to_0007 (who TEXT) STRICT');
    db.prepare('INSERT INTO unknown_to_0007 VALUES (?)').run([ids.bobId]);
    migrate(db, 7);
    expect(legacyLeftovers(db)).toEqual(['unknown_to_0007.who']);
  });
});
