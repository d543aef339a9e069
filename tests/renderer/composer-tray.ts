// Carol's 1:1 composer with a tray of two files, for the tests of what a
// send does to its tray (tray-picks.test.ts, seal-cancel.test.ts).
import { mount } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import ChatComposer from '../../renderer/src/components/ChatComposer.vue';
import GroupComposer from '../../renderer/src/components/GroupComposer.vue';
import { useAttachmentDraft } from '../../renderer/src/composables/useAttachmentDraft.ts';
import type { FakeBridge } from './fake-bridge.ts';
import { plugins, settle } from './helpers.ts';

/** Conversation 1's composer with `report.pdf` picked with the Attach button and `notes.txt` dropped, a caption typed. */
export async function composerWithFiles(fake: FakeBridge, pinia: Pinia) {
  const wrapper = mount(ChatComposer, {
    props: { conversationId: 1, blocked: false, name: 'Carol' },
    global: { plugins: plugins(pinia) },
    attachTo: document.body,
  });
  fake.dialogFile = 'report.pdf';
  await wrapper.get('[data-testid="chat-attach"]').trigger('click');
  await useAttachmentDraft(() => ({ conversationId: 1 })).addFiles([
    new File([new Uint8Array(10)], 'notes.txt', { type: 'text/plain' }),
  ]);
  await settle();
  await wrapper.get('[data-testid="chat-composer"]').setValue('the quarterly report');
  return wrapper;
}

/** A group "Crew" with conversation 1's contact, its composer with `plan.pdf` picked; the group's tray target. */
export async function groupComposerWithPick(fake: FakeBridge, pinia: Pinia) {
  const group = fake.groups.seed({ title: 'Crew' }, [1]);
  const wrapper = mount(GroupComposer, {
    props: { groupId: group.groupId, pausedBy: null },
    global: { plugins: plugins(pinia) },
  });
  fake.dialogFile = 'plan.pdf';
  await wrapper.get('[data-testid="chat-attach"]').trigger('click');
  await settle();
  return { wrapper, target: { groupId: group.groupId } };
}

/** The names in a composer's tray, in order. */
export const trayNames = (wrapper: Awaited<ReturnType<typeof composerWithFiles>>) =>
  wrapper.findAll('[data-testid="attachment-pending"] .attachment-name').map((name) => name.text());
