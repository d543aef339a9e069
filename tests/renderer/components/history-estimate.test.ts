// The virtualized history's estimate of rows it has not measured yet: a
// message with an image counts its box (sized from the pointer), so opening a
// conversation of images scrolls to its real end in one pass instead of to a
// text-only "end" a fifth of the way down (the list showed, and loaded the
// images of, rows far from the newest meanwhile). happy-dom has no layout:
// rendered rows measure 64 px (stubHistoryLayout), the rest are estimates.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import MessageList from '../../../renderer/src/components/MessageList.vue';
import AttachmentItem from '../../../renderer/src/components/AttachmentItem.vue';
import { attachmentsHeight, mediaBox } from '../../../renderer/src/components/attachment-height.ts';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import { plugins, setUp, settle, stubHistoryLayout } from '../helpers.ts';

const MESSAGES = 50;
let fake: FakeBridge;
let pinia: Pinia;
let restoreLayout: () => void;

const file = (patch: Partial<AttachmentSummaryView> = {}): AttachmentSummaryView => ({
  id: 1,
  messageId: 1,
  groupMessageId: null,
  outgoing: true,
  contentType: 'image/png',
  fileName: null,
  size: 2_000,
  width: 800,
  height: 600,
  preview: null,
  durationMs: null,
  state: 'done',
  error: null,
  waiting: false,
  ...patch,
});

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  fake.addMessages(1, MESSAGES, { start: Date.UTC(2024, 0, 1, 8) });
  fake.attachments = Array.from({ length: MESSAGES }, (_, i) =>
    file({ id: 100 + i, messageId: 1_000_001 + i }),
  );
  await useAppStore().ensureLoaded();
  restoreLayout = stubHistoryLayout();
});

afterEach(() => restoreLayout());

describe('the height a message’s files add before they load', () => {
  it('is the image box at most 320 px wide at its aspect ratio, plus the card line', () => {
    expect(attachmentsHeight([file()])).toBe(240 + 30);
    expect(attachmentsHeight([file({ width: 100, height: 50 })])).toBe(50 + 30);
    expect(attachmentsHeight([file({ contentType: 'video/mp4', width: 640, height: 640 })])).toBe(
      320 + 30,
    );
  });

  it('fits a hostile pointer size into 320 × 480 px, never under 32 px a side', () => {
    expect(mediaBox(1, 65_535)).toEqual({ width: 32, height: 480 });
    expect(mediaBox(65_535, 1)).toEqual({ width: 320, height: 32 });
    expect(mediaBox(65_535, 65_535)).toEqual({ width: 320, height: 320 });
    expect(mediaBox(600, 1_200)).toEqual({ width: 240, height: 480 });
    expect(attachmentsHeight([file({ width: 1, height: 65_535 })])).toBe(480 + 30);
  });

  it('gives the rendered box the same fitted size', () => {
    const wrapper = mount(AttachmentItem, {
      props: { attachment: file({ width: 1, height: 65_535 }) },
      global: { plugins: plugins(pinia) },
    });
    const style = wrapper.get('.attachment-media').attributes('style') ?? '';
    // The ratio is what keeps the row from a page-high box.
    expect(style).toContain('aspect-ratio: 32 / 480');
    // A plain width (the CSS caps it at the bubble's): the bubble sizes to its
    // content, and a min(100%, …) width counted as auto there, so the box was
    // as narrow as the caption until the image loaded, then grew its row.
    expect(style).toContain('width: 32px');
  });

  it('counts a box without a size, an audio player and a plain file', () => {
    expect(attachmentsHeight([file({ width: null, height: null })])).toBe(64 + 30);
    expect(attachmentsHeight([file({ contentType: 'audio/ogg' })])).toBe(54 + 30);
    expect(attachmentsHeight([file({ contentType: 'application/pdf' })])).toBe(30);
    expect(attachmentsHeight([])).toBe(0);
  });
});

describe('the history of a conversation of images', () => {
  it('estimates the rows not yet measured with their image boxes', async () => {
    await useAttachmentsStore().load({ conversationId: 1 });
    await useMessagesStore().openLatest(1);
    const wrapper = mount(MessageList, {
      props: { name: 'Carol' },
      global: { plugins: plugins(pinia) },
      attachTo: document.body,
    });
    await settle();
    const rendered = wrapper.findAll('[data-testid="message-row"]').length;
    expect(rendered).toBeLessThan(MESSAGES);
    const inner = wrapper.get('.history-inner').element as HTMLElement;
    // Unmeasured rows: 68 px of text and 270 px of image each (68 alone before).
    const unmeasured = (MESSAGES - rendered) * (68 + 270);
    expect(parseFloat(inner.style.height)).toBeGreaterThanOrEqual(unmeasured);
    wrapper.unmount();
  });
});
