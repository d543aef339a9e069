import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import { uploadAttachments } from '../../../electron/core/attachments/upload-job.ts';
import { removeMember } from '../../../electron/core/groups/group-ops.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import {
  groupMessageStatus,
  retryGroupMessage,
} from '../../../electron/core/groups/group-resend.ts';
import { loadGroup } from '../../../electron/core/groups/index.ts';
import { deleteMessages } from '../../../electron/core/index.ts';
import { queueText } from '../../../electron/core/messaging/outbox.ts';
import type { BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { thrownCode } from '../../support/errors.ts';
import { aliceBobCarol, type Person, settle } from '../../support/group-world.ts';
import {
  blobRow,
  copies,
  count,
  expireBlob,
  REFUSED_FILE_SIZE,
  refusedAfterUpload,
  savedMatches,
  storedFiles,
} from '../../support/refused-fanout.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// Retry of a group message whose files uploaded but whose fan-out the relay
// refused: no second upload while the relay holds the blob (HEAD says
// complete), a new one only once it expired (the same blob: its key makes
// it again), the rest of one the relay holds part of, and every member ends
// with exactly one copy of the message and its file. Hostile and edge cases:
// a retry racing a delete (before the pass and during the relay check), an
// expired blob, a member removed between the failure and the retry, a
// second retry. Restored and older rows: rederivable-retry.test.ts.

const SIZE = REFUSED_FILE_SIZE;
const fileOf = (p: Person, groupMessageId: number) =>
  attachmentsOf(p.profile, { groupMessageIds: [groupMessageId] })[0]!;

/** Receive passes (each waiting up to a second for mail) until `done`, at most 30. */
async function receiveUntil(
  p: Person,
  done: () => boolean,
  onReport: (report: { duplicates: number }) => void = () => undefined,
): Promise<void> {
  for (let pass = 0; pass < 30 && !done(); pass++)
    onReport(await p.engine.receive({ firstWaitMs: 1000, idleMs: 50 }));
  expect(done()).toBe(true);
}

describe('retry of a group message whose fan-out the relay refused after the upload', () => {
  it('a full mailbox refused it: Retry sends no byte again and each member has one copy', async () => {
    // A real refusal: a relay process whose mailboxes hold four envelopes.
    const data = join(tempDir(), 'relay');
    const relay: RelayProcess = await startRelayProcess(data, {
      args: ['--mailbox-quota', '4'],
    });
    try {
      const { alice, bob, carol, all, group } = await aliceBobCarol('Full', {
        relay: relay.url,
      });
      // Chains shared first, so only the message itself meets the full mailbox.
      queueGroupText(alice.profile, group.groupId, 'hello');
      await settle(all);
      for (let i = 0; i < 4; i++) queueText(alice.profile, bob.profile.account.accountId, `${i}`);
      await alice.engine.sendOutbox();

      const message = await queueGroupAttachmentMessage(
        alice.profile,
        group.groupId,
        [{ path: testFile(tempDir(), 'plan.pdf', SIZE) }],
        'plan',
      );
      for (
        let pass = 0;
        pass < 10 && groupMessageStatus(alice.profile.db, message.id) !== 'failed';
        pass++
      )
        await alice.engine.sendOutbox();
      expect(groupMessageStatus(alice.profile.db, message.id)).toBe('failed');
      expect(fileOf(alice, message.id).state).toBe('uploaded');
      const blobs = readdirSync(join(data, 'blobs')).length;
      const before = blobRow(alice, message.id);

      await settle(all); // Bob's mailbox drains; Carol already has it
      expect([copies(bob, 'plan'), copies(carol, 'plan')]).toEqual([0, 1]);
      retryGroupMessage(alice.profile, message.id);
      await alice.engine.sendOutbox();
      // A relay pushes to an open connection: wait (bounded) until each copy arrived.
      let duplicates = 0;
      await receiveUntil(bob, () => copies(bob, 'plan') === 1);
      await receiveUntil(
        carol,
        () => duplicates > 0,
        (r) => (duplicates += r.duplicates),
      );
      expect([copies(bob, 'plan'), copies(carol, 'plan')]).toEqual([1, 1]);
      expect([storedFiles(bob), storedFiles(carol)]).toEqual([1, 1]);
      expect(await savedMatches(bob, 'plan')).toBe(true);
      // The same blob, the same key: nothing was uploaded again.
      expect(blobRow(alice, message.id)).toEqual(before);
      expect(readdirSync(join(data, 'blobs'))).toHaveLength(blobs);
      expect(['sent', 'delivered']).toContain(groupMessageStatus(alice.profile.db, message.id));
    } finally {
      await relay.stop();
    }
  }, 300_000);
});

describe('retry of a refused fan-out, edge cases (folder relay)', () => {
  it('a blob that expired on the relay is sealed again under the same key: the same blob under a new id', async () => {
    const { alice, bob, carol, all, group, relay } = await aliceBobCarol('Expired');
    const id = await refusedAfterUpload(alice, group.groupId, 'old map');
    const before = blobRow(alice, id);
    expect(before.blob_rederivable).toBe(1);
    expireBlob(relay, before.blob_id);

    retryGroupMessage(alice.profile, id);
    await settle(all);
    const after = blobRow(alice, id);
    expect(after.blob_id).not.toBe(before.blob_id);
    // Re-derivable: the same key makes the same bytes, so the pointer's digest is unchanged.
    expect(Buffer.from(after.transport_key).equals(Buffer.from(before.transport_key))).toBe(true);
    expect(Buffer.from(after.digest).equals(Buffer.from(before.digest))).toBe(true);
    expect(readdirSync(join(relay, 'blobs')).sort()).toEqual(
      [`${after.blob_id}.data`, `${after.blob_id}.json`].sort(),
    );
    expect([copies(bob, 'old map'), copies(carol, 'old map')]).toEqual([1, 1]);
    expect([storedFiles(bob), storedFiles(carol)]).toEqual([1, 1]);
    expect(await savedMatches(carol, 'old map')).toBe(true);
    expect(readdirSync(join(alice.dir, 'attachments', 'tmp'))).toEqual([]);
  }, 300_000);

  it('a blob past the expiry its row recorded is not asked about (the relay may drop it any moment): the same blob again under a new id', async () => {
    const { alice, carol, all, group, relay } = await aliceBobCarol('Lapsed');
    const id = await refusedAfterUpload(alice, group.groupId, 'lapsed');
    const before = blobRow(alice, id);
    alice.profile.db
      .prepare('UPDATE attachments SET upload_expires_at = 1 WHERE group_message_id = ?')
      .run([id]);
    const asked: string[] = [];
    const real = alice.engine.pool.homeBlobs();
    const watched: BlobUploads = {
      create: (length) => real.create(length),
      append: (upload, offset, data) => real.append(upload, offset, data),
      offset: (upload) => {
        asked.push(upload.blobId);
        return real.offset(upload);
      },
    };
    retryGroupMessage(alice.profile, id);
    await uploadAttachments(alice.profile, () => watched);
    await settle(all);
    const after = blobRow(alice, id);
    expect(asked).toEqual([]);
    expect(after.blob_id).not.toBe(before.blob_id);
    expect(Buffer.from(after.digest).equals(Buffer.from(before.digest))).toBe(true);
    // The old blob is the relay's to delete at its own expiry.
    expect(readdirSync(join(relay, 'blobs'))).toContain(`${before.blob_id}.data`);
    expect(await savedMatches(carol, 'lapsed')).toBe(true);
  }, 300_000);

  it('a member removed between the failure and the retry gets nothing; a second retry is refused', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Removed');
    const id = await refusedAfterUpload(alice, group.groupId, 'members only');
    await removeMember(alice.profile, group.groupId, carol.profile.account.accountId);
    await settle(all);

    retryGroupMessage(alice.profile, id);
    // A double click: it is queued, not failed.
    expect(thrownCode(() => retryGroupMessage(alice.profile, id))).toBe('INVALID_INPUT');
    await settle(all);
    expect([copies(bob, 'members only'), copies(carol, 'members only')]).toEqual([1, 0]);
    expect(storedFiles(bob)).toBe(1);
    expect(count(alice, 'SELECT count(*) FROM group_receipts WHERE message_id = ?', [id])).toBe(1);
    // Sent: nothing left to retry.
    expect(thrownCode(() => retryGroupMessage(alice.profile, id))).toBe('INVALID_INPUT');
    await settle(all);
    expect(copies(bob, 'members only')).toBe(1);
  }, 300_000);

  it('a delete before the pass, and one during the relay check, send nothing and leave no files', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Race');
    const groupRef = loadGroup(alice.profile.db, group.groupId)!.ref;
    const first = await refusedAfterUpload(alice, group.groupId, 'deleted first');
    retryGroupMessage(alice.profile, first);
    await deleteMessages(alice.profile, { groupRef }, [first]);
    expect(thrownCode(() => retryGroupMessage(alice.profile, first))).toBe('INVALID_INPUT');

    const raced = await refusedAfterUpload(alice, group.groupId, 'raced');
    retryGroupMessage(alice.profile, raced);
    const real = alice.engine.pool.homeBlobs();
    let deleting: Promise<unknown> | undefined;
    const racing: BlobUploads = {
      create: (length) => real.create(length),
      append: (upload, offset, data) => real.append(upload, offset, data),
      offset: (upload) => {
        deleting = deleteMessages(alice.profile, { groupRef }, [raced]);
        return real.offset(upload);
      },
    };
    await uploadAttachments(alice.profile, () => racing);
    expect(deleting).toBeDefined();
    await deleting;
    expect(groupMessageStatus(alice.profile.db, raced)).toBeUndefined();
    await settle(all);
    for (const member of [bob, carol])
      expect([copies(member, 'deleted first'), copies(member, 'raced')]).toEqual([0, 0]);
    expect(count(alice, 'SELECT count(*) FROM attachments')).toBe(0);
    expect(readdirSync(join(alice.dir, 'attachments', 'tmp'))).toEqual([]);
  }, 300_000);

  it('refuses a message whose files did not all upload, and changes nothing', async () => {
    const { alice, bob, all, group } = await aliceBobCarol('Half');
    const id = await refusedAfterUpload(alice, group.groupId, 'half');
    // A refused upload lost its ciphertext: there is nothing to fan out.
    alice.profile.commit(undefined, (db) =>
      db
        .prepare(
          "UPDATE attachments SET state = 'failed', error = 'RELAY_ERR_TOO_LARGE' WHERE group_message_id = ?",
        )
        .run([id]),
    );
    expect(thrownCode(() => retryGroupMessage(alice.profile, id))).toBe('INVALID_INPUT');
    expect(groupMessageStatus(alice.profile.db, id)).toBe('failed');
    expect(fileOf(alice, id)).toMatchObject({ state: 'failed', error: 'RELAY_ERR_TOO_LARGE' });
    await settle(all);
    expect(copies(bob, 'half')).toBe(0);
  }, 300_000);

  it('a blob the relay holds only part of is resumed, a pointer without its upload token is uploaded again; a refused check fails the message with its code', async () => {
    const { alice, bob, carol, all, group, relay } = await aliceBobCarol('Check');
    const cut = await refusedAfterUpload(alice, group.groupId, 'cut short');
    const before = blobRow(alice, cut);
    const data = join(relay, 'blobs', `${before.blob_id}.data`);
    truncateSync(data, 1000);
    retryGroupMessage(alice.profile, cut);
    await settle(all);
    // Re-derivable: the rest of the same blob is sent from the relay's offset.
    expect(blobRow(alice, cut)).toEqual(before);
    expect(statSync(data).size).toBe(ciphertextSize(SIZE));
    expect([storedFiles(bob), storedFiles(carol)]).toEqual([1, 1]);
    expect(await savedMatches(bob, 'cut short')).toBe(true);

    // As a backup restores it: the pointer without the upload token (nothing to ask): uploaded again.
    const restored = await refusedAfterUpload(alice, group.groupId, 'restored');
    const kept = blobRow(alice, restored);
    alice.profile.commit(undefined, (db) =>
      db
        .prepare(
          'UPDATE attachments SET upload_token = NULL, upload_length = NULL WHERE group_message_id = ?',
        )
        .run([restored]),
    );
    retryGroupMessage(alice.profile, restored);
    await settle(all);
    expect(blobRow(alice, restored).blob_id).not.toBe(kept.blob_id);
    expect(await savedMatches(carol, 'restored')).toBe(true);

    // A forged (or stale) upload token: the relay refuses the check, and says why.
    const forged = await refusedAfterUpload(alice, group.groupId, 'forged');
    alice.profile.commit(undefined, (db) =>
      db
        .prepare('UPDATE attachments SET upload_token = ? WHERE group_message_id = ?')
        .run(['A'.repeat(43), forged]),
    );
    retryGroupMessage(alice.profile, forged);
    await settle(all);
    expect(groupMessageStatus(alice.profile.db, forged)).toBe('failed');
    expect(fileOf(alice, forged)).toMatchObject({ state: 'failed', error: 'RELAY_ERR_FORBIDDEN' });
    expect([copies(bob, 'forged'), copies(carol, 'forged')]).toEqual([0, 0]);
    expect(thrownCode(() => retryGroupMessage(alice.profile, forged))).toBe('INVALID_INPUT');
  }, 300_000);
});
