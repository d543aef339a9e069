import { onBeforeUnmount, watch } from 'vue';
import { inBackground } from '../background.ts';
import { type AttachmentTarget, useAttachmentsStore } from '../stores/attachments.ts';
import { useAttachmentDraft } from './useAttachmentDraft.ts';

/**
 * An open conversation's files, for the 1:1 and the group view alike: read
 * when it opens and whenever its messages change (a new one may carry files),
 * and files dropped anywhere on it go to its composer's tray.
 */
export function useConversationAttachments(
  target: () => AttachmentTarget,
  messageIds: () => readonly number[],
) {
  const attachments = useAttachmentsStore();
  watch(
    () => [JSON.stringify(target()), messageIds().join(',')],
    () => inBackground(attachments.load(target())),
    { immediate: true },
  );
  onBeforeUnmount(() => attachments.close());
  const draft = useAttachmentDraft(target);
  return { onDrop: draft.onDrop, onDragOver: draft.onDragOver };
}
