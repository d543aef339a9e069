import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import ChatComposer from '../../../renderer/src/components/ChatComposer.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { plugins, settle, setUp } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  await useAppStore().ensureLoaded();
  await useMessagesStore().openLatest(1);
});

function mountComposer(blocked = false) {
  return mount(ChatComposer, {
    props: { conversationId: 1, blocked, name: 'Carol' },
    global: { plugins: plugins(pinia) },
  });
}

describe('the composer', () => {
  it('Enter sends the text and empties the box', async () => {
    const wrapper = mountComposer();
    const box = wrapper.get('[data-testid="chat-composer"]');
    await box.setValue('Hello Carol');
    await box.trigger('keydown', { key: 'Enter' });
    await settle();
    expect(fake.callsOf('messages:send')).toEqual([{ conversationId: 1, body: 'Hello Carol' }]);
    expect((box.element as HTMLTextAreaElement).value).toBe('');
    expect(useMessagesStore().messages.at(-1)).toMatchObject({
      body: 'Hello Carol',
      status: 'queued',
    });
  });

  it('messages typed and sent while an earlier one is on its way all go out, in order', async () => {
    const wrapper = mountComposer();
    const box = wrapper.get('[data-testid="chat-composer"]');
    // No settling between them: each send is still awaiting the core when the next Enter comes.
    for (const text of ['one', 'two', 'three']) {
      await box.setValue(text);
      await box.trigger('keydown', { key: 'Enter' });
    }
    await settle();
    expect(fake.callsOf('messages:send')).toEqual([
      { conversationId: 1, body: 'one' },
      { conversationId: 1, body: 'two' },
      { conversationId: 1, body: 'three' },
    ]);
    expect((box.element as HTMLTextAreaElement).value).toBe('');
  });

  it('Shift+Enter does not send (the textarea adds the newline)', async () => {
    const wrapper = mountComposer();
    const box = wrapper.get('[data-testid="chat-composer"]');
    await box.setValue('first line');
    const event = new KeyboardEvent('keydown', { key: 'Enter', shiftKey: true, cancelable: true });
    box.element.dispatchEvent(event);
    await settle();
    expect(fake.callsOf('messages:send')).toEqual([]);
    expect(event.defaultPrevented).toBe(false);
    expect((box.element as HTMLTextAreaElement).value).toBe('first line');
  });

  it('Enter while an input method is composing does not send', async () => {
    const wrapper = mountComposer();
    const box = wrapper.get('[data-testid="chat-composer"]');
    await box.setValue('にほん');
    box.element.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, cancelable: true }),
    );
    await settle();
    expect(fake.callsOf('messages:send')).toEqual([]);
  });

  it('whitespace alone is not sent', async () => {
    const wrapper = mountComposer();
    const box = wrapper.get('[data-testid="chat-composer"]');
    await box.setValue('   \n ');
    await box.trigger('keydown', { key: 'Enter' });
    await settle();
    expect(fake.callsOf('messages:send')).toEqual([]);
    expect(wrapper.get('[data-testid="chat-send"]').attributes('disabled')).toBeDefined();
  });

  it('a failed send puts the text back and explains the error code in words', async () => {
    fake.fail('messages:send', 'IDENTITY_CHANGED');
    const wrapper = mountComposer();
    const box = wrapper.get('[data-testid="chat-composer"]');
    await box.setValue('keep me');
    await box.trigger('keydown', { key: 'Enter' });
    await settle();
    expect((box.element as HTMLTextAreaElement).value).toBe('keep me');
    expect(wrapper.get('[data-testid="composer-error"]').text()).toBe(
      "This contact's safety number changed. Accept it before sending.",
    );
  });

  it('is disabled with an explanation while an identity change is not accepted', () => {
    const wrapper = mountComposer(true);
    const box = wrapper.get('[data-testid="chat-composer"]');
    expect(box.attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid="chat-send"]').attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid="composer-blocked"]').text()).toContain(
      "Carol's new safety number",
    );
    expect(box.attributes('aria-describedby')).toBe('composer-blocked');
  });

  it('shows the draft of its conversation', () => {
    useMessagesStore().restoreDraft(1, 'half a thought');
    const wrapper = mountComposer();
    expect(
      (wrapper.get('[data-testid="chat-composer"]').element as HTMLTextAreaElement).value,
    ).toBe('half a thought');
  });
});
