import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { person } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';
import { callService as call } from '../../support/service-call.ts';
import { useOfflineServices } from '../../support/offline-service.ts';

// `groups:retry` of a group message whose upload the user cancelled (the
// app's Retry under "Cancelled. This message was not sent."): its file is due
// to upload again and the message is queued, as `messages:retry` does for
// 1:1. Hostile: an unknown id, a queued message and a deleted one are
// refused with INVALID_INPUT and change nothing. (Another conversation's
// message: tests/integration/attachments/retry-cancelled-group.test.ts and
// the CLI's tests/integration/cli/retry-resume.test.ts.)

const startService = useOfflineServices();

describe('groups:retry of a cancelled upload', () => {
  it('queues the message and its file again; unknown, queued and deleted ids are refused', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const service = await startService(relay);
    await call(service, 'profile:invite');
    const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const { groupId } = await call(service, 'groups:create', {
      title: 'Trip',
      members: [contact.conversationId],
    });
    const send = (caption: string) =>
      call(
        service,
        'attachments:send',
        { groupId, caption },
        { file: testFile(tempDir(), `${caption}.pdf`, 30_000) },
      );
    const sent = await send('map');
    const attachmentId = sent.attachments[0]!.id;
    expect(await call(service, 'attachments:cancel', { groupId, attachmentId })).toEqual({
      cancelled: true,
    });
    const listed = async () => (await call(service, 'attachments:list', { groupId }))[0];
    expect(await listed()).toMatchObject({ state: 'failed', error: 'CANCELLED' });
    const status = async (id: number) =>
      (await call(service, 'groups:messages', { groupId, limit: 10 })).find((m) => m.id === id)
        ?.status;
    expect(await status(sent.messageId)).toBe('failed');

    // An id that names no group message of ours: refused, and the cancelled one stays failed.
    expect(await rejectedCode(() => call(service, 'groups:retry', { messageId: 999_999 }))).toBe(
      'INVALID_INPUT',
    );
    expect(await status(sent.messageId)).toBe('failed');

    expect(await call(service, 'groups:retry', { messageId: sent.messageId })).toMatchObject({
      id: sent.messageId,
      status: 'queued',
    });
    expect(await listed()).toMatchObject({ state: 'uploading', error: null });
    // A second click: it is queued, not failed.
    expect(
      await rejectedCode(() => call(service, 'groups:retry', { messageId: sent.messageId })),
    ).toBe('INVALID_INPUT');

    // Deleted: as unknown.
    const other = await send('gone');
    await call(service, 'attachments:cancel', {
      groupId,
      attachmentId: other.attachments[0]!.id,
    });
    await call(service, 'messages:delete', { groupId, messageIds: [other.messageId] });
    expect(
      await rejectedCode(() => call(service, 'groups:retry', { messageId: other.messageId })),
    ).toBe('INVALID_INPUT');
    expect((await call(service, 'attachments:list', { groupId })).map((a) => a.id)).toEqual([
      attachmentId,
    ]);
  });
});
