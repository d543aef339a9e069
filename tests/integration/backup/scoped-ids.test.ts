import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  exportBackup,
  importBackup,
  processEnvelopes,
  Profile,
  queueText,
} from '../../../electron/core/index.ts';
import { newMessageId } from '../../../electron/core/messaging/message-id.ts';
import { encodeContent } from '../../../shared/protocol/content.ts';
import {
  BACKUP_PASSPHRASE,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
} from '../../support/backup.ts';
import { afterTest } from '../../support/engines.ts';
import { flushOutbox, introduce, newProfile, TEST_KDF, tempDir } from '../../support/profiles.ts';

// A backup merges messages by (sender, uuid) (migration 0020, format 6): a
// profile holding two senders' messages with one uuid (a member copied the
// id) keeps both through a round trip, and a record, crafted or not, never
// stands in for another sender's message, nor does a deletedMessage record.

async function backUp(profile: Profile): Promise<string> {
  const file = join(tempDir(), 'backup.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  return file;
}

/** `from`'s next text to `to`, its content swapped for one that carries `id`. */
function textWithId(from: Profile, to: Profile, id: string, body: string): void {
  const queued = queueText(from, to.account.accountId, 'placeholder');
  const content = encodeContent({ v: 1, type: 'text', id, sentAt: Date.now(), body });
  from.db.prepare('UPDATE outbox SET payload = ? WHERE message_id = ?').run([content, queued.id]);
}

const rowsWith = (profile: Profile, uuid: string) =>
  profile.db
    .prepare('SELECT sender_account AS sender, body FROM messages WHERE uuid = ? ORDER BY body')
    .all<{ sender: string; body: string }>([uuid]);

/** A copy of `file` with `extra` records before its first record of a type in `before` (else at its end); the counts follow. */
async function withRecords(
  file: string,
  before: readonly string[],
  extra: Record<string, unknown>[],
) {
  const lines = await readBackupLines(file);
  const manifest = JSON.parse(lines[0]!) as { counts: Record<string, number> };
  for (const r of extra) {
    const type = r['type'] as string;
    manifest.counts[type] = (manifest.counts[type] ?? 0) + 1;
  }
  const found = lines.findIndex((line) => before.some((t) => line.startsWith(`{"type":"${t}"`)));
  const at = found === -1 ? lines.length : found;
  const to = join(tempDir(), 'crafted.age');
  await writeBackupLines(to, [
    JSON.stringify(manifest),
    ...lines.slice(1, at),
    ...extra.map((r) => JSON.stringify(r)),
    ...lines.slice(at),
  ]);
  return to;
}

describe('backups merge messages by sender and uuid', () => {
  it("two senders' messages with one uuid survive a round trip and a repeated merge adds nothing", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: mallory } = await newProfile('Mallory');
    const { profile: carol, dir, passphrase } = await newProfile('Carol');
    await introduce(alice, carol);
    await introduce(mallory, carol, 1);
    const id = newMessageId();
    textWithId(mallory, carol, id, 'from Mallory');
    textWithId(alice, carol, id, 'the real one');
    await processEnvelopes(carol, await flushOutbox(mallory));
    await processEnvelopes(carol, await flushOutbox(alice));
    const both = [
      { sender: mallory.account.accountId, body: 'from Mallory' },
      { sender: alice.account.accountId, body: 'the real one' },
    ];
    expect(rowsWith(carol, id)).toEqual(both);
    const file = await backUp(carol);
    await carol.close();

    const fresh = join(tempDir(), 'restored');
    await importBackup(fresh, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: 'restored passphrase', kdfCost: TEST_KDF },
    });
    const restored = await Profile.open(fresh, { passphrase: 'restored passphrase' });
    afterTest(() => restored.close());
    expect(rowsWith(restored, id)).toEqual(both);

    const again = await importBackup(dir, file, {
      passphrase: BACKUP_PASSPHRASE,
      unlock: { passphrase },
    });
    expect(again).toMatchObject({ messagesInserted: 0 });
    const merged = await Profile.open(dir, { passphrase });
    afterTest(() => merged.close());
    expect(rowsWith(merged, id)).toEqual(both);
  }, 120_000);

  it('a crafted message or deletedMessage record with another sender does not keep the real message out', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: mallory } = await newProfile('Mallory');
    const { profile: carol, dir, passphrase } = await newProfile('Carol');
    await introduce(alice, carol);
    await introduce(mallory, carol, 1);
    textWithId(mallory, carol, newMessageId(), 'hello');
    await processEnvelopes(carol, await flushOutbox(mallory));
    const file = await backUp(carol);
    await carol.close();

    // The id Alice will use, claimed ahead in Mallory's name: as a message and as deleted.
    const id = newMessageId();
    const deletedId = newMessageId();
    const crafted = await withRecords(
      file,
      ['attachment'],
      [
        {
          type: 'deletedMessage',
          uuid: deletedId,
          senderAccount: mallory.account.accountId,
          deletedAt: Date.now(),
        },
      ],
    );
    const craftedBoth = await withRecords(
      crafted,
      ['group', 'groupMessage', 'deletedMessage'],
      [
        {
          type: 'message',
          uuid: id,
          with: mallory.account.accountId,
          outgoing: false,
          senderAccount: mallory.account.accountId,
          senderDevice: 1,
          sentAt: 5,
          receivedAt: 5,
          status: 'received',
          body: 'claimed first',
        },
      ],
    );
    await importBackup(dir, craftedBoth, { passphrase: BACKUP_PASSPHRASE, unlock: { passphrase } });
    const merged = await Profile.open(dir, { passphrase });
    afterTest(() => merged.close());
    expect(rowsWith(merged, id)).toEqual([
      { sender: mallory.account.accountId, body: 'claimed first' },
    ]);

    textWithId(alice, merged, id, 'the real one');
    textWithId(alice, merged, deletedId, 'also real');
    const outcomes = await processEnvelopes(merged, await flushOutbox(alice));
    expect(outcomes.map((o) => o.outcome)).toEqual(['stored', 'stored']);
    expect(rowsWith(merged, id)).toEqual([
      { sender: mallory.account.accountId, body: 'claimed first' },
      { sender: alice.account.accountId, body: 'the real one' },
    ]);
    expect(rowsWith(merged, deletedId)).toEqual([
      { sender: alice.account.accountId, body: 'also real' },
    ]);
  }, 120_000);
});
