import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeContent } from '../../../shared/protocol/content.ts';
import {
  attachmentsOf,
  saveAttachment,
} from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { runUploads } from '../../../electron/core/attachments/jobs.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { restoredElsewhere } from '../../support/backup.ts';
import { afterTest, befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// A message still queued when the backup was made is queued again by the
// restore. If it carries files, it must go out with them or not at all:
// uploaded files keep their pointers, an upload that had not finished fails
// the message (visibly) instead of sending its caption alone.

describe('queued messages with attachments across a restore', () => {
  it('are sent with their files when uploaded, and failed (not sent as text) when not', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await enginePerson('Alice', relay);
    const bob = await enginePerson('Bob', relay);
    befriend(alice, bob);
    const source = tempDir();
    const bobId = bob.profile.account.accountId;
    await queueAttachmentMessage(
      alice.profile,
      bobId,
      [{ path: testFile(source, 'up.bin', 3000, 'uploaded file') }],
      'uploaded before the backup',
    );
    // The upload completes (the message is queued with its pointer) but nothing is sent.
    const report = await runUploads(alice.profile, () => new RelayPool(alice.profile).homeBlobs());
    expect(report).toMatchObject({ uploaded: 1, queued: 1 });
    await queueAttachmentMessage(
      alice.profile,
      bobId,
      [{ path: testFile(source, 'later.bin', 2000, 'not uploaded') }],
      'composed, upload not started',
    );
    const { profile: restored } = await restoredElsewhere(alice);
    const messages = restored.db
      .prepare('SELECT id, body, status FROM messages ORDER BY id')
      .all<{ id: number; body: string; status: string }>();
    expect(messages.map((m) => [m.body, m.status])).toEqual([
      ['uploaded before the backup', 'queued'],
      ['composed, upload not started', 'failed'],
    ]);
    const outbox = restored.db
      .prepare("SELECT message_id AS messageId, payload FROM outbox WHERE kind = 'message'")
      .all<{ messageId: number; payload: Uint8Array<ArrayBuffer> }>();
    expect(outbox.map((o) => o.messageId)).toEqual([messages[0]!.id]);
    const content = decodeContent(outbox[0]!.payload);
    expect(content.type === 'text' ? content.attachments?.length : -1).toBe(1);

    // Sent from the restored profile, Bob gets the file, byte-identical.
    const engine = new SyncEngine(restored);
    afterTest(() => engine.close());
    await engine.sendOutbox();
    await bob.engine.receive({ firstWaitMs: 200 });
    const ids = bob.profile.db.prepare('SELECT id FROM messages', { pluck: true }).all<number>();
    const received = attachmentsOf(bob.profile, { messageIds: ids });
    expect(received.map((a) => [a.fileName, a.state])).toEqual([['up.bin', 'done']]);
    const out = join(tempDir(), 'saved');
    await saveAttachment(bob.profile, received[0]!.id, out);
    expect(readFileSync(out).equals(testBytes(3000, 'uploaded file'))).toBe(true);
  });
});
