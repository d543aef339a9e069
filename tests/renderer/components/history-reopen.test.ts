// Reopening a conversation, or switching to another one: the list shows
// nothing of the window the store held before (the previous visit's, or the
// other conversation's) while the new one loads. It used to render that
// window first, at the top, and its images were requested for rows the user
// never saw (10–19 per reopen in the paint bench). happy-dom has no layout,
// so the list never scrolls to its end here: these tests pin which rows and
// images are created; the e2e (tests/e2e/history-reopen.test.ts) counts the
// scheme requests in Chromium.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';
import type { Pinia } from 'pinia';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import ChatView from '../../../renderer/src/views/ChatView.vue';
import MessageList from '../../../renderer/src/components/MessageList.vue';
import GroupMessageList from '../../../renderer/src/components/GroupMessageList.vue';
import { useGroupsStore } from '../../../renderer/src/stores/groups.ts';
import { MAX_MOVE_FRAMES } from '../../../renderer/src/components/media-hold.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import { useContactsStore } from '../../../renderer/src/stores/contacts.ts';
import { PAGE_SIZE, useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { plugins, settle, setUp, stubHistoryLayout, testRouter, waitFor } from '../helpers.ts';

const MESSAGES = 200;
/** Conversation 1's message i has id FIRST + i (fake.addMessages) and one image, id IMAGE + i. */
const FIRST = 1_000_001;
const IMAGE = 100;
let fake: FakeBridge;
let pinia: Pinia;
let restoreLayout: () => void;

const image = (i: number): AttachmentSummaryView => ({
  id: IMAGE + i,
  messageId: FIRST + i,
  groupMessageId: null,
  outgoing: true,
  contentType: 'image/png',
  fileName: null,
  size: 2_000,
  width: 320,
  height: 240,
  durationMs: null,
  preview: null,
  state: 'done',
  error: null,
  waiting: false,
});

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addConversation({ id: 2, displayName: 'Dave' });
  fake.addMessages(1, MESSAGES);
  fake.addMessages(2, MESSAGES);
  fake.attachments = Array.from({ length: MESSAGES }, (_, i) => image(i));
  await useAppStore().ensureLoaded();
  await useContactsStore().load();
  restoreLayout = stubHistoryLayout();
});
afterEach(() => {
  restoreLayout();
  vi.unstubAllGlobals();
});

async function mountChat(id: number) {
  const router = testRouter([
    { path: '/chat/:id', name: 'chat', component: ChatView, props: true },
    { path: '/chat/:id/safety-number', name: 'safety-number', component: { template: '<p />' } },
  ]);
  await router.push(`/chat/${id}`);
  return mount(ChatView, {
    props: { id: String(id) },
    global: { plugins: plugins(pinia, router) },
    attachTo: document.body,
  });
}

/** The newest page of conversation 1 is in the store and rendered. */
async function newestPageShown(): Promise<void> {
  const messages = useMessagesStore();
  await waitFor(
    () =>
      !messages.loading &&
      messages.messages.length === PAGE_SIZE &&
      messages.messages.at(-1)?.id === FIRST + MESSAGES - 1 &&
      document.querySelector('[data-testid="attachment-image"]') !== null,
    'the newest page',
  );
  await settle();
}

/**
 * Every message row and image the document gets from now on, even one
 * removed again before anyone looks (a MutationObserver sees each insertion).
 */
function recordCreated(): { rows: Set<number>; images: Set<string>; stop: () => void } {
  const rows = new Set<number>();
  const images = new Set<string>();
  const note = (node: Node) => {
    if (!(node instanceof Element)) return;
    for (const el of [node, ...node.querySelectorAll('[data-message-id], img')]) {
      const id = el.getAttribute('data-message-id');
      if (id !== null) rows.add(Number(id));
      const src = el instanceof HTMLImageElement ? el.getAttribute('src') : null;
      if (src) images.add(src);
    }
  };
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      record.addedNodes.forEach(note);
      if (record.type === 'attributes') note(record.target);
    }
  });
  observer.observe(document.body, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['src', 'data-message-id'],
  });
  return { rows, images, stop: () => observer.disconnect() };
}

/** Message ids and image URLs of conversation 1's newest page. */
const newestIds = new Set(
  Array.from({ length: PAGE_SIZE }, (_, i) => FIRST + MESSAGES - PAGE_SIZE + i),
);
const newestImages = new Set(
  Array.from(
    { length: PAGE_SIZE },
    (_, i) => `attachment://media/${IMAGE + MESSAGES - PAGE_SIZE + i}`,
  ),
);

describe('reopening a conversation', () => {
  it('left scrolled back three pages, it reopens at the newest page without creating a row or image of the old window', async () => {
    const first = await mountChat(1);
    await newestPageShown();
    const messages = useMessagesStore();
    await messages.loadOlder();
    await messages.loadOlder();
    expect(messages.messages[0]?.id).toBe(FIRST + MESSAGES - 3 * PAGE_SIZE);
    first.unmount();

    const created = recordCreated();
    const second = await mountChat(1);
    await newestPageShown();
    created.stop();
    const shown = second
      .findAll('[data-testid="attachment-image"]')
      .map((img) => img.attributes('src') ?? '');
    expect(shown.length).toBeGreaterThan(0);
    // Without the fix: the old window's top rows (messages 50–69) and their images came first.
    expect([...created.rows].filter((id) => !newestIds.has(id))).toEqual([]);
    expect([...created.images].filter((src) => !newestImages.has(src))).toEqual([]);
    expect(shown.every((src) => created.images.has(src))).toBe(true);
    second.unmount();
  });

  it('the list is busy, never “No messages yet”, while the reopened conversation loads', async () => {
    const first = await mountChat(1);
    await newestPageShown();
    first.unmount();
    const second = await mountChat(1);
    // The first render, before any answer: no rows, no empty-history sentence.
    expect(second.findAll('[data-testid="message-row"]')).toHaveLength(0);
    expect(second.find('.history-empty').exists()).toBe(false);
    expect(second.get('[data-testid="chat-history"]').attributes('aria-busy')).toBe('true');
    await newestPageShown();
    second.unmount();
  });

  it('a message that arrives after leaving the conversation is not marked read (the store forgot it)', async () => {
    const disconnect = connectBridgeEvents();
    try {
      const view = await mountChat(1);
      await newestPageShown();
      view.unmount();
      const before = fake.callsOf('conversations:mark-read').length;
      // The second of two is incoming (fake.addMessages: every third is ours).
      fake.addMessages(1, 2, { start: Date.now(), firstId: 5_000_000 });
      const incoming = fake.messages.at(-1)!;
      expect(incoming.outgoing).toBe(false);
      fake.emit('message:new', incoming);
      await settle();
      expect(fake.callsOf('conversations:mark-read')).toHaveLength(before);
      expect(useMessagesStore().messages).toHaveLength(0);
    } finally {
      disconnect();
    }
  });
});

describe('switching to another conversation', () => {
  it('never shows the first conversation’s rows under the second one’s header', async () => {
    const view = await mountChat(1);
    await newestPageShown();
    await view.setProps({ id: '2' });
    await nextTick();
    const ofFirst = view
      .findAll('[data-testid="message-row"]')
      .map((row) => Number(row.attributes('data-message-id')))
      .filter((id) => id < 2_000_000);
    expect(ofFirst).toEqual([]);
    await waitFor(
      () => useMessagesStore().messages.at(-1)?.id === 2_000_000 + MESSAGES,
      'the second conversation’s newest page',
    );
    view.unmount();
  });

  it('an answer for the conversation left behind is dropped', async () => {
    const messages = useMessagesStore();
    const late = messages.openLatest(1);
    messages.close();
    await late;
    expect(messages.messages).toHaveLength(0);
    expect(messages.conversationId).toBeNull();
    expect(messages.loading).toBe(false);
  });
});

/** Frames run only when the test says (`run`): until then a history is still "moving". */
function holdFrames(): { run: (count: number) => void } {
  const frames: FrameRequestCallback[] = [];
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => {
    frames.push(callback);
    return frames.length;
  });
  return {
    run: (count) => {
      for (let i = 0; i < count; i++) frames.splice(0).forEach((f) => f(performance.now()));
    },
  };
}

/** Runs frames until `list` shows images (the move settled), at most MAX_MOVE_FRAMES + 1. */
async function untilImages(
  list: { findAll: (s: string) => unknown[] },
  frames: { run: (n: number) => void },
) {
  for (
    let i = 0;
    i <= MAX_MOVE_FRAMES && list.findAll('[data-testid="attachment-image"]').length === 0;
    i++
  ) {
    frames.run(1);
    await settle();
  }
}

/** Carol's message list, attached to the document (lazy loading and scrolling need it). */
const mountCarolList = () =>
  mount(MessageList, {
    props: { name: 'Carol' },
    global: { plugins: plugins(pinia) },
    attachTo: document.body,
  });

describe('a window just loaded', () => {
  it('renders its rows with their images held until the list has landed (frames pass), then loads them', async () => {
    const frames = holdFrames();
    const list = mountCarolList();
    await useAttachmentsStore().load({ conversationId: 1 });
    const created = recordCreated();
    await useMessagesStore().openLatest(1);
    await settle();
    expect(list.findAll('[data-testid="message-row"]').length).toBeGreaterThan(0);
    expect(list.findAll('[data-testid="attachment-media-box"]').length).toBeGreaterThan(0);
    expect(list.findAll('[data-testid="attachment-image"]')).toHaveLength(0);
    // Two frames with the scroller unchanged: landed (or MAX_MOVE_FRAMES at most).
    await untilImages(list, frames);
    created.stop();
    expect(list.findAll('[data-testid="attachment-image"]').length).toBeGreaterThan(0);
    // Nothing was created while held, so nothing but what shows now was ever asked for.
    const shown = list.findAll('[data-testid="attachment-image"]').map((i) => i.attributes('src'));
    expect([...created.images].sort()).toEqual([...shown].sort());
    list.unmount();
  });
});

describe('a jump to a search hit', () => {
  it('holds the images of the window around the hit until the list has moved to it', async () => {
    const frames = holdFrames();
    const list = mountCarolList();
    await useAttachmentsStore().load({ conversationId: 1 });
    await useMessagesStore().jumpTo(FIRST + 20);
    await settle();
    expect(list.findAll('[data-testid="message-row"]').length).toBeGreaterThan(0);
    expect(list.findAll('[data-testid="attachment-image"]')).toHaveLength(0);
    await untilImages(list, frames);
    expect(list.findAll('[data-testid="attachment-image"]').length).toBeGreaterThan(0);
    list.unmount();
  });
});

describe('a group’s newest page', () => {
  it('holds its rows’ images the same way while the list moves to its end', async () => {
    const group = fake.groups.seed({ title: 'Crew' }, [1]);
    const sent = Array.from({ length: 60 }, (_, i) =>
      fake.groups.receive(group.groupId, fakeAccountId('ACC1'), `shot ${i}`, 1_000_000 + i),
    );
    const attachments = useAttachmentsStore();
    attachments.byMessage = Object.fromEntries(
      sent.map((m, i) => [
        `g:${m.id}`,
        [{ ...image(i), messageId: null, groupMessageId: m.id, outgoing: false }],
      ]),
    );
    const frames = holdFrames();
    const list = mount(GroupMessageList, {
      props: { title: 'Crew' },
      global: { plugins: plugins(pinia) },
      attachTo: document.body,
    });
    await useGroupsStore().load(group.groupId);
    await settle();
    expect(list.findAll('[data-testid="group-message"]').length).toBeGreaterThan(0);
    expect(list.findAll('[data-testid="attachment-media-box"]').length).toBeGreaterThan(0);
    expect(list.findAll('[data-testid="attachment-image"]')).toHaveLength(0);
    await untilImages(list, frames);
    expect(list.findAll('[data-testid="attachment-image"]').length).toBeGreaterThan(0);
    list.unmount();
  });
});
