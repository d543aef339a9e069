// Cancel while a send's files are sealed (attachment-sends.ts), in happy-dom
// over the fake bridge holding the send as the core does while it seals: the
// tray says "Encrypting… n %" from the core's events with Cancel, the files
// cannot be sent twice meanwhile, and Cancel ends the send with its files
// still in the tray (picked and dropped) and the caption back in the box.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Pinia } from 'pinia';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentSendsStore } from '../../../renderer/src/stores/attachment-sends.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { composerWithFiles, groupComposerWithPick, trayNames } from '../composer-tray.ts';
import { en, settle, setUp } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  await useAppStore().ensureLoaded();
  await useMessagesStore().openLatest(1);
  fake.holdSends = true;
});

/** Carol's composer with two files in the tray, sent: the fake holds the send while "sealing". */
async function sealingComposer() {
  const wrapper = await composerWithFiles(fake, pinia);
  await wrapper.get('form').trigger('submit');
  await settle();
  return wrapper;
}

const sendIds = () =>
  fake.callsOf('attachments:send-files').map((input) => (input as { sendId?: string }).sendId);
const sealingText = (percent: number) => en.attachments.sealing.replace('{percent}', `${percent}`);

describe('a send with files while it is sealed', () => {
  it('shows Encrypting… n % with Cancel; Cancel keeps the files and the caption, and they send again under a new id', async () => {
    const disconnect = connectBridgeEvents();
    const wrapper = await sealingComposer();
    const [sendId] = sendIds();
    expect(sendId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const sealing = wrapper.get('[data-testid="attachment-sealing"]');
    expect(sealing.get('[role="status"]').text()).toBe(sealingText(0));
    // The files are on their way: no removing them, no second send of them.
    expect(wrapper.findAll('[data-testid="attachment-pending-remove"]')).toHaveLength(0);
    expect(trayNames(wrapper)).toEqual(['report.pdf', 'notes.txt']);

    fake.emit('attachments:sealing', { sendId: sendId!, done: 1_000, total: 2_000 });
    // Another send's report (another window's, or a stale one) changes nothing here.
    fake.emit('attachments:sealing', { sendId: crypto.randomUUID(), done: 1_990, total: 2_000 });
    await settle();
    expect(sealing.get('[role="status"]').text()).toBe(sealingText(50));
    expect(
      (wrapper.get('[data-testid="attachment-sealing-progress"]').element as HTMLProgressElement)
        .value,
    ).toBe(50);

    await wrapper.get('[data-testid="attachment-sealing-cancel"]').trigger('click');
    await settle();
    expect(fake.callsOf('attachments:cancel-send')).toEqual([{ sendId }]);
    expect(wrapper.find('[data-testid="attachment-sealing"]').exists()).toBe(false);
    expect(trayNames(wrapper)).toEqual(['report.pdf', 'notes.txt']);
    expect(wrapper.find('[data-testid="composer-error"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-repick"]').exists()).toBe(false);
    expect(
      (wrapper.get('[data-testid="chat-composer"]').element as HTMLTextAreaElement).value,
    ).toBe('the quarterly report');
    expect(fake.messages.filter((m) => m.conversationId === 1)).toEqual([]);

    // Send again: the same files (the picked one by its same token) under a new id.
    fake.holdSends = false;
    await wrapper.get('form').trigger('submit');
    await settle();
    const ids = sendIds();
    expect(ids).toHaveLength(2);
    expect(ids[1]).not.toBe(sendId);
    expect(trayNames(wrapper)).toEqual([]);
    expect(fake.messages.filter((m) => m.conversationId === 1)).toHaveLength(1);
    disconnect();
    wrapper.unmount();
  });

  it('Enter while the files are sealed does not send them a second time', async () => {
    const wrapper = await sealingComposer();
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(sendIds()).toHaveLength(1);
    fake.finishSends();
    await settle();
    expect(trayNames(wrapper)).toEqual([]);
    expect(useAttachmentSendsStore().of({ conversationId: 1 })).toBeNull();
    wrapper.unmount();
  });

  it('a Cancel main no longer knows (UNKNOWN_SEND: the send ended) says nothing and waits for the answer', async () => {
    const wrapper = await sealingComposer();
    fake.fail('attachments:cancel-send', 'UNKNOWN_SEND');
    await wrapper.get('[data-testid="attachment-sealing-cancel"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="attachment-sealing-error"]').exists()).toBe(false);
    expect(
      wrapper.get('[data-testid="attachment-sealing-cancel"]').attributes('disabled'),
    ).toBeDefined();
    fake.finishSends();
    await settle();
    expect(wrapper.find('[data-testid="attachment-sealing"]').exists()).toBe(false);
    expect(trayNames(wrapper)).toEqual([]);
    wrapper.unmount();
  });

  it('a Cancel that fails otherwise is shown, and Cancel can be clicked again', async () => {
    const wrapper = await sealingComposer();
    fake.fail('attachments:cancel-send', 'INTERNAL');
    await wrapper.get('[data-testid="attachment-sealing-cancel"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="attachment-sealing-error"]').attributes('role')).toBe(
      'alert',
    );
    const button = wrapper.get('[data-testid="attachment-sealing-cancel"]');
    expect(button.attributes('disabled')).toBeUndefined();
    fake.succeed('attachments:cancel-send');
    await button.trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="attachment-sealing"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-sealing-error"]').exists()).toBe(false);
    expect(trayNames(wrapper)).toEqual(['report.pdf', 'notes.txt']);
    wrapper.unmount();
  });

  it('the group composer shows the same progress and Cancel', async () => {
    const { wrapper, target } = await groupComposerWithPick(fake, pinia);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(wrapper.get('[data-testid="attachment-sealing"] [role="status"]').text()).toBe(
      sealingText(0),
    );
    await wrapper.get('[data-testid="attachment-sealing-cancel"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="attachment-sealing"]').exists()).toBe(false);
    expect(
      useAttachmentsStore()
        .tray(target)
        .map((f) => f.name),
    ).toEqual(['plan.pdf']);
    wrapper.unmount();
  });
});
