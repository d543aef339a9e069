import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import {
  cancelTransfer,
  retryCancelledUpload,
} from '../../../electron/core/attachments/transfer-control.ts';
import { deleteMessages, findContact, getMessage } from '../../../electron/core/index.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { restoredElsewhere } from '../../support/backup.ts';
import { afterTest, befriend, enginePerson } from '../../support/engines.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Retry of an upload the user cancelled, after a backup restore: a backup
// carries the stored copy but never the ciphertext in transit, so the
// restored row is encrypted again from its stored copy (a new transport key,
// a new upload) and the file arrives whole. A row whose stored copy is gone
// or altered cannot be retried (a stable code, nothing half-written), and
// Delete still removes it.

const SIZE = 70_000;

/** Alice cancels the upload of two messages, backs up, and restores into a new profile. */
async function restoredWithCancelledUploads() {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  const source = tempDir();
  const toBob = { conversationId: findContact(alice.profile.db, 'Bob').conversationId };
  const queued = [];
  for (const name of ['report.pdf', 'second.pdf']) {
    const message = await queueAttachmentMessage(
      alice.profile,
      bob.profile.account.accountId,
      [{ path: testFile(source, name, SIZE) }],
      `about ${name}`,
    );
    const [file] = attachmentsOf(alice.profile, { messageIds: [message.id] });
    expect(cancelTransfer(alice.profile, toBob, file!.id)).toBe(true);
    queued.push(message);
  }
  const keyBefore = alice.profile.db
    .prepare('SELECT transport_key FROM attachments ORDER BY id LIMIT 1', { pluck: true })
    .get<Uint8Array<ArrayBuffer>>()!;
  const { dir, profile: restored } = await restoredElsewhere(alice);
  const ids = restored.db
    .prepare('SELECT id FROM messages ORDER BY id', { pluck: true })
    .all<number>();
  return { bob, restored, dir, ids, keyBefore, queued };
}

const tmp = (dir: string) => readdirSync(join(dir, 'attachments', 'tmp'));

describe('Retry of a cancelled upload after a restore', () => {
  it('takes a new key and digest from the stored copy (no ciphertext file); the file reaches Bob byte-identical', async () => {
    const { bob, restored, dir, ids, keyBefore } = await restoredWithCancelledUploads();
    const [first] = ids as [number];
    expect(getMessage(restored.db, first)?.status).toBe('failed');
    expect(attachmentsOf(restored, { messageIds: [first] })).toMatchObject([
      { state: 'failed', error: 'CANCELLED' },
    ]);
    // No ciphertext in transit came back with the backup.
    expect(tmp(dir)).toEqual([]);

    expect(await retryCancelledUpload(restored, first)).toBe(true);
    expect(getMessage(restored.db, first)?.status).toBe('queued');
    // A new key and digest only: the upload job derives the blob from the stored copy.
    expect(tmp(dir)).toEqual([]);
    const row = restored.db
      .prepare('SELECT transport_key, blob_id, upload_token FROM attachments WHERE message_id = ?')
      .get<{
        transport_key: Uint8Array<ArrayBuffer>;
        blob_id: string | null;
        upload_token: string | null;
      }>([first])!;
    expect(Buffer.from(row.transport_key).equals(Buffer.from(keyBefore))).toBe(false);
    expect(row).toMatchObject({ blob_id: null, upload_token: null });

    const engine = new SyncEngine(restored);
    afterTest(() => engine.close());
    await engine.sendOutbox();
    expect(attachmentsOf(restored, { messageIds: [first] })[0]?.state).toBe('uploaded');
    expect(tmp(dir)).toEqual([]);
    await bob.engine.receive({ firstWaitMs: 200 });
    const received = bob.profile.db
      .prepare('SELECT id FROM messages', { pluck: true })
      .all<number>();
    const [file] = attachmentsOf(bob.profile, { messageIds: received });
    expect(file).toMatchObject({ fileName: 'report.pdf', state: 'done' });
    const out = join(tempDir(), 'saved');
    await saveAttachment(bob.profile, file!.id, out);
    expect(readFileSync(out).equals(testBytes(SIZE, 'report.pdf'))).toBe(true);
  });

  it('a stored copy that is altered or gone cannot be retried: a stable code, no temp file, and Delete still works', async () => {
    const { restored, dir, ids } = await restoredWithCancelledUploads();
    const [first, second] = ids as [number, number];
    const localOf = (messageId: number) =>
      restored.db
        .prepare('SELECT local_name FROM attachments WHERE message_id = ?', { pluck: true })
        .get<string>([messageId])!;
    // Altered: one flipped byte in the middle of the stored copy.
    const altered = join(dir, 'attachments', localOf(first));
    const bytes = readFileSync(altered);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0x01;
    writeFileSync(altered, bytes);
    expect(await rejectedCode(() => retryCancelledUpload(restored, first))).toBe(
      'ATTACHMENT_TAMPERED',
    );
    // Gone (a user's cleanup of the folder).
    rmSync(join(dir, 'attachments', localOf(second)));
    expect(await rejectedCode(() => retryCancelledUpload(restored, second))).toBe(
      'ATTACHMENT_NOT_FOUND',
    );
    expect(tmp(dir)).toEqual([]);
    for (const id of [first, second]) {
      expect(getMessage(restored.db, id)?.status).toBe('failed');
      expect(attachmentsOf(restored, { messageIds: [id] })[0]).toMatchObject({
        state: 'failed',
        error: 'CANCELLED',
      });
    }
    const conversationId = getMessage(restored.db, first)!.conversationId;
    await deleteMessages(restored, { conversationId }, [first, second]);
    expect(readdirSync(join(dir, 'attachments')).filter((n) => n !== 'tmp')).toEqual([]);
    expect(restored.db.prepare('SELECT count(*) FROM attachments', { pluck: true }).get()).toBe(0);
  });
});
