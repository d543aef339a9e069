import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import {
  addContact,
  exportBackup,
  importBackup,
  listConversations,
  Profile,
  searchMessages,
} from '../../../electron/core/index.ts';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { importMessages } from '../../../electron/core/history/bulk-import.ts';
import { newMessageId } from '../../../electron/core/messaging/message-id.ts';
import {
  BACKUP_PASSPHRASE,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
} from '../../support/backup.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// A restore writes messages through bulk import's path: a backup at least as
// large as the profile (every full restore of 50,000 messages or more) gets
// its secondary indexes built once at the end, and the sender rule applied
// when the unique index is built again. A backup whose records repeat a
// sender, device and sent time under fresh uuids (a hostile or broken
// exporter) restores the first of each and counts the rest as skipped.

const MESSAGES = 50_100;
const REPEATS = 40;
const SMALL = 100;

describe('restoring a large backup', () => {
  it('keeps the first of records that repeat a sender, device and sent time (a fresh profile or a live one), counts the rest as skipped, and rebuilds every index', async () => {
    const root = tempDir();
    const source = await Profile.create(join(root, 'source'), {
      displayName: 'Bulk',
      passphrase: 'bulk restore source passphrase',
      kdfCost: TEST_KDF,
    });
    const identity = IdentityKeyPair.generate();
    const peer = deriveAccountId(identity.publicKey);
    addContact(source, {
      accountId: peer,
      identityKey: identity.publicKey.serialize(),
      displayName: 'Peer',
    });
    const start = Date.now() - MESSAGES * 1000;
    const history = Array.from({ length: MESSAGES }, (_, i) => ({
      uuid: newMessageId(start + i * 1000),
      conversationWith: peer,
      outgoing: false,
      senderAccount: peer,
      senderDevice: 1,
      sentAt: start + i * 1000,
      receivedAt: start + i * 1000 + 5,
      body: `line ${i} ${i % 10 === 0 ? 'marmalade' : 'toast'}`,
      status: 'received' as const,
    }));
    // An early backup of the first SMALL messages, then the whole history.
    importMessages(source, history.slice(0, SMALL));
    const early = join(root, 'early.age');
    await exportBackup(source, early, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    importMessages(source, history.slice(SMALL));
    const exported = join(root, 'exported.age');
    await exportBackup(source, exported, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    await source.close();

    // The same records plus copies of the first REPEATS messages under new uuids and other text.
    const lines = await readBackupLines(exported);
    const copies = lines
      .filter((l) => l.startsWith('{"type":"message"'))
      .slice(0, REPEATS)
      .map((l) => {
        const record = JSON.parse(l) as Record<string, unknown>;
        return JSON.stringify({ ...record, uuid: randomUUID(), body: 'forged zeppelin copy' });
      });
    const manifest = JSON.parse(lines[0]!) as { counts: Record<string, number> };
    manifest.counts['message'] = MESSAGES + REPEATS;
    const hostile = join(root, 'hostile.age');
    await writeBackupLines(hostile, [JSON.stringify(manifest), ...lines.slice(1), ...copies]);

    const dir = join(root, 'restored');
    const report = await importBackup(dir, hostile, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'bulk restore target passphrase', kdfCost: TEST_KDF },
    });
    expect(report).toMatchObject({
      created: true,
      messagesInserted: MESSAGES,
      messagesSkipped: REPEATS,
    });
    const restored = await Profile.open(dir, { passphrase: 'bulk restore target passphrase' });
    try {
      const db = restored.db;
      expect(db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(MESSAGES);
      expect(searchMessages(db, 'zeppelin')).toEqual([]);
      expect(searchMessages(db, 'marmalade', 10_000)).toHaveLength(Math.ceil(MESSAGES / 10));
      expect(listConversations(db)[0]?.lastMessageAt).toBe(start + (MESSAGES - 1) * 1000);
      const indexes = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL ORDER BY name",
          { pluck: true },
        )
        .all<string>();
      expect(indexes).toEqual([
        'messages_by_conversation',
        'messages_by_sender',
        'messages_failed',
      ]);
      await restored.verifyIntegrity();
    } finally {
      await restored.close();
    }

    // A merge into a smaller live profile of the same account (the indexes deferred there too):
    // the live rows stay as they are, the copies of them are skipped like the uuid matches.
    const small = join(root, 'small');
    const profilePassphrase = { passphrase: 'bulk restore small passphrase' };
    await importBackup(small, early, {
      passphrase: BACKUP_PASSPHRASE,
      create: { ...profilePassphrase, kdfCost: TEST_KDF },
    });
    const merged = await importBackup(small, hostile, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: profilePassphrase,
    });
    expect(merged).toMatchObject({
      created: false,
      messagesInserted: MESSAGES - SMALL,
      messagesSkipped: SMALL + REPEATS,
    });
    const live = await Profile.open(small, profilePassphrase);
    try {
      expect(live.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(
        MESSAGES,
      );
      expect(searchMessages(live.db, 'zeppelin')).toEqual([]);
      expect(searchMessages(live.db, 'line', 5).length).toBe(5);
      await live.verifyIntegrity();
    } finally {
      await live.close();
    }
  });
});
