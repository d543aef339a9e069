import { beforeEach, describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import ChatHeaderMenu from '../../../renderer/src/components/ChatHeaderMenu.vue';
import ConversationExportPanel from '../../../renderer/src/components/backup/ConversationExportPanel.vue';
import ChatView from '../../../renderer/src/views/ChatView.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { en, plugins, settle, setUp, testRouter } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  // Three days of messages, one a minute from local midnight of 1 March 2024.
  fake.addMessages(1, 3 * 24 * 60, { start: new Date(2024, 2, 1).getTime() });
  await useAppStore().ensureLoaded();
});

function submit(wrapper: VueWrapper): Promise<void> {
  wrapper
    .get('[data-testid="export-submit"]')
    .element.closest('form')
    ?.dispatchEvent(new Event('submit'));
  return settle();
}

describe('the conversation export panel', () => {
  function mountPanel() {
    return mount(ConversationExportPanel, {
      props: { conversationId: 1, name: 'Carol' },
      global: { plugins: plugins(pinia) },
      attachTo: document.body,
    });
  }

  it('sends the format, the date range as local day bounds, and the encryption passphrase', async () => {
    const wrapper = mountPanel();
    expect(wrapper.get('[role="dialog"]').text()).toContain('Export Carol');
    await wrapper.get('[data-testid="export-format"]').setValue('json');
    await wrapper.get('[data-testid="export-from"]').setValue('2024-03-02');
    await wrapper.get('[data-testid="export-to"]').setValue('2024-03-02');
    await wrapper.get('[data-testid="export-encrypt"]').setValue(true);
    await wrapper.get('[data-testid="export-passphrase"]').setValue('export secret');
    await submit(wrapper);
    expect(fake.callsOf('export:conversation')).toEqual([
      {
        conversationId: 1,
        format: 'json',
        from: new Date(2024, 2, 2).getTime(),
        to: new Date(2024, 2, 3).getTime() - 1,
        passphrase: 'export secret',
      },
    ]);
    // Exactly the second day: 1,440 messages.
    expect(wrapper.get('[data-testid="export-done"]').text()).toBe('Exported 1440 messages.');
    wrapper.unmount();
  });

  it('without options, exports the whole conversation as HTML, unencrypted', async () => {
    const wrapper = mountPanel();
    await submit(wrapper);
    expect(fake.callsOf('export:conversation')).toEqual([{ conversationId: 1, format: 'html' }]);
    wrapper.unmount();
  });

  it('refuses a range that ends before it starts, and encryption without a passphrase', async () => {
    const wrapper = mountPanel();
    await wrapper.get('[data-testid="export-from"]').setValue('2024-03-03');
    await wrapper.get('[data-testid="export-to"]').setValue('2024-03-01');
    await submit(wrapper);
    expect(wrapper.text()).toContain(en.export.rangeInvalid);
    await wrapper.get('[data-testid="export-to"]').setValue('');
    await wrapper.get('[data-testid="export-encrypt"]').setValue(true);
    await submit(wrapper);
    expect(wrapper.text()).toContain(en.export.passphraseMissing);
    expect(fake.callsOf('export:conversation')).toEqual([]);
    wrapper.unmount();
  });

  it('shows progress with Cancel while exporting; a closed save dialog says nothing', async () => {
    const disconnect = connectBridgeEvents();
    fake.holdBackups = true;
    const wrapper = mountPanel();
    await submit(wrapper);
    expect(wrapper.get('[data-testid="backup-progress"]').attributes('aria-valuemax')).toBe('4');
    // Escape does not hide a running export.
    await wrapper.get('[role="dialog"]').trigger('keydown', { key: 'Escape' });
    expect(wrapper.emitted('close')).toBeUndefined();
    await wrapper.get('[data-testid="backup-cancel"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="backup-progress"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="export-done"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="backup-error"]').exists()).toBe(false);

    fake.holdBackups = false;
    fake.fail('export:conversation', 'CANCELLED');
    await submit(wrapper);
    expect(wrapper.find('[data-testid="backup-error"]').exists()).toBe(false);
    fake.fail('export:conversation', 'WEAK_PASSPHRASE');
    await submit(wrapper);
    expect(wrapper.get('[data-testid="backup-error"]').text()).toBe(en.errors.WEAK_PASSPHRASE);

    await wrapper.get('[role="dialog"]').trigger('keydown', { key: 'Escape' });
    expect(wrapper.emitted('close')).toHaveLength(1);
    disconnect();
    wrapper.unmount();
  });
});

describe('the chat menu', () => {
  function mountMenu() {
    return mount(ChatHeaderMenu, { global: { plugins: plugins(pinia) }, attachTo: document.body });
  }

  it('is a menu button: arrow key opens it on its item, Escape closes it and returns focus', async () => {
    const wrapper = mountMenu();
    const button = wrapper.get('[data-testid="chat-menu"]');
    expect(button.attributes('aria-haspopup')).toBe('menu');
    expect(button.attributes('aria-expanded')).toBe('false');
    expect(button.attributes('aria-label')).toBe(en.chat.menu);

    await button.trigger('keydown', { key: 'ArrowDown' });
    await settle();
    expect(button.attributes('aria-expanded')).toBe('true');
    const item = wrapper.get('[data-testid="chat-export-open"]');
    expect(item.attributes('role')).toBe('menuitem');
    expect(document.activeElement).toBe(item.element);

    await wrapper.get('[role="menu"]').trigger('keydown', { key: 'Escape' });
    expect(wrapper.find('[role="menu"]').exists()).toBe(false);
    expect(button.attributes('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(button.element);
    wrapper.unmount();
  });

  it('a click opens it; choosing the item closes it and asks for the export', async () => {
    const wrapper = mountMenu();
    await wrapper.get('[data-testid="chat-menu"]').trigger('click');
    await settle();
    await wrapper.get('[data-testid="chat-export-open"]').trigger('click');
    expect(wrapper.emitted('export')).toHaveLength(1);
    expect(wrapper.find('[role="menu"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('a click elsewhere closes it', async () => {
    const wrapper = mountMenu();
    await wrapper.get('[data-testid="chat-menu"]').trigger('click');
    await settle();
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    await settle();
    expect(wrapper.find('[role="menu"]').exists()).toBe(false);
    wrapper.unmount();
  });
});

describe('export from the chat view', () => {
  it('the header menu opens the export panel for this conversation; closing it returns focus to the menu', async () => {
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
    await wrapper.get('[data-testid="chat-menu"]').trigger('click');
    await settle();
    await wrapper.get('[data-testid="chat-export-open"]').trigger('click');
    await settle();
    await wrapper.get('[data-testid="export-format"]').setValue('md');
    await submit(wrapper);
    expect(fake.callsOf('export:conversation')).toEqual([{ conversationId: 1, format: 'md' }]);
    expect(wrapper.get('[data-testid="export-done"]').text()).toBe('Exported 4320 messages.');

    await wrapper.get('[role="dialog"]').trigger('keydown', { key: 'Escape' });
    await settle();
    expect(wrapper.find('[data-testid="export-submit"]').exists()).toBe(false);
    expect(document.activeElement).toBe(wrapper.get('[data-testid="chat-menu"]').element);
    wrapper.unmount();
  });
});
