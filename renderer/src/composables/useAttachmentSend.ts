import { computed } from 'vue';
import { useGroupsStore } from '../stores/groups.ts';
import { useMessagesStore } from '../stores/messages.ts';
import { type AttachmentTarget, useAttachmentsStore } from '../stores/attachments.ts';
import { useAttachmentSendsStore } from '../stores/attachment-sends.ts';

/**
 * Sending a conversation's files, the same in the 1:1 and the group composer:
 * the tray's files (dropped, pasted or picked) with the typed text as caption.
 * While the core seals them the tray shows progress and Cancel
 * (attachment-sends.ts), and its files cannot be sent a second time.
 * Afterwards the conversation is re-read so the new message shows
 * with its files (the core answers with ids, not the message).
 */
export function useAttachmentSend(target: () => AttachmentTarget) {
  const attachments = useAttachmentsStore();
  const sends = useAttachmentSendsStore();
  const hasFiles = computed(
    () => attachments.tray(target()).length > 0 && sends.of(target()) === null,
  );

  async function refresh(to: AttachmentTarget): Promise<void> {
    if ('groupId' in to) await useGroupsStore().load(to.groupId);
    else await useMessagesStore().openLatest(to.conversationId);
    await attachments.load(to);
  }

  /** Sends the tray with `caption`. */
  async function sendTray(caption: string): Promise<void> {
    const to = target();
    const total = attachments.tray(to).reduce((sum, file) => sum + file.size, 0);
    const sendId = sends.begin(to, total);
    try {
      await attachments.sendTray(to, caption, sendId);
    } finally {
      sends.end(sendId);
    }
    await refresh(to);
  }

  return { hasFiles, sendTray };
}
