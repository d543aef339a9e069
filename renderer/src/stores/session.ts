// Everything a locked app must forget. Locking (by the user, or the core's
// `app:locked` event) calls this, so no message, name or key material stays in
// renderer memory behind the unlock screen.
import { useBackupStore } from './backup.ts';
import { useContactsStore } from './contacts.ts';
import { useConversationsStore } from './conversations.ts';
import { useGroupsStore } from './groups.ts';
import { useMessagesStore } from './messages.ts';
import { useNoticesStore } from './notices.ts';
import { useAttachmentsStore } from './attachments.ts';
import { useAttachmentSendsStore } from './attachment-sends.ts';
import { useSearchStore } from './search.ts';
import { useSettingsStore } from './settings.ts';
import { useSyncStore } from './sync.ts';

/** Resets every store that holds profile data. */
export function resetSessionStores(): void {
  useMessagesStore().reset();
  useConversationsStore().reset();
  useGroupsStore().reset();
  useContactsStore().reset();
  useSearchStore().reset();
  useAttachmentsStore().reset();
  useAttachmentSendsStore().reset();
  useSyncStore().reset();
  useSettingsStore().reset();
  useNoticesStore().reset();
  useBackupStore().reset();
}
