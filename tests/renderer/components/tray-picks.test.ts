// The send tray after a failed `attachments:send-files` (pick-outcome.ts):
// a refusal the core answered keeps the picked files, which still send; an
// unknown outcome (INTERNAL, or the bridge failing) or an expired pick takes
// them out, says so in words with role="alert", and the next Send (after
// picking again) works. Dropped files, whose bytes the renderer holds, stay.
import { beforeEach, describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import ChatComposer from '../../../renderer/src/components/ChatComposer.vue';
import { useAppStore } from '../../../renderer/src/stores/app.ts';
import { useAttachmentsStore } from '../../../renderer/src/stores/attachments.ts';
import { useMessagesStore } from '../../../renderer/src/stores/messages.ts';
import { useAttachmentDraft } from '../../../renderer/src/composables/useAttachmentDraft.ts';
import { lostPicks } from '../../../renderer/src/pick-outcome.ts';
import { ERROR_MESSAGES, type ErrorCode } from '../../../shared/errors.ts';
import type { FakeBridge } from '../fake-bridge.ts';
import {
  composerWithFiles as composerFiles,
  groupComposerWithPick,
  trayNames,
} from '../composer-tray.ts';
import { en, plugins, settle, setUp } from '../helpers.ts';

let fake: FakeBridge;
let pinia: Pinia;

beforeEach(async () => {
  ({ fake, pinia } = setUp());
  fake.state = { ...fake.state, phase: 'unlocked' };
  fake.addConversation({ id: 1, displayName: 'Carol' });
  await useAppStore().ensureLoaded();
  await useMessagesStore().openLatest(1);
});

const composerWithFiles = () => composerFiles(fake, pinia);

const lastSentFiles = () =>
  (fake.callsOf('attachments:send-files').at(-1) as { files: { token?: string; name?: string }[] })
    .files;

describe('the tray after a send the core refused', () => {
  it.each(['ATTACHMENT_TOO_LARGE', 'CONTACT_BLOCKED'] as const)(
    '%s: the picked file stays and the next Send sends it with the same token',
    async (code) => {
      const wrapper = await composerWithFiles();
      fake.fail('attachments:send-files', code);
      await wrapper.get('form').trigger('submit');
      await settle();
      const token = lastSentFiles()[0]?.token;
      expect(token).toBeDefined();
      expect(trayNames(wrapper)).toEqual(['report.pdf', 'notes.txt']);
      expect(wrapper.find('[data-testid="attachment-repick"]').exists()).toBe(false);
      expect(wrapper.get('[data-testid="composer-error"]').text()).not.toBe('');
      // The text is back in the box for the next try.
      expect(
        (wrapper.get('[data-testid="chat-composer"]').element as HTMLTextAreaElement).value,
      ).toBe('the quarterly report');

      fake.succeed('attachments:send-files');
      await wrapper.get('form').trigger('submit');
      await settle();
      expect(lastSentFiles()[0]?.token).toBe(token);
      expect(trayNames(wrapper)).toEqual([]);
      wrapper.unmount();
    },
  );
});

describe('the tray after a send with an unknown outcome', () => {
  it('INTERNAL: the picked file leaves the tray with words to attach it again; the dropped one stays; picking again sends', async () => {
    const wrapper = await composerWithFiles();
    fake.fail('attachments:send-files', 'INTERNAL');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(trayNames(wrapper)).toEqual(['notes.txt']);
    const notice = wrapper.get('[data-testid="attachment-repick"]');
    expect(notice.attributes('role')).toBe('alert');
    expect(notice.text()).toBe(
      en.attachments.repick.unknownOutcome.replace('{names}', 'report.pdf'),
    );

    // Main used the token up; the user attaches the file again and sends.
    fake.succeed('attachments:send-files');
    fake.dialogFile = 'report.pdf';
    await wrapper.get('[data-testid="chat-attach"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="attachment-repick"]').exists()).toBe(false);
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(lastSentFiles().map((f) => f.token ?? f.name)).toEqual([
      'notes.txt',
      expect.stringMatching(/^T+\d+$/),
    ]);
    expect(trayNames(wrapper)).toEqual([]);
    wrapper.unmount();
  });

  it('a bridge that fails without a code (the worker died mid-call) is an unknown outcome too', async () => {
    const wrapper = await composerWithFiles();
    // What the preload's invoke does when main never answers: a rejection without a code.
    const api = fake.api as unknown as Record<string, (input: unknown) => Promise<unknown>>;
    const send = api['attachments:send-files'];
    api['attachments:send-files'] = () => Promise.reject(new Error('the IPC channel closed'));
    try {
      await wrapper.get('form').trigger('submit');
      await settle();
    } finally {
      api['attachments:send-files'] = send!;
    }
    expect(trayNames(wrapper)).toEqual(['notes.txt']);
    expect(wrapper.get('[data-testid="attachment-repick"]').text()).toContain('report.pdf');
    wrapper.unmount();
  });

  it('an expired pick leaves the tray with its own words', async () => {
    const wrapper = await composerWithFiles();
    fake.picks.clear(); // main forgot every token (the app locked, or 15 minutes passed)
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(trayNames(wrapper)).toEqual(['notes.txt']);
    expect(wrapper.get('[data-testid="attachment-repick"]').text()).toBe(
      en.attachments.repick.expired.replace('{names}', 'report.pdf'),
    );
    wrapper.unmount();
  });

  it('a tray of dropped files only keeps them after INTERNAL: their bytes can be sent again', async () => {
    const wrapper = mount(ChatComposer, {
      props: { conversationId: 1, blocked: false, name: 'Carol' },
      global: { plugins: plugins(pinia) },
    });
    await useAttachmentDraft(() => ({ conversationId: 1 })).addFiles([
      new File([new Uint8Array(10)], 'notes.txt', { type: 'text/plain' }),
    ]);
    await settle();
    fake.fail('attachments:send-files', 'INTERNAL');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(trayNames(wrapper)).toEqual(['notes.txt']);
    expect(wrapper.find('[data-testid="attachment-repick"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('the group composer’s tray follows the same rule', async () => {
    const { wrapper, target } = await groupComposerWithPick(fake, pinia);
    expect(
      useAttachmentsStore()
        .tray(target)
        .map((f) => f.name),
    ).toEqual(['plan.pdf']);
    fake.fail('attachments:send-files', 'INTERNAL');
    await wrapper.get('form').trigger('submit');
    await settle();
    expect(useAttachmentsStore().tray(target)).toEqual([]);
    expect(wrapper.get('[data-testid="attachment-repick"]').text()).toContain('plan.pdf');
    wrapper.unmount();
  });
});

describe('the tray after an unknown outcome, hostile timing', () => {
  const picked = (token: string, name: string) => ({ name, size: 1_234, token });

  it('a file picked while the send was on its way stays; only the files that went are dropped', async () => {
    const store = useAttachmentsStore();
    const target = { conversationId: 1 };
    store.add(target, picked('A'.repeat(43), 'first.pdf'));
    const api = fake.api as unknown as Record<string, (input: unknown) => Promise<unknown>>;
    let answer: (value: unknown) => void = () => undefined;
    api['attachments:send-files'] = () => new Promise((done) => (answer = done));
    const sending = store.sendTray(target, 'caption');
    store.add(target, picked('B'.repeat(43), 'second.pdf'));
    answer({ ok: false, code: 'INTERNAL' });
    await expect(sending).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(store.tray(target).map((f) => f.name)).toEqual(['second.pdf']);
    expect(store.lostOf(target)).toEqual({ names: ['first.pdf'], why: 'unknownOutcome' });
  });

  it('another conversation’s tray and notice are untouched', async () => {
    const store = useAttachmentsStore();
    store.add({ conversationId: 2 }, picked('C'.repeat(43), 'theirs.pdf'));
    store.add({ conversationId: 1 }, picked('D'.repeat(43), 'mine.pdf'));
    fake.fail('attachments:send-files', 'INTERNAL');
    await expect(store.sendTray({ conversationId: 1 }, '')).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    expect(store.tray({ conversationId: 2 }).map((f) => f.name)).toEqual(['theirs.pdf']);
    expect(store.lostOf({ conversationId: 2 })).toBeNull();
    expect(store.lostOf({ conversationId: 1 })?.names).toEqual(['mine.pdf']);
    // Locking the app (reset) forgets trays and notices alike.
    store.reset();
    expect(store.lostOf({ conversationId: 1 })).toBeNull();
  });
});

describe('the rule', () => {
  it('only INTERNAL and an expired pick take picked files out of the tray', () => {
    const codes = Object.keys(ERROR_MESSAGES) as ErrorCode[];
    const lost = codes.filter((code) => lostPicks(code) !== null);
    expect(lost.sort()).toEqual(['ATTACHMENT_PICK_EXPIRED', 'INTERNAL']);
  });
});
