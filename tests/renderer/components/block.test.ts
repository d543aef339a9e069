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
