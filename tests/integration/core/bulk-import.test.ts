import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ImportedMessage,
  importMessages,
} from '../../../electron/core/history/bulk-import.ts';
import {
  addContact,
  listConversations,
  Profile,
  searchMessages,
} from '../../../electron/core/index.ts';
import { dropDeferrableIndexes } from '../../../electron/core/history/deferred-indexes.ts';
import { messageInsertInto } from '../../../electron/core/history/message-insert.ts';
import { thrownCode } from '../../support/errors.ts';
import { cardOf, newProfile } from '../../support/profiles.ts';

function messages(peer: string, count: number, start = 0): ImportedMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    uuid: randomUUID(),
    conversationWith: peer,
    outgoing: false,
    senderAccount: peer,
    senderDevice: 1,
    sentAt: 1_700_000_000_000 + (start + i) * 1000,
    receivedAt: 1_700_000_000_500 + (start + i) * 1000,
    body: `imported line ${start + i} ${i % 7 === 0 ? 'marmalade' : 'toast'}`,
    status: 'received' as const,
  }));
}

function indexSql(db: Profile['db']) {
  return db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name",
    )
    .all<{ name: string; sql: string | null }>();
}

function messageCount(db: Profile['db']): number {
  return Number(db.prepare('SELECT count(*) FROM messages', { pluck: true }).get());
}

/**
 * Leaves `db` as a large import killed after a committed batch leaves it: the
 * deferrable indexes dropped and `rows` written (not yet searchable), in one
 * committed transaction. (A real kill -9 of the importing process is what
 * tests/integration/backup/kill.test.ts does for restores.)
 */
function crashState(db: Profile['db'], rows: readonly ImportedMessage[]): void {
  db.transaction(() => {
    dropDeferrableIndexes(db);
    const insert = messageInsertInto(db);
    const conversation = Number(
      db.prepare('SELECT min(id) FROM conversations', { pluck: true }).get(),
    );
    for (const m of rows) insert(m, conversation);
  })();
}

describe('bulk import', () => {
  it('imports, indexes for search in one pass, and merges by message id on a second import', async () => {
    const { profile } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    addContact(profile, cardOf(bob));
    const rows = messages(bob.account.accountId, 12_000);
    expect(importMessages(profile, rows)).toEqual({ inserted: 12_000, skipped: 0 });
    expect(searchMessages(profile.db, 'marmalade', 5000)).toHaveLength(Math.ceil(12_000 / 7));
    expect(listConversations(profile.db)[0]?.lastMessageAt).toBe(rows.at(-1)!.sentAt);

    expect(importMessages(profile, rows)).toEqual({ inserted: 0, skipped: 12_000 });
    expect(profile.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(12_000);
    expect(
      profile.db
        .prepare("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'toast'", {
          pluck: true,
        })
        .get(),
    ).toBe(12_000 - Math.ceil(12_000 / 7));
  });

  it('rows committed but not yet indexed (an interrupted import) are indexed on the next open', async () => {
    const alice = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    addContact(alice.profile, cardOf(bob));
    importMessages(alice.profile, messages(bob.account.accountId, 10));
    // Simulate a crash after a batch committed but before the final indexing pass.
    const db = alice.profile.db;
    db.prepare(
      "INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES (?, 1, 0, ?, 1, ?, 0, 'interrupted quokka', 'received')",
    ).run([randomUUID(), bob.account.accountId, 1]);
    expect(searchMessages(db, 'quokka')).toEqual([]);
    await alice.profile.close();

    const reopened = await Profile.open(alice.dir, { passphrase: alice.passphrase });
    expect(searchMessages(reopened.db, 'quokka').map((m) => m.body)).toEqual([
      'interrupted quokka',
    ]);
    expect(searchMessages(reopened.db, 'marmalade')).toHaveLength(2);
    await reopened.close();
  });

  it('an import that fails midway keeps its batches and rebuilds its indexes before rethrowing; a crash gets them back at the next open', async () => {
    const alice = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    addContact(alice.profile, cardOf(bob));
    const migrated = indexSql(alice.profile.db);
    expect(migrated.map((r) => r.name)).toEqual(
      expect.arrayContaining(['messages_by_conversation', 'messages_by_sender', 'messages_failed']),
    );

    // The first full batch (50,000 rows) drops the deferrable indexes; the import fails after it committed.
    const peer = bob.account.accountId;
    function* failing(): Generator<ImportedMessage> {
      yield* messages(peer, 70_000);
      throw new Error('source failed');
    }
    expect(() => importMessages(alice.profile, failing())).toThrow('source failed');
    expect(indexSql(alice.profile.db)).toEqual(migrated);
    expect(messageCount(alice.profile.db)).toBe(50_000);

    // What a kill -9 after a batch leaves: the indexes dropped, rows committed, none searchable.
    crashState(alice.profile.db, messages(peer, 10, 200_000));
    expect(indexSql(alice.profile.db).map((r) => r.name)).not.toContain('messages_by_conversation');
    await alice.profile.close();

    const reopened = await Profile.open(alice.dir, { passphrase: alice.passphrase });
    expect(indexSql(reopened.db)).toEqual(migrated);
    expect(searchMessages(reopened.db, 'marmalade', 50_000)).toHaveLength(
      Math.ceil(50_000 / 7) + Math.ceil(10 / 7),
    );

    // At least as many new rows as stored ones: dropped at the first batch, built again at the end.
    expect(importMessages(reopened, messages(peer, 60_000, 70_000))).toEqual({
      inserted: 60_000,
      skipped: 0,
    });
    expect(indexSql(reopened.db)).toEqual(migrated);
    expect(messageCount(reopened.db)).toBe(110_010);
    await reopened.close();
  });

  it('a large import that repeats a sender, device and sent time keeps the older row and counts the rest as skipped', async () => {
    const { profile } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    addContact(profile, cardOf(bob));
    addContact(profile, cardOf(carol));
    const peer = bob.account.accountId;
    const stored = messages(peer, 100);
    importMessages(profile, stored);
    // 60,000 rows (more than stored: the indexes are deferred), of which 50 repeat stored
    // rows and 30 repeat rows earlier in the same import, under fresh uuids and other text,
    // the last of them filed under another conversation with the latest time of all.
    const fresh = messages(peer, 60_000, 100);
    const repeats = [
      ...stored.slice(0, 50),
      ...fresh.slice(0, 29),
      { ...fresh.at(-1)!, conversationWith: carol.account.accountId },
    ].map((m) => ({ ...m, uuid: randomUUID(), body: 'forged zeppelin copy' }));
    expect(importMessages(profile, [...fresh, ...repeats])).toEqual({
      inserted: 60_000,
      skipped: 80,
    });
    const db = profile.db;
    expect(db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(60_100);
    expect(searchMessages(db, 'zeppelin')).toEqual([]);
    expect(searchMessages(db, 'marmalade', 50_000)).toHaveLength(
      Math.ceil(100 / 7) + Math.ceil(60_000 / 7),
    );
    // Carol's conversation got no message: its time is not the removed row's.
    const times = new Map(listConversations(db).map((c) => [c.accountId, c.lastMessageAt]));
    expect(times.get(peer)).toBe(fresh.at(-1)!.sentAt);
    expect(times.get(carol.account.accountId) ?? null).toBeNull();
    // The unique index is back: the receive path's dedupe holds again.
    expect(
      db
        .prepare(
          "SELECT count(*) FROM sqlite_master WHERE name = 'messages_by_sender' AND sql LIKE 'CREATE UNIQUE%'",
          { pluck: true },
        )
        .get(),
    ).toBe(1);
  });

  it('repeated rows committed while the sender index was dropped are removed when it is built: after a failure at once, after a crash at the next open', async () => {
    const alice = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    addContact(alice.profile, cardOf(bob));
    const peer = bob.account.accountId;
    const rows = messages(peer, 50_000);
    const copies = (from: number, n: number) =>
      rows.slice(from, from + n).map((m) => ({ ...m, uuid: randomUUID(), body: 'copy quokka' }));
    function* failing(): Generator<ImportedMessage> {
      yield* rows.slice(0, 49_000);
      yield* copies(0, 1_000);
      throw new Error('source failed');
    }
    expect(() => importMessages(alice.profile, failing())).toThrow('source failed');
    expect(messageCount(alice.profile.db)).toBe(49_000);

    crashState(alice.profile.db, copies(1_000, 500));
    expect(messageCount(alice.profile.db)).toBe(49_500);
    await alice.profile.close();

    const reopened = await Profile.open(alice.dir, { passphrase: alice.passphrase });
    const db = reopened.db;
    expect(messageCount(db)).toBe(49_000);
    expect(searchMessages(db, 'quokka')).toEqual([]);
    expect(importMessages(reopened, rows)).toEqual({ inserted: 1_000, skipped: 49_000 });
    expect(messageCount(db)).toBe(50_000);
    await reopened.close();
  });

  it('a row naming something that is not an account id is INVALID_INPUT, and its batch writes nothing', async () => {
    const { profile } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    addContact(profile, cardOf(bob));
    const rows = [...messages(bob.account.accountId, 3), ...messages("x' OR 1=1 --", 1, 3)];
    const conversations = () =>
      profile.db.prepare('SELECT count(*) FROM conversations', { pluck: true }).get();
    const before = conversations();
    expect(thrownCode(() => importMessages(profile, rows))).toBe('INVALID_INPUT');
    expect(profile.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(0);
    expect(conversations()).toBe(before);
  });
});
