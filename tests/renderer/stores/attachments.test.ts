import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { settle, setUp } from '../helpers.ts';

// The open conversation's file list when transfers end in a burst (an outbox
// or a backlog of downloads draining at app start): one `attachments:changed`
// each, which must not become one whole-list read each in the core, ahead of
// the visible images' attachment: requests.

const FILES = 50;
let fake: FakeBridge;
let disconnect: () => void;

const summary = (i: number, patch: Partial<AttachmentSummaryView> = {}): AttachmentSummaryView => ({
  id: 100 + i,
  messageId: 1_000_001 + i,
  groupMessageId: null,
  outgoing: false,
  contentType: 'image/png',
  fileName: null,
  size: 2_000,
  width: 320,
  height: 240,
  preview: null,
  durationMs: null,
  state: 'pending',
  error: null,
  waiting: false,
  ...patch,
});

beforeEach(async () => {
  ({ fake } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addConversation({ id: 2, displayName: 'Dave' });
  fake.addMessages(1, FILES);
  fake.addMessages(2, 1);
  fake.attachments = Array.from({ length: FILES }, (_, i) => summary(i));
  await useAppStore().ensureLoaded();
  disconnect = connectBridgeEvents();
});

afterEach(() => disconnect());

const reads = () => fake.callsOf('attachments:list');
const states = () =>
  Object.values(useAttachmentsStore().byMessage)
    .flat()
    .map((a) => a.state);

describe('a burst of finished transfers', () => {
  it('is one read behind the running one, not one read per event, and shows the last state', async () => {
    const attachments = useAttachmentsStore();
    await attachments.load({ conversationId: 1 });
    expect(states()).toHaveLength(FILES);
    const before = reads().length;
    for (let i = 0; i < FILES; i++) {
      fake.attachments[i] = summary(i, { state: 'done' });
      fake.emit('attachments:changed', { attachmentId: 100 + i });
    }
    await settle();
    // The first event's read, then one more for the 49 that came while it ran.
    expect(reads().length - before).toBe(2);
    expect(states().every((state) => state === 'done')).toBe(true);
  });

  it('a read that fails does not lose the one queued behind it', async () => {
    const attachments = useAttachmentsStore();
    await attachments.load({ conversationId: 1 });
    fake.fail('attachments:list', 'INTERNAL');
    const failing = attachments.load({ conversationId: 1 });
    fake.attachments[0] = summary(0, { state: 'done' });
    const queued = attachments.load({ conversationId: 1 });
    fake.succeed('attachments:list');
    await expect(failing).rejects.toMatchObject({ code: 'INTERNAL' });
    await queued;
    expect(states()[0]).toBe('done');
  });

  it('does not hold back the read of another conversation opened meanwhile', async () => {
    const attachments = useAttachmentsStore();
    await attachments.load({ conversationId: 1 });
    const running = attachments.load({ conversationId: 1 });
    const other = attachments.load({ conversationId: 2 });
    expect(reads().at(-1)).toEqual({ conversationId: 2 });
    await Promise.all([running, other]);
    await settle();
    // Conversation 1's queued read does not run once 2 is open (it would show 1's files).
    expect(reads().slice(-2)).toEqual([{ conversationId: 1 }, { conversationId: 2 }]);
    expect(states()).toEqual([]);
  });

  it('reads at once after the conversation is closed and opened again', async () => {
    const attachments = useAttachmentsStore();
    await attachments.load({ conversationId: 1 });
    void attachments.load({ conversationId: 1 });
    attachments.close();
    const before = reads().length;
    const reopened = attachments.load({ conversationId: 1 });
    expect(reads().length).toBe(before + 1);
    await reopened;
    expect(states()).toHaveLength(FILES);
  });
});
