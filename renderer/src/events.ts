// Push events from the core, routed to the stores. Connected once at start-up;
// returns the function that disconnects every subscription.
import { watch } from 'vue';
import { errorCodeOf, on } from './bridge.ts';
import { forgetDeleted } from './composables/useMessageDelete.ts';
import { networkState, onNetworkChange } from './network.ts';
import { useAppStore } from './stores/app.ts';
import { useAttachmentsStore } from './stores/attachments.ts';
import { useAttachmentSendsStore } from './stores/attachment-sends.ts';
import { useBackupStore } from './stores/backup.ts';
import { useConversationsStore } from './stores/conversations.ts';
import { useGroupsStore } from './stores/groups.ts';
import { useMessagesStore } from './stores/messages.ts';
import { useNoticesStore } from './stores/notices.ts';
import { useSyncStore } from './stores/sync.ts';

/** A new message is "seen" only if its conversation is open in a visible window. */
function windowIsVisible(): boolean {
  return document.visibilityState === 'visible';
}

export function connectBridgeEvents(): () => void {
  const app = useAppStore();
  const conversations = useConversationsStore();
  const messages = useMessagesStore();
  const sync = useSyncStore();
  const notices = useNoticesStore();
  const backup = useBackupStore();
  const groups = useGroupsStore();
  const attachments = useAttachmentsStore();
  const sends = useAttachmentSendsStore();
  const report = (error: unknown) => notices.pushError(errorCodeOf(error));
  // The core keeps the connection in memory only: tell it at every unlock and on every change.
  const tellNetwork = () => {
    if (app.unlocked) attachments.reportNetwork(networkState()).catch(() => undefined);
  };

  // Many events can arrive in one burst (a backlog); refresh the list once per burst.
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshList = () => {
    if (refreshTimer !== undefined) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      if (!app.unlocked) return;
      conversations.refresh().catch(report);
      groups.refresh().catch(report);
      // Delivery counts and membership changes have no events of their own: the open group re-reads its newest page.
      if (groups.openId !== null) groups.load(groups.openId).catch(report);
    }, 50);
  };

  const unsubscribers = [
    on('message:new', (message) => {
      if (!app.unlocked) return;
      messages.receive(message);
      if (
        message.conversationId === messages.conversationId &&
        !message.outgoing &&
        windowIsVisible()
      ) {
        conversations.markRead(message.conversationId).catch(report);
      }
      refreshList();
    }),
    on('group:message', (message) => {
      if (!app.unlocked) return;
      groups.receive(message);
      if (message.groupId === groups.openId && !message.outgoing && windowIsVisible())
        groups.markRead(message.groupId).catch(report);
      refreshList();
    }),
    on('message:status', ({ messageId, status }) => {
      messages.applyStatus(messageId, status);
      if (status === 'failed') refreshList();
      // A retried message whose upload was cancelled: its files are uploading again.
      if (status === 'queued' && app.unlocked) attachments.reload().catch(report);
    }),
    on('messages:deleted', (deleted) => {
      if (!app.unlocked) return;
      forgetDeleted(deleted);
      refreshList(); // the preview and unread count may have changed
    }),
    on('conversations:changed', () => refreshList()),
    on('sync:status', (status) => {
      if (!app.unlocked) return;
      sync.apply(status);
      // The outbox moved: an open group's sent and delivered counts may have changed.
      if (groups.openId !== null) refreshList();
    }),
    on('app:locked', ({ reason }) => app.handleLocked(reason)),
    // Also at first run (a restore runs before any profile is unlocked).
    on('backup:progress', (event) => backup.applyProgress(event)),
    on('attachments:progress', (event) => attachments.applyProgress(event)),
    on('attachments:sealing', (event) => sends.applySealing(event)),
    on('attachments:changed', (event) => {
      if (app.unlocked) attachments.applyChanged(event).catch(report);
    }),
    watch(() => app.unlocked, tellNetwork, { immediate: true }),
    onNetworkChange(tellNetwork),
  ];

  return () => {
    if (refreshTimer !== undefined) clearTimeout(refreshTimer);
    for (const off of unsubscribers) off();
  };
}
