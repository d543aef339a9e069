// Retry of a group message whose upload was cancelled: the bubble's Retry
// (shown for every failed group message) calls groups:retry, which the core
// now honours for cancelled uploads; the queued message makes the view read
// the group's files again (useConversationAttachments), so the card that said
// "Cancelled" shows the upload under way.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { waitFor } from '../helpers.ts';
import { useGroupScreens } from '../group-screens.ts';

const screens = useGroupScreens(['Bob']);
let fake: FakeBridge;
beforeEach(() => {
  ({ fake } = screens);
});

const cancelledFile: AttachmentSummaryView = {
  id: 41,
  messageId: null,
  groupMessageId: 77,
  outgoing: true,
  contentType: 'application/pdf',
  fileName: 'route.pdf',
  size: 30_000,
  width: null,
  height: null,
  preview: null,
  durationMs: null,
  state: 'failed',
  error: 'CANCELLED',
  waiting: false,
};

describe('a group message whose upload was cancelled', () => {
  it('Retry queues it and its file shows as uploading again', async () => {
    const group = screens.fake.groups.seed({ title: 'Hikers' }, [1]);
    fake.groups.messages.push({
      id: 77,
      uuid: 'cancelled-1',
      groupId: group.groupId,
      outgoing: true,
      senderAccount: fakeAccountId('ACCOUNT'),
      senderName: 'Me',
      sentAt: 5_000,
      receivedAt: 5_000,
      body: 'the route',
      status: 'failed',
    });
    fake.attachments.push({ ...cancelledFile });
    // What the core does on this retry: the cancelled file uploads again.
    fake.groups.retried = (messageId) => {
      fake.attachments = fake.attachments.map((a) =>
        a.groupMessageId === messageId && a.error === 'CANCELLED'
          ? { ...a, state: 'uploading', error: null }
          : a,
      );
    };
    const view = await screens.openGroup(group);
    const row = () => view.get('[data-message-id="77"]');
    const file = () => row().find('[data-testid="attachment"]');
    await waitFor(() => file().exists(), 'the file card');
    expect(file().attributes('data-state')).toBe('failed');

    await row().get('[data-testid="message-retry"]').trigger('click');
    await waitFor(() => row().attributes('data-status') === 'queued', 'queued again');
    await waitFor(() => file().attributes('data-state') === 'uploading', 'the file uploading');
    expect(fake.calls.filter(([method]) => method === 'groups:retry')).toEqual([
      ['groups:retry', { messageId: 77 }],
    ]);
  });
});
