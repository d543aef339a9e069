// Block and Unblock from the chat header menu, against the fake bridge.
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import ChatView from '../../../renderer/src/views/ChatView.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useContactsStore } from '../../../renderer/src/stores/contacts.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { en, plugins, settle, setUp, testRouter } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  await useAppStore().ensureLoaded();
  await useContactsStore().load();
});

async function mountChat() {
  const router = testRouter([
    { path: '/chat/:id', name: 'chat', component: ChatView, props: true },
    { path: '/chat/:id/safety-number', name: 'safety-number', component: { template: '<p />' } },
  ]);
  await router.push('/chat/1');
  const wrapper = mount(ChatView, {
    props: { id: '1' },
    global: { plugins: plugins(pinia, router) },
    attachTo: document.body,
  });
  await settle();
  return wrapper;
}

async function chooseFromMenu(
  wrapper: Awaited<ReturnType<typeof mountChat>>,
  testId: string,
): Promise<void> {
  await wrapper.get('[data-testid="chat-menu"]').trigger('click');
  await settle();
  await wrapper.get(`[data-testid="${testId}"]`).trigger('click');
  await settle();
}

describe('blocking a contact from the chat', () => {
  it('Block tells the core, shows the blocked state and disables the composer; Unblock undoes it', async () => {
    const wrapper = await mountChat();
    expect(wrapper.find('[data-testid="blocked-notice"]').exists()).toBe(false);
    await chooseFromMenu(wrapper, 'chat-block');
    expect(fake.callsOf('contacts:block')).toEqual([{ conversationId: 1 }]);
    expect(wrapper.get('[data-testid="blocked-notice"]').text()).toBe(
      en.chat.blockedNotice.replace('{name}', 'Carol'),
    );
    expect(wrapper.get('[data-testid="composer-blocked"]').text()).toBe(
      en.chat.blockedComposer.replace('{name}', 'Carol'),
    );
    expect(wrapper.get('[data-testid="chat-composer"]').attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid="chat-send"]').attributes('disabled')).toBeDefined();

    await chooseFromMenu(wrapper, 'chat-unblock');
    expect(fake.callsOf('contacts:unblock')).toEqual([{ conversationId: 1 }]);
    expect(wrapper.find('[data-testid="blocked-notice"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="chat-composer"]').attributes('disabled')).toBeUndefined();
    wrapper.unmount();
  });

  it('a refusal from the core is shown as its sentence and nothing changes', async () => {
    fake.fail('contacts:block', 'UNKNOWN_CONTACT');
    const wrapper = await mountChat();
    await chooseFromMenu(wrapper, 'chat-block');
    expect(wrapper.get('[data-testid="block-error"]').text()).not.toBe('');
    expect(wrapper.find('[data-testid="blocked-notice"]').exists()).toBe(false);
    wrapper.unmount();
  });
});

describe('the conversation list', () => {
  it('marks a blocked contact', async () => {
    const { default: ConversationList } =
      await import('../../../renderer/src/components/ConversationList.vue');
    const { useConversationsStore } = await import('../../../renderer/src/stores/conversations.ts');
    fake.addConversation({ id: 2, displayName: 'Dave' });
    await useContactsStore().load();
    await useConversationsStore().refresh();
    const router = testRouter([
      { path: '/', component: { template: '<p />' } },
      { path: '/chat/:id', name: 'chat', component: { template: '<p />' } },
    ]);
    await router.push('/');
    const wrapper = mount(ConversationList, { global: { plugins: plugins(pinia, router) } });
    await settle();
    expect(wrapper.findAll('[data-testid="blocked-marker"]')).toHaveLength(0);
    await useContactsStore().setBlocked(2, true);
    await settle();
    const marked = wrapper
      .findAll('[data-testid="conversation-item"]')
      .filter((row) => row.find('[data-testid="blocked-marker"]').exists());
    expect(marked.map((row) => row.attributes('data-conversation-id'))).toEqual(['2']);
    expect(marked[0]!.get('[data-testid="blocked-marker"]').text()).toBe(en.conversations.blocked);
    wrapper.unmount();
  });
});
