import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { defineComponent, h } from 'vue';
import GroupMessageBubble from '../../../renderer/src/components/GroupMessageBubble.vue';
import MessageBubble from '../../../renderer/src/components/MessageBubble.vue';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import { useNoticesStore } from '../../../renderer/src/stores/notices.ts';
import { useSearchStore } from '../../../renderer/src/stores/search.ts';
import { fakeAccountId, type FakeBridge } from '../fake-bridge.ts';
import { en, plugins, settle, setUp, waitFor } from '../helpers.ts';

// "Delete for me" in happy-dom over the fake bridge: the bubble's Delete
// asks first (Cancel focused, Escape cancels), then the message leaves the
// list, the search results and the preview; a refusal leaves it and says
// why; another window's delete (the event) removes it too; a failed
// message's Retry has Delete beside it; group messages are named by group.

let fake: FakeBridge;
let pinia: Pinia;

const FIRST = 1_000_001;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addMessages(1, 3, { body: (i) => `pineapple ${i}` });
  await useAppStore().ensureLoaded();
  await useMessagesStore().openLatest(1);
  await useConversationsStore().refresh();
});

/** The open conversation's loaded messages, as bubbles. */
function mountHistory() {
  const History = defineComponent({
    setup() {
      const store = useMessagesStore();
      return () =>
        h(
          'div',
          store.messages.map((message) =>
            h(MessageBubble, { key: message.id, message, highlighted: false }),
          ),
        );
    },
  });
  return mount(History, { global: { plugins: plugins(pinia) }, attachTo: document.body });
}

const rowIds = (wrapper: ReturnType<typeof mountHistory>) =>
  wrapper
    .findAll('[data-testid="message-row"]')
    .map((r) => Number(r.attributes('data-message-id')));

const deleteButtonOf = (wrapper: ReturnType<typeof mountHistory>, id: number) =>
  wrapper.get(`[data-message-id="${id}"] [data-testid="message-delete"]`);

describe('delete for me', () => {
  it('asks first; Cancel (focused) and Escape delete nothing; Delete for me removes it from the list, search and preview', async () => {
    const search = useSearchStore();
    await search.run('pineapple');
    expect(search.results).toHaveLength(3);
    const wrapper = mountHistory();
    await settle();
    expect(rowIds(wrapper)).toEqual([FIRST, FIRST + 1, FIRST + 2]);

    const button = deleteButtonOf(wrapper, FIRST + 2);
    expect(button.attributes('aria-label')).toBe(en.messageDelete.actionLabel);
    expect(button.attributes('aria-haspopup')).toBe('dialog');
    await button.trigger('click');
    await settle();
    const dialog = wrapper.get('[data-testid="message-delete-dialog"]');
    expect(dialog.text()).toContain(en.messageDelete.text);
    expect(document.activeElement).toBe(
      wrapper.get('[data-testid="message-delete-cancel"]').element,
    );
    await wrapper.get('[data-testid="message-delete-cancel"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="message-delete-dialog"]').exists()).toBe(false);
    // Focus goes back to the button the user came from.
    expect(document.activeElement).toBe(deleteButtonOf(wrapper, FIRST + 2).element);
    await deleteButtonOf(wrapper, FIRST + 2).trigger('click');
    await settle();
    await wrapper.get('[data-testid="message-delete-dialog"]').trigger('cancel');
    await settle();
    expect(fake.callsOf('messages:delete')).toEqual([]);

    await deleteButtonOf(wrapper, FIRST + 2).trigger('click');
    await settle();
    await wrapper.get('[data-testid="message-delete-confirm"]').trigger('click');
    await waitFor(() => rowIds(wrapper).length === 2, 'the row to go');
    expect(fake.callsOf('messages:delete')).toEqual([
      { conversationId: 1, messageIds: [FIRST + 2] },
    ]);
    expect(rowIds(wrapper)).toEqual([FIRST, FIRST + 1]);
    expect(search.results.map((m) => m.id)).toEqual(expect.not.arrayContaining([FIRST + 2]));
    expect(search.results).toHaveLength(2);
    await waitFor(
      () => useConversationsStore().list[0]?.lastMessagePreview === 'pineapple 1',
      'the preview of what stayed',
    );
    wrapper.unmount();
  });

  it('a refused delete keeps the message and says why', async () => {
    fake.fail('messages:delete', 'UNKNOWN_MESSAGE');
    const wrapper = mountHistory();
    await settle();
    await deleteButtonOf(wrapper, FIRST).trigger('click');
    await settle();
    await wrapper.get('[data-testid="message-delete-confirm"]').trigger('click');
    await settle();
    expect(rowIds(wrapper)).toEqual([FIRST, FIRST + 1, FIRST + 2]);
    expect(useNoticesStore().notices.map((n) => n.key)).toEqual(['errors.UNKNOWN_MESSAGE']);
    expect(deleteButtonOf(wrapper, FIRST).attributes('disabled')).toBeUndefined();
    wrapper.unmount();
  });

  it('another window’s delete (messages:deleted) removes the rows here; another conversation’s ids change nothing', async () => {
    const disconnect = connectBridgeEvents();
    const wrapper = mountHistory();
    await settle();
    fake.emit('messages:deleted', { conversationId: 2, messageIds: [FIRST] });
    await settle();
    expect(rowIds(wrapper)).toHaveLength(3);
    fake.emit('messages:deleted', { conversationId: 1, messageIds: [FIRST, FIRST + 1] });
    await settle();
    expect(rowIds(wrapper)).toEqual([FIRST + 2]);
    disconnect();
    wrapper.unmount();
  });

  it('a failed message shows Delete beside Retry at all times; others only on hover or focus', async () => {
    const failed = fake.messages.find((m) => m.id === FIRST)!;
    failed.status = 'failed';
    await useMessagesStore().openLatest(1);
    const wrapper = mountHistory();
    await settle();
    const retry = wrapper.get(`[data-message-id="${FIRST}"] [data-testid="message-retry"]`);
    const beside = retry.element.nextElementSibling;
    expect(beside?.getAttribute('data-testid')).toBe('message-delete');
    expect(beside?.classList.contains('always-visible')).toBe(true);
    expect(deleteButtonOf(wrapper, FIRST + 1).classes()).not.toContain('always-visible');
    // Reachable by keyboard: a real button, not a hover-only element.
    expect(deleteButtonOf(wrapper, FIRST + 1).element.tagName).toBe('BUTTON');
    (beside as HTMLButtonElement).click();
    await settle();
    await wrapper.get('[data-testid="message-delete-confirm"]').trigger('click');
    await waitFor(() => !rowIds(wrapper).includes(FIRST), 'the failed message to go');
    wrapper.unmount();
  });

  it('a group message is deleted by its group', async () => {
    const group = fake.groups.seed({ title: 'Trip' });
    const received = fake.groups.receive(group.groupId, fakeAccountId('BOB'), 'see you', 1_000);
    const wrapper = mount(GroupMessageBubble, {
      props: { message: received },
      global: { plugins: plugins(pinia) },
      attachTo: document.body,
    });
    await wrapper.get('[data-testid="message-delete"]').trigger('click');
    await settle();
    await wrapper.get('[data-testid="message-delete-confirm"]').trigger('click');
    await settle();
    expect(fake.callsOf('messages:delete')).toEqual([
      { groupId: group.groupId, messageIds: [received.id] },
    ]);
    expect(fake.groups.messages).toEqual([]);
    wrapper.unmount();
  });
});
