// "Delete for me" in the renderer: the call, and what a deletion (this
// window's, or another's pushed as `messages:deleted`) removes from the
// stores: the loaded history, search results and, through the list refresh,
// the conversation's preview. Local only: the other side keeps its copy.
import type { EventPayload } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';
import { useConversationsStore } from '../stores/conversations.ts';
import { useGroupsStore } from '../stores/groups.ts';
import { useMessagesStore } from '../stores/messages.ts';
import { useSearchStore } from '../stores/search.ts';

/** Which messages of which conversation: a 1:1 conversation id or a group id. */
export type DeletedMessages = EventPayload<'messages:deleted'>;

/** Removes deleted messages from every store that shows them (idempotent: the event repeats the call's answer). */
export function forgetDeleted(deleted: DeletedMessages): void {
  if ('conversationId' in deleted) {
    useMessagesStore().forget(deleted.conversationId, deleted.messageIds);
    useSearchStore().forget(deleted.conversationId, deleted.messageIds);
  } else {
    useGroupsStore().forget(deleted.groupId, deleted.messageIds);
  }
}

/** The delete action of the message bubbles. */
export function useMessageDelete() {
  /** Deletes the messages on this device and drops them from the window; the list refreshes for the preview. */
  async function deleteForMe(deleted: DeletedMessages): Promise<void> {
    const { messageIds } = await call('messages:delete', deleted);
    forgetDeleted({ ...deleted, messageIds });
    if ('conversationId' in deleted) await useConversationsStore().refresh();
    else await useGroupsStore().refresh();
  }
  return { deleteForMe };
}
