// The conversation list after "Delete for me" (happy-dom, fake bridge that
// answers as the core does): deleting a conversation's newest messages moves
// it down to where its newest remaining message puts it, and an emptied one
// goes after every conversation with messages.
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import ConversationList from '../../../renderer/src/components/ConversationList.vue';
import { useMessageDelete } from '../../../renderer/src/composables/useMessageDelete.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useConversationsStore } from '../../../renderer/src/stores/conversations.ts';
import { type FakeBridge } from '../fake-bridge.ts';
import { plugins, setUp, testRouter, waitFor } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;
const MINUTE = 60_000;
const START = Date.UTC(2024, 0, 1);

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  // Carol: three messages, the newest of all; Dave: one, in between; Erin: one, the oldest.
  fake.addConversation({ id: 1, displayName: 'Carol', lastMessageAt: START + 10 * MINUTE });
  fake.addMessages(1, 3, { start: START + 8 * MINUTE });
  fake.addConversation({ id: 2, displayName: 'Dave', lastMessageAt: START + 5 * MINUTE });
  fake.addMessages(2, 1, { start: START + 5 * MINUTE });
  fake.addConversation({ id: 3, displayName: 'Erin', lastMessageAt: START });
  fake.addMessages(3, 1, { start: START });
  await useAppStore().ensureLoaded();
  await useConversationsStore().refresh();
});

describe('the conversation list after delete for me', () => {
  it('moves a conversation whose newest messages went below the ones now newer; an emptied one goes last', async () => {
    const router = testRouter([
      { path: '/', component: { template: '<div />' } },
      { path: '/chat/:id', name: 'chat', component: { template: '<div />' } },
    ]);
    await router.push('/');
    const list = mount(ConversationList, { global: { plugins: plugins(pinia, router) } });
    const order = () =>
      list
        .findAll('[data-testid="conversation-item"]')
        .map((row) => Number(row.attributes('data-conversation-id')));
    await waitFor(() => order().length === 3, 'the list');
    expect(order()).toEqual([1, 2, 3]);
    const { deleteForMe } = useMessageDelete();

    // Carol's two newest (9 and 10 min) go: her newest is now 8 min, still after Dave's 5.
    await deleteForMe({ conversationId: 1, messageIds: [1_000_002, 1_000_003] });
    await waitFor(() => order().join() === '1,2,3', 'unchanged order');
    expect(useConversationsStore().list.find((c) => c.id === 1)?.lastMessageAt).toBe(
      START + 8 * MINUTE,
    );
    // Dave's only message goes: emptied, he is listed after Erin's old one.
    await deleteForMe({ conversationId: 2, messageIds: [2_000_001] });
    await waitFor(() => order().join() === '1,3,2', 'Dave last');
    // Carol's last one goes: both emptied sit after Erin, newest conversation id first.
    await deleteForMe({ conversationId: 1, messageIds: [1_000_001] });
    await waitFor(() => order().join() === '3,2,1', 'Carol after Erin');
    list.unmount();
  });
});
