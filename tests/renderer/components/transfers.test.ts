import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import { events } from '../../../shared/ipc/contract.ts';
import MessageAttachments from '../../../renderer/src/components/MessageAttachments.vue';
import SettingsView from '../../../renderer/src/views/SettingsView.vue';
import { connectBridgeEvents } from '../../../renderer/src/events.ts';
import { networkState } from '../../../renderer/src/network.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import { useSettingsStore } from '../../../renderer/src/stores/settings.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { en, plugins, settle, setUp, waitFor } from '../helpers.ts';

// Transfers the user controls, in happy-dom over the fake bridge: a file the
// policy held back shows "Download <size>", a running transfer its progress
// with Cancel (from the core's events), a cancelled upload says so; the
// Downloads settings refuse malformed limits before they reach the core.

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  await useAppStore().ensureLoaded();
  await useMessagesStore().openLatest(1);
});

function attachment(patch: Partial<AttachmentSummaryView>): AttachmentSummaryView {
  const message = fake.messages.find((m) => m.conversationId === 1);
  return {
    id: 7,
    messageId: message?.id ?? 1,
    groupMessageId: null,
    outgoing: false,
    contentType: 'image/png',
    fileName: null,
    size: 12_345_678,
    width: 800,
    height: 600,
    preview: null,
    durationMs: null,
    state: 'pending',
    error: null,
    waiting: true,
    ...patch,
  };
}

/** A message with one attachment in conversation 1, its list loaded, mounted. */
async function shown(patch: Partial<AttachmentSummaryView>) {
  const sent = await useMessagesStore().send(1, 'a file');
  const item = attachment({ messageId: sent.id, ...patch });
  fake.attachments = [item];
  const store = useAttachmentsStore();
  await store.load({ conversationId: 1 });
  const wrapper = mount(MessageAttachments, {
    props: { messageId: sent.id },
    global: { plugins: plugins(pinia) },
  });
  await settle();
  return { wrapper, item, store };
}

describe('a transfer in the conversation', () => {
  it('a held-back image shows "Download 12.3 MB"; a click downloads it, progress shows, and it appears when stored', async () => {
    const disconnect = connectBridgeEvents();
    const { wrapper, item } = await shown({});
    expect(wrapper.find('[data-testid="attachment-image"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-progress"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-state"]').exists()).toBe(false);
    const button = wrapper.get('[data-testid="attachment-download"]');
    expect(button.text()).toBe('Download 12.3 MB');
    await button.trigger('click');
    await settle();
    expect(fake.callsOf('attachments:download')).toEqual([{ conversationId: 1, attachmentId: 7 }]);
    expect(wrapper.find('[data-testid="attachment-download"]').exists()).toBe(false);
    fake.emit('attachments:progress', {
      attachmentId: 7,
      direction: 'download',
      done: 6_000_000,
      total: 12_000_000,
    });
    await settle();
    const bar = wrapper.get('[data-testid="attachment-progress"]');
    expect((bar.element as HTMLProgressElement).value).toBe(50);
    expect(bar.attributes('aria-label')).toBe('Image: 50% transferred');
    expect(wrapper.find('[data-testid="attachment-cancel"]').exists()).toBe(true);
    // Stored: the core says it changed, the list is read again, the image loads from the scheme.
    item.state = 'done';
    item.waiting = false;
    fake.emit('attachments:changed', { attachmentId: 7 });
    await waitFor(
      () => wrapper.find('[data-testid="attachment-image"]').exists(),
      'the stored image',
    );
    expect(wrapper.find('[data-testid="attachment-progress"]').exists()).toBe(false);
    disconnect();
  });

  it('Cancel of a running download goes back to Download; a second click is one call each, and a late Cancel is no error', async () => {
    const { wrapper, store } = await shown({ waiting: false });
    store.applyProgress({ attachmentId: 7, direction: 'download', done: 10, total: 100 });
    await settle();
    await wrapper.get('[data-testid="attachment-cancel"]').trigger('click');
    await settle();
    expect(fake.callsOf('attachments:cancel')).toEqual([{ conversationId: 1, attachmentId: 7 }]);
    expect(wrapper.find('[data-testid="attachment-download"]').exists()).toBe(true);
    expect(store.progress).toEqual({});
    // The core answers "nothing to cancel" for a finished transfer: nothing is shown as an error.
    await store.cancel(7);
    expect(wrapper.find('[data-testid="attachment-error"]').exists()).toBe(false);
  });

  it('an upload in progress can be cancelled: the message says it was not sent; a retry shows it uploading again', async () => {
    const { wrapper, item } = await shown({ outgoing: true, state: 'uploading', waiting: false });
    expect(wrapper.get('[data-testid="attachment-state"]').text()).toBe(en.attachments.uploading);
    await wrapper.get('[data-testid="attachment-cancel"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="attachment-state"]').text()).toBe(en.attachments.cancelled);
    expect(wrapper.find('[data-testid="attachment-cancel"]').exists()).toBe(false);
    // Retry queues the message again: the window re-reads its files, which upload again.
    const disconnect = connectBridgeEvents();
    Object.assign(item, { state: 'uploading', error: null });
    fake.emit('message:status', {
      messageId: item.messageId!,
      conversationId: 1,
      status: 'queued',
    });
    await waitFor(
      () => wrapper.find('[data-testid="attachment-cancel"]').exists(),
      'the upload running again',
    );
    disconnect();
  });

  it('a Download the core refuses shows its sentence; progress for an attachment not shown is ignored', async () => {
    const { wrapper, store } = await shown({});
    fake.fail('attachments:download', 'UNKNOWN_ATTACHMENT');
    await wrapper.get('[data-testid="attachment-download"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="attachment-error"]').text()).toBe(
      en.errors.UNKNOWN_ATTACHMENT,
    );
    store.applyProgress({ attachmentId: 999, direction: 'upload', done: 1, total: 2 });
    expect(store.progress).toEqual({});
  });

  it('progress events carry ids and counts only: anything else is refused by the contract', () => {
    const schema = events['attachments:progress'];
    expect(
      schema.safeParse({ attachmentId: 1, direction: 'upload', done: 1, total: 2 }).success,
    ).toBe(true);
    for (const extra of [{ path: '/tmp/x' }, { key: 'AAAA' }, { fileName: 'a.png' }])
      expect(
        schema.safeParse({ attachmentId: 1, direction: 'upload', done: 1, total: 2, ...extra })
          .success,
      ).toBe(false);
    expect(events['attachments:changed'].safeParse({ attachmentId: 1, blobId: 'x' }).success).toBe(
      false,
    );
  });
});

describe('the connection and the Downloads settings', () => {
  it('the renderer reports the data saver as metered, and tells the core at unlock', async () => {
    const nav = navigator as Navigator & { connection?: unknown };
    expect(networkState()).toBe('unknown');
    const connection = Object.assign(new EventTarget(), { saveData: true });
    Object.defineProperty(nav, 'connection', { value: connection, configurable: true });
    try {
      expect(networkState()).toBe('metered');
      const disconnect = connectBridgeEvents();
      await settle();
      expect(fake.network).toBe('metered');
      connection.saveData = false;
      connection.dispatchEvent(new Event('change'));
      await settle();
      expect(fake.network).toBe('unmetered');
      disconnect();
    } finally {
      Reflect.deleteProperty(nav, 'connection');
    }
  });

  it('saves a whole number of MB and the metered choice; refuses negative, fractional, huge and empty values', async () => {
    await useSettingsStore().load();
    const wrapper = mount(SettingsView, { global: { plugins: plugins(pinia) } });
    await settle();
    const input = wrapper.get('[data-testid="settings-download-images"]');
    expect((input.element as HTMLInputElement).value).toBe('10');
    for (const bad of ['-3', '1.5', '99999', '']) {
      await input.setValue(bad); // setValue fires input and change, as typing then leaving does
      await settle();
      expect(wrapper.find('[data-testid="settings-download-invalid"]').exists()).toBe(true);
    }
    expect(fake.callsOf('settings:set')).toEqual([]);
    await input.setValue('25');
    await wrapper.get('[data-testid="settings-download-metered"]').setValue(true);
    await settle();
    expect(wrapper.find('[data-testid="settings-download-invalid"]').exists()).toBe(false);
    expect(fake.callsOf('settings:set')).toEqual([
      { autoDownloadImagesMb: 25 },
      { autoDownloadOnMetered: true },
    ]);
    expect(useSettingsStore().settings).toMatchObject({
      autoDownloadImagesMb: 25,
      autoDownloadOnMetered: true,
    });
  });
});
