import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import {
  cancelTransfer,
  retryCancelledGroupUpload,
  retryCancelledUpload,
} from '../../../electron/core/attachments/transfer-control.ts';
import {
  groupMessageStatus,
  retryGroupMessage,
} from '../../../electron/core/groups/group-resend.ts';
import { leaveGroup } from '../../../electron/core/groups/group-ops.ts';
import { loadGroup } from '../../../electron/core/groups/index.ts';
import { deleteMessages } from '../../../electron/core/index.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { aliceBobCarol, type Person, settle } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';

// Retry of a group message whose upload the user cancelled: its files upload
// again and the one pointer then goes to every member, once. A group message
// is fanned out only after all its uploads completed, so a cancelled one has
// reached nobody. Hostile: a retry through the 1:1 path, a second retry, a
// retry of a deleted message, one racing a delete and one after we left the
// group send nothing.

const tmpFiles = (p: Person) => readdirSync(join(p.dir, 'attachments', 'tmp'));
const count = (p: Person, sql: string, params: (string | number)[] = []) =>
  Number(p.profile.db.prepare(sql, { pluck: true }).get(params));
const copies = (p: Person, caption: string) =>
  count(p, 'SELECT count(*) FROM group_messages WHERE body = ?', [caption]);

/** Alice composes a group message with one file and cancels its upload before any pass. */
async function cancelled(alice: Person, groupId: string, groupRef: number, caption: string) {
  const queued = await queueGroupAttachmentMessage(
    alice.profile,
    groupId,
    [{ path: testFile(tempDir(), `${caption}.pdf`, 30_000) }],
    caption,
  );
  const [file] = attachmentsOf(alice.profile, { groupMessageIds: [queued.id] });
  expect(cancelTransfer(alice.profile, { groupRef }, file!.id)).toBe(true);
  expect(groupMessageStatus(alice.profile.db, queued.id)).toBe('failed');
  return { id: queued.id, attachmentId: file!.id };
}

describe('retry of a cancelled group upload', () => {
  it('uploads again and fans the pointer out to every member once; a second retry is refused', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Trip');
    const ref = loadGroup(alice.profile.db, group.groupId)!.ref;
    const message = await cancelled(alice, group.groupId, ref, 'route map');
    await settle(all);
    expect([copies(bob, 'route map'), copies(carol, 'route map')]).toEqual([0, 0]);

    // The 1:1 path does not reach a group message (another table, another conversation).
    expect(await retryCancelledUpload(alice.profile, message.id)).toBe(false);
    expect(await retryCancelledGroupUpload(alice.profile, message.id)).toBe(true);
    expect(groupMessageStatus(alice.profile.db, message.id)).toBe('queued');
    // A double click: nothing cancelled any more, and it is not failed.
    expect(await retryCancelledGroupUpload(alice.profile, message.id)).toBe(false);
    expect(thrownCode(() => retryGroupMessage(alice.profile, message.id))).toBe('INVALID_INPUT');

    let duplicates = 0;
    for (let round = 0; round < 12; round++) {
      let moved = 0;
      for (const p of all) moved += (await p.engine.sendOutbox()).sent;
      for (const p of all) {
        const r = await p.engine.receive({ firstWaitMs: 0, idleMs: 0 });
        moved += r.stored + r.control + r.receipts;
        duplicates += r.duplicates;
      }
      if (moved === 0) break;
    }
    expect([copies(bob, 'route map'), copies(carol, 'route map')]).toEqual([1, 1]);
    expect(duplicates).toBe(0);
    expect(attachmentsOf(alice.profile, { groupMessageIds: [message.id] })[0]).toMatchObject({
      state: 'uploaded',
      error: null,
    });
    // One fan-out: a receipt row per member, and it is sent.
    expect(
      count(alice, 'SELECT count(*) FROM group_receipts WHERE message_id = ?', [message.id]),
    ).toBe(2);
    expect(groupMessageStatus(alice.profile.db, message.id)).not.toBe('failed');
    for (const member of [bob, carol])
      expect(count(member, 'SELECT count(*) FROM attachments WHERE size = 30000')).toBe(1);
    expect(tmpFiles(alice)).toEqual([]);
  });

  it('a deleted message, and a retry racing a delete, send nothing and leave no files', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Race');
    const ref = loadGroup(alice.profile.db, group.groupId)!.ref;
    const gone = await cancelled(alice, group.groupId, ref, 'deleted first');
    await deleteMessages(alice.profile, { groupRef: ref }, [gone.id]);
    expect(await retryCancelledGroupUpload(alice.profile, gone.id)).toBe(false);
    expect(thrownCode(() => retryGroupMessage(alice.profile, gone.id))).toBe('INVALID_INPUT');

    // Its ciphertext is gone (as after a restore): Retry must encrypt it again, and a delete lands meanwhile.
    const raced = await cancelled(alice, group.groupId, ref, 'raced');
    for (const name of tmpFiles(alice)) rmSync(join(alice.dir, 'attachments', 'tmp', name));
    const [code] = await Promise.all([
      rejectedCode(() => retryCancelledGroupUpload(alice.profile, raced.id)),
      deleteMessages(alice.profile, { groupRef: ref }, [raced.id]),
    ]);
    // The delete wins either way; the retry either finished first or is refused.
    expect([undefined, 'INVALID_INPUT']).toContain(code);
    expect(groupMessageStatus(alice.profile.db, raced.id)).toBeUndefined();
    await settle(all);
    for (const member of [bob, carol])
      expect([copies(member, 'deleted first'), copies(member, 'raced')]).toEqual([0, 0]);
    expect(count(alice, 'SELECT count(*) FROM attachments')).toBe(0);
    expect(tmpFiles(alice)).toEqual([]);
  });

  it('after we left the group the retry is refused as a new message would be (NOT_GROUP_MEMBER)', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Left');
    const ref = loadGroup(alice.profile.db, group.groupId)!.ref;
    const message = await cancelled(alice, group.groupId, ref, 'too late');
    await leaveGroup(alice.profile, group.groupId);
    await settle(all);
    expect(await rejectedCode(() => retryCancelledGroupUpload(alice.profile, message.id))).toBe(
      'NOT_GROUP_MEMBER',
    );
    expect(groupMessageStatus(alice.profile.db, message.id)).toBe('failed');
    expect(attachmentsOf(alice.profile, { groupMessageIds: [message.id] })[0]).toMatchObject({
      state: 'failed',
      error: 'CANCELLED',
    });
    await settle(all);
    expect([copies(bob, 'too late'), copies(carol, 'too late')]).toEqual([0, 0]);
  });
});
