import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import { APP_DOWNLOAD_POLICY } from '../../../electron/core/attachments/download-policy.ts';
import {
  downloadAttachments,
  type DownloadsFor,
} from '../../../electron/core/attachments/download-job.ts';
import {
  cancelTransfer,
  requestDownload,
} from '../../../electron/core/attachments/transfer-control.ts';
import { isTransferring, startTransfer } from '../../../electron/core/attachments/transfers.ts';
import { stopTransfers } from '../../../electron/core/attachments/message-files.ts';
import { uploadAttachments } from '../../../electron/core/attachments/upload-job.ts';
import { loadGroup, queueGroupText } from '../../../electron/core/groups/index.ts';
import { queueGroupContent } from '../../../electron/core/messaging/outbox.ts';
import { searchGroupMessages } from '../../../electron/core/groups/group-search.ts';
import { blobDownloads } from '../../../electron/core/sync/blob-transport.ts';
import type { BlobUploads } from '../../../electron/core/sync/blobs.ts';
import {
  deleteMessages,
  findContact,
  type DeletedMessages,
  type Profile,
} from '../../../electron/core/index.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { befriend, enginePerson, relayProcessForTest } from '../../support/engines.ts';
import { aliceAndBob, settle } from '../../support/group-world.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// "Delete for me" and the files: stored copies and ciphertext in transit go
// with the message, a transfer running for it is cancelled first and cannot
// bring a row or a file back, and a group message's fan-out never leaves.

const files = (dir: string) => ({
  stored: readdirSync(join(dir, 'attachments')).filter((n) => n !== 'tmp'),
  tmp: readdirSync(join(dir, 'attachments', 'tmp')),
});

const count = (profile: Profile, sql: string) =>
  Number(profile.db.prepare(sql, { pluck: true }).get());

/** The chunks of `source`, calling `between` once, after the first chunk went on. */
async function* afterFirstChunk(
  source: AsyncIterable<Uint8Array>,
  between: () => void,
): AsyncGenerator<Uint8Array> {
  let calls = 0;
  for await (const chunk of source) {
    if (calls++ === 1) between();
    yield chunk;
  }
}

async function pair() {
  const { relay } = await relayProcessForTest();
  const alice = await enginePerson('Alice', relay.url);
  const bob = await enginePerson('Bob', relay.url);
  befriend(alice, bob);
  return {
    alice,
    bob,
    toBob: { conversationId: findContact(alice.profile.db, 'Bob').conversationId },
    fromAlice: { conversationId: findContact(bob.profile.db, 'Alice').conversationId },
  };
}

describe('deleting messages with files', () => {
  it('an upload running when its message is deleted stops; no row, no ciphertext, nothing reaches Bob', async () => {
    const w = await pair();
    const queued = await queueAttachmentMessage(
      w.alice.profile,
      w.bob.profile.account.accountId,
      [{ path: testFile(tempDir(), 'movie.mp4', 24_000_000) }],
      'never mind',
    );
    const attachmentId = count(w.alice.profile, 'SELECT id FROM attachments');
    // No ciphertext temp file: the upload derives the blob from the stored copy.
    expect(files(w.alice.dir)).toMatchObject({ stored: [expect.any(String)], tmp: [] });
    let deleting: Promise<DeletedMessages> | undefined;
    let runningWhenDeleted = false;
    const deletingUploads = (): BlobUploads => {
      const inner = w.alice.engine.pool.homeBlobs();
      return {
        create: (length) => inner.create(length),
        offset: (upload) => inner.offset(upload),
        append: (upload, offset, data) =>
          inner.append(
            upload,
            offset,
            afterFirstChunk(data, () => {
              runningWhenDeleted = isTransferring(w.alice.profile, attachmentId);
              deleting ??= deleteMessages(w.alice.profile, w.toBob, [queued.id]);
            }),
          ),
      };
    };
    const report = await uploadAttachments(w.alice.profile, deletingUploads);
    expect(runningWhenDeleted).toBe(true);
    expect((await deleting!).messageIds).toEqual([queued.id]);
    expect(report.uploaded).toBe(0);
    expect(count(w.alice.profile, 'SELECT count(*) FROM attachments')).toBe(0);
    expect(count(w.alice.profile, 'SELECT count(*) FROM messages')).toBe(0);
    expect(count(w.alice.profile, 'SELECT count(*) FROM outbox WHERE message_id IS NOT NULL')).toBe(
      0,
    );
    expect(files(w.alice.dir)).toEqual({ stored: [], tmp: [] });
    expect((await w.alice.engine.sendOutbox()).sent).toBe(0);
    await w.bob.engine.receive({ firstWaitMs: 300 });
    expect(count(w.bob.profile, 'SELECT count(*) FROM messages')).toBe(0);
  });

  it('a cancelled upload keeps its stored copy for Retry (no ciphertext file); Delete removes it', async () => {
    const w = await pair();
    const queued = await queueAttachmentMessage(
      w.alice.profile,
      w.bob.profile.account.accountId,
      [{ path: testFile(tempDir(), 'notes.pdf', 50_000) }],
      '',
    );
    const attachmentId = count(w.alice.profile, 'SELECT id FROM attachments');
    expect(cancelTransfer(w.alice.profile, w.toBob, attachmentId)).toBe(true);
    expect(files(w.alice.dir).tmp).toEqual([]);
    expect(files(w.alice.dir).stored).toHaveLength(1);
    await deleteMessages(w.alice.profile, w.toBob, [queued.id]);
    expect(files(w.alice.dir)).toEqual({ stored: [], tmp: [] });
  });

  it('a download running when its message is deleted stops; the partial file goes and no stored copy appears', async () => {
    const w = await pair();
    // The app's policy: a 24 MB clip waits for a click, so the receive pass does not fetch it.
    w.bob.engine.downloadRules = () => ({ policy: APP_DOWNLOAD_POLICY, network: 'unknown' });
    await queueAttachmentMessage(
      w.alice.profile,
      w.bob.profile.account.accountId,
      [{ path: testFile(tempDir(), 'clip.mp4', 24_000_000) }],
      'a clip',
    );
    await w.alice.engine.sendOutbox();
    await w.bob.engine.receive({ firstWaitMs: 2_000 });
    const messageId = count(w.bob.profile, 'SELECT id FROM messages');
    const attachmentId = count(w.bob.profile, 'SELECT id FROM attachments');
    let deleting: Promise<DeletedMessages> | undefined;
    let partial = 0;
    const deletingDownloads: DownloadsFor = (address, relayId) => {
      const inner = blobDownloads(w.bob.profile, address, relayId);
      return {
        download: async (blobId, offset) => {
          const download = await inner.download(blobId, offset);
          return {
            length: download.length,
            body: afterFirstChunk(download.body, () => {
              partial = files(w.bob.dir).tmp.length;
              deleting ??= deleteMessages(w.bob.profile, w.fromAlice, [messageId]);
            }),
          };
        },
      };
    };
    requestDownload(w.bob.profile, w.fromAlice, attachmentId);
    const report = await downloadAttachments(w.bob.profile, deletingDownloads, {
      policy: APP_DOWNLOAD_POLICY,
      network: 'unknown',
    });
    await deleting;
    expect(partial).toBe(2); // the ciphertext resume file and the stored copy being staged
    expect(report.downloaded).toBe(0);
    expect(count(w.bob.profile, 'SELECT count(*) FROM attachments')).toBe(0);
    expect(files(w.bob.dir)).toEqual({ stored: [], tmp: [] });
    // A later pass finds nothing to fetch.
    expect(
      (
        await downloadAttachments(w.bob.profile, deletingDownloads, {
          policy: APP_DOWNLOAD_POLICY,
          network: 'unknown',
        })
      ).downloaded,
    ).toBe(0);
    expect(files(w.bob.dir)).toEqual({ stored: [], tmp: [] });
  });

  it('group: a queued group message with a file is deleted before it was sent: never sent, its files gone; the receiver deletes one too', async () => {
    const { alice, bob, group } = await aliceAndBob('Trip');
    const ref = loadGroup(alice.profile.db, group.groupId)!.ref;
    const gone = await queueGroupAttachmentMessage(
      alice.profile,
      group.groupId,
      [{ path: testFile(tempDir(), 'secret.pdf', 40_000) }],
      'not this one',
    );
    // Uploaded and fanned out to the group outbox, not yet sent.
    await uploadAttachments(alice.profile, () => alice.engine.pool.homeBlobs());
    expect(count(alice.profile, 'SELECT count(*) FROM group_outbox')).toBe(1);
    await deleteMessages(alice.profile, { groupRef: ref }, [gone.id]);
    expect(count(alice.profile, 'SELECT count(*) FROM group_outbox')).toBe(0);
    expect(count(alice.profile, 'SELECT count(*) FROM group_outbox_recipients')).toBe(0);
    expect(files(alice.dir)).toEqual({ stored: [], tmp: [] });

    await queueGroupAttachmentMessage(
      alice.profile,
      group.groupId,
      [{ path: testFile(tempDir(), 'route.pdf', 40_000) }],
      'the route',
    );
    await settle([alice, bob]);
    expect(
      bob.profile.db.prepare('SELECT body FROM group_messages', { pluck: true }).all(),
    ).not.toContain('not this one');
    const bobRef = loadGroup(bob.profile.db, group.groupId)!.ref;
    const received = count(bob.profile, "SELECT id FROM group_messages WHERE body = 'the route'");
    expect(files(bob.dir).stored).toHaveLength(1);
    expect(searchGroupMessages(bob.profile.db, 'route')).toHaveLength(1);
    // A 1:1 scope cannot reach a group message.
    const oneToOne = { conversationId: findContact(bob.profile.db, 'Alice').conversationId };
    await expect(deleteMessages(bob.profile, oneToOne, [received])).rejects.toMatchObject({
      code: 'UNKNOWN_MESSAGE',
    });
    await deleteMessages(bob.profile, { groupRef: bobRef }, [received]);
    expect(files(bob.dir).stored).toEqual([]);
    expect(searchGroupMessages(bob.profile.db, 'route')).toEqual([]);
    expect(count(bob.profile, 'SELECT count(*) FROM attachments')).toBe(0);
  });

  it('group: a deleted group message that a member resends pairwise (same uuid, new envelope) stays deleted', async () => {
    const { alice, bob, group } = await aliceAndBob('Trip');
    const sent = queueGroupText(alice.profile, group.groupId, 'the meeting point');
    await settle([alice, bob]);
    const bodies = () =>
      bob.profile.db.prepare('SELECT body FROM group_messages', { pluck: true }).all<string>();
    expect(bodies()).toEqual(['the meeting point']);
    const bobRef = loadGroup(bob.profile.db, group.groupId)!.ref;
    const id = count(bob.profile, 'SELECT id FROM group_messages');
    await deleteMessages(bob.profile, { groupRef: bobRef }, [id]);
    // Alice answers a retry request the way group-resend does: the same content, pairwise.
    alice.profile.commit(undefined, (db) =>
      queueGroupContent(
        db,
        bob.profile.account.accountId,
        {
          v: 1,
          type: 'group-text',
          groupId: group.groupId,
          id: sent.uuid,
          sentAt: sent.sentAt,
          body: 'the meeting point',
        },
        Date.now(),
      ),
    );
    expect((await alice.engine.sendOutbox()).sent).toBeGreaterThan(0);
    const report = await bob.engine.receive({ firstWaitMs: 200 });
    expect(report.duplicates).toBeGreaterThan(0);
    expect(bodies()).toEqual([]);
    expect(searchGroupMessages(bob.profile.db, 'meeting')).toEqual([]);
    // A new message of the group still arrives.
    queueGroupText(alice.profile, group.groupId, 'a new plan');
    await settle([alice, bob]);
    expect(bodies()).toEqual(['a new plan']);
  });

  it('stopping transfers waits for each job to end, and no longer than its budget for one that never does', async () => {
    const alice = await newProfile('Alice');
    const stubborn = startTransfer(alice.profile, 9_001, 'upload', 100);
    const polite = startTransfer(alice.profile, 9_002, 'download', 100);
    polite.signal.addEventListener('abort', () => setTimeout(() => polite.end(), 20));
    const started = Date.now();
    await stopTransfers(alice.profile, [9_002], 60_000);
    expect(isTransferring(alice.profile, 9_002)).toBe(false);
    // The job that ignores its cancel: the wait ends at the budget, the transfer still registered.
    await stopTransfers(alice.profile, [9_001, 9_003], 100);
    expect(stubborn.signal.aborted).toBe(true);
    expect(isTransferring(alice.profile, 9_001)).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000);
    stubborn.end();
    // Nothing running: nothing to wait for.
    await stopTransfers(alice.profile, [9_001], 60_000);
  });
});
