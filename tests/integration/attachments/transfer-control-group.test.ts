import { describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import {
  APP_DOWNLOAD_POLICY,
  type DownloadRules,
} from '../../../electron/core/attachments/download-policy.ts';
import { runDownloads } from '../../../electron/core/attachments/jobs.ts';
import {
  cancelTransfer,
  requestDownload,
} from '../../../electron/core/attachments/transfer-control.ts';
import { createGroup } from '../../../electron/core/groups/group-ops.ts';
import { loadGroup } from '../../../electron/core/groups/index.ts';
import { findContact } from '../../../electron/core/index.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { aliceBobCarol, settle } from '../../support/group-world.ts';
import { thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Download and Cancel of a group's files: the group names the scope, so a
// group file cannot be asked for through a 1:1 conversation or another group.

describe('transfer control in a group', () => {
  it('a held group file downloads only through its own group; a cancel of it waits for the next click', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Trip');
    const rules = (): DownloadRules => ({ policy: APP_DOWNLOAD_POLICY, network: 'unknown' });
    bob.engine.downloadRules = rules;
    // Another group Bob is in, and his 1:1 conversation with Alice.
    const other = await createGroup(alice.profile, 'Other', [bob.profile.account.accountId]);
    await queueGroupAttachmentMessage(alice.profile, group.groupId, [
      { path: testFile(tempDir(), 'route.pdf', 80_000) },
    ]);
    await settle(all);
    const ref = loadGroup(bob.profile.db, group.groupId)!.ref;
    const otherRef = loadGroup(bob.profile.db, other.groupId)!.ref;
    const id = bob.profile.db
      .prepare('SELECT id FROM attachments WHERE outgoing = 0', { pluck: true })
      .get<number>()!;
    const messageId = bob.profile.db
      .prepare('SELECT group_message_id FROM attachments WHERE id = ?', { pluck: true })
      .get<number>([id])!;
    const summary = () => attachmentsOf(bob.profile, { groupMessageIds: [messageId] }, rules())[0]!;
    expect(summary()).toMatchObject({ state: 'pending', waiting: true });
    // Carol runs the CLI's policy: she has it already.
    expect(
      carol.profile.db.prepare('SELECT state FROM attachments', { pluck: true }).all(),
    ).toEqual(['done']);

    const oneToOne = { conversationId: findContact(bob.profile.db, 'Alice').conversationId };
    expect(thrownCode(() => requestDownload(bob.profile, oneToOne, id))).toBe('UNKNOWN_ATTACHMENT');
    expect(thrownCode(() => requestDownload(bob.profile, { groupRef: otherRef }, id))).toBe(
      'UNKNOWN_ATTACHMENT',
    );
    expect(thrownCode(() => cancelTransfer(bob.profile, oneToOne, id))).toBe('UNKNOWN_ATTACHMENT');

    // Asked for, then cancelled before its pass: back to waiting, and a pass leaves it alone.
    expect(requestDownload(bob.profile, { groupRef: ref }, id)).toBe(true);
    expect(cancelTransfer(bob.profile, { groupRef: ref }, id)).toBe(true);
    expect(summary()).toMatchObject({ state: 'pending', waiting: true });
    expect((await runDownloads(bob.profile, rules)).downloaded).toBe(0);
    // Asked for again: it comes.
    expect(requestDownload(bob.profile, { groupRef: ref }, id)).toBe(true);
    expect((await runDownloads(bob.profile, rules)).downloaded).toBe(1);
    expect(summary()).toMatchObject({ state: 'done', waiting: false });
  });
});
