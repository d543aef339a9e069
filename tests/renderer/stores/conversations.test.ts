import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import {
  byRecentActivity,
  useConversationsStore,
} from '../../../renderer/src/stores/conversations.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import ConversationList from '../../../renderer/src/components/ConversationList.vue';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { plugins, settle, setUp, testRouter, waitFor } from '../helpers.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import type { Pinia } from 'pinia';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({
    id: 1,
    displayName: 'Old',
    lastMessageAt: 1_000,
    lastMessagePreview: 'long ago',
  });
  fake.addConversation({
    id: 2,
    displayName: 'New',
    lastMessageAt: 9_000,
    lastMessagePreview: 'just now',
    unreadCount: 3,
  });
  fake.addConversation({ id: 3, displayName: 'Empty', lastMessageAt: null });
  fake.addConversation({
    id: 4,
    displayName: 'Middle',
    lastMessageAt: 5_000,
    lastMessagePreview: 'hm',
    hasDraft: true,
    identityChanged: true,
    failedCount: 2,
  });
  await useAppStore().ensureLoaded();
});

describe('the conversation list', () => {
  it('is ordered newest activity first, conversations without messages last', async () => {
    const conversations = useConversationsStore();
    await conversations.refresh();
    expect(conversations.sorted.map((c) => c.displayName)).toEqual([
      'New',
      'Middle',
      'Old',
      'Empty',
    ]);
    expect(conversations.totalUnread).toBe(3);
  });

  it('the comparison is stable for equal times (by id, newest first)', () => {
    const row = {
      accountId: fakeAccountId('a'),
      displayName: null,
      lastMessagePreview: null,
      unreadCount: 0,
      identityChanged: false,
      hasDraft: false,
      failedCount: 0,
      mutedUntil: null,
    };
    const sorted = [
      { ...row, id: 1, lastMessageAt: 5 },
      { ...row, id: 2, lastMessageAt: 5 },
    ].sort(byRecentActivity);
    expect(sorted.map((c) => c.id)).toEqual([2, 1]);
  });

  it('mark-read clears the unread count at once and tells the core', async () => {
    const conversations = useConversationsStore();
    await conversations.refresh();
    await conversations.markRead(2);
    expect(conversations.byId.get(2)?.unreadCount).toBe(0);
    expect(fake.callsOf('conversations:mark-read')).toEqual([{ conversationId: 2 }]);
  });

  it('a message arriving in the open conversation leaves no unread badge, though its row still showed 0', async () => {
    const conversations = useConversationsStore();
    const messages = useMessagesStore();
    const disconnect = connectBridgeEvents();
    try {
      await conversations.refresh();
      await conversations.markRead(2);
      await messages.openLatest(2);
      expect(conversations.byId.get(2)?.unreadCount).toBe(0);
      // The core stores and counts the message, then announces it; the list has not refreshed yet.
      const row = fake.conversations.find((c) => c.id === 2)!;
      fake.addMessages(2, 2, { start: Date.now() });
      row.unreadCount = 1;
      fake.emit('message:new', fake.messages.at(-1)!);
      await waitFor(
        () => fake.callsOf('conversations:list').length >= 2,
        'the list to refresh after the message',
      );
      await settle();
      expect(row.unreadCount).toBe(0);
      expect(conversations.byId.get(2)?.unreadCount).toBe(0);
    } finally {
      disconnect();
    }
  });

  it('a conversations:changed burst refreshes the list once', async () => {
    vi.useFakeTimers();
    try {
      const disconnect = connectBridgeEvents();
      for (let i = 0; i < 5; i++) fake.emit('conversations:changed', {});
      await vi.advanceTimersByTimeAsync(100);
      expect(fake.callsOf('conversations:list')).toHaveLength(1);
      disconnect();
    } finally {
      vi.useRealTimers();
    }
  });

  it('renders rows in order with unread badge, preview, draft, identity-change and failed-send markers', async () => {
    const router = testRouter([
      { path: '/', component: { template: '<div />' } },
      { path: '/chat/:id', name: 'chat', component: { template: '<div />' } },
    ]);
    await router.push('/');
    const wrapper = mount(ConversationList, { global: { plugins: plugins(pinia, router) } });
    await useConversationsStore().refresh();
    await settle();
    const rows = wrapper.findAll('[data-testid="conversation-item"]');
    expect(rows.map((r) => r.attributes('data-conversation-id'))).toEqual(['2', '4', '1', '3']);
    const [newest, middle, , empty] = rows;
    expect(newest!.find('[data-testid="unread-badge"]').text()).toContain('3');
    expect(newest!.find('[data-testid="conversation-preview"]').text()).toBe('just now');
    expect(middle!.find('[data-testid="draft-marker"]').exists()).toBe(true);
    expect(middle!.find('[data-testid="identity-marker"]').exists()).toBe(true);
    expect(middle!.find('[data-testid="failed-marker"]').text()).toContain('2 messages not sent');
    expect(newest!.find('[data-testid="draft-marker"]').exists()).toBe(false);
    expect(empty!.find('[data-testid="conversation-preview"]').text()).toBe('No messages yet');
    expect(newest!.attributes('href')).toBe('/chat/2');
  });
});
