import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import { MAX_DROPPED_FILE_BYTES } from '../../../shared/ipc/attachments.ts';
import AttachmentItem from '../../../renderer/src/components/AttachmentItem.vue';
import ChatComposer from '../../../renderer/src/components/ChatComposer.vue';
import GroupComposer from '../../../renderer/src/components/GroupComposer.vue';
import GroupMessageBubble from '../../../renderer/src/components/GroupMessageBubble.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import { useAttachmentDraft } from '../../../renderer/src/composables/useAttachmentDraft.ts';
import { VIDEO_MEASURE_TIMEOUT_MS } from '../../../renderer/src/attachment-video.ts';
import { type FakeBridge, fakeAccountId } from '../fake-bridge.ts';
import { en, plugins, settle, setUp } from '../helpers.ts';

// The attachment pieces shared by the 1:1 and group views, in happy-dom over
// the fake bridge: what a stored, pending, failed or refused file looks like,
// and the tray → send path. Real decoding and the real scheme are the e2e's.

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  await useAppStore().ensureLoaded();
  await useMessagesStore().openLatest(1);
});

const summary = (patch: Partial<AttachmentSummaryView> = {}): AttachmentSummaryView => ({
  id: 7,
  messageId: 1,
  groupMessageId: null,
  outgoing: false,
  contentType: 'image/png',
  fileName: null,
  size: 2_000,
  width: 800,
  height: 600,
  preview: 'AAAA',
  durationMs: null,
  state: 'done',
  error: null,
  waiting: false,
  ...patch,
});

const mountItem = (attachment: AttachmentSummaryView) =>
  mount(AttachmentItem, { props: { attachment }, global: { plugins: plugins(pinia) } });

describe('one attachment in a message', () => {
  it('an image loads from the scheme by id, in a box reserved from its size, the blurred preview until it loads', async () => {
    const wrapper = mountItem(summary());
    const image = wrapper.get('[data-testid="attachment-image"]');
    expect(image.attributes('src')).toBe('attachment://media/7');
    expect(image.attributes('loading')).toBe('lazy');
    expect(wrapper.get('[data-testid="attachment-media-box"]').attributes('style')).toContain(
      'aspect-ratio: 320 / 240',
    );
    expect(wrapper.get('[data-testid="attachment-preview"]').attributes('src')).toBe(
      'data:image/jpeg;base64,AAAA',
    );
    await image.trigger('load');
    expect(wrapper.find('[data-testid="attachment-preview"]').exists()).toBe(false);
    expect(image.attributes('data-loaded')).toBe('true');
  });

  it('a file not downloaded yet shows its preview and "Downloading…", and no element asks the scheme', () => {
    const wrapper = mountItem(summary({ state: 'pending' }));
    expect(wrapper.find('[data-testid="attachment-image"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-save"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="attachment-state"]').text()).toBe(en.attachments.downloading);
  });

  it('a video held back for a click is its poster: the preview in its box, a play badge and Download with the size; no element asks the scheme', () => {
    const video = { contentType: 'video/webm', width: 320, height: 180, size: 3_400_000 };
    const wrapper = mountItem(summary({ ...video, state: 'pending', waiting: true }));
    expect(wrapper.find('[data-testid="attachment-video"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="attachment-preview"]').attributes('src')).toBe(
      'data:image/jpeg;base64,AAAA',
    );
    expect(wrapper.find('[data-testid="attachment-play"]').exists()).toBe(true);
    expect(wrapper.get('[data-testid="attachment-media-box"]').attributes('style')).toContain(
      'aspect-ratio: 320 / 180',
    );
    expect(wrapper.get('[data-testid="attachment-download"]').text()).toContain('3.4');
  });

  it('a downloaded video plays from the scheme; the poster and badge stay until its first frame', async () => {
    const wrapper = mountItem(summary({ contentType: 'video/mp4', width: 640, height: 360 }));
    const video = wrapper.get('[data-testid="attachment-video"]');
    expect(video.attributes('src')).toBe('attachment://media/7');
    expect(wrapper.find('[data-testid="attachment-play"]').exists()).toBe(true);
    await video.trigger('loadeddata');
    expect(wrapper.find('[data-testid="attachment-play"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-preview"]').exists()).toBe(false);
  });

  it('a video that failed (tampered) or that the scheme refuses has no play badge', async () => {
    const video = { contentType: 'video/webm', width: 320, height: 180 };
    const tampered = mountItem(
      summary({ ...video, state: 'failed', error: 'ATTACHMENT_TAMPERED' }),
    );
    expect(tampered.find('[data-testid="attachment-play"]').exists()).toBe(false);
    const damaged = mountItem(summary(video));
    await damaged.get('[data-testid="attachment-video"]').trigger('error');
    expect(damaged.find('[data-testid="attachment-play"]').exists()).toBe(false);
    expect(damaged.get('[data-testid="attachment-state"]').text()).toBe(en.attachments.cannotShow);
  });

  it('an image never gets a play badge', () => {
    expect(
      mountItem(summary({ state: 'pending', waiting: true }))
        .find('[data-testid="attachment-play"]')
        .exists(),
    ).toBe(false);
  });

  it('a tampered download is its sentence, not an image', () => {
    const wrapper = mountItem(summary({ state: 'failed', error: 'ATTACHMENT_TAMPERED' }));
    expect(wrapper.find('[data-testid="attachment-image"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="attachment-state"]').text()).toBe(
      en.errors.ATTACHMENT_TAMPERED,
    );
  });

  it('an image the scheme refuses (damaged on disk) says so instead of a broken image', async () => {
    const wrapper = mountItem(summary());
    await wrapper.get('[data-testid="attachment-image"]').trigger('error');
    expect(wrapper.find('[data-testid="attachment-image"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="attachment-state"]').text()).toBe(en.attachments.cannotShow);
  });

  it('a document is a card with its name, size and Save…; a closed dialog is no error', async () => {
    fake.attachments = [summary({ contentType: 'application/pdf', fileName: 'plan.pdf' })];
    const wrapper = mountItem(fake.attachments[0]!);
    expect(wrapper.find('[data-testid="attachment-image"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="attachment-name"]').text()).toBe('plan.pdf');
    expect(wrapper.text()).toContain('2 kB');
    const save = wrapper.get('[data-testid="attachment-save"]');
    expect(save.attributes('aria-label')).toBe('Save plan.pdf…');
    await save.trigger('click');
    await settle();
    expect(fake.saved).toEqual([]);
    expect(wrapper.find('[data-testid="attachment-error"]').exists()).toBe(false);
    fake.dialogFile = '/chosen/plan.pdf';
    await save.trigger('click');
    await settle();
    expect(fake.saved).toEqual([7]);
  });

  it('a type off the whitelist is never put in an element, even labelled as media by a hostile sender', () => {
    const wrapper = mountItem(summary({ contentType: 'image/svg+xml', fileName: 'x.svg' }));
    expect(wrapper.find('img[src^="attachment:"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="attachment-card"]').exists()).toBe(true);
  });
});

describe('the tray and sending', () => {
  it('dropped files wait in the tray, can be removed, and go out with the text as caption', async () => {
    const wrapper = mount(ChatComposer, {
      props: { conversationId: 1, blocked: false, name: 'Carol' },
      global: { plugins: plugins(pinia) },
    });
    const draft = useAttachmentDraft(() => ({ conversationId: 1 }));
    await draft.addFiles([
      new File([new Uint8Array(10)], 'a.txt', { type: 'text/plain' }),
      new File([new Uint8Array(20)], 'b.txt', { type: 'text/plain' }),
    ]);
    await settle();
    expect(wrapper.findAll('[data-testid="attachment-pending"]')).toHaveLength(2);
    // With files waiting, Send works without text.
    expect(wrapper.get('[data-testid="chat-send"]').attributes('disabled')).toBeUndefined();
    await wrapper.findAll('[data-testid="attachment-pending-remove"]')[0]!.trigger('click');
    await wrapper.get('[data-testid="chat-composer"]').setValue('notes');
    await wrapper.get('form').trigger('submit');
    await settle();
    const [sent] = fake.callsOf('attachments:send-files') as {
      caption: string;
      files: { name: string; bytes: ArrayBuffer }[];
    }[];
    expect(sent?.caption).toBe('notes');
    expect(sent?.files.map((f) => [f.name, f.bytes.byteLength])).toEqual([['b.txt', 20]]);
    expect(wrapper.findAll('[data-testid="attachment-pending"]')).toHaveLength(0);
    expect(
      useAttachmentsStore().of({ messageId: useMessagesStore().messages.at(-1)!.id }),
    ).toHaveLength(1);
  });

  it('a file over the drop limit is refused with a sentence and never read', async () => {
    const wrapper = mount(ChatComposer, {
      props: { conversationId: 1, blocked: false, name: 'Carol' },
      global: { plugins: plugins(pinia) },
    });
    const huge = new File([new Uint8Array(1)], 'huge.iso');
    Object.defineProperty(huge, 'size', { value: MAX_DROPPED_FILE_BYTES + 1 });
    Object.defineProperty(huge, 'arrayBuffer', {
      value: () => Promise.reject(new Error('must not be read')),
    });
    await useAttachmentDraft(() => ({ conversationId: 1 })).addFiles([huge]);
    await settle();
    expect(wrapper.find('[data-testid="attachment-pending"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="attachment-refused"]').text()).toContain('huge.iso');
  });

  it('the Attach button puts the picked file in the tray by token, and Send uses the token with the caption; closing the dialog changes nothing', async () => {
    const wrapper = mount(ChatComposer, {
      props: { conversationId: 1, blocked: false, name: 'Carol' },
      global: { plugins: plugins(pinia) },
    });
    const box = wrapper.get('[data-testid="chat-composer"]');
    await box.setValue('the report');
    await wrapper.get('[data-testid="chat-attach"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="attachment-pending"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="composer-error"]').exists()).toBe(false);
    fake.dialogFile = 'report.pdf';
    await wrapper.get('[data-testid="chat-attach"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="attachment-pending"]').text()).toContain('report.pdf');
    expect((box.element as HTMLTextAreaElement).value).toBe('the report');
    // Not an image: main said it is not measurable, so its bytes were never asked for.
    expect(fake.callsOf('attachments:picked-bytes')).toEqual([]);
    await wrapper.get('form').trigger('submit');
    await settle();
    const sent = fake.callsOf('attachments:send-files').at(-1) as {
      caption: string;
      files: { token?: string; name?: string }[];
    };
    expect(sent.caption).toBe('the report');
    expect(sent.files).toHaveLength(1);
    expect(sent.files[0]?.token).toMatch(/^T+\d+$/);
    expect(sent.files[0]?.name).toBeUndefined();
    expect(fake.picks.size).toBe(0);
    expect(wrapper.find('[data-testid="attachment-pending"]').exists()).toBe(false);
    expect((box.element as HTMLTextAreaElement).value).toBe('');
  });

  it('a dropped video that cannot be measured (happy-dom plays nothing) joins the tray without a visual within the timeout, and is sent', async () => {
    const wrapper = mount(ChatComposer, {
      props: { conversationId: 1, blocked: false, name: 'Carol' },
      global: { plugins: plugins(pinia) },
    });
    const started = performance.now();
    await useAttachmentDraft(() => ({ conversationId: 1 })).addFiles([
      new File([new Uint8Array(64)], 'clip.webm', { type: 'video/webm' }),
    ]);
    // The timeout, plus a generous margin for a busy machine.
    expect(performance.now() - started).toBeLessThan(VIDEO_MEASURE_TIMEOUT_MS + 20_000);
    await settle();
    expect(
      useAttachmentsStore()
        .tray({ conversationId: 1 })
        .map((f) => f.visual),
    ).toEqual([undefined]);
    await wrapper.get('form').trigger('submit');
    await settle();
    const sent = fake.callsOf('attachments:send-files').at(-1) as {
      files: { name?: string; visual?: unknown }[];
    };
    expect(sent.files.map((f) => [f.name, f.visual])).toEqual([['clip.webm', undefined]]);
  }, 60_000);
});

describe('a picked image', () => {
  it('its bytes are asked for by token to measure it; when they cannot be read it still joins the tray and goes without a visual', async () => {
    const wrapper = mount(GroupComposer, {
      props: { groupId: 'A'.repeat(43) + '=', pausedBy: null },
      global: { plugins: plugins(pinia) },
    });
    fake.dialogFile = '/home/me/summit.png';
    await wrapper.get('[data-testid="chat-attach"]').trigger('click');
    await settle();
    const [picked] = fake.callsOf('attachments:picked-bytes') as {
      token: string;
    }[];
    expect(picked?.token).toMatch(/^T+\d+$/);
    expect(wrapper.get('[data-testid="attachment-pending"]').text()).toContain('summit.png');
    expect(wrapper.find('[data-testid="composer-error"]').exists()).toBe(false);
    const tray = useAttachmentsStore().tray({ groupId: 'A'.repeat(43) + '=' });
    expect(tray.map((f) => ['token' in f, f.visual])).toEqual([[true, undefined]]);
  });

  it('a picked video is measured the same way: its bytes are asked for by token, and it goes without a visual when they cannot be read', async () => {
    const wrapper = mount(ChatComposer, {
      props: { conversationId: 1, blocked: false, name: 'Carol' },
      global: { plugins: plugins(pinia) },
    });
    fake.dialogFile = '/home/me/dusk.webm';
    await wrapper.get('[data-testid="chat-attach"]').trigger('click');
    await settle();
    expect(fake.callsOf('attachments:picked-bytes')).toHaveLength(1);
    expect(wrapper.get('[data-testid="attachment-pending"]').text()).toContain('dusk.webm');
    const tray = useAttachmentsStore().tray({ conversationId: 1 });
    expect(tray.map((f) => ['token' in f, f.visual])).toEqual([[true, undefined]]);
  });
});

describe('the same pieces in a group', () => {
  it('a group message shows its files through the shared component, keyed by group message id', () => {
    const store = useAttachmentsStore();
    store.byMessage = {
      'g:5': [summary({ id: 9, messageId: null, groupMessageId: 5 })],
      'm:5': [summary({ id: 10 })], // a 1:1 message with the same number is another message
    };
    const wrapper = mount(GroupMessageBubble, {
      props: {
        message: {
          id: 5,
          uuid: 'u5',
          groupId: 'A'.repeat(43) + '=',
          outgoing: false,
          senderAccount: fakeAccountId('BOB'),
          senderName: 'Bob',
          sentAt: 1,
          receivedAt: 1,
          body: '',
          status: 'received',
        },
      },
      global: { plugins: plugins(pinia) },
    });
    const items = wrapper.findAll('[data-testid="attachment"]');
    expect(items.map((i) => i.attributes('data-attachment-id'))).toEqual(['9']);
    expect(wrapper.get('[data-testid="attachment-image"]').attributes('src')).toBe(
      'attachment://media/9',
    );
    // A message that is only a file has no empty text paragraph.
    expect(wrapper.find('[data-testid="message-body"]').exists()).toBe(false);
  });

  it('the group composer has the Attach button and the tray too', async () => {
    const wrapper = mount(GroupComposer, {
      props: { groupId: 'A'.repeat(43) + '=', pausedBy: null },
      global: { plugins: plugins(pinia) },
    });
    expect(wrapper.find('[data-testid="chat-attach"]').exists()).toBe(true);
    await useAttachmentDraft(() => ({ groupId: 'A'.repeat(43) + '=' })).addFiles([
      new File([new Uint8Array(3)], 'plan.txt'),
    ]);
    await settle();
    expect(wrapper.findAll('[data-testid="attachment-pending"]')).toHaveLength(1);
  });
});
