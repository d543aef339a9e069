import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DRAFT_SAVE_MS,
  MAX_LOADED,
  PAGE_SIZE,
  useMessagesStore,
} from '../../../renderer/src/stores/messages.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { setUp } from '../helpers.ts';

let fake: FakeBridge;
let disconnect: () => void;

beforeEach(async () => {
  ({ fake } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addConversation({ id: 2, displayName: 'Dave' });
  await useAppStore().ensureLoaded();
  disconnect = connectBridgeEvents();
});

afterEach(() => {
  disconnect();
  vi.useRealTimers();
});

const bodies = () => useMessagesStore().messages.map((m) => m.body);

describe('the loaded window of a 100,000-message conversation', () => {
  beforeEach(() => fake.addMessages(1, 100_000));

  it('opens at the newest page, oldest first, with older pages available', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    expect(messages.messages).toHaveLength(PAGE_SIZE);
    expect(bodies().at(-1)).toBe('message number 99999');
    expect(bodies()[0]).toBe(`message number ${100_000 - PAGE_SIZE}`);
    expect(messages.hasOlder).toBe(true);
    expect(messages.hasNewer).toBe(false);
    expect(messages.scrollRequest?.kind).toBe('end');
  });

  it('loading older pages prepends them and never holds more than the cap', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    await messages.loadOlder();
    expect(messages.messages).toHaveLength(2 * PAGE_SIZE);
    expect(bodies()[0]).toBe(`message number ${100_000 - 2 * PAGE_SIZE}`);
    for (let i = 0; i < 30; i++) await messages.loadOlder();
    expect(messages.messages.length).toBe(MAX_LOADED);
    // The newest end was dropped, so it must be paged back in later.
    expect(messages.hasNewer).toBe(true);
    const ids = messages.messages.map((m) => m.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('a jump loads a window around the message, highlights it, and pages forward with `after`', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    const target = 1_000_000 + 1 + 1234;
    expect(await messages.jumpTo(target)).toBe(1);
    expect(messages.highlightedId).toBe(target);
    expect(messages.messages.some((m) => m.id === target)).toBe(true);
    expect(messages.scrollRequest).toMatchObject({ kind: 'message', messageId: target });
    expect(messages.hasNewer).toBe(true);
    const lastBefore = messages.messages.at(-1)?.body;
    await messages.loadNewer();
    const input = fake.callsOf('messages:page').at(-1) as { after?: unknown };
    expect(input.after).toBeDefined();
    expect(bodies().at(-1)).not.toBe(lastBefore);
    // The window was 1184…1283 (100 around 1234); one page forward ends 50 later.
    expect(bodies().at(-1)).toBe(`message number ${1234 - 50 + 99 + PAGE_SIZE}`);
  });
});

describe('sending and statuses', () => {
  it('a sent message shows as queued at once, then status events move it to delivered', async () => {
    const messages = useMessagesStore();
    await useConversationsStore().refresh();
    await messages.openLatest(1);
    const sent = await messages.send(1, 'hello');
    expect(messages.messages.at(-1)).toMatchObject({
      id: sent.id,
      body: 'hello',
      status: 'queued',
    });
    fake.emit('message:status', { messageId: sent.id, conversationId: 1, status: 'sent' });
    expect(messages.messages.at(-1)?.status).toBe('sent');
    fake.emit('message:status', { messageId: sent.id, conversationId: 1, status: 'delivered' });
    expect(messages.messages.at(-1)?.status).toBe('delivered');
    // The list row shows it as the latest activity.
    expect(useConversationsStore().byId.get(1)).toMatchObject({
      lastMessagePreview: 'hello',
      lastMessageAt: sent.sentAt,
    });
  });

  it('a message:new event for the same message (sent echo) is not shown twice', async () => {
    const messages = useMessagesStore();
    await messages.openLatest(1);
    const sent = await messages.send(1, 'once');
    fake.emit('message:new', { ...sent, status: 'sent' });
    expect(messages.messages.filter((m) => m.id === sent.id)).toHaveLength(1);
    expect(messages.messages.at(-1)?.status).toBe('sent');
  });

  it('an incoming message for the open conversation is appended; one for another is not', async () => {
    fake.addMessages(1, 3);
    const messages = useMessagesStore();
    await messages.openLatest(1);
    const base = {
      uuid: 'u',
      outgoing: false,
      senderAccount: fakeAccountId('ACC1'),
      senderName: 'Carol',
      sentAt: Date.now(),
      receivedAt: Date.now(),
      status: 'received' as const,
    };
    fake.emit('message:new', { ...base, id: 77, conversationId: 1, body: 'for you' });
    fake.emit('message:new', { ...base, id: 78, conversationId: 2, body: 'elsewhere' });
    expect(bodies()).toContain('for you');
    expect(bodies()).not.toContain('elsewhere');
  });

  it('retry puts a failed message back in the queue', async () => {
    fake.addMessages(1, 1);
    const failed = fake.messages[0]!;
    failed.status = 'failed';
    const messages = useMessagesStore();
    await messages.openLatest(1);
    expect(messages.messages[0]?.status).toBe('failed');
    await messages.retry(failed.id);
    expect(messages.messages[0]?.status).toBe('queued');
  });
});

describe('drafts', () => {
  it('are saved once typing pauses, with the last text only', async () => {
    vi.useFakeTimers();
    const messages = useMessagesStore();
    messages.setDraft(1, 'h', () => undefined);
    messages.setDraft(1, 'he', () => undefined);
    messages.setDraft(1, 'hello', () => undefined);
    expect(fake.callsOf('conversations:set-draft')).toEqual([]);
    await vi.advanceTimersByTimeAsync(DRAFT_SAVE_MS);
    expect(fake.callsOf('conversations:set-draft')).toEqual([
      { conversationId: 1, draft: 'hello' },
    ]);
  });

  it('an emptied draft is saved as null', async () => {
    vi.useFakeTimers();
    const messages = useMessagesStore();
    messages.setDraft(1, '   ', () => undefined);
    await vi.advanceTimersByTimeAsync(DRAFT_SAVE_MS);
    expect(fake.callsOf('conversations:set-draft')).toEqual([{ conversationId: 1, draft: null }]);
  });

  it('are kept per conversation and restored from conversations:get', async () => {
    fake.conversations[1]!.draft = 'saved for Dave';
    const conversations = useConversationsStore();
    const messages = useMessagesStore();
    messages.setDraft(1, 'typed for Carol', () => undefined);
    await messages.flushDraft(1);
    const dave = await conversations.open(2);
    messages.restoreDraft(2, dave.draft);
    expect(messages.drafts[2]).toBe('saved for Dave');
    expect(messages.drafts[1]).toBe('typed for Carol');
    // A later restore does not overwrite what this session typed.
    messages.restoreDraft(1, 'stale copy');
    expect(messages.drafts[1]).toBe('typed for Carol');
    expect(fake.conversations[0]!.draft).toBe('typed for Carol');
  });
});
