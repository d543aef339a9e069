import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { deleteMessages, Profile } from '../../../electron/core/index.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { afterTest, befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// What a crash can leave behind, cleaned at the next open, and deleting a
// message deleting its files.

async function received() {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
    { path: testFile(tempDir(), 'a.txt', 5_000) },
  ]);
  await alice.engine.sendOutbox();
  await bob.engine.receive({ firstWaitMs: 200 });
  return { alice, bob };
}

const stored = (dir: string) =>
  readdirSync(join(dir, 'attachments'), { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);

describe('attachment files without rows, rows without files', () => {
  it('open deletes stray files and sends a lost download back to pending, which downloads again', async () => {
    const { bob } = await received();
    const [original] = stored(bob.dir);
    writeFileSync(join(bob.dir, 'attachments', 'ffffffffffffffffffffffffffffffff'), 'stray');
    writeFileSync(join(bob.dir, 'attachments', 'tmp', 'eeee.down'), 'half a download');
    await bob.engine.close();
    await bob.profile.close();
    // The stored copy vanished too (a restore from an old file backup, a user's cleanup).
    rmSync(join(bob.dir, 'attachments', original!));

    const reopened = await Profile.open(bob.dir, { passphrase: bob.passphrase });
    afterTest(() => reopened.close());
    expect(stored(bob.dir)).toEqual([]);
    expect(readdirSync(join(bob.dir, 'attachments', 'tmp'))).toEqual([]);
    const ids = reopened.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    expect(attachmentsOf(reopened, { messageIds: ids }).map((a) => a.state)).toEqual(['pending']);
    const engine = new SyncEngine(reopened);
    afterTest(() => engine.close());
    await engine.receive({ firstWaitMs: 100 });
    expect(attachmentsOf(reopened, { messageIds: ids }).map((a) => a.state)).toEqual(['done']);
    expect(stored(bob.dir)).toHaveLength(1);
  });

  it('deleting a message deletes its stored files, on both sides', async () => {
    const { alice, bob } = await received();
    for (const person of [alice, bob]) {
      const [file] = stored(person.dir);
      const { id, conversationId } = person.profile.db
        .prepare('SELECT id, conversation_id AS conversationId FROM messages')
        .get<{ id: number; conversationId: number }>()!;
      await deleteMessages(person.profile, { conversationId }, [id]);
      expect(existsSync(join(person.dir, 'attachments', file!))).toBe(false);
      expect(
        person.profile.db.prepare('SELECT count(*) FROM attachments', { pluck: true }).get(),
      ).toBe(0);
    }
  });
});

describe('download passes', () => {
  it('two receive passes at once share one download pass: the file arrives once, intact', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    befriend(alice, bob);
    await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [
      { path: testFile(tempDir(), 'b.bin', 3 * 1024 * 1024) },
    ]);
    await alice.engine.sendOutbox();
    await bob.engine.receive({ firstWaitMs: 200 });
    const second = new SyncEngine(bob.profile);
    afterTest(() => second.close());
    // Two engines over one profile (the app's supervisor and a one-shot call) both reach the job.
    const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    // A download cut after its first MiB: both passes would resume it into the same temp file.
    const blobId = bob.profile.db
      .prepare('SELECT blob_id FROM attachments', { pluck: true })
      .get<string>()!;
    const prefix = readFileSync(join(relay, 'blobs', `${blobId}.data`)).subarray(0, 1024 * 1024);
    writeFileSync(join(bob.dir, 'attachments', 'tmp', 'cut.down'), prefix);
    bob.profile.db
      .prepare(
        "UPDATE attachments SET state = 'pending', temp_name = 'cut.down', local_name = NULL, local_key = NULL, local_digest = NULL",
      )
      .run();
    await Promise.all([
      bob.engine.receive({ firstWaitMs: 50 }),
      second.receive({ firstWaitMs: 50 }),
    ]);
    expect(attachmentsOf(bob.profile, { messageIds: ids }).map((a) => a.state)).toEqual(['done']);
  });
});
