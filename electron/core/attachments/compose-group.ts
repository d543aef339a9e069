import {
  insertOutgoingGroupMessage,
  nextGroupSentAt,
  type QueuedGroupMessage,
  sendableGroup,
} from '../groups/group-queue.ts';
import { newMessageId } from '../messaging/message-id.ts';
import type { Profile } from '../profile/profile.ts';
import { assertFits, insertPrepared } from './compose.ts';
import { type ComposeOptions, discard, prepareFiles } from './compose-seal.ts';
import { checkedSizes, type OutgoingFile } from './outgoing-file.ts';

// Composing a group message with files: one upload per file, one pointer in
// the one group message every member decrypts (issue 13: "one upload, one
// pointer"). Like 1:1, the message is queued only once the uploads completed.

/**
 * Stores a group message with `files` and its uploads (see
 * queueAttachmentMessage); UNKNOWN_GROUP, NOT_GROUP_MEMBER as queueGroupText.
 */
export async function queueGroupAttachmentMessage(
  profile: Profile,
  groupId: string,
  files: readonly OutgoingFile[],
  caption = '',
  now = Date.now(),
  options: ComposeOptions = {},
): Promise<QueuedGroupMessage> {
  const sizes = checkedSizes(files, caption);
  // Checked before the files are encrypted (nothing to undo), and again inside the commit.
  sendableGroup(profile.db, groupId);
  const prepared = await prepareFiles(profile, files, sizes, options);
  try {
    assertFits(caption, prepared);
    return profile.commit(undefined, (db) => {
      const group = sendableGroup(db, groupId);
      const uuid = newMessageId(now);
      const sentAt = nextGroupSentAt(db, profile, now);
      const id = insertOutgoingGroupMessage(
        db,
        profile,
        group,
        { uuid, sentAt, body: caption },
        now,
      );
      insertPrepared(db, { groupMessageId: id }, prepared, now);
      return { id, uuid, groupRef: group.ref, sentAt };
    });
  } catch (error) {
    discard(profile, prepared);
    throw error;
  }
}
